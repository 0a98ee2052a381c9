//! One HTTP GET at a time: connect, TLS, request, bounded body, redirects, JWK Set parsing,
//! discovery.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use jwk_core::JwkSet;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::caching::{self, Freshness};
use crate::config::{FetchConfig, RedirectPolicy};
use crate::error::FetchError;
use crate::url::Target;

/// Media types accepted for a JWK Set (RFC 7517 section 8.5.2, and plain JSON).
pub const JWKS_MEDIA_TYPES: &[&str] = &["application/jwk-set+json", "application/json"];

/// Fetches JWK Sets and discovery documents with one [`FetchConfig`]. Cheap to clone; the TLS
/// configuration (trust anchors) is built once in [`Fetcher::new`].
#[derive(Clone)]
pub(crate) struct Fetcher {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: FetchConfig,
    tls: Arc<rustls::ClientConfig>,
    requests: AtomicU64,
}

impl fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetcher")
            .field("cfg", &self.inner.cfg)
            .field("requests", &self.requests_sent())
            .finish_non_exhaustive()
    }
}

/// What to send with a JWK Set request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) struct Conditional {
    /// The `ETag` of the copy held (sent as `If-None-Match`).
    pub etag: Option<String>,
    /// The `Last-Modified` of the copy held (sent as `If-Modified-Since`).
    pub last_modified: Option<String>,
    /// Sends `Cache-Control: no-cache` so intermediate caches do not answer with old keys.
    pub no_cache: bool,
}

/// A JWK Set response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub(crate) enum JwksResponse {
    /// 200 with a usable document.
    Fetched(Fetched),
    /// 304: the copy held is still current; its freshness is renewed.
    NotModified {
        /// The freshness the 304 carries.
        freshness: Freshness,
    },
}

/// A JWK Set as fetched, with the HTTP metadata the cache needs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Fetched {
    /// The parsed set (usable keys and the ones set aside).
    pub jwks: JwkSet,
    /// `ETag`, when sent.
    pub etag: Option<String>,
    /// `Last-Modified`, when sent.
    pub last_modified: Option<String>,
    /// What the caching headers said.
    pub(crate) freshness: Freshness,
    /// The URL the document came from (after redirects).
    pub url: String,
    /// Body size in bytes.
    pub body_len: usize,
}

/// Where discovery metadata lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiscoveryKind {
    /// OpenID Connect Discovery 1.0: `<issuer>/.well-known/openid-configuration`.
    OpenId,
    /// RFC 8414: `<origin>/.well-known/oauth-authorization-server<issuer path>`.
    OAuth,
}

/// The parts of an OpenID Provider / RFC 8414 metadata document this crate uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// `issuer`, equal to the configured issuer (checked).
    pub issuer: String,
    /// `jwks_uri` (checked to be https, or loopback http when allowed).
    pub jwks_uri: String,
}

impl Fetcher {
    /// Builds the TLS configuration: [`FetchConfig::tls_config`] as given, or the web PKI
    /// roots (unless turned off), extra DER roots and the certificates of each PEM file in
    /// `ca_files`, on [`FetchConfig::tls_provider`] (default `jws_crypto::tls_provider()`).
    pub(crate) fn new(cfg: FetchConfig) -> Result<Fetcher, FetchError> {
        let tls = match &cfg.tls_config {
            Some(given) => {
                if !cfg.extra_roots.is_empty()
                    || !cfg.ca_files.is_empty()
                    || cfg.tls_provider.is_some()
                {
                    return Err(FetchError::TlsConfig {
                        reason: "a tls_config replaces extra roots, CA files and the TLS \
                                 provider: put them in that configuration instead"
                            .into(),
                    });
                }
                let mut config = rustls::ClientConfig::clone(given);
                config.alpn_protocols.clear();
                config
            }
            None => Self::tls_from_roots(&cfg)?,
        };
        Ok(Fetcher {
            inner: Arc::new(Inner {
                cfg,
                tls: Arc::new(tls),
                requests: AtomicU64::new(0),
            }),
        })
    }

    fn tls_from_roots(cfg: &FetchConfig) -> Result<rustls::ClientConfig, FetchError> {
        let mut roots = rustls::RootCertStore::empty();
        if cfg.web_pki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for der in &cfg.extra_roots {
            roots.add(der.clone()).map_err(|e| FetchError::CaFile {
                path: "<der>".into(),
                reason: e.to_string().into(),
            })?;
        }
        for path in &cfg.ca_files {
            let ca_err = |reason: String| FetchError::CaFile {
                path: path.display().to_string().into(),
                reason: reason.into(),
            };
            let bytes = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
            let mut added = 0usize;
            for cert in CertificateDer::pem_slice_iter(&bytes) {
                let cert = cert.map_err(|e| ca_err(format!("bad PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| ca_err(format!("unusable certificate: {e}")))?;
                added += 1;
            }
            if added == 0 {
                return Err(ca_err("no CERTIFICATE block found".into()));
            }
        }
        let provider = cfg
            .tls_provider
            .clone()
            .unwrap_or_else(jws_crypto::tls_provider);
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| FetchError::TlsConfig {
                reason: format!("the TLS provider cannot be used: {e}").into(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &FetchConfig {
        &self.inner.cfg
    }

    /// HTTP requests sent so far (each redirect hop and discovery request counts).
    pub(crate) fn requests_sent(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// GETs a JWK Set: checks status, media type, size and key count, and parses it.
    pub(crate) async fn fetch_jwks(
        &self,
        url: &str,
        conditional: &Conditional,
    ) -> Result<JwksResponse, FetchError> {
        let mut extra = HeaderMap::new();
        let mut sent_conditional = false;
        if let Some(v) = conditional.etag.as_deref().and_then(header_value) {
            extra.insert(header::IF_NONE_MATCH, v);
            sent_conditional = true;
        }
        if let Some(v) = conditional.last_modified.as_deref().and_then(header_value) {
            extra.insert(header::IF_MODIFIED_SINCE, v);
            sent_conditional = true;
        }
        if conditional.no_cache {
            extra.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
        let accept = "application/jwk-set+json, application/json;q=0.9";
        let resp = self.get(url, accept, extra).await?;
        let now = std::time::SystemTime::now();
        match resp.status {
            StatusCode::OK => {}
            StatusCode::NOT_MODIFIED if sent_conditional => {
                return Ok(JwksResponse::NotModified {
                    freshness: caching::freshness(&resp.headers, now),
                })
            }
            other => return Err(self.status_error(other, &resp.headers)),
        }
        check_media_type(&resp.headers, JWKS_MEDIA_TYPES)?;
        let body = resp.body.unwrap_or_default();
        let jwks = JwkSet::parse_public(&body).map_err(|error| FetchError::Document { error })?;
        let count = jwks.keys.len() + jwks.rejected.len();
        if count > self.inner.cfg.max_keys {
            return Err(FetchError::TooManyKeys {
                count,
                limit: self.inner.cfg.max_keys,
            });
        }
        if jwks.keys.is_empty() {
            if let Some(first) = jwks.rejected.first() {
                return Err(FetchError::NoUsableKeys {
                    rejected: jwks.rejected.len(),
                    first_reason: first.reason.code(),
                });
            }
        }
        let text = |name| {
            resp.headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(JwksResponse::Fetched(Fetched {
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
            freshness: caching::freshness(&resp.headers, now),
            url: resp.url,
            body_len: body.len(),
            jwks,
        }))
    }

    /// OpenID Connect Discovery or RFC 8414: fetches the metadata of `issuer` and checks that
    /// its `issuer` equals the configured one exactly and that `jwks_uri` is acceptable.
    pub(crate) async fn discover(
        &self,
        issuer: &str,
        kind: DiscoveryKind,
    ) -> Result<ProviderMetadata, FetchError> {
        let url = discovery_url(issuer, kind)?;
        self.check_scheme(&Target::parse(issuer)?)?;
        let resp = self.get(&url, "application/json", HeaderMap::new()).await?;
        if resp.status != StatusCode::OK {
            return Err(self.status_error(resp.status, &resp.headers));
        }
        check_media_type(&resp.headers, &["application/json"])?;
        let body = resp.body.unwrap_or_default();
        let doc: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| FetchError::Metadata {
                reason: format!("not JSON: {e}").into(),
            })?;
        let field = |name: &str| match doc.get(name) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(FetchError::Metadata {
                reason: format!("{name} is not a string").into(),
            }),
            None => Err(FetchError::Metadata {
                reason: format!("{name} is missing").into(),
            }),
        };
        let found = field("issuer")?;
        // OpenID Connect Discovery 1.0 section 4.3, RFC 8414 section 3.3: exact match.
        if found != issuer {
            return Err(FetchError::IssuerMismatch {
                expected: issuer.into(),
                found: found.into(),
            });
        }
        let jwks_uri = field("jwks_uri")?;
        self.check_scheme(&Target::parse(&jwks_uri)?)?;
        Ok(ProviderMetadata {
            issuer: found,
            jwks_uri,
        })
    }

    fn status_error(&self, status: StatusCode, headers: &HeaderMap) -> FetchError {
        match status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                FetchError::RateLimited {
                    status: status.as_u16(),
                    retry_after: caching::retry_after(
                        headers,
                        std::time::SystemTime::now(),
                        self.inner.cfg.max_retry_after,
                    ),
                }
            }
            _ => FetchError::HttpStatus {
                status: status.as_u16(),
            },
        }
    }

    fn check_scheme(&self, t: &Target) -> Result<(), FetchError> {
        if t.https || (self.inner.cfg.allow_http_loopback && t.is_loopback_host()) {
            Ok(())
        } else {
            Err(FetchError::InsecureUrl {
                url: t.to_string().into(),
            })
        }
    }

    /// GET with redirects, all under the whole-request deadline. The body is read only for 200.
    async fn get(&self, url: &str, accept: &str, extra: HeaderMap) -> Result<Response, FetchError> {
        let limit = self.inner.cfg.request_timeout;
        match tokio::time::timeout(limit, self.get_inner(url, accept, extra)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout {
                phase: "request",
                limit,
            }),
        }
    }

    async fn get_inner(
        &self,
        url: &str,
        accept: &str,
        extra: HeaderMap,
    ) -> Result<Response, FetchError> {
        let mut target = Target::parse(url)?;
        self.check_scheme(&target)?;
        let mut seen = vec![target.to_string()];
        loop {
            let resp = self.exchange(&target, accept, &extra).await?;
            if !resp.status.is_redirection() || resp.status == StatusCode::NOT_MODIFIED {
                return Ok(resp);
            }
            let location = resp
                .headers
                .get(header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            let refuse = |reason| FetchError::Redirect {
                location: location.chars().take(512).collect::<String>().into(),
                reason,
            };
            let RedirectPolicy::Follow { max, other_hosts } = self.inner.cfg.redirects else {
                return Err(refuse("redirects are not followed"));
            };
            if location.is_empty() {
                return Err(refuse("no Location header"));
            }
            let next = target
                .join(&location)
                .map_err(|_| refuse("not an http(s) URL"))?;
            if target.https && !next.https {
                return Err(refuse("https to http"));
            }
            if !other_hosts && next.host != target.host {
                return Err(refuse("another host"));
            }
            self.check_scheme(&next)
                .map_err(|_| refuse("plain http to a non-loopback host"))?;
            let key = next.to_string();
            if seen.contains(&key) {
                return Err(refuse("redirect loop"));
            }
            if seen.len() > usize::from(max) {
                return Err(refuse("too many redirects"));
            }
            tracing::debug!(from = %target, to = %key, status = resp.status.as_u16(), "following redirect");
            seen.push(key);
            target = next;
        }
    }

    async fn exchange(
        &self,
        target: &Target,
        accept: &str,
        extra: &HeaderMap,
    ) -> Result<Response, FetchError> {
        let io = self.connect(target).await?;
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake::<_, Empty<Bytes>>(TokioIo::new(io))
            .await
            .map_err(http_err)?;
        let mut builder = Request::get(target.path.as_str())
            .header(header::HOST, target.authority())
            .header(header::USER_AGENT, self.inner.cfg.user_agent.as_str())
            .header(header::ACCEPT, accept);
        for (name, value) in extra {
            builder = builder.header(name, value);
        }
        let request = builder.body(Empty::new()).map_err(|e| FetchError::Http {
            reason: e.to_string().into(),
        })?;
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(url = %target, "GET");
        let max_body = self.inner.cfg.max_body_bytes;
        let url = target.to_string();
        let request_fut = async move {
            let resp = sender.send_request(request).await.map_err(http_err)?;
            let (parts, mut body) = resp.into_parts();
            let mut bytes = None;
            if parts.status == StatusCode::OK {
                let declared = parts
                    .headers
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if declared.is_some_and(|n| n > max_body as u64) {
                    return Err(FetchError::TooLarge { limit: max_body });
                }
                let mut buf = Vec::new();
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(http_err)?;
                    if let Ok(data) = frame.into_data() {
                        if buf.len().saturating_add(data.len()) > max_body {
                            return Err(FetchError::TooLarge { limit: max_body });
                        }
                        buf.extend_from_slice(&data);
                    }
                }
                bytes = Some(Bytes::from(buf));
            }
            Ok(Response {
                status: parts.status,
                headers: parts.headers,
                body: bytes,
                url,
            })
        };
        // The connection is driven here, not in a spawned task: when this future is dropped
        // (deadline), the socket closes with it.
        let mut request_fut = core::pin::pin!(request_fut);
        let mut conn = core::pin::pin!(conn);
        let mut conn_done = false;
        loop {
            tokio::select! {
                r = &mut request_fut => return r,
                _ = &mut conn, if !conn_done => conn_done = true,
            }
        }
    }

    async fn connect(&self, target: &Target) -> Result<Box<dyn Io>, FetchError> {
        let limit = self.inner.cfg.connect_timeout;
        match tokio::time::timeout(limit, self.connect_inner(target)).await {
            Ok(r) => r,
            Err(_) => Err(FetchError::Timeout {
                phase: "connect",
                limit,
            }),
        }
    }

    async fn connect_inner(&self, target: &Target) -> Result<Box<dyn Io>, FetchError> {
        let address = format!("{}:{}", target.authority_host(), target.port);
        let conn_err = |reason: String| FetchError::Connect {
            address: address.clone().into(),
            reason: reason.into(),
        };
        let addrs: Vec<_> = tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| conn_err(e.to_string()))?
            .collect();
        let addrs: Vec<_> = if target.https {
            addrs
        } else {
            // Plain http: only loopback addresses, whatever the name resolved to.
            addrs.into_iter().filter(|a| a.ip().is_loopback()).collect()
        };
        if addrs.is_empty() {
            return Err(if target.https {
                conn_err("name resolved to no address".into())
            } else {
                FetchError::InsecureUrl {
                    url: target.to_string().into(),
                }
            });
        }
        let mut last = String::new();
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let tcp = tcp.ok_or_else(|| conn_err(last))?;
        // Small requests: no reason to wait for Nagle.
        let _ = tcp.set_nodelay(true);
        if !target.https {
            return Ok(Box::new(tcp));
        }
        let name =
            ServerName::try_from(target.host.clone()).map_err(|_| FetchError::InvalidUrl {
                url: target.to_string().into(),
                reason: "host is not a valid DNS name or IP address",
            })?;
        let tls = tokio_rustls::TlsConnector::from(self.inner.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| FetchError::Tls {
                reason: e.to_string().into(),
            })?;
        Ok(Box::new(tls))
    }
}

/// GETs `url` once with `cfg` and returns the parsed set: the one-shot entry point for tools
/// (`jwkctl jwks inspect --url`). No cache, no retry.
pub async fn fetch_once(url: &str, cfg: &FetchConfig) -> Result<Fetched, FetchError> {
    let fetcher = Fetcher::new(cfg.clone())?;
    match fetcher.fetch_jwks(url, &Conditional::default()).await? {
        JwksResponse::Fetched(f) => Ok(f),
        // No conditional headers were sent, so a 304 is reported as a status error earlier.
        JwksResponse::NotModified { .. } => Err(FetchError::HttpStatus { status: 304 }),
    }
}

/// Discovers `issuer`'s metadata once with `cfg` (the `issuer` must match exactly, `jwks_uri`
/// must be https or allowed loopback http): the
/// one-shot entry point for tools (`jwkctl verify --discovery`).
pub async fn discover_once(
    issuer: &str,
    kind: DiscoveryKind,
    cfg: &FetchConfig,
) -> Result<ProviderMetadata, FetchError> {
    Fetcher::new(cfg.clone())?.discover(issuer, kind).await
}

/// The metadata URL for `issuer`.
pub(crate) fn discovery_url(issuer: &str, kind: DiscoveryKind) -> Result<String, FetchError> {
    let t = Target::parse(issuer)?;
    if issuer.contains('?') || issuer.contains('#') {
        return Err(FetchError::InvalidUrl {
            url: issuer.into(),
            reason: "an issuer has no query or fragment",
        });
    }
    Ok(match kind {
        DiscoveryKind::OpenId => {
            format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            )
        }
        DiscoveryKind::OAuth => {
            let scheme = if t.https { "https" } else { "http" };
            let path = t.path.trim_end_matches('/');
            format!(
                "{scheme}://{}/.well-known/oauth-authorization-server{path}",
                t.authority()
            )
        }
    })
}

struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Option<Bytes>,
    url: String,
}

trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

fn header_value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

fn http_err(e: hyper::Error) -> FetchError {
    let mut reason = e.to_string();
    let mut source = core::error::Error::source(&e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    FetchError::Http {
        reason: reason.into(),
    }
}

fn check_media_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), FetchError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(FetchError::ContentType { found: None });
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text.split(';').next().unwrap_or("").trim();
    if accepted.iter().any(|a| a.eq_ignore_ascii_case(essence)) {
        Ok(())
    } else {
        Err(FetchError::ContentType {
            found: Some(text.chars().take(128).collect::<String>().into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_urls() {
        let u = |i, k| discovery_url(i, k).unwrap();
        assert_eq!(
            u("https://id.example", DiscoveryKind::OpenId),
            "https://id.example/.well-known/openid-configuration"
        );
        assert_eq!(
            u("https://id.example/tenant/", DiscoveryKind::OpenId),
            "https://id.example/tenant/.well-known/openid-configuration"
        );
        assert_eq!(
            u("https://id.example/tenant", DiscoveryKind::OAuth),
            "https://id.example/.well-known/oauth-authorization-server/tenant"
        );
        assert_eq!(
            u("https://id.example", DiscoveryKind::OAuth),
            "https://id.example/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            discovery_url("https://id.example/?x", DiscoveryKind::OpenId)
                .unwrap_err()
                .code(),
            "invalid_url"
        );
    }

    #[test]
    fn media_types() {
        let mut h = HeaderMap::new();
        assert_eq!(
            check_media_type(&h, JWKS_MEDIA_TYPES).unwrap_err().code(),
            "content_type"
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(check_media_type(&h, JWKS_MEDIA_TYPES).is_ok());
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        assert_eq!(
            check_media_type(&h, JWKS_MEDIA_TYPES),
            Err(FetchError::ContentType {
                found: Some("text/html".into())
            })
        );
    }
}
