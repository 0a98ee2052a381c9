//! The crate's one error type, and the signature failure that carries nothing.

use alloc::boxed::Box;
use core::fmt;

/// A signature did not verify. Carries nothing on purpose (like ring's `Unspecified`): the
/// reason a signature fails is of no use to a caller and of some use to an attacker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadSignature;

impl fmt::Display for BadSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("signature does not verify")
    }
}

impl core::error::Error for BadSignature {}

/// Why a key could not be imported, or a signature not made or checked.
///
/// `code()` values are stable: callers match on them (or on variants), never on message text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The algorithm is `none`, unknown, or not implemented by this crate or this backend.
    UnsupportedAlg {
        /// The algorithm as named in the request.
        alg: Box<str>,
        /// The provider's name (`"aws-lc-rs"`, `"ring"`).
        backend: &'static str,
    },
    /// The key is below a policy floor (RSA modulus, HMAC secret length).
    WeakKey {
        /// What was found and what the floor is.
        reason: Box<str>,
    },
    /// The key's type, curve, `alg`, `use` or `key_ops` does not fit the requested algorithm.
    KeyMismatch {
        /// What does not fit.
        reason: Box<str>,
    },
    /// The key material itself is unusable: a point off its curve, an even or tiny RSA
    /// exponent, an oversized modulus, a bad encoding.
    InvalidKey {
        /// What is wrong.
        reason: Box<str>,
    },
    /// A signature did not verify.
    BadSignature,
    /// A private key (PKCS#8 DER or PEM, or an HMAC secret for signing) could not be used.
    InvalidPrivateKey {
        /// What is wrong.
        reason: Box<str>,
    },
    /// The backend cannot generate keys of this kind (ring cannot generate RSA keys), or the
    /// requested size is outside what is offered.
    UnsupportedKeyGeneration {
        /// What was asked for.
        reason: Box<str>,
    },
    /// The backend failed to produce a signature (a random number generator failure).
    SigningFailed,
}

impl Error {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedAlg { .. } => "unsupported_alg",
            Error::WeakKey { .. } => "weak_key",
            Error::KeyMismatch { .. } => "key_mismatch",
            Error::InvalidKey { .. } => "invalid_key",
            Error::BadSignature => "bad_signature",
            Error::InvalidPrivateKey { .. } => "invalid_private_key",
            Error::UnsupportedKeyGeneration { .. } => "unsupported_key_generation",
            Error::SigningFailed => "signing_failed",
        }
    }

    /// Every code, for tests and documentation (a rename is a breaking change).
    pub const CODES: &'static [&'static str] = &[
        "unsupported_alg",
        "weak_key",
        "key_mismatch",
        "invalid_key",
        "bad_signature",
        "invalid_private_key",
        "unsupported_key_generation",
        "signing_failed",
    ];

    pub(crate) fn weak(reason: impl Into<Box<str>>) -> Self {
        Error::WeakKey {
            reason: reason.into(),
        }
    }

    pub(crate) fn mismatch(reason: impl Into<Box<str>>) -> Self {
        Error::KeyMismatch {
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(reason: impl Into<Box<str>>) -> Self {
        Error::InvalidKey {
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(alg: jwk_core::Algorithm, backend: &'static str) -> Self {
        Error::UnsupportedAlg {
            alg: alg.as_str().into(),
            backend,
        }
    }

    #[cfg(feature = "sign")]
    pub(crate) fn private(reason: impl Into<Box<str>>) -> Self {
        Error::InvalidPrivateKey {
            reason: reason.into(),
        }
    }
}

impl From<BadSignature> for Error {
    fn from(_: BadSignature) -> Self {
        Error::BadSignature
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsupportedAlg { alg, backend } => {
                write!(
                    f,
                    "algorithm {alg:?} is not supported by the {backend} backend"
                )
            }
            Error::WeakKey { reason } => write!(f, "weak key: {reason}"),
            Error::KeyMismatch { reason } => {
                write!(f, "key does not fit the algorithm: {reason}")
            }
            Error::InvalidKey { reason } => write!(f, "invalid key: {reason}"),
            Error::BadSignature => f.write_str("signature does not verify"),
            Error::InvalidPrivateKey { reason } => write!(f, "invalid private key: {reason}"),
            Error::UnsupportedKeyGeneration { reason } => {
                write!(f, "key generation not supported: {reason}")
            }
            Error::SigningFailed => f.write_str("the backend failed to sign"),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed() {
        let all = [
            Error::unsupported(jwk_core::Algorithm::None, "x"),
            Error::weak("a"),
            Error::mismatch("a"),
            Error::invalid("a"),
            Error::BadSignature,
            Error::InvalidPrivateKey { reason: "a".into() },
            Error::UnsupportedKeyGeneration { reason: "a".into() },
            Error::SigningFailed,
        ];
        let codes: alloc::vec::Vec<&str> = all.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
        for (i, c) in codes.iter().enumerate() {
            assert!(!codes[..i].contains(c), "duplicate code {c}");
        }
        assert_eq!(BadSignature.to_string(), "signature does not verify");
        assert_eq!(Error::from(BadSignature).code(), "bad_signature");
    }
}
