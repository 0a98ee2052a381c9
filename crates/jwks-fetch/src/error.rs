//! One error type for fetching, with stable codes.

use core::fmt;
use core::time::Duration;

use jwt_validate::{SourceError, SourceErrorKind};

/// Why keys could not be fetched. `code()` values are stable (scripts and `jwkctl` print them):
/// never rename one. Callers match on `code()` or on variants, never on `Display` text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FetchError {
    /// A certificate file given as extra trust anchors could not be used.
    CaFile {
        /// The path as given.
        path: Box<str>,
        /// What was wrong.
        reason: Box<str>,
    },
    /// TCP connect (or name resolution) failed.
    Connect {
        /// `host:port`.
        address: Box<str>,
        /// What the system said.
        reason: Box<str>,
    },
    /// The response has a media type other than the ones accepted.
    ContentType {
        /// The `Content-Type` received, `None` when absent.
        found: Option<Box<str>>,
    },
    /// The body is not a usable JWK Set document (`"{"`, `null`, `{}`, `{"keys":null}`...).
    Document {
        /// The parser's error; its own code is available through it.
        error: jwk_core::Error,
    },
    /// The protocol exchange failed after connecting (reset, malformed response).
    Http {
        /// What went wrong.
        reason: Box<str>,
    },
    /// The server answered with a status that is neither 200 nor a followed redirect.
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// A URL with a scheme or host this client refuses (plain http to a non-loopback host,
    /// or plain http without `allow_http_loopback`).
    InsecureUrl {
        /// The URL.
        url: Box<str>,
    },
    /// A URL that does not parse as an absolute http(s) URL.
    InvalidUrl {
        /// The URL as given.
        url: Box<str>,
        /// What is wrong.
        reason: &'static str,
    },
    /// The discovered metadata names another issuer than the configured one.
    IssuerMismatch {
        /// The configured issuer.
        expected: Box<str>,
        /// The document's `issuer`.
        found: Box<str>,
    },
    /// The discovery document is not usable (not JSON, no `jwks_uri`, ...).
    Metadata {
        /// What is wrong.
        reason: Box<str>,
    },
    /// The document parsed but holds no usable key (every entry was set aside).
    NoUsableKeys {
        /// Entries set aside, with the first reason.
        rejected: usize,
        /// The first entry's reason code.
        first_reason: &'static str,
    },
    /// 429 or 503: the server asked us to come back later.
    RateLimited {
        /// The status code.
        status: u16,
        /// `Retry-After`, clamped to the configured maximum, when present and valid.
        retry_after: Option<Duration>,
    },
    /// A redirect that the policy refuses (redirects off, to http, to another host, a loop,
    /// too many).
    Redirect {
        /// The `Location` received (as much as was usable).
        location: Box<str>,
        /// Why it was not followed.
        reason: &'static str,
    },
    /// No tokio runtime to run on (at build time, or it shut down during a fetch).
    Runtime,
    /// A deadline passed.
    Timeout {
        /// `connect` or `request`.
        phase: &'static str,
        /// The configured limit.
        limit: Duration,
    },
    /// TLS handshake failed (untrusted, expired or wrong-host certificate, protocol error).
    Tls {
        /// What rustls said.
        reason: Box<str>,
    },
    /// The TLS settings cannot be used together ([`crate::FetchConfig::tls_config`] with
    /// extra roots, CA files or a provider), or the TLS provider offers no usable protocol
    /// version.
    TlsConfig {
        /// What is wrong and how to fix it.
        reason: Box<str>,
    },
    /// The body is larger than the limit (counted while streaming).
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The document holds more keys than the limit.
    TooManyKeys {
        /// Entries in `keys`.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

impl FetchError {
    /// The stable snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::CaFile { .. } => "ca_file",
            FetchError::Connect { .. } => "connect_failed",
            FetchError::ContentType { .. } => "content_type",
            FetchError::Document { .. } => "bad_document",
            FetchError::Http { .. } => "http_protocol",
            FetchError::HttpStatus { .. } => "http_status",
            FetchError::InsecureUrl { .. } => "insecure_url",
            FetchError::InvalidUrl { .. } => "invalid_url",
            FetchError::IssuerMismatch { .. } => "issuer_mismatch",
            FetchError::Metadata { .. } => "bad_metadata",
            FetchError::NoUsableKeys { .. } => "no_usable_keys",
            FetchError::RateLimited { .. } => "rate_limited",
            FetchError::Redirect { .. } => "redirect",
            FetchError::Runtime => "no_runtime",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Tls { .. } => "tls",
            FetchError::TlsConfig { .. } => "tls_config",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::TooManyKeys { .. } => "too_many_keys",
        }
    }

    /// The server's `Retry-After`, when it sent one with 429 or 503.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for errors that say the document itself is bad (as opposed to the transport).
    pub fn is_bad_document(&self) -> bool {
        matches!(
            self,
            FetchError::ContentType { .. }
                | FetchError::Document { .. }
                | FetchError::NoUsableKeys { .. }
                | FetchError::TooLarge { .. }
                | FetchError::TooManyKeys { .. }
        )
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::CaFile { path, reason } => write!(f, "CA file {path}: {reason}"),
            FetchError::Connect { address, reason } => {
                write!(f, "cannot connect to {address}: {reason}")
            }
            FetchError::ContentType { found: Some(t) } => write!(
                f,
                "content type {t:?} is not application/json or application/jwk-set+json"
            ),
            FetchError::ContentType { found: None } => f.write_str(
                "response has no content type; expected application/json or application/jwk-set+json",
            ),
            FetchError::Document { error } => write!(f, "not a JWK Set: {error}"),
            FetchError::Http { reason } => write!(f, "HTTP exchange failed: {reason}"),
            FetchError::HttpStatus { status } => write!(f, "server answered HTTP {status}"),
            FetchError::InsecureUrl { url } => write!(
                f,
                "{url}: plain http is allowed only for loopback hosts with allow_http_loopback"
            ),
            FetchError::InvalidUrl { url, reason } => write!(f, "invalid URL {url:?}: {reason}"),
            FetchError::IssuerMismatch { expected, found } => write!(
                f,
                "discovery document names issuer {found:?}, expected exactly {expected:?}"
            ),
            FetchError::Metadata { reason } => write!(f, "unusable discovery document: {reason}"),
            FetchError::NoUsableKeys {
                rejected,
                first_reason,
            } => write!(
                f,
                "JWK Set has no usable key ({rejected} set aside, first: {first_reason})"
            ),
            FetchError::RateLimited {
                status,
                retry_after: Some(r),
            } => write!(f, "server answered HTTP {status}, retry after {} s", r.as_secs()),
            FetchError::RateLimited {
                status,
                retry_after: None,
            } => write!(f, "server answered HTTP {status}"),
            FetchError::Redirect { location, reason } => {
                write!(f, "redirect to {location:?} not followed: {reason}")
            }
            FetchError::Runtime => f.write_str(
                "no tokio runtime (build the source inside one), or it shut down during the fetch",
            ),
            FetchError::Timeout { phase, limit } => {
                write!(f, "{phase} timed out after {} ms", limit.as_millis())
            }
            FetchError::Tls { reason } => write!(f, "TLS failed: {reason}"),
            FetchError::TlsConfig { reason } => write!(f, "unusable TLS settings: {reason}"),
            FetchError::TooLarge { limit } => write!(f, "body larger than {limit} bytes"),
            FetchError::TooManyKeys { count, limit } => {
                write!(f, "JWK Set has {count} keys, limit {limit}")
            }
        }
    }
}

impl core::error::Error for FetchError {}

/// A fetch failure as the validator sees it: its kind, its text, and the [`FetchError`] itself
/// as the cause.
pub(crate) fn source_error(e: &FetchError, retry: Option<Duration>) -> SourceError {
    SourceError::new(source_kind(e), format!("{e} ({})", e.code()))
        .with_retry_after(retry.or(e.retry_after()))
        .with_source(e.clone())
}

/// Which [`SourceErrorKind`] a [`FetchError`] is.
pub(crate) fn source_kind(e: &FetchError) -> SourceErrorKind {
    match e {
        FetchError::Connect { .. }
        | FetchError::Http { .. }
        | FetchError::Redirect { .. }
        | FetchError::Runtime => SourceErrorKind::FetchFailed,
        FetchError::Timeout { .. } => SourceErrorKind::Timeout,
        FetchError::HttpStatus { .. } => SourceErrorKind::HttpStatus,
        FetchError::RateLimited { .. } => SourceErrorKind::RateLimited,
        FetchError::ContentType { .. }
        | FetchError::Document { .. }
        | FetchError::IssuerMismatch { .. }
        | FetchError::Metadata { .. }
        | FetchError::NoUsableKeys { .. }
        | FetchError::TooLarge { .. }
        | FetchError::TooManyKeys { .. } => SourceErrorKind::InvalidDocument,
        FetchError::Tls { .. } => SourceErrorKind::Tls,
        FetchError::CaFile { .. }
        | FetchError::InsecureUrl { .. }
        | FetchError::InvalidUrl { .. }
        | FetchError::TlsConfig { .. } => SourceErrorKind::Config,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_stable() {
        let all = [
            FetchError::CaFile {
                path: "".into(),
                reason: "".into(),
            },
            FetchError::Connect {
                address: "".into(),
                reason: "".into(),
            },
            FetchError::ContentType { found: None },
            FetchError::Document {
                error: jwk_core::Error::Jwe,
            },
            FetchError::Http { reason: "".into() },
            FetchError::HttpStatus { status: 500 },
            FetchError::InsecureUrl { url: "".into() },
            FetchError::InvalidUrl {
                url: "".into(),
                reason: "",
            },
            FetchError::IssuerMismatch {
                expected: "".into(),
                found: "".into(),
            },
            FetchError::Metadata { reason: "".into() },
            FetchError::NoUsableKeys {
                rejected: 1,
                first_reason: "x",
            },
            FetchError::RateLimited {
                status: 429,
                retry_after: None,
            },
            FetchError::Redirect {
                location: "".into(),
                reason: "",
            },
            FetchError::Runtime,
            FetchError::Timeout {
                phase: "request",
                limit: Duration::ZERO,
            },
            FetchError::Tls { reason: "".into() },
            FetchError::TlsConfig { reason: "".into() },
            FetchError::TooLarge { limit: 1 },
            FetchError::TooManyKeys { count: 2, limit: 1 },
        ];
        let codes: Vec<_> = all.iter().map(FetchError::code).collect();
        assert_eq!(
            codes,
            [
                "ca_file",
                "connect_failed",
                "content_type",
                "bad_document",
                "http_protocol",
                "http_status",
                "insecure_url",
                "invalid_url",
                "issuer_mismatch",
                "bad_metadata",
                "no_usable_keys",
                "rate_limited",
                "redirect",
                "no_runtime",
                "timeout",
                "tls",
                "tls_config",
                "too_large",
                "too_many_keys"
            ]
        );
        // Through the validator, each is one of jwt-validate's source-error kinds, with the
        // fetch error kept as the cause.
        let kinds: Vec<&str> = all.iter().map(|e| source_kind(e).code()).collect();
        assert_eq!(
            kinds,
            [
                "config",
                "fetch_failed",
                "invalid_document",
                "invalid_document",
                "fetch_failed",
                "http_status",
                "config",
                "config",
                "invalid_document",
                "invalid_document",
                "invalid_document",
                "rate_limited",
                "fetch_failed",
                "fetch_failed",
                "timeout",
                "tls",
                "config",
                "invalid_document",
                "invalid_document"
            ]
        );
        for e in &all {
            let se = source_error(e, None);
            let cause =
                core::error::Error::source(&se).and_then(|c| c.downcast_ref::<FetchError>());
            assert_eq!(cause, Some(e));
        }
        let mut dedup = codes.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), codes.len());
    }
}
