//! Where the token comes from (RFC 6750 section 2).

use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderMap, HeaderName, Uri};

use crate::error::Refusal;

/// The places a token may be read from, besides `Authorization: Bearer`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    pub(crate) cookie: Option<String>,
    pub(crate) header: Option<HeaderName>,
    pub(crate) query: bool,
}

const TWO_AUTHORIZATION: &str = "More than one Authorization header";
const NOT_ONE_TOKEN: &str = "The Authorization header must hold exactly one bearer token";
const TWO_METHODS: &str = "The access token was sent by more than one method";
const BAD_TOKEN_CHARS: &str = "The access token holds characters a bearer token cannot";
const TWO_VALUES: &str = "The access token was sent more than once";

/// The one token of the request, `Ok(None)` when there is none.
///
/// - `Authorization`: at most one header; scheme `Bearer` compared case-insensitively,
///   then spaces, then exactly one `b64token` (RFC 6750 2.1) and nothing after it. Another
///   scheme (`Basic ...`) is not a bearer token: the request has none.
/// - A named cookie or header, when configured; a query `access_token`, only when enabled.
/// - A token found by two methods is `invalid_request` (RFC 6750 2: "MUST NOT use more than
///   one method").
pub(crate) fn token<'r>(
    headers: &'r HeaderMap,
    uri: &'r Uri,
    sources: &Sources,
) -> Result<Option<&'r str>, Refusal> {
    let mut found = bearer(headers)?;
    if let Some(name) = &sources.cookie {
        found = one_of(found, cookie(headers, name)?)?;
    }
    if let Some(name) = &sources.header {
        found = one_of(found, named_header(headers, name)?)?;
    }
    if sources.query {
        found = one_of(found, query(uri)?)?;
    }
    Ok(found)
}

fn one_of<'r>(a: Option<&'r str>, b: Option<&'r str>) -> Result<Option<&'r str>, Refusal> {
    match (a, b) {
        (Some(_), Some(_)) => Err(invalid(TWO_METHODS)),
        (a, b) => Ok(a.or(b)),
    }
}

fn invalid(reason: &'static str) -> Refusal {
    Refusal::InvalidRequest { reason }
}

/// RFC 6750 2.1 `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(s: &str) -> bool {
    is_b64token_bytes(s.as_bytes())
}

/// [`is_b64token`] over bytes, in one branch-free pass over the body (a token is hundreds of
/// bytes; the compiler vectorizes this loop, which an early-exit `all` would prevent).
fn is_b64token_bytes(s: &[u8]) -> bool {
    let pad = s.iter().rev().take_while(|&&b| b == b'=').count();
    let body = s.get(..s.len() - pad).unwrap_or_default();
    !body.is_empty()
        && body.iter().fold(true, |ok, &b| {
            ok & (b.is_ascii_lowercase()
                | b.is_ascii_uppercase()
                | b.is_ascii_digit()
                | (b == b'-')
                | (b == b'.')
                | (b == b'_')
                | (b == b'~')
                | (b == b'+')
                | (b == b'/'))
        })
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let mut all = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(invalid(TWO_AUTHORIZATION));
    }
    let v = value.as_bytes();
    let (scheme, rest) = match v.iter().position(|&b| b == b' ') {
        Some(i) => (
            v.get(..i).unwrap_or_default(),
            v.get(i + 1..).unwrap_or_default(),
        ),
        None => (v, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        // Basic, Digest, DPoP, ...: not ours; the request carries no bearer token.
        return Ok(None);
    }
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let token = rest.get(start..).unwrap_or_default();
    // One pass: only b64token characters (so no space: exactly one token, and ASCII).
    if !is_b64token_bytes(token) {
        return Err(invalid(NOT_ONE_TOKEN));
    }
    core::str::from_utf8(token)
        .map(Some)
        .map_err(|_| invalid(NOT_ONE_TOKEN))
}

fn cookie<'r>(headers: &'r HeaderMap, name: &str) -> Result<Option<&'r str>, Refusal> {
    let mut found = None;
    for value in headers.get_all(COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            let Some((n, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if n == name {
                if found.is_some() {
                    return Err(invalid(TWO_VALUES));
                }
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                found = Some(checked(v)?);
            }
        }
    }
    Ok(found)
}

fn named_header<'r>(headers: &'r HeaderMap, name: &HeaderName) -> Result<Option<&'r str>, Refusal> {
    let mut all = headers.get_all(name).iter();
    let Some(value) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(invalid(TWO_VALUES));
    }
    value
        .to_str()
        .map_err(|_| invalid(BAD_TOKEN_CHARS))
        .and_then(|v| checked(v.trim()))
        .map(Some)
}

/// RFC 6750 2.3: `access_token` in the query (only when the layer enables it).
fn query(uri: &Uri) -> Result<Option<&str>, Refusal> {
    let Some(q) = uri.query() else {
        return Ok(None);
    };
    let mut found = None;
    for pair in q.split('&') {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        if n == "access_token" {
            if found.is_some() {
                return Err(invalid(TWO_VALUES));
            }
            found = Some(checked(v)?);
        }
    }
    Ok(found)
}

fn checked(v: &str) -> Result<&str, Refusal> {
    if is_b64token(v) {
        Ok(v)
    } else {
        Err(invalid(BAD_TOKEN_CHARS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn get(
        pairs: &[(&str, &str)],
        uri: &str,
        sources: &Sources,
    ) -> Result<Option<String>, &'static str> {
        let h = headers(pairs);
        let uri: Uri = uri.parse().unwrap();
        token(&h, &uri, sources)
            .map(|t| t.map(str::to_owned))
            .map_err(|e| e.code())
    }

    #[test]
    fn authorization_bearer() {
        let s = Sources::default();
        for (value, want) in [
            ("Bearer abc.def-_~+/=", Ok(Some("abc.def-_~+/=".to_owned()))),
            ("bearer abc", Ok(Some("abc".to_owned()))),
            ("BEARER abc", Ok(Some("abc".to_owned()))),
            ("Bearer   abc", Ok(Some("abc".to_owned()))),
            ("Basic dXNlcjpwYXNz", Ok(None)),
            ("Bearer", Err("invalid_request")),
            ("Bearer ", Err("invalid_request")),
            ("Bearer a b", Err("invalid_request")),
            ("Bearer abc ", Err("invalid_request")),
            ("Bearer a,b", Err("invalid_request")),
            ("Bearer =", Err("invalid_request")),
            ("Bearer a=b", Err("invalid_request")),
        ] {
            assert_eq!(get(&[("authorization", value)], "/", &s), want, "{value:?}");
        }
        assert_eq!(get(&[], "/", &s), Ok(None));
        assert_eq!(
            get(
                &[("authorization", "Bearer a"), ("authorization", "Bearer a")],
                "/",
                &s
            ),
            Err("invalid_request")
        );
    }

    #[test]
    fn query_only_when_enabled() {
        let off = Sources::default();
        assert_eq!(get(&[], "/x?access_token=abc", &off), Ok(None));
        let on = Sources {
            query: true,
            ..Sources::default()
        };
        assert_eq!(
            get(&[], "/x?a=1&access_token=abc", &on),
            Ok(Some("abc".into()))
        );
        assert_eq!(
            get(&[], "/x?access_token=a&access_token=b", &on),
            Err("invalid_request")
        );
        assert_eq!(
            get(
                &[("authorization", "Bearer abc")],
                "/x?access_token=abc",
                &on
            ),
            Err("invalid_request")
        );
    }

    #[test]
    fn cookie_and_header_sources() {
        let s = Sources {
            cookie: Some("at".into()),
            header: Some(HeaderName::from_static("x-access-token")),
            query: false,
        };
        assert_eq!(
            get(&[("cookie", "a=1; at=tok; b=2")], "/", &s),
            Ok(Some("tok".into()))
        );
        assert_eq!(get(&[("cookie", "a=1; other=tok")], "/", &s), Ok(None));
        assert_eq!(
            get(&[("x-access-token", "tok")], "/", &s),
            Ok(Some("tok".into()))
        );
        assert_eq!(
            get(&[("x-access-token", "tok"), ("cookie", "at=tok")], "/", &s),
            Err("invalid_request")
        );
        assert_eq!(
            get(
                &[("authorization", "Bearer tok"), ("cookie", "at=tok")],
                "/",
                &s
            ),
            Err("invalid_request")
        );
        assert_eq!(
            get(&[("cookie", "at=a"), ("cookie", "at=b")], "/", &s),
            Err("invalid_request")
        );
    }
}
