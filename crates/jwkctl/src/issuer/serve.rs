//! `jwkctl serve --config FILE`: the token service (JWKS, discovery, RFC 7523 token endpoint).

use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use jwt_issuer::{
    Client, ClientAuth, KeyManager, Listener, MemoryReplayStore, RedisReplayStore, ReplayStore,
    RunningServer, Schedule, SecretHash, ServerOptions, TlsFiles, TokenService, TrustedIssuer,
};

use super::config::{algorithms, AuthMethod, Config};
use super::{init_tracing, remote_jwks, runtime};
use crate::output::{OK, UNDECIDED};

/// Run the token service described by a TOML file (see the file format in
/// `jwkctl/src/issuer/config.rs` or the README).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The configuration file.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Check the configuration and the key directory, print the JWKS, and exit.
    #[arg(long)]
    check: bool,
}

pub(crate) fn run(args: Args) -> ExitCode {
    init_tracing("info");
    let text = match std::fs::read_to_string(&args.config) {
        Ok(t) => t,
        Err(e) => {
            super::tell!("error: {}: {e}", args.config.display());
            return ExitCode::from(UNDECIDED);
        }
    };
    let config = match Config::parse(&text) {
        Ok(c) => c,
        Err(e) => {
            super::tell!("error: {}: {e}", args.config.display());
            return ExitCode::from(UNDECIDED);
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            super::tell!("error: {e}");
            return ExitCode::from(UNDECIDED);
        }
    };
    match rt.block_on(serve(config, args.check)) {
        Ok(()) => ExitCode::from(OK),
        Err(e) => {
            super::tell!("error: {e}");
            ExitCode::from(UNDECIDED)
        }
    }
}

async fn serve(c: Config, check: bool) -> Result<(), String> {
    let Some(server) = start(c, check).await? else {
        return Ok(());
    };
    shutdown_signal().await;
    super::tell!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Builds everything the file describes and starts listening (`None` with `check`: built,
/// not started).
async fn start(c: Config, check: bool) -> Result<Option<RunningServer>, String> {
    let algs = algorithms(&c.algorithms)?;
    let d = |span: Option<super::config::Span>, default: u64| {
        span.map_or(Duration::from_secs(default), |s| s.0)
    };
    let lifetime = d(c.access_token_lifetime, 300);
    let leeway = d(c.leeway, 60);
    let prepublish = d(c.prepublish, 3600);
    let rotation = d(c.rotation_period, 7 * 86400);
    if rotation < prepublish {
        return Err(format!(
            "rotation_period ({} s) must be at least prepublish ({} s)",
            rotation.as_secs(),
            prepublish.as_secs()
        ));
    }
    // A retired key stays published until every token it signed has expired.
    let schedule = Schedule::new(rotation, prepublish, lifetime + leeway);
    let keys = {
        let b = KeyManager::builder(&c.key_dir)
            .algorithms(algs)
            .rsa_bits(c.rsa_bits)
            .x5c(c.x5c)
            .schedule(schedule);
        tokio::task::spawn_blocking(move || b.open())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
    };
    for p in keys.problems() {
        super::tell!("warning: key directory: {} skipped: {}", p.file, p.reason);
    }
    if check {
        for s in keys.status().map_err(|e| e.to_string())? {
            super::tell!("{:8} {} ({})", s.state.name(), s.kid, s.file);
        }
        let doc = keys.jwks().map_err(|e| e.to_string())?;
        super::say!("{}", String::from_utf8_lossy(&doc.body));
    }

    let clients = clients(&c)?;
    let no_clients = clients.is_empty();
    let capacity = c
        .replay_capacity
        .unwrap_or(MemoryReplayStore::DEFAULT_CAPACITY);
    let fair = MemoryReplayStore::fair(capacity, c.trusted_issuers.len(), clients.len());
    let per_issuer = c.replay_quota_per_issuer.unwrap_or(fair.per_issuer());
    let per_client = c.replay_quota_per_client.unwrap_or(fair.per_client());
    let store = replay_store(&c, capacity, per_issuer, per_client)?;
    if check && store.kind() == "memory" {
        let per = MemoryReplayStore::BYTES_PER_ENTRY;
        super::tell!(
            "replay store: {capacity} entries at most {per} bytes each (measured) = at most {:.1} MB; \
             quota {per_issuer} per issuer, {per_client} per client",
            (capacity * per) as f64 / 1e6,
        );
    } else if check {
        super::tell!("replay store: redis; quota {per_issuer} per issuer, {per_client} per client");
    }
    match store.health().await {
        Ok(()) => super::tell!("replay store: {}: ok", store.kind()),
        // Not fatal: requests are answered 503 until it answers (fail closed), and the
        // instance recovers by itself.
        Err(e) => super::tell!(
            "warning: replay store: {} unavailable now ({e}); token requests get 503 until it answers",
            store.kind()
        ),
    }
    let mut b = TokenService::builder(c.issuer.clone(), keys)
        .access_token_lifetime(lifetime)
        .leeway(leeway)
        .allow_unauthenticated_clients(c.allow_unauthenticated_clients)
        .replay_store(store);
    for client in clients {
        b = b.client(client);
    }
    if let Some(t) = &c.token_endpoint {
        b = b.token_endpoint(t.clone());
    }
    if let Some(a) = &c.access_token_audience {
        b = b.access_token_audience(a.clone());
    }
    if let Some(m) = c.max_assertion_lifetime {
        b = b.max_assertion_lifetime(m.0);
    }
    for t in &c.trusted_issuers {
        let location = match (&t.jwks_uri, t.discovery) {
            (Some(u), false) => u.clone(),
            (None, true) => t.issuer.clone(),
            _ => {
                return Err(format!(
                    "trusted issuer {:?}: set exactly one of jwks_uri or discovery = true",
                    t.issuer
                ))
            }
        };
        let source = remote_jwks(
            &location,
            t.ca_file.as_deref(),
            t.allow_http_loopback,
            t.discovery,
        )?;
        let mut trusted = TrustedIssuer::new(t.issuer.clone(), Arc::new(source))
            .algorithms(algorithms(&t.algorithms)?)
            .scopes(t.scopes.iter().cloned())
            .subjects_as_is(t.subjects_as_is);
        if let Some(a) = &t.audience {
            trusted = trusted.audience(a.clone());
        }
        b = b.trust(trusted);
    }
    // After the trusted issuers' own checks, so their errors come first.
    if no_clients && !c.trusted_issuers.is_empty() {
        if !c.allow_unauthenticated_clients {
            return Err(NO_CLIENTS.replace("{issuer}", &c.trusted_issuers[0].issuer));
        }
        super::tell!(
            "warning: no [[clients]] and allow_unauthenticated_clients = true: anyone holding \
             an assertion gets a token, and the token's client_id comes from the assertion"
        );
    }
    let service = b.build().map_err(|e| e.to_string())?;
    if check {
        super::tell!("configuration ok");
        return Ok(None);
    }

    let addr: core::net::SocketAddr = c
        .listen
        .parse()
        .map_err(|e| format!("listen {:?}: {e}", c.listen))?;
    let listener = Listener::bind(addr).await.map_err(|e| e.to_string())?;
    let mut options = ServerOptions::default();
    if let Some(m) = c.max_body {
        options.max_body = m;
    }
    let server = match &c.tls {
        Some(tls) => listener
            .serve_tls(service, options, &TlsFiles::new(&tls.cert, &tls.key))
            .map_err(|e| e.to_string())?,
        None => listener.serve(service, options),
    };
    super::tell!(
        "serving {} on {}://{}",
        c.issuer,
        if c.tls.is_some() { "https" } else { "http" },
        server.local_addr()
    );
    Ok(Some(server))
}

/// The replay store the file names: `"memory"` (default) or a `redis://` / `rediss://` URL,
/// with the quotas.
fn replay_store(
    c: &Config,
    capacity: usize,
    per_issuer: usize,
    per_client: usize,
) -> Result<Arc<dyn ReplayStore>, String> {
    let redis_only = c.replay_key_prefix.is_some()
        || c.replay_connect_timeout.is_some()
        || c.replay_command_timeout.is_some()
        || c.replay_ca_file.is_some();
    if c.replay_store == "memory" {
        if redis_only {
            return Err(
                "replay_key_prefix, replay_*_timeout and replay_ca_file apply to a redis replay_store; \
                        remove them or set replay_store = \"redis://HOST:PORT/DB\""
                    .into(),
            );
        }
        return Ok(Arc::new(MemoryReplayStore::with_quotas(
            capacity, per_issuer, per_client,
        )));
    }
    let mut b = RedisReplayStore::builder(c.replay_store.clone()).quotas(per_issuer, per_client);
    if let Some(p) = &c.replay_key_prefix {
        b = b.key_prefix(p.clone());
    }
    if let Some(t) = c.replay_connect_timeout {
        b = b.connect_timeout(t.0);
    }
    if let Some(t) = c.replay_command_timeout {
        b = b.command_timeout(t.0);
    }
    if let Some(ca) = &c.replay_ca_file {
        b = b.ca_file(ca);
    }
    Ok(Arc::new(b.build().map_err(|e| e.to_string())?))
}

/// The refusal without `[[clients]]`: the section to add.
const NO_CLIENTS: &str = "no client is registered: the token service issues tokens only to \
registered clients that authenticate (RFC 6749 2.3). Add a section like this one (see the README, \
\"Running the token service\"):

[[clients]]
client_id = \"my-app\"
auth_method = \"private_key_jwt\"      # or client_secret_basic, client_secret_post, none
jwks_uri = \"https://my-app.example/jwks.json\"
trusted_issuers = [\"{issuer}\"]
scopes = [\"read\"]

or, to keep accepting unauthenticated requests, set allow_unauthenticated_clients = true";

/// The `[[clients]]` sections as registered clients.
fn clients(c: &Config) -> Result<Vec<Client>, String> {
    let mut out = Vec::new();
    for cc in &c.clients {
        let id = &cc.client_id;
        let secret = |hash: &Option<String>| -> Result<SecretHash, String> {
            let h = hash.as_deref().ok_or_else(|| {
                format!(
                    "client {id:?}: {:?} needs client_secret_hash (make one with \
                     `jwkctl client-secret-hash`)",
                    cc.auth_method
                )
            })?;
            SecretHash::parse(h).map_err(|e| format!("client {id:?}: {e}"))
        };
        let keyed = cc.jwks_uri.is_some() || cc.jwks.is_some();
        if cc.auth_method != AuthMethod::PrivateKeyJwt && keyed {
            return Err(format!(
                "client {id:?}: jwks_uri and jwks are for auth_method = \"private_key_jwt\""
            ));
        }
        let is_secret = matches!(
            cc.auth_method,
            AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
        );
        if !is_secret && cc.client_secret_hash.is_some() {
            return Err(format!(
                "client {id:?}: client_secret_hash is for client_secret_basic / client_secret_post"
            ));
        }
        let auth = match cc.auth_method {
            AuthMethod::ClientSecretBasic => {
                ClientAuth::SecretBasic(secret(&cc.client_secret_hash)?)
            }
            AuthMethod::ClientSecretPost => ClientAuth::SecretPost(secret(&cc.client_secret_hash)?),
            AuthMethod::None => ClientAuth::None,
            AuthMethod::PrivateKeyJwt => {
                let keys: Arc<dyn jwt_validate::KeySource> = match (&cc.jwks_uri, &cc.jwks) {
                    (Some(uri), None) => Arc::new(remote_jwks(
                        uri,
                        cc.ca_file.as_deref(),
                        cc.allow_http_loopback,
                        false,
                    )?),
                    (None, Some(inline)) => Arc::new(inline_keys(id, &inline.json())?),
                    _ => {
                        return Err(format!(
                            "client {id:?}: private_key_jwt needs exactly one of jwks_uri or jwks"
                        ))
                    }
                };
                ClientAuth::PrivateKeyJwt {
                    keys,
                    algorithms: algorithms(&cc.algorithms)?,
                }
            }
        };
        out.push(
            Client::new(id.clone(), auth)
                .trusted_issuers(cc.trusted_issuers.iter().cloned())
                .scopes(cc.scopes.iter().cloned()),
        );
    }
    Ok(out)
}

/// A client's inline JWK Set: public keys only, at least one usable.
pub(crate) fn inline_keys(id: &str, json: &str) -> Result<jwt_validate::StaticKeys, String> {
    let set = jwk_core::JwkSet::parse(json.as_bytes())
        .map_err(|e| format!("client {id:?}: jwks: {e}"))?;
    if set.keys.iter().any(|k| k.params.kty() == "oct") {
        return Err(format!(
            "client {id:?}: jwks holds a symmetric (oct) key; a client's keys are public keys"
        ));
    }
    let keys = jwt_validate::StaticKeys::from_jwks(
        &set,
        jws_crypto::default_provider(),
        &jws_crypto::KeyPolicy::default(),
    );
    if keys.keys().is_empty() {
        return Err(format!("client {id:?}: jwks holds no usable public key"));
    }
    Ok(keys)
}

/// Ctrl-C, or SIGTERM on Unix.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path, trusted: &str) -> Config {
        Config::parse(&format!(
            r#"
            issuer = "http://127.0.0.1:1"
            algorithms = ["ES256", "EdDSA"]
            key_dir = "{}"
            prepublish = "10m"
            rotation_period = "1d"
            {trusted}
            "#,
            dir.join("keys").display()
        ))
        .unwrap()
    }

    #[test]
    fn check_builds_everything_and_creates_keys() {
        let dir = super::super::TempDir::new("serve-test").unwrap();
        let rt = super::super::runtime().unwrap();
        let ok = config(
            dir.path(),
            r#"[[trusted_issuers]]
               issuer = "http://127.0.0.1:9"
               jwks_uri = "http://127.0.0.1:9/oauth2/jwks"
               allow_http_loopback = true
               algorithms = ["ES256"]
               scopes = ["read"]
               [[clients]]
               client_id = "cli"
               auth_method = "none"
               trusted_issuers = ["http://127.0.0.1:9"]
               scopes = ["read"]"#,
        );
        rt.block_on(serve(ok, true)).unwrap();
        let files = std::fs::read_dir(dir.path().join("keys"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name() != ".rotate.lock")
            .count();
        assert_eq!(files, 2);

        let both = config(
            dir.path(),
            r#"[[trusted_issuers]]
               issuer = "http://127.0.0.1:9"
               jwks_uri = "http://127.0.0.1:9/oauth2/jwks"
               discovery = true"#,
        );
        assert!(rt.block_on(serve(both, true)).is_err());
        let plain_http = config(
            dir.path(),
            r#"[[trusted_issuers]]
               issuer = "http://idp.example"
               jwks_uri = "http://idp.example/oauth2/jwks""#,
        );
        let e = rt.block_on(serve(plain_http, true)).unwrap_err();
        // The config key, and the URL once (issue 11 item 9).
        assert!(e.contains("allow_http_loopback = true"), "{e}");
        assert_eq!(
            e.matches("http://idp.example/oauth2/jwks").count(),
            1,
            "{e}"
        );

        // No [[clients]]: refused with the section to add, unless explicitly allowed.
        let trusted = r#"[[trusted_issuers]]
               issuer = "http://127.0.0.1:9"
               jwks_uri = "http://127.0.0.1:9/oauth2/jwks"
               allow_http_loopback = true"#;
        let e = rt
            .block_on(serve(config(dir.path(), trusted), true))
            .unwrap_err();
        assert!(
            e.contains("[[clients]]") && e.contains("auth_method"),
            "{e}"
        );
        assert!(
            e.contains("trusted_issuers = [\"http://127.0.0.1:9\"]"),
            "{e}"
        );
        let allowed = format!("allow_unauthenticated_clients = true\n{trusted}");
        rt.block_on(serve(config(dir.path(), &allowed), true))
            .unwrap();

        // Client sections: each method's keys must fit it.
        let hash = jwt_issuer::hash_client_secret("s").unwrap();
        let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
        let with_client = |body: &str| {
            config(
                dir.path(),
                &format!(
                    "{trusted}\n[[clients]]\nclient_id = \"c\"\ntrusted_issuers = [\"http://127.0.0.1:9\"]\n{body}"
                ),
            )
        };
        for good in [
            format!("auth_method = \"client_secret_basic\"\nclient_secret_hash = \"{hash}\""),
            format!("auth_method = \"client_secret_post\"\nclient_secret_hash = \"{hash}\""),
            format!("auth_method = \"private_key_jwt\"\njwks = '{jwks}'"),
            "auth_method = \"private_key_jwt\"\njwks_uri = \"http://127.0.0.1:9/c.json\"\nallow_http_loopback = true".to_owned(),
        ] {
            rt.block_on(serve(with_client(&good), true)).unwrap();
        }
        for bad in [
            "auth_method = \"client_secret_basic\"".to_owned(),
            "auth_method = \"client_secret_post\"\nclient_secret_hash = \"plain\"".to_owned(),
            format!("auth_method = \"none\"\nclient_secret_hash = \"{hash}\""),
            "auth_method = \"private_key_jwt\"".to_owned(),
            format!("auth_method = \"none\"\njwks = '{jwks}'"),
            r#"auth_method = "private_key_jwt"
               jwks = '{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}]}'"#
                .to_owned(),
            "auth_method = \"private_key_jwt\"\njwks = '{\"keys\":[]}'".to_owned(),
        ] {
            assert!(
                rt.block_on(serve(with_client(&bad), true)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn replay_store_settings_are_checked() {
        let dir = super::super::TempDir::new("serve-replay").unwrap();
        let rt = super::super::runtime().unwrap();
        let _in_runtime = rt.enter();
        let with = |extra: &str| {
            let mut c = config(dir.path(), "");
            let text = format!("issuer = \"x\"\nkey_dir = \"k\"\n{extra}");
            let parsed = Config::parse(&text).unwrap();
            c.replay_store = parsed.replay_store;
            c.replay_capacity = parsed.replay_capacity;
            c.replay_key_prefix = parsed.replay_key_prefix;
            c.replay_command_timeout = parsed.replay_command_timeout;
            c.replay_ca_file = parsed.replay_ca_file;
            replay_store(&c, 10, 5, 5).map(|s| s.kind())
        };
        assert_eq!(with(""), Ok("memory"));
        assert_eq!(with("replay_capacity = 10"), Ok("memory"));
        // Built without waiting for Redis (it fails closed until Redis answers).
        assert_eq!(
            with("replay_store = \"redis://127.0.0.1:1/0\"\nreplay_command_timeout = \"200ms\""),
            Ok("redis")
        );
        assert!(with("replay_key_prefix = \"p:\"").is_err());
        // With Redis, replay_capacity is the basis of the quotas.
        assert_eq!(
            with("replay_store = \"redis://127.0.0.1:1/0\"\nreplay_capacity = 10"),
            Ok("redis")
        );
        assert!(with("replay_store = \"memcached://127.0.0.1:1\"").is_err());
        assert!(with("replay_ca_file = \"/nonexistent\"").is_err());
        // A CA file that cannot be read, or with a plain redis:// URL: refused at start.
        assert!(with(
            "replay_store = \"rediss://127.0.0.1:1/0\"\nreplay_ca_file = \"/nonexistent\""
        )
        .is_err());
        assert!(
            with("replay_store = \"redis://127.0.0.1:1/0\"\nreplay_ca_file = \"Cargo.toml\"")
                .is_err()
        );
        assert!(
            with("replay_store = \"redis://127.0.0.1:1/0\"\nreplay_command_timeout = 0").is_err()
        );
    }

    #[test]
    fn the_configured_server_answers() {
        let dir = super::super::TempDir::new("serve-run").unwrap();
        let rt = super::super::runtime().unwrap();
        let mut c = config(dir.path(), "");
        c.listen = "127.0.0.1:0".into();
        rt.block_on(async {
            let server = start(c, false).await.unwrap().unwrap();
            let mut client = jwt_issuer::LoopbackClient::connect(server.local_addr())
                .await
                .unwrap();
            let h = client.get(jwt_issuer::HEALTH_PATH, &[]).await.unwrap();
            assert_eq!(h.status, 200);
            let j = client.get(jwt_issuer::JWKS_PATH, &[]).await.unwrap();
            assert_eq!(j.header("cache-control"), Some("public, max-age=600"));
            assert_eq!(jwk_core::JwkSet::parse(&j.body).unwrap().keys.len(), 2);
            server.shutdown().await;
        });
    }
}
