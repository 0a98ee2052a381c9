//! Shared test helpers: temporary directories, an identity provider and a token service on
//! 127.0.0.1 with one injected clock.

use core::net::SocketAddr;
use core::sync::atomic::{AtomicU32, Ordering};
use core::time::Duration;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jwk_core::Algorithm;
use jwks_fetch::{CacheConfig, FetchConfig, RemoteJwks};
use jwt_issuer::{
    Client, ClientAuth, KeyManager, Listener, LoopbackClient, ManualClock, Reply, RunningServer,
    Schedule, ServerOptions, TokenService, TrustedIssuer, JWT_BEARER, TOKEN_PATH,
};
use serde_json::{json, Value};

/// The public client (`auth_method = "none"`) every test service registers.
pub(crate) const PUBLIC_CLIENT: &str = "test-public";

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "jwt-issuer-{tag}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Rotate every 1000 s, pre-publish 100 s, retire for 700 s (access tokens live 300 s).
pub(crate) fn schedule() -> Schedule {
    Schedule::new(
        Duration::from_secs(1000),
        Duration::from_secs(100),
        Duration::from_secs(700),
    )
}

/// The wall clock now, in whole seconds: fetch caching runs on real time, tokens on `clock`.
pub(crate) fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A server (identity provider or token service) with its keys.
pub(crate) struct Node {
    pub(crate) keys: KeyManager,
    pub(crate) server: Option<RunningServer>,
    pub(crate) url: String,
    pub(crate) addr: SocketAddr,
    pub(crate) service: TokenService,
    _dir: Option<TempDir>,
}

impl Node {
    pub(crate) async fn client(&self) -> LoopbackClient {
        LoopbackClient::connect(self.addr).await.unwrap()
    }
    pub(crate) async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

pub(crate) fn remote(jwks_url: &str) -> RemoteJwks {
    let mut cache = CacheConfig::default();
    cache.background = false;
    RemoteJwks::builder(jwks_url)
        .fetch_config(FetchConfig::default().with_allow_http_loopback(true))
        .cache_config(cache)
        .build()
        .unwrap()
}

/// Starts a node. `trust`: issuers (identifier, JWKS URL) it accepts assertions from.
pub(crate) async fn start(
    clock: &Arc<ManualClock>,
    algs: &[Algorithm],
    dir: Option<&Path>,
    trust: &[(String, String)],
) -> Node {
    start_with_store(clock, algs, dir, trust, None).await
}

/// [`start`] with a replay store (`None`: the default in-memory one).
pub(crate) async fn start_with_store(
    clock: &Arc<ManualClock>,
    algs: &[Algorithm],
    dir: Option<&Path>,
    trust: &[(String, String)],
    store: Option<Arc<dyn jwt_issuer::ReplayStore>>,
) -> Node {
    let owned = if dir.is_none() {
        Some(TempDir::new("node"))
    } else {
        None
    };
    let path = dir.map_or_else(|| owned.as_ref().unwrap().path().to_owned(), Path::to_owned);
    let keys = KeyManager::builder(path)
        .algorithms(algs.iter().cloned())
        .schedule(schedule())
        .clock(clock.clone())
        .open()
        .unwrap();
    let listener = Listener::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr();
    let url = format!("http://{addr}");
    let mut b = TokenService::builder(url.clone(), keys.clone())
        .access_token_lifetime(Duration::from_secs(300));
    for (iss, jwks) in trust {
        b = b.trust(
            TrustedIssuer::new(iss.clone(), Arc::new(remote(jwks))).scopes(["read", "write"]),
        );
    }
    if let Some(store) = store {
        b = b.replay_store(store);
    }
    if !trust.is_empty() {
        b = b.client(
            Client::new(PUBLIC_CLIENT, ClientAuth::None)
                .trusted_issuers(trust.iter().map(|(iss, _)| iss.clone()))
                .scopes(["read", "write"]),
        );
    }
    let service = b.build().unwrap();
    let mut options = ServerOptions::default();
    options.max_body = 16 * 1024;
    let server = listener.serve(service.clone(), options);
    Node {
        keys,
        server: Some(server),
        url,
        addr,
        service,
        _dir: owned,
    }
}

/// An identity provider and a token service that trusts it.
pub(crate) struct Env {
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) idp: Node,
    pub(crate) svc: Node,
}

impl Env {
    pub(crate) async fn new() -> Env {
        Env::with_algs(&[Algorithm::Es256]).await
    }

    pub(crate) async fn with_algs(svc_algs: &[Algorithm]) -> Env {
        let clock = Arc::new(ManualClock::at_secs(wall_now()));
        let idp = start(&clock, &[Algorithm::Es256], None, &[]).await;
        let trust = [(idp.url.clone(), format!("{}/oauth2/jwks", idp.url))];
        let svc = start(&clock, svc_algs, None, &trust).await;
        Env { clock, idp, svc }
    }

    pub(crate) fn now(&self) -> i64 {
        use jwt_issuer::Clock as _;
        self.clock.now().as_secs() as i64
    }

    /// Claims of a good assertion from the IdP.
    pub(crate) fn claims(&self) -> Value {
        let now = self.now();
        json!({
            "iss": self.idp.url,
            "sub": "alice",
            "aud": self.svc.service.token_endpoint(),
            "iat": now,
            "exp": now + 300,
            "jti": jwk_core::b64::encode(&rand::random::<[u8; 12]>()),
        })
    }

    /// An assertion signed by the IdP's current key.
    pub(crate) fn assertion(&self, claims: &Value) -> String {
        self.idp
            .keys
            .signing_key(None)
            .unwrap()
            .sign_jwt("JWT", claims)
            .unwrap()
    }

    pub(crate) async fn exchange(&self, assertion: &str) -> Reply {
        exchange_at(self.svc.addr, assertion).await
    }
}

/// The public client's exchange of `assertion` at the token endpoint listening on `addr`, on
/// a new connection.
pub(crate) async fn exchange_at(addr: SocketAddr, assertion: &str) -> Reply {
    LoopbackClient::connect(addr)
        .await
        .unwrap()
        .post_form(
            TOKEN_PATH,
            &[
                ("grant_type", JWT_BEARER),
                ("assertion", assertion),
                ("client_id", PUBLIC_CLIENT),
            ],
        )
        .await
        .unwrap()
}

/// The `error` member of a reply, with status.
pub(crate) fn oauth_error(r: &Reply) -> (u16, String) {
    (
        r.status,
        r.json()["error"].as_str().unwrap_or_default().to_owned(),
    )
}
