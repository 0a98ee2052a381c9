//! What a fetch may do: limits, trust anchors, redirects.

use core::time::Duration;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;

use rustls_pki_types::CertificateDer;

/// How one HTTP fetch behaves. Every default is the strict one; each field's default is in its
/// doc. Build with [`FetchConfig::default`] and the `with_*` methods.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchConfig {
    /// Name resolution, TCP connect and TLS handshake together. Default 2 s.
    pub connect_timeout: Duration,
    /// The whole request, from connect to the last body byte, redirects included: a server
    /// that drips headers or body slowly hits this, not a per-read timeout. Default 5 s.
    pub request_timeout: Duration,
    /// Body bytes, counted while streaming (a `Content-Length` above it fails at once).
    /// Default 512 KiB.
    pub max_body_bytes: usize,
    /// Entries in `keys` (usable or not). Default 100.
    pub max_keys: usize,
    /// Redirects. Default [`RedirectPolicy::None`].
    pub redirects: RedirectPolicy,
    /// Allows plain `http://` URLs whose host is loopback (`127.0.0.0/8`, `::1`, `localhost`
    /// resolving only to loopback). Never anything else. Default false.
    pub allow_http_loopback: bool,
    /// Trust the web PKI roots (`webpki-roots`). Default true.
    pub web_pki_roots: bool,
    /// Extra trust anchors, DER.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// PEM files of extra trust anchors (`--ca-file`), read when the fetcher is built.
    pub ca_files: Vec<PathBuf>,
    /// `User-Agent`. Default `jwks-fetch/<version>`.
    pub user_agent: String,
    /// Upper clamp for `Retry-After`. Default 10 min.
    pub max_retry_after: Duration,
    /// The rustls crypto provider (a FIPS build, a provider with fewer suites...), used with
    /// the trust anchors above. Default `None`: `jws_crypto::tls_provider()`, the backend the
    /// crate was compiled with.
    pub tls_provider: Option<Arc<CryptoProvider>>,
    /// A complete rustls client configuration (a platform verifier, a private CA set, client
    /// certificates, a FIPS provider), used as given except that ALPN is cleared (the fetcher
    /// speaks HTTP/1.1). It replaces [`FetchConfig::web_pki_roots`]; combining it with
    /// [`FetchConfig::extra_roots`], [`FetchConfig::ca_files`] or
    /// [`FetchConfig::tls_provider`] is refused as `tls_config` (put them in this
    /// configuration instead). Default `None`.
    pub tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            max_body_bytes: 512 * 1024,
            max_keys: 100,
            redirects: RedirectPolicy::None,
            allow_http_loopback: false,
            web_pki_roots: true,
            extra_roots: Vec::new(),
            ca_files: Vec::new(),
            user_agent: concat!("jwks-fetch/", env!("CARGO_PKG_VERSION")).into(),
            max_retry_after: Duration::from_secs(600),
            tls_provider: None,
            tls_config: None,
        }
    }
}

impl FetchConfig {
    /// Sets [`FetchConfig::connect_timeout`].
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Sets [`FetchConfig::request_timeout`].
    pub fn with_request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
    /// Sets [`FetchConfig::max_body_bytes`].
    pub fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }
    /// Sets [`FetchConfig::max_keys`].
    pub fn with_max_keys(mut self, n: usize) -> Self {
        self.max_keys = n;
        self
    }
    /// Sets [`FetchConfig::redirects`].
    pub fn with_redirects(mut self, policy: RedirectPolicy) -> Self {
        self.redirects = policy;
        self
    }
    /// Sets [`FetchConfig::allow_http_loopback`].
    pub fn with_allow_http_loopback(mut self, allow: bool) -> Self {
        self.allow_http_loopback = allow;
        self
    }
    /// Sets [`FetchConfig::web_pki_roots`].
    pub fn with_web_pki_roots(mut self, on: bool) -> Self {
        self.web_pki_roots = on;
        self
    }
    /// Adds a DER trust anchor.
    pub fn with_root(mut self, der: CertificateDer<'static>) -> Self {
        self.extra_roots.push(der);
        self
    }
    /// Adds a PEM file of trust anchors (read when the fetcher is built: [`crate::fetch_once`],
    /// [`crate::RemoteJwksBuilder::build`]).
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }
    /// Sets [`FetchConfig::max_retry_after`].
    pub fn with_max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }
    /// Sets [`FetchConfig::tls_provider`].
    pub fn with_tls_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.tls_provider = Some(provider);
        self
    }
    /// Sets [`FetchConfig::tls_config`].
    pub fn with_tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls_config = Some(config);
        self
    }
}

/// Which redirects to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectPolicy {
    /// None: a 3xx is an error naming the `Location` (the default; a JWKS URL that moves is a
    /// configuration change, not something to follow silently).
    None,
    /// Follow up to `max` hops, same scheme or http to https only (never https to http), to
    /// the same host unless `other_hosts`; a URL seen twice is a loop.
    Follow {
        /// Hops allowed.
        max: u8,
        /// Allow another host.
        other_hosts: bool,
    },
}
