//! Absolute http(s) URLs: just what a fetch needs, checked.

use core::fmt;
use core::net::IpAddr;

use crate::error::FetchError;

/// A parsed absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) https: bool,
    /// Host without IPv6 brackets, lowercased.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Path and query, starting with `/`.
    pub(crate) path: String,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Target, FetchError> {
        let bad = |reason| FetchError::InvalidUrl {
            url: url.into(),
            reason,
        };
        if url.len() > 4096 {
            return Err(bad("longer than 4096 bytes"));
        }
        let uri: http::Uri = url.parse().map_err(|_| bad("not a URI"))?;
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            Some(_) => return Err(bad("scheme must be https (or http for loopback)")),
            None => return Err(bad("not absolute")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("credentials in URLs are refused"));
        }
        let raw = authority.host();
        let host = match raw.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) => {
                v6.parse::<core::net::Ipv6Addr>()
                    .map_err(|_| bad("invalid IPv6 address"))?;
                v6.to_ascii_lowercase()
            }
            None => {
                // A DNS name or IPv4 literal: letters, digits, `-`, `.`, `_` only.
                let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
                if raw.is_empty() {
                    return Err(bad("empty host"));
                }
                if !raw.bytes().all(ok) {
                    return Err(bad("invalid host"));
                }
                raw.to_ascii_lowercase()
            }
        };
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or("/");
        Ok(Target {
            https,
            host,
            port,
            path: path.to_owned(),
        })
    }

    /// True when the host is a loopback literal or `localhost` (resolution is checked again
    /// when connecting).
    pub(crate) fn is_loopback_host(&self) -> bool {
        self.host == "localhost"
            || self.host.ends_with(".localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The host as written in a URL (IPv6 in brackets).
    pub(crate) fn authority_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }

    /// `Host` header value.
    pub(crate) fn authority(&self) -> String {
        let host = self.authority_host();
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// Resolves a `Location` value against this URL (RFC 3986 section 5, for the forms servers
    /// send: absolute, scheme-relative, absolute path, relative path).
    pub(crate) fn join(&self, location: &str) -> Result<Target, FetchError> {
        let scheme = if self.https { "https" } else { "http" };
        let lower = location.to_ascii_lowercase();
        let absolute = if lower.starts_with("https://") || lower.starts_with("http://") {
            location.to_owned()
        } else if location.starts_with("//") {
            format!("{scheme}:{location}")
        } else if location.starts_with('/') {
            format!("{scheme}://{}{location}", self.authority())
        } else if location.contains(':') {
            // Another scheme (`ftp:`, `file:`, `javascript:`...).
            return Err(FetchError::Redirect {
                location: location.into(),
                reason: "not an http(s) URL",
            });
        } else {
            let path = self.path.split('?').next().unwrap_or("/");
            let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            format!("{scheme}://{}{dir}{location}", self.authority())
        };
        Target::parse(&absolute)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::parse(s).unwrap()
    }

    #[test]
    fn parses_and_prints() {
        let a = t("https://Example.com/.well-known/jwks.json?x=1");
        assert_eq!(
            (a.https, a.host.as_str(), a.port, a.path.as_str()),
            (true, "example.com", 443, "/.well-known/jwks.json?x=1")
        );
        assert_eq!(
            a.to_string(),
            "https://example.com/.well-known/jwks.json?x=1"
        );
        let b = t("http://[::1]:8080");
        assert_eq!(
            (b.host.as_str(), b.port, b.path.as_str()),
            ("::1", 8080, "/")
        );
        assert_eq!(b.authority(), "[::1]:8080");
        assert!(b.is_loopback_host());
        assert!(t("http://127.0.0.2/").is_loopback_host());
        assert!(t("http://localhost:1/").is_loopback_host());
        assert!(!t("http://10.0.0.1/").is_loopback_host());
        assert!(!t("http://localhost.example.com/").is_loopback_host());
    }

    #[test]
    fn refuses() {
        for (url, reason) in [
            (
                "ftp://example.com/",
                "scheme must be https (or http for loopback)",
            ),
            ("/relative", "not absolute"),
            (
                "https://user:pw@example.com/",
                "credentials in URLs are refused",
            ),
            ("not a url", "not a URI"),
            ("http://0[:]", "invalid host"),
            ("http://[zz::1]/", "invalid IPv6 address"),
        ] {
            match Target::parse(url) {
                Err(FetchError::InvalidUrl { reason: r, .. }) => assert_eq!(r, reason, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn joins() {
        let base = t("https://a.example/x/y/jwks?q");
        assert_eq!(base.join("/k").unwrap().to_string(), "https://a.example/k");
        assert_eq!(
            base.join("k2").unwrap().to_string(),
            "https://a.example/x/y/k2"
        );
        assert_eq!(
            base.join("//b.example/z").unwrap().to_string(),
            "https://b.example/z"
        );
        assert_eq!(
            base.join("http://c.example:81/").unwrap().to_string(),
            "http://c.example:81/"
        );
        assert_eq!(
            base.join("javascript:alert(1)").unwrap_err().code(),
            "redirect"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_urls_never_panic(
            url in "\\PC{0,80}|(https?|HTTP|ftp)://[a-zA-Z0-9.:@\\[\\]%-]{0,24}(/[!-~]{0,24})?",
            loc in "\\PC{0,80}|//?[!-~]{0,30}|https?://[a-z0-9.:-]{0,20}/[a-z]{0,5}",
        ) {
            if let Ok(t) = Target::parse(&url) {
                // What parses prints back to something that parses to the same target.
                proptest::prop_assert_eq!(Target::parse(&t.to_string()).ok(), Some(t.clone()));
                let _ = t.join(&loc);
            }
            let base = Target::parse("https://a.example/x/y").unwrap();
            let _ = base.join(&loc);
        }
    }
}
