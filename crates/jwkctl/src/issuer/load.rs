//! `jwkctl load` (hidden; `cargo xtask load` calls it): a bounded loopback load run of the
//! token endpoint, reporting exchanges per second, latency percentiles, and the crypto-bound
//! limit `cores / (assertion verify + client assertion verify + sign)` they are measured
//! against. The exchanges are made by a registered `private_key_jwt` client, as in production.

use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use jwk_core::Algorithm;
use jwt_issuer::{
    Client, ClientAuth, KeyManager, Listener, LoopbackClient, ServerOptions, SigningKey,
    TokenService, TrustedIssuer, CLIENT_ASSERTION_TYPE, JWKS_PATH, JWT_BEARER, TOKEN_PATH,
};
use serde_json::json;

use super::{remote_jwks, runtime, TempDir};
use crate::output::{OK, UNDECIDED};

/// Load-test the token endpoint on 127.0.0.1 (bounded in time and requests).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Stop after this many seconds of load (per phase with --instances).
    #[arg(long, default_value_t = 10)]
    pub(super) seconds: u64,
    /// Concurrent connections (per instance with --instances).
    #[arg(long, default_value_t = 16)]
    pub(super) concurrency: usize,
    /// Algorithm of the identity provider's assertions (verified per exchange).
    #[arg(long, default_value = "ES256")]
    pub(super) assertion_alg: String,
    /// Algorithm of the access tokens (signed per exchange).
    #[arg(long, default_value = "RS256")]
    pub(super) token_alg: String,
    /// Algorithm of the client's `private_key_jwt` assertions (verified per exchange).
    #[arg(long, default_value = "ES256")]
    pub(super) client_alg: String,
    /// Upper bound on exchanges (assertions are minted before the clock starts).
    #[arg(long, default_value_t = 200_000)]
    pub(super) max_requests: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
    /// Run this many `jwkctl serve` processes on one key_dir (black-box; see `--replay`).
    /// 1: the in-process run.
    #[arg(long, default_value_t = 1)]
    pub(super) instances: usize,
    /// With --instances: `redis` compares the Redis store with the memory store, sends every
    /// assertion to every instance at once, and stops Redis mid-run.
    #[arg(long, default_value = "memory", value_parser = ["memory", "redis"])]
    pub(super) replay: String,
    /// With --replay redis: an existing Redis instead of a `redis-server` started here (then
    /// it is not stopped mid-run).
    #[arg(long, value_name = "URL")]
    pub(super) redis_url: Option<String>,
    /// With --replay redis: how long Redis is stopped mid-run.
    #[arg(long, default_value_t = 3)]
    pub(super) outage_seconds: u64,
}

pub(crate) fn run(args: Args) -> ExitCode {
    super::init_tracing("error");
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            super::tell!("error: {e}");
            return ExitCode::from(UNDECIDED);
        }
    };
    let multi = args.instances > 1 || args.replay == "redis";
    let outcome = if multi {
        rt.block_on(super::load_multi::run(&args))
    } else {
        rt.block_on(load(&args))
    };
    match outcome {
        Ok(true) => ExitCode::from(OK),
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            super::tell!("error: {e}");
            ExitCode::from(UNDECIDED)
        }
    }
}

async fn load(args: &Args) -> Result<bool, String> {
    let assertion_alg = Algorithm::parse(&args.assertion_alg);
    let token_alg = Algorithm::parse(&args.token_alg);
    let client_alg = Algorithm::parse(&args.client_alg);
    let dirs = TempDir::new("load")?;
    let open = |dir: std::path::PathBuf, alg: Algorithm| async move {
        let b = KeyManager::builder(dir).algorithms([alg]);
        tokio::task::spawn_blocking(move || b.open())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    };
    let idp_keys = open(dirs.path().join("idp"), assertion_alg).await?;
    let svc_keys = open(dirs.path().join("svc"), token_alg).await?;
    let client_keys = open(dirs.path().join("client"), client_alg).await?;
    let client_set = jwk_core::JwkSet::parse(&client_keys.jwks().map_err(|e| e.to_string())?.body)
        .map_err(|e| e.to_string())?;
    let client_source = super::serve::inline_keys(CLIENT_ID, &client_set.to_json())?;

    // The identity provider only publishes its JWKS.
    let idp_listener = Listener::bind(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| e.to_string())?;
    let idp_url = format!("http://{}", idp_listener.local_addr());
    let idp_service = TokenService::builder(idp_url.clone(), idp_keys.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let idp = idp_listener.serve(idp_service, ServerOptions::default());

    let listener = Listener::bind(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr();
    let svc_url = format!("http://{addr}");
    let source = remote_jwks(&format!("{idp_url}{JWKS_PATH}"), None, true, false)?;
    let service = TokenService::builder(svc_url.clone(), svc_keys.clone())
        .trust(TrustedIssuer::new(idp_url.clone(), Arc::new(source)))
        .client(
            Client::new(
                CLIENT_ID,
                ClientAuth::PrivateKeyJwt {
                    keys: Arc::new(client_source),
                    algorithms: vec![client_alg],
                },
            )
            .trusted_issuers([idp_url.clone()]),
        )
        .build()
        .map_err(|e| e.to_string())?;
    let token_endpoint = service.token_endpoint().to_owned();
    let svc = listener.serve(service, ServerOptions::default());

    // The crypto-bound limit: one verify of the assertion, one of the client assertion, one
    // access-token signature.
    let idp_key = idp_keys.signing_key(None).map_err(|e| e.to_string())?;
    let svc_key = svc_keys.signing_key(None).map_err(|e| e.to_string())?;
    let client_key = client_keys.signing_key(None).map_err(|e| e.to_string())?;
    let (verify, client_verify, sign) = {
        let (i, c, s) = (idp_key.clone(), client_key.clone(), svc_key.clone());
        tokio::task::spawn_blocking(move || -> Result<_, String> {
            let (verify, sign) = crypto_times(&i, &s)?;
            let (client_verify, _) = crypto_times(&c, &s)?;
            Ok((verify, client_verify, sign))
        })
        .await
        .map_err(|e| e.to_string())??
    };
    let crypto = verify + client_verify + sign;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limit = cores as f64 / crypto.as_secs_f64();

    // Assertions minted up front (in parallel), enough for the run at the limit.
    let wanted = ((limit * args.seconds as f64 * 1.2) as usize).clamp(100, args.max_requests);
    let assertions = mint_all(&idp_key, &idp_url, &token_endpoint, wanted, cores).await?;
    // One client assertion per exchange (each jti is single-use), aud = the issuer identifier.
    let client_assertions = mint_all(&client_key, CLIENT_ID, &svc_url, wanted, cores).await?;
    let assertions: Arc<Vec<(String, String)>> =
        Arc::new(assertions.into_iter().zip(client_assertions).collect());

    // Warm-up: the service fetches the identity provider's JWKS once.
    let mut c = LoopbackClient::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let warm = mint(&idp_key, &idp_url, &token_endpoint)?;
    let warm_client = mint(&client_key, CLIENT_ID, &svc_url)?;
    let r = c
        .post_form(TOKEN_PATH, &form(&warm, &warm_client))
        .await
        .map_err(|e| e.to_string())?;
    if r.status != 200 {
        return Err(format!(
            "warm-up exchange failed: HTTP {} {:?}",
            r.status,
            r.json()
        ));
    }

    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = process_cpu();
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (next, assertions) = (next.clone(), assertions.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let Ok(mut c) = LoopbackClient::connect(addr).await else {
                return (lat, 1);
            };
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((a, ca)) = assertions.get(i) else {
                    break;
                };
                let t = Instant::now();
                match c.post_form(TOKEN_PATH, &form(a, ca)).await {
                    Ok(r) if r.status == 200 => lat.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    let cpu = match (cpu_before, process_cpu()) {
        (Some(a), Some(b)) if b > a => Some(b - a),
        _ => None,
    };
    svc.shutdown().await;
    idp.shutdown().await;

    latencies.sort_unstable();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        latencies.get(i).copied().unwrap_or_default()
    };
    let ok = latencies.len();
    let rate = ok as f64 / elapsed.as_secs_f64();
    // On a shared machine the wall-clock rate depends on what else runs; the CPU the process
    // used (server and load client together) gives the per-core efficiency as well.
    let per_cpu_second = cpu.map(|c| ok as f64 / c.as_secs_f64());
    let crypto_share = per_cpu_second.map(|r| r * crypto.as_secs_f64());
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    if args.json {
        super::say!(
            "{}",
            json!({
                "exchanges": ok,
                "errors": errors,
                "seconds": elapsed.as_secs_f64(),
                "exchanges_per_second": rate,
                "p50_ms": ms(pct(0.50)),
                "p99_ms": ms(pct(0.99)),
                "verify_us": us(verify),
                "client_verify_us": us(client_verify),
                "sign_us": us(sign),
                "cores": cores,
                "crypto_bound_per_second": limit,
                "fraction_of_limit": rate / limit,
                "cpu_seconds": cpu.map(|c| c.as_secs_f64()),
                "exchanges_per_cpu_second": per_cpu_second,
                "crypto_share_of_cpu": crypto_share,
                "assertion_alg": assertion_alg.as_str(),
                "token_alg": token_alg.as_str(),
                "client_alg": client_alg.as_str(),
                "client_auth": "private_key_jwt",
                "concurrency": args.concurrency,
            })
        );
    } else {
        super::say!(
            "assertions {} verified, private_key_jwt client assertions {} verified, access \
             tokens {} signed, {} connections, {} cores",
            assertion_alg,
            client_alg,
            token_alg,
            args.concurrency,
            cores
        );
        super::say!(
            "crypto per exchange: verify {:.1} us + client verify {:.1} us + sign {:.1} us -> \
             limit {:.0} exchanges/s",
            us(verify),
            us(client_verify),
            us(sign),
            limit
        );
        super::say!(
            "{ok} exchanges in {:.2} s ({errors} errors): {rate:.0} exchanges/s = {:.0} % of the limit",
            elapsed.as_secs_f64(),
            rate / limit * 100.0
        );
        if let (Some(c), Some(r), Some(share)) = (cpu, per_cpu_second, crypto_share) {
            super::say!(
                "process CPU {:.2} s (server + load client): {r:.0} exchanges per CPU-second; \
                 crypto is {:.0} % of the CPU used",
                c.as_secs_f64(),
                share * 100.0
            );
        }
        super::say!(
            "latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(pct(0.50)),
            ms(pct(0.99)),
            ms(latencies.last().copied().unwrap_or_default())
        );
    }
    Ok(errors == 0 && ok > 0)
}

/// Mean time of one assertion verification and one access-token signature, single thread:
/// CPU time of this thread where the kernel reports it (so other processes on a shared
/// machine do not inflate it), else wall time.
pub(super) fn crypto_times(
    idp: &SigningKey,
    svc: &SigningKey,
) -> Result<(Duration, Duration), String> {
    const N: u32 = 300;
    let timer = || {
        let wall = Instant::now();
        let cpu = thread_cpu();
        move || match (cpu, thread_cpu()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall.elapsed(),
        }
    };
    let input = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";
    let alg = idp.signer.algorithm();
    let verifier = jws_crypto::default_provider()
        .import(
            &idp.signer.public_jwk(),
            alg,
            &jws_crypto::KeyPolicy::default(),
        )
        .map_err(|e| e.to_string())?;
    let sig = idp.signer.sign(input).map_err(|e| e.to_string())?;
    let t = timer();
    for _ in 0..N {
        verifier
            .verify(input, &sig)
            .map_err(|_| "self-check: signature does not verify".to_owned())?;
    }
    let verify = t() / N;
    let t = timer();
    for _ in 0..N {
        svc.signer.sign(input).map_err(|e| e.to_string())?;
    }
    Ok((verify, t() / N))
}

/// CPU time of the calling thread, in nanoseconds, from `/proc/thread-self/schedstat`
/// (Linux). `None` elsewhere.
fn thread_cpu() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// CPU time used by this process so far (user + system), from `/proc/self/stat` (Linux; the
/// kernel reports it in clock ticks of 1/100 s). `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The load's registered client.
const CLIENT_ID: &str = "load-client";

/// One exchange's form: the grant and the client's authentication.
fn form<'a>(assertion: &'a str, client_assertion: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", JWT_BEARER),
        ("assertion", assertion),
        ("client_assertion_type", CLIENT_ASSERTION_TYPE),
        ("client_assertion", client_assertion),
    ]
}

/// An assertion from `iss` (for a client assertion: `iss` = `sub` = the client id).
fn mint(key: &SigningKey, iss: &str, aud: &str) -> Result<String, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    key.sign_jwt(
        "JWT",
        &json!({
            "iss": iss, "sub": if iss == CLIENT_ID { CLIENT_ID } else { "load" },
            "aud": aud, "iat": now, "exp": now + 600,
            "jti": jwk_core::b64::encode(&rand::random::<[u8; 16]>()),
        }),
    )
    .map_err(|e| e.to_string())
}

pub(super) async fn mint_all(
    key: &SigningKey,
    iss: &str,
    aud: &str,
    n: usize,
    threads: usize,
) -> Result<Vec<String>, String> {
    let per = n.div_ceil(threads.max(1));
    let mut tasks = Vec::new();
    for _ in 0..threads.max(1) {
        let (key, iss, aud) = (key.clone(), iss.to_owned(), aud.to_owned());
        tasks.push(tokio::task::spawn_blocking(move || {
            (0..per)
                .map(|_| mint(&key, &iss, &aud))
                .collect::<Result<Vec<_>, _>>()
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.extend(t.await.map_err(|e| e.to_string())??);
    }
    out.truncate(n);
    Ok(out)
}
