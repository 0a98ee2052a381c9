//! The crate's error type.

use core::fmt;

/// Why the issuer could not start, load keys, sign or serve. `code()` values are stable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A signing backend error (loading, generating or using a key); transparent: the code is
    /// `jws-crypto`'s (`unsupported_alg`, `unsupported_key_generation`, `invalid_private_key`,
    /// `signing_failed`, ...).
    Crypto(jws_crypto::Error),
    /// The configuration cannot work (an empty algorithm list, a pre-publish period shorter
    /// than the JWKS cache lifetime, a trusted issuer without keys, ...).
    Config {
        /// What is wrong.
        reason: Box<str>,
    },
    /// The key directory or a key file could not be created, read or written.
    KeyDir {
        /// The path involved.
        path: Box<str>,
        /// What failed.
        reason: Box<str>,
    },
    /// No key can sign with this algorithm (it is not configured, or no key loaded).
    NoSigningKey {
        /// The algorithm asked for.
        alg: Box<str>,
    },
    /// The listening socket could not be opened.
    Bind {
        /// The address asked for.
        addr: Box<str>,
        /// Why.
        reason: Box<str>,
    },
    /// The TLS certificate or key could not be loaded.
    Tls {
        /// What is wrong.
        reason: Box<str>,
    },
}

impl Error {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Crypto(inner) => inner.code(),
            Error::Config { .. } => "invalid_config",
            Error::KeyDir { .. } => "key_dir",
            Error::NoSigningKey { .. } => "no_signing_key",
            Error::Bind { .. } => "bind",
            Error::Tls { .. } => "tls",
        }
    }

    /// Every code this crate adds (the transparent `Crypto` variant uses `jws-crypto`'s).
    pub const CODES: &'static [&'static str] =
        &["invalid_config", "key_dir", "no_signing_key", "bind", "tls"];

    pub(crate) fn config(reason: impl Into<Box<str>>) -> Self {
        Error::Config {
            reason: reason.into(),
        }
    }

    pub(crate) fn key_dir(path: &std::path::Path, reason: impl fmt::Display) -> Self {
        Error::KeyDir {
            path: path.display().to_string().into(),
            reason: reason.to_string().into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Crypto(inner) => inner.fmt(f),
            Error::Config { reason } => write!(f, "invalid configuration: {reason}"),
            Error::KeyDir { path, reason } => write!(f, "key directory {path}: {reason}"),
            Error::NoSigningKey { alg } => write!(f, "no key signs {alg}"),
            Error::Bind { addr, reason } => write!(f, "cannot listen on {addr}: {reason}"),
            Error::Tls { reason } => write!(f, "tls: {reason}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<jws_crypto::Error> for Error {
    fn from(e: jws_crypto::Error) -> Self {
        Error::Crypto(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed() {
        let all = [
            Error::config("x"),
            Error::key_dir(std::path::Path::new("/x"), "y"),
            Error::NoSigningKey {
                alg: "RS256".into(),
            },
            Error::Bind {
                addr: "a".into(),
                reason: "b".into(),
            },
            Error::Tls { reason: "t".into() },
        ];
        let codes: Vec<&str> = all.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES);
        let mut dedup = codes.clone();
        dedup.sort_unstable();
        dedup.dedup();
        assert_eq!(dedup.len(), codes.len());
    }
}
