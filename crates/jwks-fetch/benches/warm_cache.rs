//! Validation through a warm `RemoteJwks` versus the same keys held statically, on one core
//! and on two. Run: `cargo bench -p jwks-fetch --bench warm_cache`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use jwk_core::{Algorithm, JwkSet};
use jwks_fetch::{CacheConfig, FetchConfig, RemoteJwks};
use jws_crypto::Signer;
use jwt_validate::Validator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ISS: &str = "https://idp.bench";

fn token(signer: &Arc<dyn Signer>, kid: &str) -> String {
    let header = format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{kid}"}}"#);
    let payload = format!(r#"{{"iss":"{ISS}","sub":"u","exp":4102444800}}"#);
    let input = format!(
        "{}.{}",
        jwk_core::b64::encode(header.as_bytes()),
        jwk_core::b64::encode(payload.as_bytes())
    );
    let sig = signer.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", jwk_core::b64::encode(&sig))
}

/// A loopback server answering every request with `doc`.
async fn serve(doc: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let doc = doc.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{doc}",
                    doc.len()
                );
                let _ = tcp.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/jwks")
}

fn bench(c: &mut Criterion) {
    let provider = jws_crypto::default_provider();
    let mut keys = Vec::new();
    let mut signers = Vec::new();
    for i in 0..3 {
        let (signer, _) = provider.generate(Algorithm::Es256, 0).unwrap();
        let mut jwk = signer.public_jwk();
        jwk.kid = Some(format!("k{i}"));
        keys.push(jwk);
        signers.push(signer);
    }
    let set = JwkSet::new(keys);
    let tok = token(&signers[1], "k1");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(serve(set.to_json()));
    let remote = rt.block_on(async {
        let src = RemoteJwks::builder(url)
            .fetch_config(FetchConfig::default().with_allow_http_loopback(true))
            .cache_config(CacheConfig::default().with_background(false))
            .build()
            .unwrap();
        src.load().await.unwrap();
        src
    });

    let build = |b: jwt_validate::ValidatorBuilder| {
        b.algorithms([Algorithm::Es256])
            .issuer(ISS)
            .build()
            .unwrap()
    };
    let fixed = build(Validator::builder().jwks(set.clone()));
    let warm = build(Validator::builder().key_source(remote.clone()));
    assert!(fixed.validate(&tok).is_ok());
    assert!(warm.validate(&tok).is_ok());

    let mut g = c.benchmark_group("validate_es256");
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("static", |b| b.iter(|| fixed.validate(&tok).unwrap()));
    g.bench_function("remote_warm", |b| b.iter(|| warm.validate(&tok).unwrap()));
    g.bench_function("remote_warm_async", |b| {
        b.iter(|| rt.block_on(warm.validate_async(&tok)).unwrap())
    });
    g.bench_function("static_async", |b| {
        b.iter(|| rt.block_on(fixed.validate_async(&tok)).unwrap())
    });
    // Two threads validating at once: the reported time is for one validation on each thread
    // in parallel, so 2 x (one-thread time) / (this time) is the two-core speed-up.
    for (name, v) in [
        ("static_2_threads", &fixed),
        ("remote_warm_2_threads", &warm),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..2 {
                        s.spawn(|| {
                            for _ in 0..iters {
                                v.validate(&tok).unwrap();
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    g.finish();
}

/// Paired rounds, alternating the two sides so machine noise hits both alike; prints the
/// median ratio of per-round times.
fn paired(fixed: &Validator, warm: &Validator, tok: &str) {
    const BATCH: u32 = 200;
    let time = |v: &Validator| {
        let t = Instant::now();
        for _ in 0..BATCH {
            v.validate(tok).unwrap();
        }
        t.elapsed().as_secs_f64()
    };
    let two = |v: &Validator| {
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..BATCH {
                        v.validate(tok).unwrap();
                    }
                });
            }
        });
        t.elapsed().as_secs_f64()
    };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut ratio = Vec::new();
    let mut scaling_remote = Vec::new();
    let mut scaling_static = Vec::new();
    for round in 0..100 {
        let (a, b) = if round % 2 == 0 {
            let a = time(fixed);
            (a, time(warm))
        } else {
            let b = time(warm);
            (time(fixed), b)
        };
        ratio.push(b / a);
        let one = time(warm);
        scaling_remote.push(2.0 * one / two(warm));
        let one = time(fixed);
        scaling_static.push(2.0 * one / two(fixed));
    }
    println!(
        "paired: remote_warm / static time ratio (median of 100 rounds of {BATCH}): {:.3}",
        median(ratio)
    );
    println!(
        "paired: two-thread throughput / one-thread throughput: remote_warm {:.2}x, static {:.2}x",
        median(scaling_remote),
        median(scaling_static)
    );
}

/// This process's user + system CPU time, from `/proc/self/stat` (Linux; clock ticks taken as
/// 1/100 s, the usual `CLK_TCK`).
fn cpu_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU time per validation with one thread and with two at once: equal figures mean the two
/// threads do not slow each other down (no lock, no contended writes), so throughput doubles
/// whenever two cores are free. Wall-clock scaling on a shared machine cannot show that.
fn cpu_per_validation(label: &str, v: &Validator, tok: &str) {
    const N: u32 = 20_000;
    let run = |threads: u32| -> Option<(f64, f64)> {
        let cpu0 = cpu_time()?;
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..N {
                        v.validate(tok).unwrap();
                    }
                });
            }
        });
        let wall = t.elapsed().as_secs_f64();
        let cpu = cpu_time()? - cpu0;
        Some((cpu / f64::from(N * threads) * 1e6, cpu / wall))
    };
    if let (Some((one, c1)), Some((two, c2))) = (run(1), run(2)) {
        println!(
            "cpu {label}: {one:.1} us per validation on one thread, {two:.1} us on two at once \
             (ratio {:.3}); cores in use: {c1:.2} and {c2:.2}",
            two / one
        );
    }
}

fn paired_main() {
    let provider = jws_crypto::default_provider();
    let (signer, _) = provider.generate(Algorithm::Es256, 0).unwrap();
    let mut jwk = signer.public_jwk();
    jwk.kid = Some("k1".into());
    let set = JwkSet::new(vec![jwk]);
    let tok = token(&signer, "k1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(serve(set.to_json()));
    let remote = rt.block_on(async {
        let src = RemoteJwks::builder(url)
            .fetch_config(FetchConfig::default().with_allow_http_loopback(true))
            .cache_config(CacheConfig::default().with_background(false))
            .build()
            .unwrap();
        src.load().await.unwrap();
        src
    });
    let build = |b: jwt_validate::ValidatorBuilder| {
        b.algorithms([Algorithm::Es256])
            .issuer(ISS)
            .build()
            .unwrap()
    };
    let fixed = build(Validator::builder().jwks(set));
    let warm = build(Validator::builder().key_source(remote));
    paired(&fixed, &warm, &tok);
    cpu_per_validation("remote_warm", &warm, &tok);
    cpu_per_validation("static", &fixed, &tok);
}

criterion_group!(benches, bench);

fn main() {
    benches();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: keep that quick.
    if std::env::args().any(|a| a == "--bench") {
        paired_main();
    }
    Criterion::default().configure_from_args().final_summary();
}
