//! The crate's one error type, with stable codes.

use core::fmt;
use core::time::Duration;

use jwk_core::Algorithm;

use crate::source::SourceError;

/// Why a token was refused.
///
/// `code()` values are part of the `jwkctl` contract: scripts match them, so a code is never
/// renamed. Callers match on [`Error::code`] or on variants, never on `Display` text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The token did not parse. Transparent: the code is jwk-core's own (`malformed`,
    /// `too_large`, `unsupported_crit`, `invalid_claim`).
    Parse(jwk_core::Error),
    /// The header's `alg` is not in the validator's allowed list (`none` never is).
    AlgNotAllowed {
        /// The header's `alg` (`Algorithm::Unknown` for an unregistered name).
        alg: Algorithm,
        /// The header's `alg` as received ([`jwk_core::Header::alg_name`]), so an unregistered
        /// name is still shown exactly.
        name: Box<str>,
    },
    /// The header names an algorithm that no key or backend here can verify.
    UnsupportedAlg {
        /// The algorithm.
        alg: Algorithm,
        /// Why.
        reason: Box<str>,
    },
    /// No key in the set may verify this token.
    KeyNotFound {
        /// The header's `kid`.
        kid: Option<Box<str>>,
        /// Why nothing fitted.
        reason: Box<str>,
    },
    /// The key named by `kid` exists but is for another algorithm or key type.
    KeyMismatch {
        /// The header's `kid`.
        kid: Option<Box<str>>,
        /// The header's `alg`.
        alg: Algorithm,
        /// What did not fit.
        reason: Box<str>,
    },
    /// The selected key was refused by the key policy (too short, bad exponent, ...).
    WeakKey {
        /// The header's `kid`.
        kid: Option<Box<str>>,
        /// The backend's reason.
        reason: Box<str>,
    },
    /// The signature does not verify. Carries nothing, on purpose.
    BadSignature,
    /// A registered claim has a value the policy cannot interpret.
    InvalidClaim {
        /// The claim.
        claim: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A claim the policy needs is absent.
    MissingClaim {
        /// The claim name.
        claim: Box<str>,
    },
    /// RFC 7519 4.1.4: `exp <= now - leeway`.
    Expired {
        /// The token's `exp`, whole seconds.
        exp: i64,
        /// The validator's clock, whole seconds.
        now: i64,
        /// The allowed clock skew.
        leeway: Duration,
    },
    /// RFC 7519 4.1.5: `nbf > now + leeway`.
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The validator's clock.
        now: i64,
    },
    /// `iat > now + leeway`: the issuer's clock or the token is wrong.
    IssuedInFuture {
        /// The token's `iat`.
        iat: i64,
        /// The validator's clock.
        now: i64,
    },
    /// `now - iat` exceeds the policy's maximum age (plus leeway).
    TooOld {
        /// The token's `iat`.
        iat: i64,
        /// The validator's clock.
        now: i64,
        /// The policy's maximum age.
        max_age: Duration,
    },
    /// `iss` is not an accepted issuer (or no issuer route matches it).
    IssuerMismatch {
        /// The token's `iss`, when present.
        found: Option<Box<str>>,
    },
    /// `aud` names none of the accepted audiences, or names one while the validator has none.
    AudienceMismatch {
        /// What is wrong.
        reason: Box<str>,
    },
    /// `sub` is not the expected subject.
    SubjectMismatch {
        /// The token's `sub`.
        found: Box<str>,
    },
    /// The header's `typ` is not the expected type.
    TypeMismatch {
        /// The header's `typ`, when present.
        found: Option<Box<str>>,
        /// The expected type.
        expected: Box<str>,
    },
    /// The key source could not provide keys.
    JwksUnavailable(SourceError),
}

impl Error {
    /// Every code this type can return, in the order (a test checks them).
    pub const CODES: &'static [&'static str] = &[
        "malformed",
        "too_large",
        "alg_not_allowed",
        "unsupported_alg",
        "unsupported_crit",
        "key_not_found",
        "key_mismatch",
        "weak_key",
        "bad_signature",
        "invalid_claim",
        "missing_claim",
        "expired",
        "not_yet_valid",
        "issued_in_future",
        "too_old",
        "issuer_mismatch",
        "audience_mismatch",
        "subject_mismatch",
        "type_mismatch",
        "jwks_unavailable",
    ];

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Parse(inner) => match inner.code() {
                // Token parsing only yields these; anything else jwk-core may add later is
                // still a token that did not parse.
                c @ ("too_large" | "unsupported_crit" | "invalid_claim") => c,
                _ => "malformed",
            },
            Error::AlgNotAllowed { .. } => "alg_not_allowed",
            Error::UnsupportedAlg { .. } => "unsupported_alg",
            Error::KeyNotFound { .. } => "key_not_found",
            Error::KeyMismatch { .. } => "key_mismatch",
            Error::WeakKey { .. } => "weak_key",
            Error::BadSignature => "bad_signature",
            Error::InvalidClaim { .. } => "invalid_claim",
            Error::MissingClaim { .. } => "missing_claim",
            Error::Expired { .. } => "expired",
            Error::NotYetValid { .. } => "not_yet_valid",
            Error::IssuedInFuture { .. } => "issued_in_future",
            Error::TooOld { .. } => "too_old",
            Error::IssuerMismatch { .. } => "issuer_mismatch",
            Error::AudienceMismatch { .. } => "audience_mismatch",
            Error::SubjectMismatch { .. } => "subject_mismatch",
            Error::TypeMismatch { .. } => "type_mismatch",
            Error::JwksUnavailable(_) => "jwks_unavailable",
        }
    }
}

fn kid_text(kid: &Option<Box<str>>) -> String {
    match kid {
        Some(k) => format!("kid {k:?}"),
        None => "no kid".into(),
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse(inner) => inner.fmt(f),
            Error::AlgNotAllowed { name, .. } => {
                write!(f, "algorithm {name:?} is not allowed by this validator")
            }
            Error::UnsupportedAlg { alg, reason } => {
                write!(f, "algorithm {:?} is not supported: {reason}", alg.as_str())
            }
            Error::KeyNotFound { kid, reason } => {
                write!(f, "no key for {}: {reason}", kid_text(kid))
            }
            Error::KeyMismatch { kid, alg, reason } => write!(
                f,
                "key for {} cannot verify {}: {reason}",
                kid_text(kid),
                alg.as_str()
            ),
            Error::WeakKey { kid, reason } => {
                write!(
                    f,
                    "key for {} refused by key policy: {reason}",
                    kid_text(kid)
                )
            }
            Error::BadSignature => f.write_str("signature does not verify"),
            Error::InvalidClaim { claim, reason } => write!(f, "claim {claim:?}: {reason}"),
            Error::MissingClaim { claim } => write!(f, "required claim {claim:?} is absent"),
            Error::Expired { exp, now, leeway } => write!(
                f,
                "token expired at {exp}, now {now} (leeway {} s)",
                leeway.as_secs()
            ),
            Error::NotYetValid { nbf, now } => {
                write!(f, "token not valid before {nbf}, now {now}")
            }
            Error::IssuedInFuture { iat, now } => {
                write!(f, "token issued in the future at {iat}, now {now}")
            }
            Error::TooOld { iat, now, max_age } => write!(
                f,
                "token issued at {iat} is older than the maximum age {} s (now {now})",
                max_age.as_secs()
            ),
            Error::IssuerMismatch { found: Some(iss) } => {
                write!(f, "issuer {iss:?} is not accepted")
            }
            Error::IssuerMismatch { found: None } => {
                f.write_str("token has no \"iss\" and no default key source is configured")
            }
            Error::AudienceMismatch { reason } => write!(f, "audience: {reason}"),
            Error::SubjectMismatch { found } => write!(f, "subject {found:?} is not accepted"),
            Error::TypeMismatch {
                found: Some(t),
                expected,
            } => write!(f, "header typ {t:?}, expected {expected:?}"),
            Error::TypeMismatch {
                found: None,
                expected,
            } => write!(f, "header has no typ, expected {expected:?}"),
            Error::JwksUnavailable(e) => {
                write!(f, "keys unavailable ({}): {}", e.code(), e.message())
            }
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            // Transparent: Display already is the inner error's.
            Error::Parse(inner) => inner.source(),
            Error::JwksUnavailable(e) => Some(e),
            _ => None,
        }
    }
}

impl From<jwk_core::Error> for Error {
    fn from(e: jwk_core::Error) -> Self {
        Error::Parse(e)
    }
}

/// Why a [`crate::ValidatorBuilder`] refused to build.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key source at all: neither `keys`/`key_source` nor an issuer route.
    NoKeySource,
    /// An algorithm that can never be allowed (`none`, an unregistered name).
    ForbiddenAlgorithm(Box<str>),
    /// The allowed algorithm list is empty.
    NoAlgorithms,
    /// Two issuer routes for the same issuer.
    DuplicateIssuer(Box<str>),
    /// A route's policy names issuers other than its own.
    RouteIssuerConflict(Box<str>),
    /// Static keys were given ([`crate::ValidatorBuilder::jwks`] or
    /// [`crate::ValidatorBuilder::keys`]) and none imported: every token would fail. A tool
    /// that wants each token's own reason anyway passes a [`crate::StaticKeys`] through
    /// [`crate::ValidatorBuilder::key_source`].
    NoUsableKeys {
        /// How many keys were set aside (all of them: parse and import failures).
        set_aside: usize,
        /// Why the first one was, when there was one.
        first_reason: Option<Box<str>>,
    },
}

impl ConfigError {
    /// A stable, machine-readable code: never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::NoKeySource => "no_key_source",
            ConfigError::ForbiddenAlgorithm(_) => "forbidden_algorithm",
            ConfigError::NoAlgorithms => "no_algorithms",
            ConfigError::DuplicateIssuer(_) => "duplicate_issuer",
            ConfigError::RouteIssuerConflict(_) => "route_issuer_conflict",
            ConfigError::NoUsableKeys { .. } => "no_usable_keys",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoKeySource => f.write_str("validator has no key source"),
            ConfigError::ForbiddenAlgorithm(a) => {
                write!(f, "algorithm {a:?} can never be allowed")
            }
            ConfigError::NoAlgorithms => f.write_str("allowed algorithm list is empty"),
            ConfigError::DuplicateIssuer(i) => write!(f, "issuer {i:?} is routed twice"),
            ConfigError::RouteIssuerConflict(i) => write!(
                f,
                "route for issuer {i:?} has a policy naming other issuers"
            ),
            ConfigError::NoUsableKeys {
                set_aside,
                first_reason: Some(reason),
            } => write!(
                f,
                "no usable static key: {set_aside} key(s) set aside, the first because {reason}"
            ),
            ConfigError::NoUsableKeys {
                set_aside: 0,
                first_reason: None,
            } => f.write_str("no usable static key: the key set is empty"),
            ConfigError::NoUsableKeys {
                set_aside,
                first_reason: None,
            } => write!(f, "no usable static key: {set_aside} key(s) set aside"),
        }
    }
}

impl core::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_keep_their_code() {
        let e = Error::from(jwk_core::Error::Jwe);
        assert_eq!(e.code(), "malformed");
        assert_eq!(e.to_string(), jwk_core::Error::Jwe.to_string());
    }
}
