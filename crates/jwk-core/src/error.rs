//! The crate's one error type.

use alloc::boxed::Box;
use core::fmt;

/// Which part of a JOSE object an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// The whole compact token.
    Token,
    /// The JOSE header (first segment).
    Header,
    /// The payload (second segment); for a JWT, the claims set.
    Payload,
    /// The signature (third segment).
    Signature,
    /// A JSON Web Key.
    Jwk,
    /// A JSON Web Key Set.
    JwkSet,
}

impl Part {
    /// Lowercase name used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Token => "token",
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
            Part::Jwk => "JWK",
            Part::JwkSet => "JWK Set",
        }
    }
}

/// Why a JOSE object was refused.
///
/// `code()` values are stable: scripts and the `jwkctl` JSON output depend on them, so a code is
/// never renamed. Callers match on `code()` or on variants, never on `Display` text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The input is larger than the configured limit; checked before any decoding.
    TooLarge {
        /// What was too large.
        part: Part,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A compact serialization with the wrong number of `.`-separated segments.
    Segments {
        /// Number of segments found (counting stops a little past the expected number).
        found: usize,
    },
    /// Five segments: a JWE (RFC 7516), which this crate does not decrypt.
    Jwe,
    /// A segment that is not strict base64url (RFC 7515 section 2).
    Base64 {
        /// The segment or member being decoded.
        part: Part,
        /// Byte offset of the first offending character, where known.
        offset: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// Text that is not valid JSON, or JSON of the wrong shape.
    Json {
        /// The part being parsed.
        part: Part,
        /// 1-based line and column reported by the parser (0 when unknown).
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// What the parser said.
        message: Box<str>,
    },
    /// A JSON object names the same member twice (a parser-differential attack vector).
    DuplicateMember {
        /// The part being parsed.
        part: Part,
        /// The repeated member name.
        name: Box<str>,
    },
    /// JSON nested deeper than the limit.
    TooDeep {
        /// The part being parsed.
        part: Part,
        /// The depth limit.
        limit: usize,
    },
    /// A header member with an invalid value or a required member missing.
    InvalidHeader {
        /// The member name.
        member: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// RFC 7515 section 4.1.11: a `crit` entry the caller does not understand.
    UnsupportedCrit {
        /// The extension name (empty for a malformed `crit`).
        name: Box<str>,
        /// What is wrong.
        reason: &'static str,
    },
    /// A registered claim with the wrong JSON type or an impossible value.
    InvalidClaim {
        /// The claim name.
        claim: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A JWK that is structurally wrong (missing or malformed members, bad coordinates).
    InvalidKey {
        /// What is wrong.
        reason: Box<str>,
    },
    /// A JWK of a type or curve this crate does not know.
    UnsupportedKey {
        /// What is unsupported.
        reason: Box<str>,
    },
    /// A JWK carrying private key members where a public key was expected.
    PrivateKey {
        /// The first private member found.
        member: &'static str,
    },
    /// A JWK that is not meant for verifying signatures (`use: enc`, an encryption `alg`,
    /// `key_ops` without `verify`).
    NotSigningKey {
        /// Why the key is not for signatures.
        reason: Box<str>,
    },
}

impl Error {
    /// The stable snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooLarge { .. } => "too_large",
            Error::Segments { .. }
            | Error::Jwe
            | Error::Base64 { .. }
            | Error::Json { .. }
            | Error::DuplicateMember { .. }
            | Error::TooDeep { .. }
            | Error::InvalidHeader { .. } => "malformed",
            Error::UnsupportedCrit { .. } => "unsupported_crit",
            Error::InvalidClaim { .. } => "invalid_claim",
            Error::InvalidKey { .. } => "invalid_key",
            Error::UnsupportedKey { .. } => "unsupported_key",
            Error::PrivateKey { .. } => "private_key",
            Error::NotSigningKey { .. } => "not_signing_key",
        }
    }

    pub(crate) fn invalid_key(reason: impl Into<Box<str>>) -> Self {
        Error::InvalidKey {
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported_key(reason: impl Into<Box<str>>) -> Self {
        Error::UnsupportedKey {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge { part, size, limit } => {
                write!(f, "{} is {size} bytes, limit {limit}", part.as_str())
            }
            Error::Segments { found } => write!(
                f,
                "compact JWS needs 3 dot-separated segments, found {found}"
            ),
            Error::Jwe => f.write_str(
                "token has 5 segments: it is a JWE (encrypted), not a JWS; decrypt it first",
            ),
            Error::Base64 { part, offset, reason } => write!(
                f,
                "{} is not strict base64url at byte {offset}: {reason}",
                part.as_str()
            ),
            Error::Json { part, line, column, message } => write!(
                f,
                "{} is not valid JSON of the expected shape (line {line}, column {column}): {message}",
                part.as_str()
            ),
            Error::DuplicateMember { part, name } => {
                write!(f, "{} has member {name:?} more than once", part.as_str())
            }
            Error::TooDeep { part, limit } => {
                write!(f, "{} nests JSON deeper than {limit} levels", part.as_str())
            }
            Error::InvalidHeader { member, reason } => {
                write!(f, "header member {member:?}: {reason}")
            }
            Error::UnsupportedCrit { name, reason } => {
                if name.is_empty() {
                    write!(f, "header \"crit\": {reason}")
                } else {
                    write!(f, "header \"crit\" names {name:?}: {reason}")
                }
            }
            Error::InvalidClaim { claim, reason } => write!(f, "claim {claim:?}: {reason}"),
            Error::InvalidKey { reason } => write!(f, "invalid key: {reason}"),
            Error::UnsupportedKey { reason } => write!(f, "unsupported key: {reason}"),
            Error::PrivateKey { member } => write!(
                f,
                "key carries private member {member:?}: refused in a public key set"
            ),
            Error::NotSigningKey { reason } => write!(f, "key is not for signatures: {reason}"),
        }
    }
}

#[cfg(feature = "std")]
impl core::error::Error for Error {}
