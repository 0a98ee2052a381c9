//! HTTP caching headers (RFC 9111) and `Retry-After` (RFC 9110 section 10.2.3).

use core::time::Duration;
use std::time::SystemTime;

use http::HeaderMap;

/// What the response said about its own freshness, before clamping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freshness {
    /// `max-age` (minus `Age`) or `Expires` (minus `Date`, or now).
    Lifetime(Duration),
    /// `no-cache` / `no-store`: keep the keys but revalidate as soon as allowed.
    Revalidate,
    /// No caching headers.
    Unspecified,
}

impl Freshness {
    /// The TTL to use: the lifetime clamped into `[min, max]`, `default` when unspecified.
    pub(crate) fn ttl(self, default: Duration, min: Duration, max: Duration) -> Duration {
        let raw = match self {
            Freshness::Lifetime(d) => d,
            Freshness::Revalidate => Duration::ZERO,
            Freshness::Unspecified => default,
        };
        raw.clamp(min, max.max(min))
    }
}

/// RFC 9111 section 4.2.1: `Cache-Control: max-age` first, then `Expires`.
pub(crate) fn freshness(headers: &HeaderMap, now: SystemTime) -> Freshness {
    let mut max_age = None;
    let mut revalidate = false;
    for value in headers.get_all(http::header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, arg) = match directive.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
                revalidate = true;
            } else if name.eq_ignore_ascii_case("max-age") {
                // RFC 9111 4.2.1: a malformed max-age makes the response stale.
                max_age = Some(arg.and_then(|a| a.parse::<u64>().ok()).unwrap_or(0));
            }
        }
    }
    if revalidate {
        return Freshness::Revalidate;
    }
    if let Some(secs) = max_age {
        let age = header_str(headers, http::header::AGE)
            .and_then(|a| a.trim().parse::<u64>().ok())
            .unwrap_or(0);
        return Freshness::Lifetime(Duration::from_secs(secs.saturating_sub(age)));
    }
    if let Some(expires) = header_str(headers, http::header::EXPIRES) {
        // An invalid date (`0`, `-1`) means already expired.
        let Ok(expires) = httpdate::parse_http_date(expires.trim()) else {
            return Freshness::Lifetime(Duration::ZERO);
        };
        let base = header_str(headers, http::header::DATE)
            .and_then(|d| httpdate::parse_http_date(d.trim()).ok())
            .unwrap_or(now);
        return Freshness::Lifetime(expires.duration_since(base).unwrap_or(Duration::ZERO));
    }
    Freshness::Unspecified
}

/// `Retry-After` as a delay from now: delta-seconds or an HTTP date, clamped to `max`.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime, max: Duration) -> Option<Duration> {
    let value = header_str(headers, http::header::RETRY_AFTER)?.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    };
    Some(delay.min(max))
}

fn header_str(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, v.parse().unwrap());
        }
        m
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn cache_control_and_expires() {
        let now = SystemTime::UNIX_EPOCH + S(1_700_000_000);
        let check = |pairs: &[(&'static str, &str)], want: Freshness| {
            assert_eq!(freshness(&h(pairs), now), want, "{pairs:?}");
        };
        check(
            &[("cache-control", "public, max-age=300")],
            Freshness::Lifetime(S(300)),
        );
        check(
            &[("cache-control", "max-age=\"60\""), ("age", "20")],
            Freshness::Lifetime(S(40)),
        );
        check(
            &[("cache-control", "max-age=10"), ("age", "99")],
            Freshness::Lifetime(S(0)),
        );
        check(
            &[("cache-control", "max-age=abc")],
            Freshness::Lifetime(S(0)),
        );
        check(
            &[("cache-control", "no-cache, max-age=600")],
            Freshness::Revalidate,
        );
        check(&[("cache-control", "No-Store")], Freshness::Revalidate);
        check(
            &[
                ("expires", "Tue, 14 Nov 2023 22:18:20 GMT"),
                ("date", "Tue, 14 Nov 2023 22:13:20 GMT"),
            ],
            Freshness::Lifetime(S(300)),
        );
        // Without Date: relative to our clock (2023-11-14T22:13:20Z).
        check(
            &[("expires", "Tue, 14 Nov 2023 22:14:20 GMT")],
            Freshness::Lifetime(S(60)),
        );
        check(&[("expires", "0")], Freshness::Lifetime(S(0)));
        check(
            &[
                ("expires", "Tue, 14 Nov 2023 22:18:20 GMT"),
                ("cache-control", "max-age=5"),
            ],
            Freshness::Lifetime(S(5)),
        );
        check(&[], Freshness::Unspecified);
    }

    #[test]
    fn ttl_is_clamped() {
        let (d, lo, hi) = (S(600), S(60), S(3600));
        assert_eq!(Freshness::Lifetime(S(1)).ttl(d, lo, hi), lo);
        assert_eq!(Freshness::Lifetime(S(86_400)).ttl(d, lo, hi), hi);
        assert_eq!(Freshness::Lifetime(S(120)).ttl(d, lo, hi), S(120));
        assert_eq!(Freshness::Revalidate.ttl(d, lo, hi), lo);
        assert_eq!(Freshness::Unspecified.ttl(d, lo, hi), d);
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + S(1_700_000_000);
        let max = S(600);
        assert_eq!(
            retry_after(&h(&[("retry-after", "120")]), now, max),
            Some(S(120))
        );
        assert_eq!(
            retry_after(&h(&[("retry-after", "86400")]), now, max),
            Some(max)
        );
        assert_eq!(
            retry_after(
                &h(&[("retry-after", "Tue, 14 Nov 2023 22:14:20 GMT")]),
                now,
                max
            ),
            Some(S(60))
        );
        assert_eq!(retry_after(&h(&[("retry-after", "soon")]), now, max), None);
        assert_eq!(retry_after(&h(&[]), now, max), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_headers_never_panic(cc in "\\PC{0,40}", exp in "\\PC{0,40}", ra in "\\PC{0,40}") {
            let mut m = HeaderMap::new();
            for (k, v) in [("cache-control", &cc), ("expires", &exp), ("age", &ra), ("retry-after", &ra)] {
                if let Ok(v) = http::HeaderValue::from_str(v) {
                    m.insert(k, v);
                }
            }
            let now = SystemTime::UNIX_EPOCH + S(1_700_000_000);
            let _ = freshness(&m, now).ttl(S(600), S(60), S(3600));
            if let Some(d) = retry_after(&m, now, S(600)) {
                proptest::prop_assert!(d <= S(600));
            }
        }
    }
}
