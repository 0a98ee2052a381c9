//! `jwkctl gateway`: a validating reverse proxy on `jwt-tower`'s layer, for services in any
//! language (what Envoy's `jwt_authn` filter does).
//!
//! A request with a valid token is forwarded to the upstream unchanged (method, path, query,
//! headers, body streamed both ways), except that hop-by-hop headers (RFC 9110 7.6.1) are not
//! forwarded and `x-jwt-payload` is replaced by the base64url of the verified payload (the
//! token's own payload segment: the exact bytes that were verified). Refused requests never
//! reach the upstream and get the RFC 6750 answers; an unreachable upstream gives 502.

use core::future::Future;
use core::net::SocketAddr;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use jwk_core::Algorithm;
use jwks_fetch::{DiscoveryKind, FetchConfig, RemoteJwks};
use jwt_tower::{Claims, JwtLayer, PayloadSegment};
use jwt_validate::Validator;
use tower_layer::Layer as _;

use crate::keys::SourceArgs;
use crate::output::UNDECIDED;

/// The header carrying the verified payload to the upstream.
pub(crate) const PAYLOAD_HEADER: &str = "x-jwt-payload";

/// `jwkctl gateway --listen ADDR --upstream URL (--jwks FILE | --jwks-url URL | --discovery
/// ISSUER) [--iss ISS]... [--aud AUD]... [--alg ALG]... [--require-scope SCOPE]...
/// [--allow-http] [--ca-file PEM]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: SocketAddr,
    /// The protected service, http://host:port[/prefix] (requests keep their path and query,
    /// after the prefix).
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: String,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
    /// Accepted issuer (repeatable). Required unless --discovery names the issuer.
    #[arg(long, value_name = "ISS")]
    pub(crate) iss: Vec<String>,
    /// Accepted audience (repeatable). Tokens carrying `aud` are refused without one.
    #[arg(long, value_name = "AUD")]
    pub(crate) aud: Vec<String>,
    /// Allowed algorithm (repeatable). Default: every asymmetric algorithm supported.
    #[arg(long, value_name = "ALG")]
    pub(crate) alg: Vec<String>,
    /// Scope every request's token must grant (repeatable; all are required).
    #[arg(long, value_name = "SCOPE")]
    pub(crate) require_scope: Vec<String>,
    /// Allow plain http for --jwks-url / --discovery on loopback hosts (tests, demos).
    #[arg(long)]
    pub(crate) allow_http: bool,
    /// Extra trust anchors (PEM) for HTTPS key sources.
    #[arg(long, value_name = "PEM")]
    pub(crate) ca_file: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> ExitCode {
    crate::issuer::init_tracing("info");
    let rt = match crate::issuer::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(UNDECIDED);
        }
    };
    rt.block_on(async {
        let gw = match Gateway::start(&args).await {
            Ok(g) => g,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(UNDECIDED);
            }
        };
        eprintln!(
            "gateway listening on http://{} -> {}",
            gw.addr, args.upstream
        );
        crate::issuer::serve::shutdown_signal().await;
        let counts: Vec<String> = gw
            .layer
            .metrics()
            .snapshot()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| format!("{c}={n}"))
            .collect();
        eprintln!("gateway stopped: {}", counts.join(" "));
        gw.stop().await;
        ExitCode::SUCCESS
    })
}

/// A running gateway.
pub(crate) struct Gateway {
    pub(crate) addr: SocketAddr,
    pub(crate) layer: JwtLayer<Claims>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Checks the setup, binds, and serves on the current runtime.
    pub(crate) async fn start(args: &Args) -> Result<Gateway, String> {
        Gateway::start_with_clock(args, None).await
    }

    /// [`Self::start`] with the validator reading `clock` (the demo's simulated time).
    pub(crate) async fn start_with_clock(
        args: &Args,
        clock: Option<Arc<dyn jwt_validate::Clock>>,
    ) -> Result<Gateway, String> {
        let upstream = Upstream::parse(&args.upstream)?;
        let validator = validator(args, clock).await?;
        let layer = JwtLayer::builder(validator)
            .realm("jwkctl-gateway")
            .require(|r| r.scopes(args.require_scope.iter().cloned()))
            .with_payload_segment()
            .build()
            .map_err(|e| e.to_string())?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        let service = layer.layer(Forward {
            client,
            upstream: Arc::new(upstream),
        });
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!("accept failed: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    _ = stopped.changed() => break,
                };
                let _ = stream.set_nodelay(true);
                let svc = TowerToHyperService::new(service.clone());
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .header_read_timeout(Duration::from_secs(10))
                        .timer(hyper_util::rt::TokioTimer::new())
                        .serve_connection(TokioIo::new(stream), svc);
                    let mut conn = core::pin::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stopped.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(Duration::from_secs(10), conn).await;
                        }
                    }
                });
            }
        });
        Ok(Gateway {
            addr,
            layer,
            stop,
            task,
        })
    }

    /// Stops accepting, lets open requests finish (10 s at most).
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn validator(
    args: &Args,
    clock: Option<Arc<dyn jwt_validate::Clock>>,
) -> Result<Validator, String> {
    let mut b = Validator::builder();
    if let Some(clock) = clock {
        b = b.clock(clock);
    }
    let mut issuers = args.iss.clone();
    if let Some(path) = &args.source.jwks {
        let set = crate::keys::read_file(path).map_err(|e| e.0)?;
        b = b.jwks(set);
    } else {
        let (location, discovery) = match (&args.source.jwks_url, &args.source.discovery) {
            (Some(url), _) => (url.as_str(), false),
            (None, Some(issuer)) => {
                if issuers.is_empty() {
                    issuers.push(issuer.clone());
                }
                (issuer.as_str(), true)
            }
            (None, None) => return Err("one of --jwks, --jwks-url, --discovery is needed".into()),
        };
        let source = remote(location, args, discovery)?;
        // Keys before the first request: a wrong URL is reported now, not as 503s later.
        if let Err(e) = source.load().await {
            tracing::warn!(
                "initial key fetch failed ({}): {e}; retrying on demand",
                e.code()
            );
        }
        b = b.key_source(source);
    }
    if issuers.is_empty() {
        return Err(
            "no accepted issuer: give --iss ISS (repeatable), or --discovery ISSUER \
                    (which accepts that issuer); a gateway that accepts any issuer whose keys \
                    it holds is refused"
                .into(),
        );
    }
    for iss in issuers {
        b = b.issuer(iss);
    }
    for aud in &args.aud {
        b = b.audience(aud);
    }
    if !args.alg.is_empty() {
        let algs = args
            .alg
            .iter()
            .map(|a| {
                let alg = Algorithm::parse(a.trim());
                if alg.is_signature() {
                    Ok(alg)
                } else {
                    Err(format!(
                        "--alg {a:?}: not an allowed JWS algorithm (e.g. RS256, ES256)"
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        b = b.algorithms(algs);
    }
    b.build().map_err(|e| format!("invalid options: {e}"))
}

/// The remote key source of `--jwks-url` / `--discovery`, errors in the CLI's words.
fn remote(location: &str, args: &Args, discovery: bool) -> Result<RemoteJwks, String> {
    let mut fetch = FetchConfig::default().with_allow_http_loopback(args.allow_http);
    if let Some(ca) = &args.ca_file {
        fetch = fetch.with_ca_file(ca);
    }
    let builder = if discovery {
        RemoteJwks::discover(location, DiscoveryKind::OpenId)
    } else {
        RemoteJwks::builder(location)
    };
    builder
        .fetch_config(fetch)
        .build()
        .map_err(|e| format!("{location}: {}", crate::keys::fetch_error(&e)))
}

/// A tiny API on 127.0.0.1 for the demo: answers 200 with the `sub` it read from
/// `x-jwt-payload` (the gateway's verified payload). Stops when the handle is aborted.
pub(crate) async fn demo_api() -> Result<(SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let sub = req
                        .headers()
                        .get(PAYLOAD_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|p| jwk_core::b64::decode(p, jwk_core::Part::Payload).ok())
                        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
                        .and_then(|c| c["sub"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    Ok::<_, core::convert::Infallible>(Response::new(http_body_util::Full::new(
                        Bytes::from(format!("hello {sub}")),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

/// The upstream: scheme and authority, and a path prefix.
#[derive(Debug)]
struct Upstream {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    prefix: String,
}

impl Upstream {
    fn parse(url: &str) -> Result<Upstream, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("--upstream {url:?}: not a URL ({e})"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(format!("--upstream {url:?}: needs http://host:port"));
        };
        if scheme != &http::uri::Scheme::HTTP {
            return Err(format!(
                "--upstream {url:?}: only http:// upstreams (the gateway runs next to the \
                 service it protects; put TLS in front of the gateway)"
            ));
        }
        if uri.query().is_some() {
            return Err(format!("--upstream {url:?}: no query string allowed"));
        }
        Ok(Upstream {
            scheme: scheme.clone(),
            authority: authority.clone(),
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    fn uri_for(&self, original: &Uri) -> Result<Uri, http::Error> {
        let pq = original.path_and_query().map_or("/", |pq| pq.as_str());
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(format!("{}{pq}", self.prefix))
            .build()
    }
}

type Body = UnsyncBoxBody<Bytes, hyper::Error>;

/// Forwards to the upstream (behind the layer: only verified requests get here).
#[derive(Clone)]
struct Forward {
    client: Client<HttpConnector, Incoming>,
    upstream: Arc<Upstream>,
}

/// Hop-by-hop headers (RFC 9110 7.6.1): for this connection only, never forwarded.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in HOP_BY_HOP {
        headers.remove(n);
    }
}

fn status_only(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::default());
    *r.status_mut() = status;
    r
}

impl tower_service::Service<Request<Incoming>> for Forward {
    type Response = Response<Body>;
    type Error = core::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> Self::Future {
        let client = self.client.clone();
        let upstream = self.upstream.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let Ok(uri) = upstream.uri_for(&parts.uri) else {
                return Ok(status_only(StatusCode::BAD_REQUEST));
            };
            parts.uri = uri;
            strip_hop_by_hop(&mut parts.headers);
            parts.headers.remove(PAYLOAD_HEADER);
            let segment = parts.extensions.remove::<PayloadSegment>();
            match segment.and_then(|s| HeaderValue::from_str(&s.0).ok()) {
                Some(v) => {
                    parts
                        .headers
                        .insert(HeaderName::from_static(PAYLOAD_HEADER), v);
                }
                // Only the layer puts requests here, always with the segment.
                None => return Ok(status_only(StatusCode::INTERNAL_SERVER_ERROR)),
            }
            parts.extensions = http::Extensions::new();
            match client.request(Request::from_parts(parts, body)).await {
                Ok(res) => {
                    let (mut parts, body) = res.into_parts();
                    strip_hop_by_hop(&mut parts.headers);
                    Ok(Response::from_parts(parts, body.boxed_unsync()))
                }
                Err(e) => {
                    tracing::warn!("upstream {}: {e}", upstream.authority);
                    Ok(status_only(StatusCode::BAD_GATEWAY))
                }
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use core::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use http_body_util::{BodyExt as _, Full};
    use jwt_issuer::{
        Clock as _, KeyManager, Listener, LoopbackClient, ManualClock, RunningServer, Schedule,
        ServerOptions, TokenService, JWKS_PATH,
    };
    use serde_json::{json, Value};

    use super::*;

    /// What the upstream saw of the last request.
    #[derive(Debug, Default, Clone)]
    pub(crate) struct Seen {
        pub(crate) method: String,
        pub(crate) path_and_query: String,
        pub(crate) headers: Vec<(String, String)>,
        pub(crate) body: Vec<u8>,
    }

    /// A plain hyper server on 127.0.0.1 recording each request and answering 201 with a
    /// header of its own.
    pub(crate) struct Upstream {
        pub(crate) addr: SocketAddr,
        pub(crate) hits: Arc<AtomicUsize>,
        pub(crate) last: Arc<Mutex<Seen>>,
    }

    pub(crate) async fn upstream() -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let last = Arc::new(Mutex::new(Seen::default()));
        let (h, l) = (hits.clone(), last.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, l) = (h.clone(), l.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (h, l) = (h.clone(), l.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await?.to_bytes().to_vec();
                            *l.lock().unwrap() = Seen {
                                method: parts.method.to_string(),
                                path_and_query: parts.uri.to_string(),
                                headers: parts
                                    .headers
                                    .iter()
                                    .map(|(n, v)| {
                                        (n.to_string(), v.to_str().unwrap_or("?").to_owned())
                                    })
                                    .collect(),
                                body,
                            };
                            h.fetch_add(1, Ordering::SeqCst);
                            let mut res = Response::new(Full::new(Bytes::from_static(b"made")));
                            *res.status_mut() = StatusCode::CREATED;
                            res.headers_mut()
                                .insert("x-upstream", HeaderValue::from_static("yes"));
                            Ok::<_, hyper::Error>(res)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Upstream { addr, hits, last }
    }

    /// An issuer (jwt-issuer's JWKS endpoint) on 127.0.0.1.
    pub(crate) struct Idp {
        pub(crate) keys: KeyManager,
        pub(crate) url: String,
        pub(crate) _server: RunningServer,
        _dir: crate::issuer::TempDir,
    }

    impl Idp {
        pub(crate) async fn start(clock: &Arc<ManualClock>) -> Idp {
            let dir = crate::issuer::TempDir::new("gateway-test").unwrap();
            let keys = KeyManager::builder(dir.path())
                .algorithms([Algorithm::Es256])
                .schedule(Schedule::new(
                    Duration::from_secs(1000),
                    Duration::from_secs(100),
                    Duration::from_secs(700),
                ))
                .clock(clock.clone())
                .open()
                .unwrap();
            let listener = Listener::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            let url = format!("http://{}", listener.local_addr());
            let service = TokenService::builder(url.clone(), keys.clone())
                .build()
                .unwrap();
            let server = listener.serve(service, ServerOptions::default());
            Idp {
                keys,
                url,
                _server: server,
                _dir: dir,
            }
        }

        pub(crate) fn token(&self, clock: &ManualClock, extra: Value) -> String {
            let now = clock.now().as_secs();
            let mut claims = json!({"iss": self.url, "sub": "alice", "aud": "api",
                "iat": now, "exp": now + 300});
            if let (Some(c), Value::Object(e)) = (claims.as_object_mut(), extra) {
                c.extend(e);
            }
            self.keys
                .signing_key(None)
                .unwrap()
                .sign_jwt("at+jwt", &claims)
                .unwrap()
        }
    }

    pub(crate) fn args(listen: &str, upstream: &str, jwks_url: &str, iss: &str) -> Args {
        Args {
            listen: listen.parse().unwrap(),
            upstream: upstream.into(),
            source: SourceArgs {
                jwks: None,
                jwks_url: Some(jwks_url.into()),
                discovery: None,
            },
            iss: vec![iss.into()],
            aud: vec!["api".into()],
            alg: vec!["ES256".into()],
            require_scope: vec!["read".into()],
            allow_http: true,
            ca_file: None,
        }
    }

    /// The same token with `sub` changed and the signature kept.
    pub(crate) fn tamper(token: &str) -> String {
        let mut parts = token.split('.');
        let (h, p, s) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let payload = jwk_core::b64::decode(p, jwk_core::Part::Payload).unwrap();
        let mut claims: Value = serde_json::from_slice(&payload).unwrap();
        claims["sub"] = json!("mallory");
        format!(
            "{h}.{}.{s}",
            jwk_core::b64::encode(claims.to_string().as_bytes())
        )
    }

    fn www(r: &jwt_issuer::Reply) -> String {
        r.header("www-authenticate").unwrap_or_default().to_owned()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forwards_verified_requests_and_refuses_the_rest() {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        // The issuer's clock starts one pre-publish period back, so that after the rotation
        // below its tokens carry the gateway's (real) time.
        let clock = Arc::new(ManualClock::at_secs(wall - 101));
        let idp = Idp::start(&clock).await;
        let up = upstream().await;
        let gw = Gateway::start(&args(
            "127.0.0.1:0",
            &format!("http://{}", up.addr),
            &format!("{}{JWKS_PATH}", idp.url),
            &idp.url,
        ))
        .await
        .unwrap();
        let mut c = LoopbackClient::connect(gw.addr).await.unwrap();

        // Valid: forwarded unchanged, x-jwt-payload replaced by the verified payload.
        let token = idp.token(&clock, json!({"scope": "read write"}));
        let auth = format!("Bearer {token}");
        let body = Bytes::from(vec![7u8; 300_000]);
        let r = c
            .request(
                http::Method::PUT,
                "/orders/7?x=1&y=%20",
                &[
                    ("authorization", &auth),
                    ("x-jwt-payload", "forged"),
                    ("x-custom", "kept"),
                    ("connection", "keep-alive, x-hop"),
                    ("x-hop", "dropped"),
                ],
                body.clone(),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.header("x-upstream"), Some("yes"));
        assert_eq!(&r.body[..], b"made");
        assert_eq!(up.hits.load(Ordering::SeqCst), 1);
        let seen = up.last.lock().unwrap().clone();
        assert_eq!(seen.method, "PUT");
        assert_eq!(seen.path_and_query, "/orders/7?x=1&y=%20");
        assert_eq!(seen.body, body.to_vec());
        let header = |n: &str| -> Vec<String> {
            seen.headers
                .iter()
                .filter(|(k, _)| k == n)
                .map(|(_, v)| v.clone())
                .collect()
        };
        assert_eq!(header("x-custom"), ["kept"]);
        assert_eq!(header("authorization"), [auth.as_str()]);
        assert!(header("x-hop").is_empty());
        let payload = header("x-jwt-payload");
        assert_eq!(payload, [token.split('.').nth(1).unwrap().to_owned()]);
        let decoded = jwk_core::b64::decode(&payload[0], jwk_core::Part::Payload).unwrap();
        let claims: Value = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(claims["sub"], "alice");

        // Refused: never reach the upstream.
        let r = c.get("/orders", &[]).await.unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(www(&r), "Bearer realm=\"jwkctl-gateway\"");
        let forged = tamper(&token);
        let r = c
            .get("/orders", &[("authorization", &format!("Bearer {forged}"))])
            .await
            .unwrap();
        assert_eq!(r.status, 401);
        assert!(www(&r).contains("error=\"invalid_token\""), "{}", www(&r));
        let no_scope = idp.token(&clock, json!({"scope": "write"}));
        let r = c
            .get(
                "/orders",
                &[("authorization", &format!("Bearer {no_scope}"))],
            )
            .await
            .unwrap();
        assert_eq!(r.status, 403);
        assert!(www(&r).contains("error=\"insufficient_scope\""));
        assert!(www(&r).contains("scope=\"read\""));
        let r = c
            .get("/orders", &[("authorization", "Bearer a b")])
            .await
            .unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(up.hits.load(Ordering::SeqCst), 1);
        let m = gw.layer.metrics();
        assert_eq!(
            (m.get("ok"), m.get("missing_token"), m.get("bad_signature")),
            (1, 1, 1)
        );
        assert_eq!(
            (m.get("insufficient_scope"), m.get("invalid_request")),
            (1, 1)
        );

        // Rotation: the new key's tokens pass after one refetch.
        let keys = idp.keys.clone();
        tokio::task::spawn_blocking(move || keys.rotate())
            .await
            .unwrap()
            .unwrap();
        clock.advance(Duration::from_secs(101));
        let rotated = idp.token(&clock, json!({"scope": "read"}));
        let r = c
            .get("/", &[("authorization", &format!("Bearer {rotated}"))])
            .await
            .unwrap();
        assert_eq!(r.status, 201);
        gw.stop().await;

        // Upstream down: 502.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        let gw = Gateway::start(&args(
            "127.0.0.1:0",
            &format!("http://{dead}"),
            &format!("{}{JWKS_PATH}", idp.url),
            &idp.url,
        ))
        .await
        .unwrap();
        let mut c = LoopbackClient::connect(gw.addr).await.unwrap();
        let r = c
            .get("/", &[("authorization", &format!("Bearer {rotated}"))])
            .await
            .unwrap();
        assert_eq!(r.status, 502);
        gw.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_unavailable_is_503_and_unsafe_setups_are_refused() {
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead = closed.local_addr().unwrap();
        drop(closed);
        let up = upstream().await;
        let gw = Gateway::start(&args(
            "127.0.0.1:0",
            &format!("http://{}", up.addr),
            &format!("http://{dead}/jwks"),
            "http://idp",
        ))
        .await
        .unwrap();
        let mut c = LoopbackClient::connect(gw.addr).await.unwrap();
        let token = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwOi8vaWRwIn0.c2ln";
        let r = c
            .get("/", &[("authorization", &format!("Bearer {token}"))])
            .await
            .unwrap();
        assert_eq!(r.status, 503);
        assert!(r.header("retry-after").is_some());
        assert_eq!(up.hits.load(Ordering::SeqCst), 0);
        gw.stop().await;

        let mut a = args("127.0.0.1:0", "https://x", "http://127.0.0.1:1/j", "i");
        let e = Gateway::start(&a).await.err().unwrap();
        assert!(e.contains("only http:// upstreams"), "{e}");
        a.upstream = format!("http://{}", up.addr);
        a.allow_http = false;
        let e = Gateway::start(&a).await.err().unwrap();
        assert!(
            e.contains("--allow-http") && e.contains("insecure_url"),
            "{e}"
        );
        a.allow_http = true;
        a.upstream = format!("http://{}", up.addr);
        a.iss.clear();
        let e = Gateway::start(&a).await.err().unwrap();
        assert!(e.contains("--iss"), "{e}");
    }
}
