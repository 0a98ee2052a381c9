//! An issuer on 127.0.0.1 (jwt-issuer's JWKS endpoint), token minting, an HTTP client and a
//! `WWW-Authenticate` parser.

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use jwk_core::Algorithm;
use jwks_fetch::{CacheConfig, FetchConfig, RemoteJwks};
use jwt_issuer::{
    Clock as _, KeyManager, Listener, LoopbackClient, ManualClock, Reply, RunningServer, Schedule,
    ServerOptions, TokenService, JWKS_PATH,
};
use serde_json::{json, Value};

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "jwt-tower-{}-{:016x}",
            std::process::id(),
            rand_u64()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    h.finish()
}

pub fn wall_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Pre-publish period of the issuers' keys.
pub const PREPUBLISH: Duration = Duration::from_secs(100);

/// An issuer: keys with rollover and its JWKS endpoint on 127.0.0.1.
pub struct Issuer {
    pub keys: KeyManager,
    pub server: Option<RunningServer>,
    pub url: String,
    _dir: TempDir,
}

impl Issuer {
    pub async fn start(clock: &Arc<ManualClock>) -> Issuer {
        let dir = TempDir::new();
        let keys = KeyManager::builder(dir.0.clone())
            .algorithms([Algorithm::Es256])
            .schedule(Schedule::new(
                Duration::from_secs(1000),
                PREPUBLISH,
                Duration::from_secs(700),
            ))
            .clock(clock.clone())
            .open()
            .unwrap();
        let listener = Listener::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr();
        let url = format!("http://{addr}");
        let service = TokenService::builder(url.clone(), keys.clone())
            .build()
            .unwrap();
        let server = listener.serve(service, ServerOptions::default());
        Issuer {
            keys,
            server: Some(server),
            url,
            _dir: dir,
        }
    }

    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.url)
    }

    /// An access token for `aud` with extra claims merged in.
    pub fn token(&self, clock: &ManualClock, aud: &str, extra: Value) -> String {
        let now = clock.now().as_secs();
        let mut claims = json!({
            "iss": self.url, "sub": "alice", "aud": aud, "iat": now, "exp": now + 300,
        });
        if let (Some(c), Value::Object(e)) = (claims.as_object_mut(), extra) {
            c.extend(e);
        }
        self.keys
            .signing_key(None)
            .unwrap()
            .sign_jwt("at+jwt", &claims)
            .unwrap()
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

/// A remote key source over plain http on loopback, no background refresh.
pub fn remote(jwks_url: &str) -> RemoteJwks {
    let mut cache = CacheConfig::default();
    cache.background = false;
    RemoteJwks::builder(jwks_url)
        .fetch_config(
            FetchConfig::default()
                .with_allow_http_loopback(true)
                .with_connect_timeout(Duration::from_secs(1)),
        )
        .cache_config(cache)
        .build()
        .unwrap()
}

/// One GET on a fresh connection.
pub async fn fetch(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut c = LoopbackClient::connect(addr).await.unwrap();
    c.get(path, headers).await.unwrap()
}

/// A parsed `WWW-Authenticate: Bearer k="v", ...` challenge.
#[derive(Debug, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parses one challenge (RFC 7235 2.1 auth-params with quoted-string values).
pub fn challenge(reply: &Reply) -> Challenge {
    let v = reply
        .header("www-authenticate")
        .unwrap_or_else(|| panic!("no WWW-Authenticate in a {} reply", reply.status));
    let (scheme, mut rest) = v.split_once(' ').unwrap_or((v, ""));
    let mut params = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if rest.is_empty() {
            break;
        }
        let (name, after) = rest.split_once('=').expect("auth-param without =");
        let after = after.strip_prefix('"').expect("value is a quoted-string");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => value.push(chars.next().unwrap().1),
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated quoted-string in {v:?}"),
            }
        };
        assert!(
            params.insert(name.trim().to_owned(), value).is_none(),
            "parameter repeated in {v:?}"
        );
        rest = &after[end + 1..];
    }
    Challenge {
        scheme: scheme.to_owned(),
        params,
    }
}

/// The challenge's parameters as `[(name, value)]`, for compact assertions.
pub fn params(reply: &Reply) -> Vec<(String, String)> {
    let c = challenge(reply);
    assert_eq!(c.scheme, "Bearer");
    c.params.into_iter().collect()
}

pub fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    v.sort();
    v
}

/// The same token with its payload's `sub` changed and the signature kept.
pub fn tamper(token: &str) -> String {
    let mut parts = token.split('.');
    let (h, pl, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let payload = jwk_core::b64::decode(pl, jwk_core::Part::Payload).unwrap();
    let mut claims: Value = serde_json::from_slice(&payload).unwrap();
    claims["sub"] = json!("mallory");
    format!(
        "{h}.{}.{s}",
        jwk_core::b64::encode(claims.to_string().as_bytes())
    )
}
