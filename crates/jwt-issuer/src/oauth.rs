//! OAuth 2.0 wire formats: form bodies in (RFC 6749 appendix B), JSON responses out
//! (RFC 6749 sections 5.1 and 5.2).

use core::time::Duration;

use serde_json::{json, Map, Value};

/// The JWT Bearer grant type (RFC 7523 section 2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// At most this many parameters in one form body.
const MAX_PARAMS: usize = 32;

/// An RFC 6749 section 5.2 error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// The request is malformed: a parameter missing, repeated or not form-encoded.
    InvalidRequest,
    /// The assertion is invalid: bad signature, untrusted issuer, expired, replayed, ...
    InvalidGrant,
    /// The grant type is not the JWT Bearer grant.
    UnsupportedGrantType,
    /// A requested scope is not allowed for this issuer.
    InvalidScope,
    /// Client authentication failed (unknown client, wrong secret or key, replayed client
    /// assertion, wrong method, none attempted); answered 401.
    InvalidClient,
}

impl OAuthErrorCode {
    /// The registered value.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::InvalidClient => "invalid_client",
        }
    }
}

/// What the token endpoint answers when it does not issue a token.
///
/// Descriptions are `&'static str`: fixed per cause, written here, never built from what the
/// client sent (no `iss`, `kid` or `scope` echoed back), and limited to the characters RFC 6749
/// section 5.2 allows (`%x20-21 / %x23-5B / %x5D-7E`: no `"`, no `\`, ASCII only). Details
/// (which issuer, which key, which audience) go to the server's `tracing` log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// 400 with an RFC 6749 section 5.2 body.
    OAuth {
        /// The error code.
        code: OAuthErrorCode,
        /// `error_description`: fixed per cause; says nothing about internals.
        description: &'static str,
    },
    /// 401 `invalid_client` with one fixed description, whatever failed (RFC 6749 section 5.2);
    /// with `WWW-Authenticate: Basic` when the client tried HTTP Basic.
    InvalidClient {
        /// The request carried `Authorization: Basic`.
        tried_basic: bool,
    },
    /// 503 with `Retry-After`: the issuer's keys (or the replay store) cannot be had now;
    /// the caller did nothing wrong and should retry.
    Unavailable {
        /// Seconds to wait.
        retry_after: Duration,
        /// For the body's `error_description`.
        description: &'static str,
    },
}

impl Refusal {
    pub(crate) fn oauth(code: OAuthErrorCode, description: &'static str) -> Refusal {
        Refusal::OAuth { code, description }
    }

    pub(crate) fn invalid_request(description: &'static str) -> Refusal {
        Refusal::oauth(OAuthErrorCode::InvalidRequest, description)
    }

    pub(crate) fn invalid_grant(description: &'static str) -> Refusal {
        Refusal::oauth(OAuthErrorCode::InvalidGrant, description)
    }

    /// The one description of every client authentication failure.
    pub const INVALID_CLIENT: &'static str = "client authentication failed";

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::OAuth { .. } => 400,
            Refusal::InvalidClient { .. } => 401,
            Refusal::Unavailable { .. } => 503,
        }
    }

    /// The JSON body (`error`, `error_description`).
    pub fn body(&self) -> String {
        let (code, description) = match self {
            Refusal::OAuth { code, description } => (code.as_str(), *description),
            Refusal::InvalidClient { .. } => (
                OAuthErrorCode::InvalidClient.as_str(),
                Refusal::INVALID_CLIENT,
            ),
            // Not one of RFC 6749's codes: the status says "retry"; the body explains.
            Refusal::Unavailable { description, .. } => ("temporarily_unavailable", *description),
        };
        debug_assert!(is_error_description(description), "{description}");
        json!({ "error": code, "error_description": description }).to_string()
    }
}

/// RFC 6749 section 5.2: `error_description` holds only `%x20-21 / %x23-5B / %x5D-7E`.
pub(crate) fn is_error_description(s: &str) -> bool {
    s.bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// A successful token response (RFC 6749 section 5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token (an RFC 9068 JWT).
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// The granted scope, when a scope was requested and granted.
    pub scope: Option<String>,
}

impl TokenResponse {
    /// The JSON body, `token_type: Bearer`.
    pub fn body(&self) -> String {
        let mut m = Map::new();
        m.insert(
            "access_token".into(),
            Value::String(self.access_token.clone()),
        );
        m.insert("token_type".into(), Value::String("Bearer".into()));
        m.insert("expires_in".into(), Value::from(self.expires_in));
        if let Some(s) = &self.scope {
            m.insert("scope".into(), Value::String(s.clone()));
        }
        Value::Object(m).to_string()
    }
}

/// Parses an `application/x-www-form-urlencoded` body.
///
/// - RFC 6749 section 3.1: a parameter sent without a value (`scope=` or `scope`) is treated
///   as omitted: it is not returned.
/// - RFC 6749 section 3.2: a parameter sent more than once is an error (`invalid_request`),
///   whether or not its values are empty.
/// - A parameter with an empty name (`=x`), bad percent-encoding, or non-UTF-8 text is an
///   error (`invalid_request`). Empty pairs (`a=1&&b=2`) are separators, not parameters.
pub(crate) fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, Refusal> {
    let mut out: Vec<(String, String)> = Vec::new();
    // Every name seen, empty-valued ones included (for the repetition check).
    let mut seen: Vec<String> = Vec::new();
    if body.is_empty() {
        return Ok(out);
    }
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        if seen.len() == MAX_PARAMS {
            return Err(Refusal::invalid_request("too many form parameters"));
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            // `i` indexes the '=' in `pair`, so both ranges are in bounds.
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let name = form_decode(name)?;
        let value = form_decode(value)?;
        if name.is_empty() {
            return Err(Refusal::invalid_request(
                "a form parameter has an empty name",
            ));
        }
        if seen.contains(&name) {
            return Err(Refusal::invalid_request(
                "a parameter appears more than once",
            ));
        }
        seen.push(name.clone());
        if !value.is_empty() {
            out.push((name, value));
        }
    }
    Ok(out)
}

pub(crate) fn form_decode(s: &[u8]) -> Result<String, Refusal> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |j: usize| s.get(j).and_then(|&c| (c as char).to_digit(16));
                match (hex(i + 1), hex(i + 2)) {
                    // Both digits are below 16, so the byte fits.
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => {
                        return Err(Refusal::invalid_request(
                            "form body has an invalid percent-encoding",
                        ))
                    }
                }
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Refusal::invalid_request("form body is not UTF-8"))
}

/// RFC 6749 section 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, space-separated.
pub(crate) fn parse_scope(scope: &str) -> Result<Vec<&str>, Refusal> {
    let mut out: Vec<&str> = Vec::new();
    for token in scope.split(' ') {
        if token.is_empty() {
            return Err(Refusal::oauth(
                OAuthErrorCode::InvalidScope,
                "scope has an empty element (one space between tokens)",
            ));
        }
        let ok = token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !ok {
            return Err(Refusal::oauth(
                OAuthErrorCode::InvalidScope,
                "scope holds a character RFC 6749 section 3.3 does not allow",
            ));
        }
        if !out.contains(&token) {
            out.push(token);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<Vec<(String, String)>, Refusal>) -> &'static str {
        match r {
            Err(Refusal::OAuth { code, .. }) => code.as_str(),
            _ => "ok",
        }
    }

    #[test]
    fn forms() {
        let f = parse_form(b"grant_type=a%3Ab&assertion=x.y.z&scope=read+write").unwrap();
        assert_eq!(f[0], ("grant_type".into(), "a:b".into()));
        assert_eq!(f[2].1, "read write");
        assert_eq!(code(parse_form(b"a=1&a=2")), "invalid_request");
        assert_eq!(code(parse_form(b"a=%4")), "invalid_request");
        assert_eq!(code(parse_form(b"a=%zz")), "invalid_request");
        assert_eq!(code(parse_form(b"a=%ff")), "invalid_request");
        assert_eq!(parse_form(b"").unwrap(), vec![]);
        // RFC 6749 3.1: without a value is the same as omitted.
        assert_eq!(parse_form(b"a&&b=").unwrap(), vec![]);
        assert_eq!(
            parse_form(b"scope=&c=1").unwrap(),
            vec![("c".to_owned(), "1".to_owned())]
        );
        // ... but still counts as sent for the repetition rule.
        assert_eq!(code(parse_form(b"scope=&scope=read")), "invalid_request");
        // An empty name is not a parameter.
        assert_eq!(code(parse_form(b"=x&a=1")), "invalid_request");
        assert_eq!(code(parse_form(b"%3D=1")), "ok");
        assert_eq!(code(parse_form(b"=")), "invalid_request");
        let many: String = (0..40).map(|i| format!("p{i}=1&")).collect();
        assert_eq!(code(parse_form(many.as_bytes())), "invalid_request");
    }

    #[test]
    fn scopes() {
        assert_eq!(parse_scope("a b a").unwrap(), ["a", "b"]);
        assert!(parse_scope("a  b").is_err());
        assert!(parse_scope("a\"b").is_err());
        assert!(parse_scope("").is_err());
    }

    #[test]
    fn bodies() {
        let r = TokenResponse {
            access_token: "t".into(),
            expires_in: 300,
            scope: None,
        };
        assert_eq!(
            r.body(),
            r#"{"access_token":"t","expires_in":300,"token_type":"Bearer"}"#
        );
        let e = Refusal::invalid_grant("nope");
        assert!(is_error_description(
            "the assertion is refused (bad_signature)"
        ));
        assert!(!is_error_description("issuer \"x\" is not trusted"));
        assert!(!is_error_description("a\\b"));
        assert!(!is_error_description("caf\u{e9}"));
        assert!(!is_error_description("a\nb"));
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.body(),
            r#"{"error":"invalid_grant","error_description":"nope"}"#
        );
    }
}
