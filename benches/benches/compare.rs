//! This workspace against the limit (each backend's raw verify of the same signing input and
//! signature with a pre-parsed key) and against `jsonwebtoken` and `jwt-simple`, on identical
//! tokens, in one run. Writes `<target>/criterion/summary-1-compare.md`, which
//! `cargo xtask bench` prints and copies into `benches/RESULTS.md`.
//!
//! Run: `cargo xtask bench [--quick]` (or `cargo bench -p benches --bench compare`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::{AppClaims, AppClaimsBorrowed, Case, Material, AUD};
use criterion::black_box;
use jwk_core::Algorithm;
use jwt_validate::Validator;
use shared::{
    aws_limit, criterion_dir, jsonwebtoken_validation, median_ns, paired, parse_floor, SimpleKey,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod shared;

/// Row ids (criterion function names) in table order, with their labels and the limit they
/// are compared with.
const ROWS: &[(&str, &str, &str)] = &[
    (
        "aws-lc-rs_limit",
        "limit: aws-lc-rs raw verify",
        "aws-lc-rs_limit",
    ),
    (
        "aws-lc-rs_static",
        "this workspace, static keys (aws-lc-rs)",
        "aws-lc-rs_limit",
    ),
    (
        "aws-lc-rs_borrowed",
        "this workspace, static keys, borrowed claims (aws-lc-rs)",
        "aws-lc-rs_limit",
    ),
    (
        "aws-lc-rs_remote",
        "this workspace, jwks-fetch warm cache (aws-lc-rs)",
        "aws-lc-rs_limit",
    ),
    (
        "aws-lc-rs_cache_hit",
        "this workspace, verified-token cache hit",
        "aws-lc-rs_limit",
    ),
    ("ring_limit", "limit: ring raw verify", "ring_limit"),
    (
        "ring_static",
        "this workspace, static keys (ring)",
        "ring_limit",
    ),
    (
        "ring_remote",
        "this workspace, jwks-fetch warm cache (ring)",
        "ring_limit",
    ),
    (
        "jsonwebtoken_once",
        "jsonwebtoken 12, DecodingKey built once",
        "aws-lc-rs_limit",
    ),
    (
        "jsonwebtoken_per_call",
        "jsonwebtoken 12, DecodingKey per call",
        "aws-lc-rs_limit",
    ),
    (
        "jwt-simple",
        "jwt-simple 0.15 (pure-rust)",
        "aws-lc-rs_limit",
    ),
    (
        "parse_floor",
        "parse floor (split, base64url, JSON)",
        "aws-lc-rs_limit",
    ),
];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut c = shared::criterion(quick);

    let cases = benches::cases();
    let set = benches::jwk_set(&cases);
    let aws = benches::validator(&jws_crypto::aws_lc_rs::PROVIDER, set.clone());
    let ring = benches::validator(&jws_crypto::ring::PROVIDER, set.clone());
    let cached = benches::cached_validator(&jws_crypto::aws_lc_rs::PROVIDER, set.clone());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = rt.block_on(serve(set.to_json()));
    let remote = |provider: &'static jws_crypto::Provider| {
        let source = rt.block_on(async {
            let src = jwks_fetch::RemoteJwks::builder(url.clone())
                .provider(provider)
                .fetch_config(jwks_fetch::FetchConfig::default().with_allow_http_loopback(true))
                .cache_config(jwks_fetch::CacheConfig::default().with_background(false))
                .build()
                .unwrap();
            src.load().await.unwrap();
            src
        });
        benches::validator_over(Arc::new(source))
    };
    let aws_remote = remote(&jws_crypto::aws_lc_rs::PROVIDER);
    let ring_remote = remote(&jws_crypto::ring::PROVIDER);

    // A filtered or profiling run measures one benchmark: no paired or thread run, no table.
    let partial = std::env::args()
        .skip(1)
        .any(|a| a == "--profile-time" || a.contains('/'));
    let pair_budget = shared::pair_budget(quick);
    let mut paired_ratios = Paired::new();
    for case in &cases {
        // Every contender must accept the token before it is timed.
        for v in [&aws, &ring, &aws_remote, &ring_remote, &cached] {
            let claims = v.validate_as::<AppClaims>(&case.token).unwrap();
            assert_eq!(claims.claims().aud, AUD);
        }
        let aws_limit = aws_limit(case);
        let ring_limit = ring_limit(case);
        assert!(aws_limit());
        assert!(ring_limit());
        let jwt_jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&case.jwk.to_json()).unwrap();
        let jwt_key = jsonwebtoken::DecodingKey::from_jwk(&jwt_jwk).unwrap();
        let jwt_validation = jsonwebtoken_validation(case.alg);
        let jwt_decode = |key: &jsonwebtoken::DecodingKey| {
            jsonwebtoken::decode::<AppClaims>(&case.token, key, &jwt_validation).unwrap()
        };
        jwt_decode(&jwt_key);
        let simple = SimpleKey::new(case);
        simple.verify(&case.token);

        let mut g = c.benchmark_group(case.id);
        g.bench_function("aws-lc-rs_limit", |b| b.iter(|| assert!(aws_limit())));
        g.bench_function("aws-lc-rs_static", |b| {
            b.iter(|| {
                aws.validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap()
            })
        });
        let buf = RefCell::new(Vec::new());
        let aws_borrowed = || {
            let mut buf = buf.borrow_mut();
            let v = aws
                .validate_borrowed::<AppClaimsBorrowed<'_>>(black_box(&case.token), &mut buf)
                .unwrap();
            assert_eq!(v.claims().aud, AUD);
        };
        g.bench_function("aws-lc-rs_borrowed", |b| b.iter(aws_borrowed));
        g.bench_function("aws-lc-rs_remote", |b| {
            b.iter(|| {
                aws_remote
                    .validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap()
            })
        });
        g.bench_function("aws-lc-rs_cache_hit", |b| {
            b.iter(|| {
                cached
                    .validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap()
            })
        });
        g.bench_function("ring_limit", |b| b.iter(|| assert!(ring_limit())));
        g.bench_function("ring_static", |b| {
            b.iter(|| {
                ring.validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap()
            })
        });
        g.bench_function("ring_remote", |b| {
            b.iter(|| {
                ring_remote
                    .validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap()
            })
        });
        g.bench_function("jsonwebtoken_once", |b| b.iter(|| jwt_decode(&jwt_key)));
        g.bench_function("jsonwebtoken_per_call", |b| {
            b.iter(|| jwt_decode(&jsonwebtoken::DecodingKey::from_jwk(&jwt_jwk).unwrap()))
        });
        g.bench_function("jwt-simple", |b| {
            b.iter(|| simple.verify(black_box(&case.token)))
        });
        g.bench_function("parse_floor", |b| {
            b.iter(|| parse_floor(black_box(&case.token)))
        });
        g.finish();

        if !partial {
            let aws_static = || {
                aws.validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap();
            };
            let aws_warm = || {
                aws_remote
                    .validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap();
            };
            let ring_static = || {
                ring.validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap();
            };
            let ring_warm = || {
                ring_remote
                    .validate_as::<AppClaims>(black_box(&case.token))
                    .unwrap();
            };
            let jwt_once = || {
                jwt_decode(&jwt_key);
            };
            let aws_lim = || assert!(aws_limit());
            let ring_lim = || assert!(ring_limit());
            let rows: [PairedRow<'_>; 6] = [
                ("aws-lc-rs_static", &aws_lim, &aws_static),
                ("aws-lc-rs_borrowed", &aws_lim, &aws_borrowed),
                ("aws-lc-rs_remote", &aws_lim, &aws_warm),
                ("ring_static", &ring_lim, &ring_static),
                ("ring_remote", &ring_lim, &ring_warm),
                ("jsonwebtoken_once", &aws_lim, &jwt_once),
            ];
            for (id, limit, row) in rows {
                paired_ratios.insert((case.id, id), paired(limit, row, pair_budget));
            }
        }
    }
    // Where the non-crypto time goes, on the RS256 token: each step of this workspace's path
    // alone (all strict), next to the parse floor above.
    {
        let case = &cases[0];
        let limits = jwk_core::Limits::default();
        let jws = jwk_core::UnverifiedJws::parse(&case.token, &limits).unwrap();
        let payload = jws.payload().unwrap();
        let claims = jwk_core::Claims::parse(&payload).unwrap();
        let mut g = c.benchmark_group("parts");
        g.bench_function("split_and_header", |b| {
            b.iter(|| jwk_core::UnverifiedJws::parse(black_box(&case.token), &limits).unwrap())
        });
        g.bench_function("payload_base64url", |b| {
            b.iter(|| black_box(&jws).payload().unwrap())
        });
        g.bench_function("claims_strict", |b| {
            b.iter(|| jwk_core::Claims::parse(black_box(&payload)).unwrap())
        });
        g.bench_function("claims_typed", |b| {
            b.iter(|| black_box(&claims).deserialize_as::<AppClaims>().unwrap())
        });
        g.bench_function("claims_single_pass", |b| {
            b.iter(|| jwk_core::Claims::parse_into::<AppClaims>(black_box(&payload)).unwrap())
        });
        g.bench_function("claims_single_pass_borrowed", |b| {
            b.iter(|| {
                jwk_core::Claims::parse_into::<AppClaimsBorrowed<'_>>(black_box(&payload)).unwrap()
            })
        });
        g.finish();
    }
    c.final_summary();

    if partial {
        return;
    }
    let threads = threads(&cases, &aws_remote, if quick { 1 } else { 3 });
    let table = summary(&cases, &paired_ratios, &threads);
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary-1-compare.md"), table).unwrap();
}

/// ring: it has no parsed RSA or ECDSA public key type, so its raw verify parses per call
/// (as `jws-crypto`'s ring verifier must too).
fn ring_limit(case: &Case) -> impl Fn() -> bool + '_ {
    use raw_ring::signature as s;
    move || {
        let msg = black_box(case.signing_input.as_slice());
        let sig = black_box(case.signature.as_slice());
        match (&case.material, &case.alg) {
            (Material::Rsa { n, e }, alg) => {
                let params = if *alg == Algorithm::Ps256 {
                    &s::RSA_PSS_2048_8192_SHA256
                } else {
                    &s::RSA_PKCS1_2048_8192_SHA256
                };
                s::RsaPublicKeyComponents { n, e }
                    .verify(params, msg, sig)
                    .is_ok()
            }
            (Material::Ec { point }, Algorithm::Es256) => {
                s::UnparsedPublicKey::new(&s::ECDSA_P256_SHA256_FIXED, point)
                    .verify(msg, sig)
                    .is_ok()
            }
            (Material::Ec { point }, _) => {
                s::UnparsedPublicKey::new(&s::ECDSA_P384_SHA384_FIXED, point)
                    .verify(msg, sig)
                    .is_ok()
            }
            (Material::Ed25519 { x }, _) => s::UnparsedPublicKey::new(&s::ED25519, x)
                .verify(msg, sig)
                .is_ok(),
        }
    }
}

/// A loopback server answering every request with `doc` (`127.0.0.1` only).
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
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: max-age=3600\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{doc}",
                    doc.len()
                );
                let _ = tcp.write_all(resp.as_bytes()).await;
            });
        }
    });
    format!("http://127.0.0.1:{port}/jwks")
}

/// Operations per second of `f` on `n` threads at once for `seconds`.
fn throughput(f: &(dyn Fn() + Sync), n: usize, seconds: u64) -> f64 {
    let deadline = Duration::from_secs(seconds);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| {
                    let mut count = 0u64;
                    while start.elapsed() < deadline {
                        for _ in 0..16 {
                            f();
                        }
                        count += 16;
                    }
                    count
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// Per case: validations per second on one thread and on two threads sharing `validator`,
/// and the same two-thread speed-up of the raw verify alone, as the machine's own control
/// (a busy core shows there too).
fn threads(cases: &[Case], validator: &Validator, seconds: u64) -> Vec<ThreadRow> {
    cases
        .iter()
        .filter(|c| matches!(c.id, "rs256-2048" | "es256" | "eddsa"))
        .map(|c| {
            let validate = || {
                validator.validate_as::<AppClaims>(&c.token).unwrap();
            };
            let limit = aws_limit(c);
            let raw = || assert!(limit());
            let one = throughput(&validate, 1, seconds);
            let two = throughput(&validate, 2, seconds);
            let raw_one = throughput(&raw, 1, seconds);
            let raw_two = throughput(&raw, 2, seconds);
            (c.label, one, two, raw_two / raw_one)
        })
        .collect()
}

/// Label, one thread per second, two threads per second, raw verify's two-thread speed-up.
type ThreadRow = (&'static str, f64, f64, f64);

type Paired = HashMap<(&'static str, &'static str), f64>;

/// A row id, its limit and the row itself.
type PairedRow<'a> = (&'static str, &'a dyn Fn(), &'a dyn Fn());

fn summary(cases: &[Case], paired: &Paired, threads: &[ThreadRow]) -> String {
    let mut out = String::new();
    out.push_str(
        "| algorithm | contender | ns/op (median) | ratio to its limit | paired ratio |\n",
    );
    out.push_str("|---|---|---:|---:|---:|\n");
    for case in cases {
        for &(id, label, limit) in ROWS {
            let Some(ns) = median_ns(case.id, id) else {
                continue;
            };
            let ratio =
                median_ns(case.id, limit).map_or(String::from("-"), |l| format!("{:.2}x", ns / l));
            let pair = paired
                .get(&(case.id, id))
                .map_or(String::new(), |r| format!("{r:.3}x"));
            let _ = writeln!(
                out,
                "| {} | {label} | {ns:.0} | {ratio} | {pair} |",
                case.label
            );
        }
    }
    out.push_str(
        "\nRatios: rows marked aws-lc-rs or naming a peer are divided by the aws-lc-rs limit, \
         rows marked ring by ring's own limit. \"ratio to its limit\" divides criterion medians \
         taken seconds apart; \"paired ratio\" times the row and its limit in alternating \
         batches of 8 and takes the median per-round ratio, so load from other processes \
         cancels out: read the bars against it.\n",
    );
    out.push_str(
        "\nThe non-crypto steps alone, on the RS256 (RSA-2048) token (criterion medians):\n\n",
    );
    out.push_str("| step | ns/op |\n|---|---:|\n");
    for (id, label) in [
        (
            "split_and_header",
            "split, header base64url and strict parse",
        ),
        ("payload_base64url", "payload base64url"),
        ("claims_strict", "claims strict parse (`Claims::parse`)"),
        (
            "claims_typed",
            "claims into the caller's struct (second pass)",
        ),
        (
            "claims_single_pass",
            "one strict pass into the caller's owned struct (`Claims::parse_into`, what `validate_as` runs)",
        ),
        (
            "claims_single_pass_borrowed",
            "the same into a borrowed struct (what `validate_borrowed` runs)",
        ),
    ] {
        if let Some(ns) = median_ns("parts", id) {
            let _ = writeln!(out, "| {label} | {ns:.0} |");
        }
    }
    out.push_str("\nThreads: validations per second through the jwks-fetch warm cache (aws-lc-rs), one validator shared.\n\n");
    out.push_str(
        "| algorithm | 1 thread (/s) | 2 threads (/s) | 2 threads / 1 thread | raw verify alone: 2 threads / 1 thread |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|\n");
    for (label, one, two, raw) in threads {
        let _ = writeln!(
            out,
            "| {label} | {one:.0} | {two:.0} | {:.2}x | {raw:.2}x |",
            two / one
        );
    }
    out
}
