//! The HTTP server (hyper 1.x): JWKS, discovery, token endpoint, health.

use core::convert::Infallible;
use core::net::SocketAddr;
use core::time::Duration;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use rustls::crypto::CryptoProvider;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::error::Error;
use crate::oauth::{Refusal, JWT_BEARER};
use crate::token::TokenService;

/// Path of the JWKS document.
pub const JWKS_PATH: &str = "/oauth2/jwks";
/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// Path of the discovery document.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// Path of the health check.
pub const HEALTH_PATH: &str = "/healthz";

/// Server limits and timers. Defaults in each field's doc.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Largest request body accepted, in bytes (larger: 413). Default 64 KiB.
    pub max_body: usize,
    /// Connections served at once; further ones wait in the accept queue. Default 1024.
    pub max_connections: usize,
    /// Time allowed to send the request headers. Default 10 s.
    pub header_timeout: Duration,
    /// Time allowed to send the body. Default 10 s.
    pub body_timeout: Duration,
    /// How often the key directory is maintained (rotation, rescans). Default 30 s.
    pub maintain_every: Duration,
    /// On shutdown, how long open requests may take before connections are dropped.
    /// Default 10 s.
    pub grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_body: 64 * 1024,
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            maintain_every: Duration::from_secs(30),
            grace: Duration::from_secs(10),
        }
    }
}

/// A bound listening socket: its address is known before the service is built, so the issuer
/// identifier can name an ephemeral port.
#[derive(Debug)]
pub struct Listener {
    inner: TcpListener,
    addr: SocketAddr,
}

impl Listener {
    /// Binds `addr` (port 0: an ephemeral port).
    pub async fn bind(addr: SocketAddr) -> Result<Listener, Error> {
        let inner = TcpListener::bind(addr).await.map_err(|e| Error::Bind {
            addr: addr.to_string().into(),
            reason: e.to_string().into(),
        })?;
        let addr = inner.local_addr().map_err(|e| Error::Bind {
            addr: addr.to_string().into(),
            reason: e.to_string().into(),
        })?;
        Ok(Listener { inner, addr })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `service` over plain HTTP until [`RunningServer::shutdown`]. Must run inside a
    /// Tokio runtime.
    pub fn serve(self, service: TokenService, options: ServerOptions) -> RunningServer {
        self.start(service, options, None)
    }

    /// Serves `service` over HTTPS (TLS 1.2 and 1.3 through rustls) with the certificate
    /// chain and private key in `tls`, on [`TlsFiles::with_tls_provider`] (default
    /// `jws_crypto::tls_provider()`).
    pub fn serve_tls(
        self,
        service: TokenService,
        options: ServerOptions,
        tls: &TlsFiles,
    ) -> Result<RunningServer, Error> {
        let config = tls.server_config()?;
        Ok(self.serve_tls_config(service, options, Arc::new(config)))
    }

    /// Serves `service` over HTTPS with a rustls configuration the caller built (its own
    /// provider, protocol versions, certificate resolver, client authentication). The server
    /// speaks HTTP/1.1 only, so the ALPN list is replaced by `http/1.1` (on a copy).
    pub fn serve_tls_config(
        self,
        service: TokenService,
        options: ServerOptions,
        config: Arc<rustls::ServerConfig>,
    ) -> RunningServer {
        let mut config = rustls::ServerConfig::clone(&config);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        self.start(service, options, Some(TlsAcceptor::from(Arc::new(config))))
    }

    fn start(
        self,
        service: TokenService,
        options: ServerOptions,
        tls: Option<TlsAcceptor>,
    ) -> RunningServer {
        let (stop_tx, stop_rx) = watch::channel(false);
        let state = Arc::new(State { service, options });
        let addr = self.addr;
        let maintain = tokio::spawn(maintain_loop(state.clone(), stop_rx.clone()));
        let accept = tokio::spawn(accept_loop(self.inner, state, tls, stop_rx));
        tracing::info!(%addr, "listening");
        RunningServer {
            addr,
            stop: stop_tx,
            accept,
            maintain,
        }
    }
}

/// A server running on the Tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept: JoinHandle<()>,
    maintain: JoinHandle<()>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets open requests finish (up to the grace period), then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.accept.await;
        let _ = self.maintain.await;
    }
}

#[derive(Debug)]
struct State {
    service: TokenService,
    options: ServerOptions,
}

async fn maintain_loop(state: Arc<State>, mut stop: watch::Receiver<bool>) {
    let every = state.options.maintain_every.max(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(every) => {}
        }
        let keys = state.service.keys().clone();
        match tokio::task::spawn_blocking(move || keys.maintain()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "key maintenance failed"),
            Err(e) => tracing::error!(error = %e, "key maintenance task failed"),
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    tls: Option<TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(state.options.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            _ = stop.changed() => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let st = state.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, st, peer, watcher).await,
                Some(acceptor) => {
                    // The handshake shares the header deadline: a silent client cannot hold
                    // a connection slot.
                    match tokio::time::timeout(st.options.header_timeout, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => serve_connection(s, st, peer, watcher).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(state.options.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over; dropping open connections");
    }
    tracing::info!("server stopped");
}

async fn serve_connection<I>(io: I, state: Arc<State>, peer: SocketAddr, watcher: Watcher)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let st = state.clone();
    let svc = service_fn(move |req| handle(st.clone(), peer, req));
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(state.options.header_timeout)
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(io), svc);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}

/// PEM files for HTTPS: the certificate chain (leaf first) and its private key (PKCS#8,
/// PKCS#1 or SEC1), served on `jws_crypto::tls_provider()` unless
/// [`TlsFiles::with_tls_provider`] names another. (A whole rustls `ServerConfig`:
/// [`Listener::serve_tls_config`].)
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TlsFiles {
    /// Certificate chain file.
    pub cert: PathBuf,
    /// Private key file.
    pub key: PathBuf,
    provider: Option<Arc<CryptoProvider>>,
}

/// Equal when the paths are equal and the providers are the same one (or both the default).
impl PartialEq for TlsFiles {
    fn eq(&self, other: &Self) -> bool {
        self.cert == other.cert
            && self.key == other.key
            && match (&self.provider, &other.provider) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

impl Eq for TlsFiles {}

impl TlsFiles {
    /// The two paths.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        TlsFiles {
            cert: cert.into(),
            key: key.into(),
            provider: None,
        }
    }

    /// The rustls crypto provider the server runs on (a FIPS build, a restricted cipher
    /// suite list). Default: `jws_crypto::tls_provider()`.
    pub fn with_tls_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    fn server_config(&self) -> Result<rustls::ServerConfig, Error> {
        use rustls_pki_types::pem::PemObject as _;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let tls = |reason: String| Error::Tls {
            reason: reason.into(),
        };
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .map_err(|e| tls(format!("{}: {e}", self.cert.display())))?
            .collect::<Result<_, _>>()
            .map_err(|e| tls(format!("{}: {e}", self.cert.display())))?;
        if certs.is_empty() {
            return Err(tls(format!("{}: no certificate", self.cert.display())));
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| tls(format!("{}: {e}", self.key.display())))?;
        let provider = self
            .provider
            .clone()
            .unwrap_or_else(jws_crypto::tls_provider);
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| tls(e.to_string()))
    }
}

type Resp = Response<Full<Bytes>>;

async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Resp, Infallible> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = route(&state, req).await;
    tracing::info!(
        %peer,
        %method,
        path = %path,
        status = resp.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(resp)
}

async fn route(state: &State, req: Request<Incoming>) -> Resp {
    let get_only = |m: &Method| m == Method::GET || m == Method::HEAD;
    match req.uri().path() {
        JWKS_PATH if get_only(req.method()) => jwks(state, &req),
        DISCOVERY_PATH if get_only(req.method()) => discovery(state),
        HEALTH_PATH if get_only(req.method()) => health(state).await,
        TOKEN_PATH if req.method() == Method::POST => token(state, req).await,
        JWKS_PATH | DISCOVERY_PATH | HEALTH_PATH => method_not_allowed("GET, HEAD"),
        TOKEN_PATH => method_not_allowed("POST"),
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({ "error": "not_found" }).to_string(),
        ),
    }
}

fn jwks(state: &State, req: &Request<Incoming>) -> Resp {
    let doc = match state.service.keys().jwks() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "no JWKS");
            return unavailable(Duration::from_secs(5), "keys unavailable");
        }
    };
    let cache = format!("public, max-age={}", doc.max_age);
    let matches = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == doc.etag);
    let mut b = Response::builder()
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, doc.etag.as_str());
    let body = if matches {
        b = b.status(StatusCode::NOT_MODIFIED);
        Bytes::new()
    } else {
        b = b
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/jwk-set+json");
        doc.body.clone()
    };
    b.body(Full::new(body)).unwrap_or_else(|_| internal())
}

fn discovery(state: &State) -> Resp {
    let svc = &state.service;
    let base = svc.issuer().trim_end_matches('/');
    let algs: Vec<&str> = svc.keys().algorithms().iter().map(|a| a.as_str()).collect();
    let mut body = json!({
        "issuer": svc.issuer(),
        "jwks_uri": format!("{base}{JWKS_PATH}"),
        "token_endpoint": svc.token_endpoint(),
        "grant_types_supported": [JWT_BEARER],
        "token_endpoint_auth_methods_supported": svc.auth_methods(),
        "response_types_supported": [],
        "id_token_signing_alg_values_supported": algs,
        "access_token_signing_alg_values_supported": algs,
    });
    let client_algs = svc.auth_signing_algs();
    if let (false, Some(m)) = (client_algs.is_empty(), body.as_object_mut()) {
        m.insert(
            "token_endpoint_auth_signing_alg_values_supported".into(),
            json!(client_algs),
        );
    }
    let mut r = json_response(StatusCode::OK, body.to_string());
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// 200 when a key signs and the replay store answers; 503 (with `Retry-After`) otherwise.
/// The body names the replay store's kind and state: `{"status", "kid", "replay_store":
/// {"kind", "state"}}`.
async fn health(state: &State) -> Resp {
    let store = state.service.replay_store();
    let (store_state, store_ok) = match store.health().await {
        Ok(()) => ("ok", true),
        Err(e) => {
            tracing::warn!(error = %e, "replay store unavailable");
            ("unavailable", false)
        }
    };
    let replay_store = json!({ "kind": store.kind(), "state": store_state });
    let key = state.service.keys().signing_key(None);
    let (status, body) = match &key {
        Ok(k) if store_ok => (
            StatusCode::OK,
            json!({ "status": "ok", "kid": k.kid, "replay_store": replay_store }),
        ),
        Ok(k) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "replay_store_unavailable", "kid": k.kid, "replay_store": replay_store }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "unhealthy");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "no_signing_key", "replay_store": replay_store }),
            )
        }
    };
    let mut r = json_response(status, body.to_string());
    if status != StatusCode::OK {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

async fn token(state: &State, req: Request<Incoming>) -> Resp {
    let max = state.options.max_body;
    let form_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if form_type.as_deref() != Some("application/x-www-form-urlencoded") {
        return refusal(&Refusal::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    // A header that is not visible ASCII still counts as an authentication attempt.
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large(max);
    }
    let body = match tokio::time::timeout(
        state.options.body_timeout,
        Limited::new(req.into_body(), max).collect(),
    )
    .await
    {
        Err(_) => return json_response(
            StatusCode::REQUEST_TIMEOUT,
            json!({ "error": "invalid_request", "error_description": "body not received in time" })
                .to_string(),
        ),
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return too_large(max);
            }
            return refusal(&Refusal::invalid_request("the body could not be read"));
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    match state
        .service
        .exchange_request(authorization.as_deref(), &body)
        .await
    {
        Ok(t) => no_store(json_response(StatusCode::OK, t.body())),
        Err(r) => refusal(&r),
    }
}

fn refusal(r: &Refusal) -> Resp {
    match r {
        Refusal::Unavailable {
            retry_after,
            description,
        } => unavailable(*retry_after, description),
        Refusal::OAuth { .. } => no_store(json_response(StatusCode::BAD_REQUEST, r.body())),
        Refusal::InvalidClient { tried_basic } => {
            let mut resp = no_store(json_response(StatusCode::UNAUTHORIZED, r.body()));
            if *tried_basic {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"token endpoint\", charset=\"UTF-8\""),
                );
            }
            resp
        }
    }
}

fn unavailable(retry_after: Duration, description: &str) -> Resp {
    let body = json!({ "error": "temporarily_unavailable", "error_description": description });
    let mut r = no_store(json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        body.to_string(),
    ));
    // Rounded up: "retry after 6.2 s" must not become 6.
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn too_large(max: usize) -> Resp {
    no_store(json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({
            "error": "invalid_request",
            "error_description": format!("the body is larger than {max} bytes"),
        })
        .to_string(),
    ))
}

fn method_not_allowed(allow: &'static str) -> Resp {
    let mut r = json_response(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({ "error": "method_not_allowed", "allow": allow }).to_string(),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// RFC 6749 section 5.1: token responses (and their errors) must not be cached.
fn no_store(mut r: Resp) -> Resp {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn json_response(status: StatusCode, body: String) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| internal())
}

fn internal() -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(
        b"{\"error\":\"server_error\"}",
    )));
    *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    r
}
