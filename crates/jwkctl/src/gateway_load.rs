//! `jwkctl gateway-load` (hidden): requests per second through `jwkctl gateway` against the
//! same upstream called straight, on loopback with keep-alive connections, next to the
//! crypto-bound limit `cores / verify time` (the gateway verifies every request's signature).

use core::time::Duration;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use jwk_core::Algorithm;
use jwt_issuer::{KeyManager, Listener, LoopbackClient, ServerOptions, TokenService, JWKS_PATH};
use serde_json::json;

use crate::gateway::{demo_api, Args as GatewayArgs, Gateway};
use crate::issuer::{runtime, TempDir};
use crate::output::{OK, UNDECIDED};

/// Load-test `jwkctl gateway` on 127.0.0.1 against its upstream called straight.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Seconds of load per target.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Keep-alive connections.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Algorithm of the access token (verified per request by the gateway).
    #[arg(long, default_value = "RS256")]
    alg: String,
}

pub(crate) fn run(args: Args) -> ExitCode {
    crate::issuer::init_tracing("error");
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(UNDECIDED);
        }
    };
    match rt.block_on(load(&args)) {
        Ok(()) => ExitCode::from(OK),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(UNDECIDED)
        }
    }
}

struct Run {
    ok: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        self.latencies.get(i).copied().unwrap_or_default()
    }
}

async fn hammer(
    addr: core::net::SocketAddr,
    auth: Option<String>,
    seconds: u64,
    concurrency: usize,
) -> Result<Run, String> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let auth = Arc::new(auth);
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let auth = auth.clone();
        workers.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            let Ok(mut c) = LoopbackClient::connect(addr).await else {
                return (lat, 1);
            };
            let headers: Vec<(&str, &str)> = auth
                .as_deref()
                .map(|a| vec![("authorization", a)])
                .unwrap_or_default();
            while Instant::now() < deadline {
                let t = Instant::now();
                match c.get("/orders", &headers).await {
                    Ok(r) if r.status == 200 => lat.push(t.elapsed()),
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (l, e) = w.await.map_err(|e| e.to_string())?;
        latencies.extend(l);
        errors += e;
    }
    latencies.sort_unstable();
    Ok(Run {
        ok: latencies.len(),
        errors,
        elapsed: started.elapsed(),
        latencies,
    })
}

async fn load(args: &Args) -> Result<(), String> {
    let alg = Algorithm::parse(&args.alg);
    let dir = TempDir::new("gateway-load")?;
    let keys = {
        let b = KeyManager::builder(dir.path()).algorithms([alg]);
        tokio::task::spawn_blocking(move || b.open())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
    };
    let listener = Listener::bind(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| e.to_string())?;
    let idp_url = format!("http://{}", listener.local_addr());
    let service = TokenService::builder(idp_url.clone(), keys.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let idp = listener.serve(service, ServerOptions::default());
    let (api, api_task) = demo_api().await?;
    let gw = Gateway::start(&GatewayArgs {
        listen: ([127, 0, 0, 1], 0).into(),
        upstream: format!("http://{api}"),
        source: crate::keys::SourceArgs {
            jwks: None,
            jwks_url: Some(format!("{idp_url}{JWKS_PATH}")),
            discovery: None,
        },
        iss: vec![idp_url.clone()],
        aud: vec!["api".into()],
        alg: vec![alg.as_str().to_owned()],
        require_scope: Vec::new(),
        allow_http: true,
        ca_file: None,
    })
    .await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let claims =
        json!({"iss": idp_url, "aud": "api", "sub": "load", "iat": now, "exp": now + 3600});
    let key = keys.signing_key(None).map_err(|e| e.to_string())?;
    let token = key.sign_jwt("at+jwt", &claims).map_err(|e| e.to_string())?;

    // The crypto-bound limit: one signature check per request, on every core.
    let set = jwk_core::JwkSet::parse(keys.jwks().map_err(|e| e.to_string())?.body.as_ref())
        .map_err(|e| e.to_string())?;
    let validator = jwt_validate::Validator::builder()
        .jwks(set)
        .issuer(idp_url.clone())
        .audience("api")
        .build()
        .map_err(|e| e.to_string())?;
    let t = token.clone();
    let verify = tokio::task::spawn_blocking(move || {
        let n = 300u32;
        let started = Instant::now();
        for _ in 0..n {
            let _ = validator.validate(&t);
        }
        started.elapsed() / n
    })
    .await
    .map_err(|e| e.to_string())?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limit = cores as f64 / verify.as_secs_f64();

    let auth = Some(format!("Bearer {token}"));
    // Warm-up: the gateway fetches the JWKS once.
    hammer(gw.addr, auth.clone(), 1, 1).await?;
    let direct = hammer(api, auth.clone(), args.seconds, args.concurrency).await?;
    let through = hammer(gw.addr, auth, args.seconds, args.concurrency).await?;
    gw.stop().await;
    api_task.abort();
    idp.shutdown().await;

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} connections, keep-alive, {} cores, {} token (verify {:.1} us -> crypto-bound limit {:.0} requests/s)",
        args.concurrency,
        cores,
        alg.as_str(),
        verify.as_secs_f64() * 1e6,
        limit
    );
    for (name, r) in [
        ("straight to upstream", &direct),
        ("through the gateway", &through),
    ] {
        println!(
            "{name}: {:.0} requests/s ({} ok, {} errors, p50 {:.2} ms, p99 {:.2} ms)",
            r.rate(),
            r.ok,
            r.errors,
            ms(r.pct(0.5)),
            ms(r.pct(0.99))
        );
    }
    println!(
        "gateway: {:.0} % of the direct rate, {:.0} % of the crypto-bound limit",
        through.rate() / direct.rate() * 100.0,
        through.rate() / limit * 100.0
    );
    Ok(())
}
