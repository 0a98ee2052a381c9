//! Why a request was refused, with stable codes and the RFC 6750 section 3 answer for each.

use core::fmt;
use core::time::Duration;

use http::header::{HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

/// `Retry-After` when the key source gives no hint of its own.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Why the layer refused a request.
///
/// [`Refusal::code`] values are stable (counters and logs use them); callers match codes or
/// variants, never `Display` text. The HTTP answer is [`Refusal::status`] with the
/// `WWW-Authenticate` header of RFC 6750 section 3; its `error_description` is fixed per code
/// and never carries token text or internals.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Refusal {
    /// No token anywhere the layer looks: 401 with a challenge and no `error` attribute
    /// (RFC 6750 3.1: the client may not know that authentication is needed).
    MissingToken,
    /// The request carries credentials in a broken way (two `Authorization` headers, a
    /// bearer value that is not exactly one token, a token sent by two methods): 400
    /// `invalid_request`.
    InvalidRequest {
        /// What is wrong, fixed text (also the `error_description`).
        reason: &'static str,
    },
    /// The token did not validate: 401 `invalid_token`. The code is the validator's own
    /// (`expired`, `bad_signature`, ...).
    InvalidToken(jwt_validate::Error),
    /// The token lacks a required scope: 403 `insufficient_scope` with `scope="..."` naming
    /// every scope the route needs.
    InsufficientScope {
        /// The scopes the resource needs, space-separated.
        required: Box<str>,
    },
    /// The token's role/group claim holds none of the accepted values: 403
    /// `insufficient_scope`.
    MissingRole {
        /// The claim that was read.
        claim: Box<str>,
    },
    /// A custom check over the claims said no: 403 `insufficient_scope`.
    CheckFailed {
        /// The check's name.
        check: Box<str>,
    },
    /// No keys to validate with (identity provider down and nothing cached): 503 with
    /// `Retry-After`, never 401 (the token may be fine).
    KeysUnavailable {
        /// When to try again.
        retry_after: Duration,
    },
}

/// Every code a [`Refusal`] can have, plus `ok`: the keys of the layer's counters.
pub(crate) fn all_codes() -> Vec<&'static str> {
    let mut codes = vec!["ok", "anonymous", "missing_token", "invalid_request"];
    codes.extend(
        jwt_validate::Error::CODES
            .iter()
            .copied()
            .filter(|c| *c != "jwks_unavailable"),
    );
    codes.extend([
        "insufficient_scope",
        "missing_role",
        "check_failed",
        "jwks_unavailable",
        "other",
    ]);
    codes
}

impl Refusal {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MissingToken => "missing_token",
            Refusal::InvalidRequest { .. } => "invalid_request",
            Refusal::InvalidToken(e) => e.code(),
            Refusal::InsufficientScope { .. } => "insufficient_scope",
            Refusal::MissingRole { .. } => "missing_role",
            Refusal::CheckFailed { .. } => "check_failed",
            Refusal::KeysUnavailable { .. } => "jwks_unavailable",
        }
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::MissingToken | Refusal::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Refusal::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            Refusal::InsufficientScope { .. }
            | Refusal::MissingRole { .. }
            | Refusal::CheckFailed { .. } => StatusCode::FORBIDDEN,
            Refusal::KeysUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `error_description` sent: fixed per code, no token text, no internals.
    pub fn description(&self) -> &'static str {
        match self {
            Refusal::MissingToken => "",
            Refusal::InvalidRequest { reason } => reason,
            Refusal::InvalidToken(e) => token_description(e.code()),
            Refusal::InsufficientScope { .. } => "The access token lacks a required scope",
            Refusal::MissingRole { .. } => "The access token lacks a required role",
            Refusal::CheckFailed { .. } => "The access token is not allowed here",
            Refusal::KeysUnavailable { .. } => "The keys to validate access tokens are unavailable",
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 section 3), or `None` for 503.
    pub fn challenge(&self, realm: &str) -> Option<String> {
        let error = match self {
            Refusal::MissingToken => return Some(format!("Bearer realm=\"{realm}\"")),
            Refusal::KeysUnavailable { .. } => return None,
            Refusal::InvalidRequest { .. } => "invalid_request",
            Refusal::InvalidToken(_) => "invalid_token",
            Refusal::InsufficientScope { .. }
            | Refusal::MissingRole { .. }
            | Refusal::CheckFailed { .. } => "insufficient_scope",
        };
        let mut v = format!(
            "Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{}\"",
            self.description()
        );
        if let Refusal::InsufficientScope { required } = self {
            v.push_str(", scope=\"");
            v.push_str(required);
            v.push('"');
        }
        Some(v)
    }

    /// The whole answer, with an empty body of the service's type.
    pub fn response<B: Default>(&self, realm: &str) -> Response<B> {
        let mut res = Response::new(B::default());
        *res.status_mut() = self.status();
        if let Some(value) = self
            .challenge(realm)
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            res.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        if let Refusal::KeysUnavailable { retry_after } = self {
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
        }
        res
    }

    /// Sorts a validator error: keys unavailable is 503, everything else 401.
    pub(crate) fn from_validation(e: jwt_validate::Error) -> Refusal {
        match e {
            jwt_validate::Error::JwksUnavailable(s) => Refusal::KeysUnavailable {
                retry_after: s.retry_after().unwrap_or(DEFAULT_RETRY_AFTER),
            },
            other => Refusal::InvalidToken(other),
        }
    }
}

/// The fixed `error_description` for each validator code.
fn token_description(code: &str) -> &'static str {
    match code {
        "malformed" => "The access token is malformed",
        "too_large" => "The access token is too large",
        "alg_not_allowed" => "The access token algorithm is not accepted",
        "unsupported_alg" => "The access token algorithm is not supported",
        "unsupported_crit" => "The access token has an unsupported critical header",
        "key_not_found" => "No key is known for the access token",
        "key_mismatch" => "The access token key does not fit its algorithm",
        "weak_key" => "The access token key is refused",
        "bad_signature" => "The access token signature is invalid",
        "invalid_claim" => "The access token has an invalid claim",
        "missing_claim" => "The access token lacks a required claim",
        "expired" => "The access token expired",
        "not_yet_valid" => "The access token is not valid yet",
        "issued_in_future" => "The access token was issued in the future",
        "too_old" => "The access token is too old",
        "issuer_mismatch" => "The access token issuer is not accepted",
        "audience_mismatch" => "The access token is not for this audience",
        "subject_mismatch" => "The access token subject is not accepted",
        "type_mismatch" => "The access token type is not accepted",
        _ => "The access token is invalid",
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::MissingToken => f.write_str("no bearer token in the request"),
            Refusal::InvalidRequest { reason } => write!(f, "invalid request: {reason}"),
            Refusal::InvalidToken(e) => write!(f, "invalid token: {e}"),
            Refusal::InsufficientScope { required } => {
                write!(f, "the token lacks a scope among {required:?}")
            }
            Refusal::MissingRole { claim } => {
                write!(f, "claim {claim:?} holds none of the accepted values")
            }
            Refusal::CheckFailed { check } => write!(f, "check {check:?} refused the token"),
            Refusal::KeysUnavailable { retry_after } => write!(
                f,
                "keys unavailable (retry after {} s)",
                retry_after.as_secs()
            ),
        }
    }
}

impl core::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Refusal::InvalidToken(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_validator_code_has_its_own_description() {
        let mut seen = std::collections::BTreeSet::new();
        for code in jwt_validate::Error::CODES {
            if *code == "jwks_unavailable" {
                continue;
            }
            let d = token_description(code);
            assert_ne!(d, "The access token is invalid", "{code}");
            assert!(seen.insert(d), "{code} shares its description");
            // RFC 6750 3: error_description is %x20-21 / %x23-5B / %x5D-7E.
            assert!(d
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'));
        }
    }

    #[test]
    fn codes_are_unique() {
        let codes = all_codes();
        let set: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(set.len(), codes.len());
    }
}
