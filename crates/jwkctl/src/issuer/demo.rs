//! `jwkctl demo`: the whole JWT Bearer flow in one process, on loopback, step by step.

use core::time::Duration;
use std::process::ExitCode;
use std::sync::Arc;

use jwk_core::Algorithm;
use jwt_issuer::{
    Client, ClientAuth, Clock as _, KeyManager, Listener, LoopbackClient, ManualClock,
    RunningServer, Schedule, ServerOptions, TokenService, TrustedIssuer, CLIENT_ASSERTION_TYPE,
    JWKS_PATH, JWT_BEARER, TOKEN_PATH,
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
        let mut ctx = self.start_servers().await?;
        self.mint_assertions(&mut ctx)?;
        self.exchange(&mut ctx).await?;
        self.validate(&mut ctx).await?;
        self.client_authentication_failures(&mut ctx).await?;
        self.rollover(&mut ctx).await?;
        self.replay(&mut ctx).await?;
        self.tamper(&mut ctx).await?;
        let (url, clock) = (ctx.svc.url.clone(), ctx.clock.clone());
        self.gateway_step(&url, &clock, &ctx.first_token, &ctx.second_token)
            .await?;
        self.shutdown(ctx, args).await
    }

    /// Steps 1-3: the identity provider, the client's key server, the token service.
    async fn start_servers(&mut self) -> Result<Ctx, Stop> {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        // One clock for the servers and the validator, so the rollover does not have to wait
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
            None,
        )
        .await?;
        self.check(true, &format!("identity provider at {}", idp.url));

        self.heading("Start the client application's key server (EdDSA): its JWKS is its identity");
        let app = Node::start(
            &clock,
            schedule,
            &dirs.path().join("client-keys"),
            &[Algorithm::EdDsa],
            &[],
            None,
        )
        .await?;
        let app_jwks = format!("{}{JWKS_PATH}", app.url);
        self.check(
            true,
            &format!("client {CLIENT_ID} publishes its keys at {app_jwks}"),
        );

        self.heading("Start the token service (RS256 + PS256 on one RSA key) trusting the IdP");
        let idp_jwks = format!("{}{JWKS_PATH}", idp.url);
        let trust = [(idp.url.clone(), idp_jwks.clone())];
        let service_dir = dirs.path().join("service-keys");
        let registered = Some((CLIENT_ID, app_jwks.as_str()));
        let (svc, rsa) = match Node::start(
            &clock,
            schedule,
            &service_dir,
            &[Algorithm::Rs256, Algorithm::Ps256],
            &trust,
            registered,
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
                    registered,
                )
                .await?;
                (n, false)
            }
            Err(e) => return Err(e),
        };
        self.check(true, &format!("token service at {}", svc.url));
        self.info(format!(
            "registered client {CLIENT_ID}: auth_method private_key_jwt, jwks_uri {app_jwks}"
        ));
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
                k.alg_name().unwrap_or("-")
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
                    .all(|k| k.x5c.as_ref().is_some_and(|c| c.len() == 1) && k.x5t_s256_matches()),
                "each carries x5c (self-signed certificate) and a matching x5t#S256",
            );
        } else {
            self.require(set.keys.len() == 2, "one key per algorithm published")?;
        }
        let discovery = client
            .get(jwt_issuer::DISCOVERY_PATH, &[])
            .await
            .map_err(|e| e.to_string())?
            .json();
        self.check(
            discovery["token_endpoint_auth_methods_supported"] == json!(["private_key_jwt"]),
            "discovery lists private_key_jwt as the client authentication method",
        );
        Ok(Ctx {
            clock,
            dirs,
            idp,
            app,
            svc,
            client,
            first_assertion: String::new(),
            first_token: String::new(),
            first_kid: String::new(),
            second_token: String::new(),
            validator: None,
            source: None,
        })
    }

    /// The identity provider's assertion.
    fn mint_assertions(&mut self, ctx: &mut Ctx) -> Result<(), Stop> {
        self.heading("The identity provider mints an assertion for alice (RFC 7523)");
        ctx.first_assertion =
            ctx.idp
                .assertion(&ctx.clock, ctx.svc.service.token_endpoint(), "alice")?;
        self.info(short("assertion", &ctx.first_assertion));
        self.check(true, "signed with the identity provider's ES256 key");
        Ok(())
    }

    /// The client authenticates with its own JWT and exchanges the assertion.
    async fn exchange(&mut self, ctx: &mut Ctx) -> Result<(), Stop> {
        self.heading("The client authenticates (private_key_jwt) and exchanges the assertion");
        let client_assertion = ctx.client_assertion(json!(ctx.svc.service.issuer()))?;
        self.info(short("client assertion", &client_assertion));
        self.info(format!(
            "iss = sub = {CLIENT_ID}, aud = {} (the issuer identifier), one-time jti",
            ctx.svc.service.issuer()
        ));
        let assertion = ctx.first_assertion.clone();
        let r = ctx
            .post(&assertion, Some(&client_assertion), &[("scope", "read")])
            .await?;
        let body = r.json();
        self.info(format!(
            "HTTP {} token_type={} expires_in={} scope={}",
            r.status, body["token_type"], body["expires_in"], body["scope"]
        ));
        self.require(
            r.status == 200 && r.header("cache-control") == Some("no-store"),
            "200 with an RFC 6749 5.1 body and Cache-Control: no-store",
        )?;
        ctx.first_token = body["access_token"].as_str().unwrap_or_default().to_owned();
        self.info(short("access token", &ctx.first_token));
        Ok(())
    }

    /// The access token through the service's JWKS, with the claims issue 13 added.
    async fn validate(&mut self, ctx: &mut Ctx) -> Result<(), Stop> {
        self.heading("Validate the access token through the service's JWKS over HTTP");
        let source = Arc::new(remote_jwks(
            &format!("{}{JWKS_PATH}", ctx.svc.url),
            None,
            true,
            false,
        )?);
        let validator = Validator::builder()
            .shared_key_source(source.clone())
            .issuer(ctx.svc.url.clone())
            .audience(ctx.svc.url.clone())
            .typ("at+jwt")
            .clock(ctx.clock.clone())
            .build()
            .map_err(|e| e.to_string())?;
        match validator.validate_async(&ctx.first_token).await {
            Ok(v) => {
                let c = v.claims();
                let get = |n: &str| c.get(n).unwrap_or(Value::Null);
                self.info(format!(
                    "kid {} sub {} idp {} client_id {} azp {}",
                    v.kid().unwrap_or("-"),
                    c.sub.as_deref().unwrap_or("-"),
                    get("idp"),
                    get("client_id"),
                    get("azp")
                ));
                self.check(true, "valid: typ at+jwt, iss, aud, exp, signature");
                self.check(
                    c.sub.as_deref() == Some(format!("{}#alice", ctx.idp.url).as_str())
                        && get("idp") == json!(ctx.idp.url),
                    "sub is qualified by the identity provider (recorded in idp)",
                );
                self.check(
                    get("client_id") == json!(CLIENT_ID) && get("azp") == json!(CLIENT_ID),
                    "client_id and azp are the authenticated client",
                );
                ctx.first_kid = v.kid().unwrap_or_default().to_owned();
            }
            Err(e) => {
                self.check(false, &format!("validation failed: {} ({e})", e.code()));
                return Err("cannot continue without a valid token".into());
            }
        }
        self.info(format!("JWKS fetches so far: {}", source.stats().fetches));
        ctx.validator = Some(validator);
        ctx.source = Some(source);
        Ok(())
    }

    /// What an unauthenticated or misdirected caller gets: 401 invalid_client.
    async fn client_authentication_failures(&mut self, ctx: &mut Ctx) -> Result<(), Stop> {
        self.heading("Client authentication failures: 401 invalid_client, the grant untouched");
        let fresh = ctx
            .idp
            .assertion(&ctx.clock, ctx.svc.service.token_endpoint(), "dave")?;
        let wrong_aud = ctx.client_assertion(json!(ctx.svc.service.token_endpoint()))?;
        let cases = [
            ("no client authentication", None),
            (
                "client assertion aud = token endpoint (2025 rules: issuer only)",
                Some(wrong_aud),
            ),
        ];
        for (what, ca) in cases {
            let r = ctx.post(&fresh, ca.as_deref(), &[]).await?;
            self.info(format!("{what}: HTTP {} {}", r.status, r.json()["error"]));
            self.check(
                r.status == 401 && r.json()["error"] == "invalid_client",
                what,
            );
        }
        let ca = ctx.client_assertion(json!(ctx.svc.service.issuer()))?;
        let first = ctx.post(&fresh, Some(&ca), &[]).await?;
        let other = ctx
            .idp
            .assertion(&ctx.clock, ctx.svc.service.token_endpoint(), "erin")?;
        let replayed = ctx.post(&other, Some(&ca), &[]).await?;
        self.check(
            first.status == 200 && replayed.status == 401,
            "the grant still works once; the client assertion cannot be replayed",
        );
        Ok(())
    }

    /// A key rollover seen by a validator holding the old JWKS.
    async fn rollover(&mut self, ctx: &mut Ctx) -> Result<(), Stop> {
        self.heading("Roll the service's keys over");
        let (Some(validator), Some(source)) = (ctx.validator.clone(), ctx.source.clone()) else {
            return Err("no validator".into());
        };
        let fetches_before = source.stats().fetches;
        let keys = ctx.svc.keys.clone();
        tokio::task::spawn_blocking(move || keys.rotate())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let status = ctx.svc.keys.status().map_err(|e| e.to_string())?;
        for s in &status {
            self.info(format!("{} {}", s.state.name(), s.kid));
        }
        self.check(
            status.len() == 4,
            "the new key is published before it signs (pre-publish)",
        );
        ctx.clock.advance(PREPUBLISH + Duration::from_secs(1));
        self.info(format!(
            "clock moved {} s forward: past the pre-publish period",
            PREPUBLISH.as_secs() + 1
        ));
        let second_assertion =
            ctx.idp
                .assertion(&ctx.clock, ctx.svc.service.token_endpoint(), "bob")?;
        let ca = ctx.client_assertion(json!(ctx.svc.service.issuer()))?;
        let r = ctx.post(&second_assertion, Some(&ca), &[]).await?;
        ctx.second_token = r.json()["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match validator.validate_async(&ctx.second_token).await {
            Ok(v) => {
                let kid = v.kid().unwrap_or_default().to_owned();
                self.info(format!("new token kid {kid}"));
                self.check(
                    kid != ctx.first_kid,
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
        let old = validator.validate_async(&ctx.first_token).await;
        self.check(
            old.is_ok(),
            "the token signed before the rollover is still valid (retired key still published)",
        );
        Ok(())
    }

    /// The first assertion again, with a fresh client assertion.
    async fn replay(&mut self, ctx: &mut Ctx) -> Result<(), Stop> {
        self.heading("Replay the first assertion");
        let ca = ctx.client_assertion(json!(ctx.svc.service.issuer()))?;
        let first = ctx.first_assertion.clone();
        let r = ctx.post(&first, Some(&ca), &[]).await?;
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
        Ok(())
    }

    /// A changed access token and a changed assertion.
    async fn tamper(&mut self, ctx: &mut Ctx) -> Result<(), Stop> {
        self.heading("Tamper with tokens");
        let Some(validator) = ctx.validator.clone() else {
            return Err("no validator".into());
        };
        let forged = swap_payload(&ctx.second_token, |c| {
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
        let fresh = ctx
            .idp
            .assertion(&ctx.clock, ctx.svc.service.token_endpoint(), "carol")?;
        let tampered = swap_payload(&fresh, |c| {
            c["sub"] = json!("admin");
        })?;
        let ca = ctx.client_assertion(json!(ctx.svc.service.issuer()))?;
        let r = ctx.post(&tampered, Some(&ca), &[]).await?;
        self.info(format!(
            "HTTP {} {}",
            r.status,
            r.json()["error_description"]
        ));
        self.check(
            r.status == 400 && r.json()["error"] == "invalid_grant",
            "tampered assertion rejected at the token endpoint",
        );
        Ok(())
    }

    /// Stops every server.
    async fn shutdown(&mut self, ctx: Ctx, args: &Args) -> Result<(), Stop> {
        self.heading("Shut down gracefully");
        ctx.svc.stop().await;
        ctx.app.stop().await;
        ctx.idp.stop().await;
        self.check(true, "every server stopped");
        if args.keep_keys {
            let p = ctx.dirs.keep();
            super::say!("\nkey directories kept in {}", p.display());
        }
        Ok(())
    }
}

/// The registered client of the demo.
const CLIENT_ID: &str = "demo-app";

/// What the steps share.
struct Ctx {
    clock: Arc<ManualClock>,
    dirs: TempDir,
    idp: Node,
    /// The client application: its key server (JWKS) and signing key.
    app: Node,
    svc: Node,
    client: LoopbackClient,
    first_assertion: String,
    first_token: String,
    first_kid: String,
    second_token: String,
    validator: Option<Validator>,
    source: Option<Arc<jwks_fetch::RemoteJwks>>,
}

impl Ctx {
    /// A client assertion (RFC 7523 2.2) for the demo client, signed with its key.
    fn client_assertion(&self, aud: Value) -> Result<String, Stop> {
        let now = self.clock.now().as_secs();
        let claims = json!({
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": aud,
            "iat": now,
            "exp": now + 60,
            "jti": jwk_core::b64::encode(&rand::random::<[u8; 16]>()),
        });
        self.app
            .keys
            .signing_key(None)
            .and_then(|k| k.sign_jwt("JWT", &claims))
            .map_err(|e| e.to_string())
    }

    /// POST to the token endpoint with the grant, the client assertion (if any) and `extra`.
    async fn post(
        &mut self,
        assertion: &str,
        client_assertion: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<jwt_issuer::Reply, Stop> {
        let mut form = vec![("grant_type", JWT_BEARER), ("assertion", assertion)];
        if let Some(ca) = client_assertion {
            form.push(("client_assertion_type", CLIENT_ASSERTION_TYPE));
            form.push(("client_assertion", ca));
        }
        form.extend_from_slice(extra);
        self.client
            .post_form(TOKEN_PATH, &form)
            .await
            .map_err(|e| e.to_string())
    }
}

impl Demo {
    /// The issued access token calls an API behind `jwkctl gateway` (which requires scope
    /// `read`): 200; then no token, a tampered one and one without the scope are refused
    /// before the API sees them.
    async fn gateway_step(
        &mut self,
        service_url: &str,
        clock: &Arc<ManualClock>,
        scoped: &str,
        unscoped: &str,
    ) -> Result<(), Stop> {
        use crate::gateway::{demo_api, Args as GatewayArgs, Gateway};
        self.heading("Call an API behind `jwkctl gateway --require-scope read`");
        let (api, api_task) = demo_api().await?;
        let args = GatewayArgs {
            listen: ([127, 0, 0, 1], 0).into(),
            upstream: format!("http://{api}"),
            source: crate::keys::SourceArgs {
                jwks: None,
                jwks_url: Some(format!("{service_url}{JWKS_PATH}")),
                discovery: None,
            },
            iss: vec![service_url.to_owned()],
            aud: vec![service_url.to_owned()],
            alg: Vec::new(),
            require_scope: vec!["read".into()],
            allow_http: true,
            ca_file: None,
        };
        let gw = Gateway::start_with_clock(&args, Some(clock.clone())).await?;
        self.info(format!(
            "gateway at http://{} -> API at http://{api}",
            gw.addr
        ));
        let mut client = LoopbackClient::connect(gw.addr)
            .await
            .map_err(|e| e.to_string())?;
        let tampered = swap_payload(scoped, |c| c["sub"] = json!("mallory"))?;
        let cases: [(&str, Option<&str>, u16); 4] = [
            ("the access token (scope read)", Some(scoped), 200),
            ("no token", None, 401),
            ("a tampered token", Some(&tampered), 401),
            ("a token without scope read", Some(unscoped), 403),
        ];
        for (what, token, want) in cases {
            let auth = token.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> = auth
                .as_deref()
                .map(|a| vec![("authorization", a)])
                .unwrap_or_default();
            let r = client
                .get("/orders", &headers)
                .await
                .map_err(|e| e.to_string())?;
            let detail = match r.header("www-authenticate") {
                Some(c) => c.to_owned(),
                None => String::from_utf8_lossy(&r.body).into_owned(),
            };
            self.info(format!("{what}: HTTP {} {detail}", r.status));
            self.check(r.status == want, &format!("{what}: {want}"));
        }
        gw.stop().await;
        api_task.abort();
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
        client: Option<(&str, &str)>,
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
        // The client authenticates with private_key_jwt, its keys at its own JWKS URL.
        if let Some((id, jwks_uri)) = client {
            let keys = Arc::new(remote_jwks(jwks_uri, None, true, false)?);
            b = b.client(
                Client::new(
                    id,
                    ClientAuth::PrivateKeyJwt {
                        keys,
                        algorithms: vec![Algorithm::EdDsa],
                    },
                )
                .trusted_issuers(trust.iter().map(|(iss, _)| iss.clone()))
                .scopes(["read"]),
            );
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
