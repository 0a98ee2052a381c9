//! `jwkctl demo`: the whole JWT Bearer flow in one process, on loopback, step by step.

use core::time::Duration;
use std::process::ExitCode;
use std::sync::Arc;

use jwk_core::Algorithm;
use jwt_issuer::{
    Clock as _, KeyManager, Listener, LoopbackClient, ManualClock, RunningServer, Schedule,
    ServerOptions, TokenService, TrustedIssuer, JWKS_PATH, JWT_BEARER, TOKEN_PATH,
};
use jwt_validate::Validator;
use serde_json::{json, Value};

use super::{remote_jwks, runtime, TempDir};

/// Run the JWT Bearer flow end to end on 127.0.0.1 and check every step.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Keep the key directories (printed) instead of deleting them at exit.
    #[arg(long)]
    keep_keys: bool,
}

/// How long a new key is published before it signs, in the demo.
const PREPUBLISH: Duration = Duration::from_secs(60);

pub(crate) fn run(args: Args) -> ExitCode {
    super::init_tracing("error");
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            super::tell!("error: {e}");
            return ExitCode::from(crate::output::UNDECIDED);
        }
    };
    let mut demo = Demo::default();
    let result = rt.block_on(demo.run(&args));
    match result {
        Ok(()) if demo.failed == 0 => {
            super::say!("\nall {} steps behaved", demo.passed);
            ExitCode::SUCCESS
        }
        Ok(()) => {
            super::say!(
                "\n{} of {} steps did not behave",
                demo.failed,
                demo.passed + demo.failed
            );
            ExitCode::from(1)
        }
        Err(e) => {
            super::say!("\nstopped: {e}");
            ExitCode::from(1)
        }
    }
}

#[derive(Debug, Default)]
struct Demo {
    passed: usize,
    failed: usize,
    step: usize,
}

/// A failure that stops the demo (a step that later steps depend on).
type Stop = String;

impl Demo {
    fn heading(&mut self, title: &str) {
        self.step += 1;
        super::say!("\n{}. {title}", self.step);
    }

    fn check(&mut self, ok: bool, what: &str) -> bool {
        if ok {
            self.passed += 1;
            super::say!("   [ok]   {what}");
        } else {
            self.failed += 1;
            super::say!("   [FAIL] {what}");
        }
        ok
    }

    fn info(&self, line: impl AsRef<str>) {
        super::say!("          {}", line.as_ref());
    }

    fn require(&mut self, ok: bool, what: &str) -> Result<(), Stop> {
        if self.check(ok, what) {
            Ok(())
        } else {
            Err(format!("step {} failed: {what}", self.step))
        }
    }

    async fn run(&mut self, args: &Args) -> Result<(), Stop> {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        // One clock for both servers and the validator, so the rollover does not have to wait
        // a real minute; HTTP caching runs on real time.
        let clock = Arc::new(ManualClock::at_secs(wall));
        let schedule = Schedule::new(
            Duration::from_secs(24 * 3600),
            PREPUBLISH,
            Duration::from_secs(600),
        );
        let dirs = TempDir::new("demo")?;

        self.heading("Start an external identity provider (ES256) on 127.0.0.1");
        let idp = Node::start(
            &clock,
            schedule,
            &dirs.path().join("idp-keys"),
            &[Algorithm::Es256],
            &[],
        )
        .await?;
        self.check(true, &format!("identity provider at {}", idp.url));

        self.heading("Start the token service (RS256 + PS256 on one RSA key) trusting it");
        let idp_jwks = format!("{}{JWKS_PATH}", idp.url);
        let trust = [(idp.url.clone(), idp_jwks.clone())];
        let service_dir = dirs.path().join("service-keys");
        let (svc, rsa) = match Node::start(
            &clock,
            schedule,
            &service_dir,
            &[Algorithm::Rs256, Algorithm::Ps256],
            &trust,
        )
        .await
        {
            Ok(n) => (n, true),
            // A backend that cannot generate RSA keys (ring): the same flow on ES256 + EdDSA.
            Err(e) if e.contains("unsupported_key_generation") => {
                self.info("this backend cannot generate RSA keys: using ES256 + EdDSA");
                let n = Node::start(
                    &clock,
                    schedule,
                    &service_dir,
                    &[Algorithm::Es256, Algorithm::EdDsa],
                    &trust,
                )
                .await?;
                (n, false)
            }
            Err(e) => return Err(e),
        };
        self.check(true, &format!("token service at {}", svc.url));
        let mut client = LoopbackClient::connect(svc.addr)
            .await
            .map_err(|e| e.to_string())?;
        let jwks = client
            .get(JWKS_PATH, &[])
            .await
            .map_err(|e| e.to_string())?;
        let set = jwk_core::JwkSet::parse(&jwks.body).map_err(|e| e.to_string())?;
        for k in &set.keys {
            self.info(format!(
                "published kid {} ({})",
                k.kid.as_deref().unwrap_or("-"),
                k.alg.as_ref().map_or("-", |a| a.as_str())
            ));
        }
        self.info(format!(
            "Cache-Control: {}",
            jwks.header("cache-control").unwrap_or("-")
        ));
        if rsa {
            self.require(
                set.keys.len() == 2 && set.keys[0].params == set.keys[1].params,
                "one RSA key published once per algorithm (_RS256, _PS256)",
            )?;
            self.check(
                set.keys
                    .iter()
                    .all(|k| k.x5c.as_ref().is_some_and(|c| c.len() == 1) && x5t_matches(k)),
                "each carries x5c (self-signed certificate) and a matching x5t#S256",
            );
        } else {
            self.require(set.keys.len() == 2, "one key per algorithm published")?;
        }

        self.heading("The identity provider mints an assertion (RFC 7523)");
        let first_assertion = idp.assertion(&clock, svc.service.token_endpoint(), "alice")?;
        self.info(short("assertion", &first_assertion));
        self.check(true, "signed with the identity provider's ES256 key");

        self.heading("Exchange it at the token endpoint");
        let r = client
            .post_form(
                TOKEN_PATH,
                &[
                    ("grant_type", JWT_BEARER),
                    ("assertion", &first_assertion),
                    ("scope", "read"),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        let body = r.json();
        self.info(format!(
            "HTTP {} token_type={} expires_in={} scope={}",
            r.status, body["token_type"], body["expires_in"], body["scope"]
        ));
        self.require(
            r.status == 200 && r.header("cache-control") == Some("no-store"),
            "200 with an RFC 6749 5.1 body and Cache-Control: no-store",
        )?;
        let first_token = body["access_token"].as_str().unwrap_or_default().to_owned();
        self.info(short("access token", &first_token));

        self.heading("Validate the access token through the service's JWKS over HTTP");
        let source = Arc::new(remote_jwks(
            &format!("{}{JWKS_PATH}", svc.url),
            None,
            true,
            false,
        )?);
        let validator = Validator::builder()
            .shared_key_source(source.clone())
            .issuer(svc.url.clone())
            .audience(svc.url.clone())
            .typ("at+jwt")
            .clock(clock.clone())
            .build()
            .map_err(|e| e.to_string())?;
        let first_kid = match validator.validate_async(&first_token).await {
            Ok(v) => {
                self.info(format!(
                    "kid {} sub {} client_id {}",
                    v.kid().unwrap_or("-"),
                    v.claims().sub.as_deref().unwrap_or("-"),
                    v.claims().get("client_id").unwrap_or(Value::Null)
                ));
                self.check(true, "valid: typ at+jwt, iss, aud, exp, signature");
                v.kid().unwrap_or_default().to_owned()
            }
            Err(e) => {
                self.check(false, &format!("validation failed: {} ({e})", e.code()));
                return Err("cannot continue without a valid token".into());
            }
        };
        let fetches_before = source.stats().fetches;
        self.info(format!("JWKS fetches so far: {fetches_before}"));

        self.heading("Roll the service's keys over");
        let keys = svc.keys.clone();
        tokio::task::spawn_blocking(move || keys.rotate())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let status = svc.keys.status().map_err(|e| e.to_string())?;
        for s in &status {
            self.info(format!("{} {}", s.state.name(), s.kid));
        }
        self.check(
            status.len() == 4,
            "the new key is published before it signs (pre-publish)",
        );
        clock.advance(PREPUBLISH + Duration::from_secs(1));
        self.info(format!(
            "clock moved {} s forward: past the pre-publish period",
            PREPUBLISH.as_secs() + 1
        ));
        let second_assertion = idp.assertion(&clock, svc.service.token_endpoint(), "bob")?;
        let r = client
            .post_form(
                TOKEN_PATH,
                &[("grant_type", JWT_BEARER), ("assertion", &second_assertion)],
            )
            .await
            .map_err(|e| e.to_string())?;
        let second_token = r.json()["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match validator.validate_async(&second_token).await {
            Ok(v) => {
                let kid = v.kid().unwrap_or_default().to_owned();
                self.info(format!("new token kid {kid}"));
                self.check(
                    kid != first_kid,
                    "new tokens carry the new kid and validate",
                );
            }
            Err(e) => {
                self.check(false, &format!("new token refused: {} ({e})", e.code()));
            }
        }
        let fetches_after = source.stats().fetches;
        self.check(
            fetches_after == fetches_before + 1,
            &format!(
                "the validator fetched the JWKS once more ({fetches_before} -> {fetches_after})"
            ),
        );
        let old = validator.validate_async(&first_token).await;
        self.check(
            old.is_ok(),
            "the token signed before the rollover is still valid (retired key still published)",
        );

        self.heading("Replay the first assertion");
        let r = client
            .post_form(
                TOKEN_PATH,
                &[("grant_type", JWT_BEARER), ("assertion", &first_assertion)],
            )
            .await
            .map_err(|e| e.to_string())?;
        self.info(format!(
            "HTTP {} {} {}",
            r.status,
            r.json()["error"],
            r.json()["error_description"]
        ));
        self.check(
            r.status == 400 && r.json()["error"] == "invalid_grant",
            "rejected: jti already used",
        );

        self.heading("Tamper with tokens");
        let forged = swap_payload(&second_token, |c| {
            c["sub"] = json!("mallory");
        })?;
        match validator.validate_async(&forged).await {
            Err(e) => {
                self.info(format!("access token with sub changed: {} ({e})", e.code()));
                self.check(
                    e.code() == "bad_signature",
                    "tampered access token rejected",
                );
            }
            Ok(_) => {
                self.check(false, "tampered access token was accepted");
            }
        }
        let fresh = idp.assertion(&clock, svc.service.token_endpoint(), "carol")?;
        let tampered = swap_payload(&fresh, |c| {
            c["sub"] = json!("admin");
        })?;
        let r = client
            .post_form(
                TOKEN_PATH,
                &[("grant_type", JWT_BEARER), ("assertion", &tampered)],
            )
            .await
            .map_err(|e| e.to_string())?;
        self.info(format!(
            "HTTP {} {}",
            r.status,
            r.json()["error_description"]
        ));
        self.check(
            r.status == 400 && r.json()["error"] == "invalid_grant",
            "tampered assertion rejected at the token endpoint",
        );

        self.heading("Shut down gracefully");
        svc.stop().await;
        idp.stop().await;
        self.check(true, "both servers stopped");
        if args.keep_keys {
            let p = dirs.keep();
            super::say!("\nkey directories kept in {}", p.display());
        }
        Ok(())
    }
}

/// One server with its keys.
struct Node {
    keys: KeyManager,
    service: TokenService,
    server: RunningServer,
    url: String,
    addr: core::net::SocketAddr,
}

impl Node {
    async fn start(
        clock: &Arc<ManualClock>,
        schedule: Schedule,
        dir: &std::path::Path,
        algs: &[Algorithm],
        trust: &[(String, String)],
    ) -> Result<Node, Stop> {
        let keys = {
            let b = KeyManager::builder(dir)
                .algorithms(algs.iter().cloned())
                .schedule(schedule)
                .x5c(true)
                .clock(clock.clone());
            tokio::task::spawn_blocking(move || b.open())
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("{e} ({})", e.code()))?
        };
        let listener = Listener::bind(([127, 0, 0, 1], 0).into())
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr();
        let url = format!("http://{addr}");
        let mut b = TokenService::builder(url.clone(), keys.clone());
        for (iss, jwks) in trust {
            let source = remote_jwks(jwks, None, true, false)?;
            b = b.trust(TrustedIssuer::new(iss.clone(), Arc::new(source)).scopes(["read"]));
        }
        let service = b.build().map_err(|e| e.to_string())?;
        let server = listener.serve(service.clone(), ServerOptions::default());
        Ok(Node {
            keys,
            service,
            server,
            url,
            addr,
        })
    }

    fn assertion(&self, clock: &ManualClock, aud: &str, sub: &str) -> Result<String, Stop> {
        let now = clock.now().as_secs();
        let claims = json!({
            "iss": self.url,
            "sub": sub,
            "aud": aud,
            "iat": now,
            "exp": now + 120,
            "jti": jwk_core::b64::encode(&rand::random::<[u8; 16]>()),
        });
        self.keys
            .signing_key(None)
            .and_then(|k| k.sign_jwt("JWT", &claims))
            .map_err(|e| e.to_string())
    }

    async fn stop(self) {
        self.server.shutdown().await;
    }
}

/// True when `x5t#S256` is the SHA-256 of the first `x5c` certificate.
fn x5t_matches(k: &jwk_core::Jwk) -> bool {
    use base64::Engine as _;
    use sha2::Digest as _;
    let (Some(chain), Some(x5t)) = (&k.x5c, &k.x5t_s256) else {
        return false;
    };
    let Some(Ok(der)) = chain
        .first()
        .map(|c| base64::engine::general_purpose::STANDARD.decode(c))
    else {
        return false;
    };
    jwk_core::b64::encode(&sha2::Sha256::digest(&der)) == *x5t
}

/// `label: header.payload.signature` shortened for printing.
fn short(label: &str, token: &str) -> String {
    let head: String = token.chars().take(48).collect();
    format!("{label}: {head}... ({} bytes)", token.len())
}

/// The same token with its payload changed and its signature kept.
fn swap_payload(token: &str, change: impl FnOnce(&mut Value)) -> Result<String, Stop> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("not a compact JWS".into());
    };
    let payload = jwk_core::b64::decode(p, jwk_core::Part::Payload).map_err(|e| e.to_string())?;
    let mut claims: Value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
    change(&mut claims);
    Ok(format!(
        "{h}.{}.{s}",
        jwk_core::b64::encode(claims.to_string().as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_step_behaves() {
        let rt = super::runtime().unwrap();
        let mut demo = super::Demo::default();
        rt.block_on(demo.run(&super::Args { keep_keys: false }))
            .unwrap();
        assert_eq!(demo.failed, 0);
        assert!(demo.passed >= 15, "{}", demo.passed);
    }
}
