//! Test servers on 127.0.0.1 (a hyper server behind TLS with a CA made here, and a scripted raw
//! TCP server for faults), keys and tokens, and a source builder.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jwk_core::{Algorithm, Jwk};
use jwks_fetch::{CacheConfig, FetchConfig, RemoteJwks};
use jws_crypto::Signer;
use jwt_validate::ManualClock;
use jwt_validate::Validator;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const ISS: &str = "https://idp.test";

/// What the server saw.
#[derive(Debug, Clone)]
pub struct Req {
    pub path: String,
    /// Lowercased names.
    pub headers: Vec<(String, String)>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does.
pub enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Raw bytes, then close (raw server only).
    Raw(Vec<u8>),
    /// `prefix` at once, then `bytes` one at a time (raw server only).
    Drip {
        prefix: Vec<u8>,
        bytes: Vec<u8>,
        every: Duration,
    },
    /// `head`, then `chunk` forever (raw server only); counts bytes written.
    Endless { head: Vec<u8>, chunk: Vec<u8> },
    /// Waits, then replies.
    Delay(Duration, Box<Reply>),
    /// Reads the request and never answers.
    Hang,
}

pub fn json(body: impl Into<String>) -> Reply {
    with_headers(200, &[("content-type", "application/json")], body)
}

pub fn with_headers(status: u16, headers: &[(&str, &str)], body: impl Into<String>) -> Reply {
    Reply::Full {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into().into_bytes(),
    }
}

pub fn status(code: u16) -> Reply {
    with_headers(code, &[("content-type", "text/plain")], "no")
}

pub type Handler = Arc<dyn Fn(usize, &Req) -> Reply + Send + Sync>;

pub fn handler(f: impl Fn(usize, &Req) -> Reply + Send + Sync + 'static) -> Handler {
    Arc::new(f)
}

pub struct Server {
    pub addr: SocketAddr,
    pub tls: bool,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Req>>>,
    handler: Arc<Mutex<Handler>>,
    /// Bytes written by `Endless` replies.
    pub written: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Plain HTTP, scripted byte by byte.
    pub async fn raw(h: Handler) -> Server {
        Server::start(None, h).await
    }

    /// hyper over TLS.
    pub async fn tls(config: Arc<rustls::ServerConfig>, h: Handler) -> Server {
        Server::start(Some(config), h).await
    }

    async fn start(tls: Option<Arc<rustls::ServerConfig>>, h: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(Mutex::new(h));
        let written = Arc::new(AtomicUsize::new(0));
        let is_tls = tls.is_some();
        let shared = Shared {
            hits: hits.clone(),
            requests: requests.clone(),
            handler: handler.clone(),
            written: written.clone(),
        };
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let shared = shared.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => shared.serve_raw(tcp).await,
                        Some(cfg) => {
                            let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                shared.serve_hyper(stream).await;
                            }
                        }
                    }
                });
            }
        });
        Server {
            addr,
            tls: is_tls,
            hits,
            requests,
            handler,
            written,
            task,
        }
    }

    pub fn set(&self, h: Handler) {
        *self.handler.lock().unwrap() = h;
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Req> {
        self.requests.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:port/path`, or `https://localhost:port/path` for TLS.
    pub fn url(&self, path: &str) -> String {
        if self.tls {
            format!("https://localhost:{}{path}", self.addr.port())
        } else {
            format!("http://127.0.0.1:{}{path}", self.addr.port())
        }
    }
}

#[derive(Clone)]
struct Shared {
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Req>>>,
    handler: Arc<Mutex<Handler>>,
    written: Arc<AtomicUsize>,
}

impl Shared {
    fn record(&self, req: &Req) -> Reply {
        let n = self.hits.fetch_add(1, Ordering::SeqCst);
        self.requests.lock().unwrap().push(req.clone());
        let h = self.handler.lock().unwrap().clone();
        h(n, req)
    }

    async fn serve_raw(&self, mut tcp: tokio::net::TcpStream) {
        // One request per connection (the client sends one).
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if buf.len() > 64 * 1024 {
                return;
            }
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let path = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("")
            .to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let reply = self.record(&Req { path, headers });
        self.write_raw(&mut tcp, reply).await;
    }

    async fn write_raw(&self, tcp: &mut tokio::net::TcpStream, mut reply: Reply) {
        loop {
            match reply {
                Reply::Delay(d, inner) => {
                    tokio::time::sleep(d).await;
                    reply = *inner;
                    continue;
                }
                Reply::Full {
                    status,
                    headers,
                    body,
                } => {
                    let mut out = format!("HTTP/1.1 {status} X\r\n");
                    for (k, v) in headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str(&format!(
                        "content-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    ));
                    let mut bytes = out.into_bytes();
                    bytes.extend_from_slice(&body);
                    let _ = tcp.write_all(&bytes).await;
                }
                Reply::Raw(bytes) => {
                    let _ = tcp.write_all(&bytes).await;
                }
                Reply::Drip {
                    prefix,
                    bytes,
                    every,
                } => {
                    if tcp.write_all(&prefix).await.is_err() {
                        return;
                    }
                    for b in bytes {
                        if tcp.write_all(&[b]).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(every).await;
                    }
                }
                Reply::Endless { head, chunk } => {
                    if tcp.write_all(&head).await.is_err() {
                        return;
                    }
                    // Bounded so a broken client cannot keep the test running forever.
                    for _ in 0..1_000_000 {
                        if tcp.write_all(&chunk).await.is_err() {
                            return;
                        }
                        self.written.fetch_add(chunk.len(), Ordering::SeqCst);
                    }
                }
                Reply::Hang => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            }
            let _ = tcp.shutdown().await;
            return;
        }
    }

    async fn serve_hyper<S>(&self, stream: S)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let me = self.clone();
        let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let me = me.clone();
            async move {
                let r = Req {
                    path: req
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_default(),
                    headers: req
                        .headers()
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_string(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                };
                let mut reply = me.record(&r);
                while let Reply::Delay(d, inner) = reply {
                    tokio::time::sleep(d).await;
                    reply = *inner;
                }
                let resp = match reply {
                    Reply::Full {
                        status,
                        headers,
                        body,
                    } => {
                        let mut b = hyper::Response::builder().status(status);
                        for (k, v) in headers {
                            b = b.header(k, v);
                        }
                        b.body(Full::new(Bytes::from(body))).unwrap()
                    }
                    _ => hyper::Response::builder()
                        .status(500)
                        .body(Full::new(Bytes::new()))
                        .unwrap(),
                };
                Ok::<_, Infallible>(resp)
            }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), svc)
            .await;
    }
}

/// A test CA made at test time, and server certificates it signs.
pub struct Pki {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    ca_cert: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    pub fn new() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "jwks-fetch test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = params.self_signed(&ca_key).unwrap();
        Pki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            ca_cert,
            ca_key,
        }
    }

    /// A server config for `names`, valid now unless `expired`.
    pub fn server(&self, names: &[&str], expired: bool) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let cert = params.signed_by(&key, &self.ca_cert, &self.ca_key).unwrap();
        server_config(cert.der().clone(), &key)
    }

    /// A self-signed server config for `names` (no CA the client trusts).
    pub fn self_signed(names: &[&str]) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.self_signed(&key).unwrap();
        server_config(cert.der().clone(), &key)
    }

    /// A fetch config trusting only this CA.
    pub fn fetch_config(&self) -> FetchConfig {
        FetchConfig::default()
            .with_web_pki_roots(false)
            .with_root(self.ca_der.clone())
    }
}

fn server_config(cert: CertificateDer<'static>, key: &KeyPair) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    Arc::new(cfg)
}

/// An ES256 signing key with a kid.
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    signer: Arc<dyn Signer>,
}

impl TestKey {
    pub fn new(kid: &str) -> TestKey {
        let (signer, _) = jws_crypto::default_provider()
            .generate(Algorithm::Es256, 0)
            .unwrap();
        TestKey {
            kid: kid.into(),
            signer,
        }
    }

    pub fn jwk(&self) -> Jwk {
        let mut jwk = self.signer.public_jwk();
        jwk.kid = Some(self.kid.clone());
        jwk
    }

    /// A token for [`ISS`] signed by this key, valid for 30 days of real time.
    pub fn token(&self) -> String {
        self.token_as(&self.kid, ISS)
    }

    /// A token signed by this key, naming `kid` in its header.
    pub fn token_as(&self, kid: &str, iss: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{kid}"}}"#);
        let payload = format!(
            r#"{{"iss":"{iss}","sub":"u","iat":{now},"exp":{}}}"#,
            now + 30 * 86_400
        );
        let input = format!(
            "{}.{}",
            jwk_core::b64::encode(header.as_bytes()),
            jwk_core::b64::encode(payload.as_bytes())
        );
        let sig = self.signer.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", jwk_core::b64::encode(&sig))
    }
}

/// A JWK Set document holding `keys`.
pub fn jwks(keys: &[&TestKey]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| k.jwk().to_json()).collect();
    format!(r#"{{"keys":[{}]}}"#, keys.join(","))
}

/// Cache settings for tests: no background task (the test drives `tick`).
pub fn cache() -> CacheConfig {
    CacheConfig::default().with_background(false)
}

/// A source on `url` (loopback http allowed), driven by `clock`.
pub fn source(url: &str, clock: &Arc<ManualClock>) -> RemoteJwks {
    source_with(url, clock, cache(), http_config())
}

pub fn source_with(
    url: &str,
    clock: &Arc<ManualClock>,
    cache: CacheConfig,
    fetch: FetchConfig,
) -> RemoteJwks {
    RemoteJwks::builder(url)
        .fetch_config(fetch)
        .cache_config(cache)
        .clock(clock.clone())
        .build()
        .unwrap()
}

pub fn http_config() -> FetchConfig {
    FetchConfig::default()
        .with_allow_http_loopback(true)
        .with_request_timeout(Duration::from_secs(5))
}

/// A validator over `source` for [`ISS`], ES256 only.
pub fn validator(source: &RemoteJwks) -> Validator {
    Validator::builder()
        .key_source(source.clone())
        .algorithms([Algorithm::Es256])
        .issuer(ISS)
        .build()
        .unwrap()
}

/// The error code of a validation, or `valid`.
pub async fn check(v: &Validator, token: &str) -> &'static str {
    match v.validate_async(token).await {
        Ok(_) => "valid",
        Err(e) => e.code(),
    }
}

pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new())
}

pub const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
