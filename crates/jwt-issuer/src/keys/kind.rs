//! The kinds of key material the manager keeps, and which algorithms each signs.

use jwk_core::Algorithm;

/// The kind of key material in one file. One RSA key serves every configured RSA algorithm
/// (published once per algorithm, as the guide's JWKS does). An ML-DSA key serves exactly its
/// parameter set (RFC 9964: the `AKP` key's `alg` fixes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA, for RS256 / RS384 / RS512 / PS256 / PS384 / PS512.
    Rsa,
    /// ECDSA P-256, for ES256.
    P256,
    /// ECDSA P-384, for ES384.
    P384,
    /// Ed25519, for EdDSA.
    Ed25519,
    /// ML-DSA-44 (RFC 9964; aws-lc-rs only), published as an `AKP` key.
    MlDsa44,
    /// ML-DSA-65 (RFC 9964; aws-lc-rs only), published as an `AKP` key.
    MlDsa65,
    /// ML-DSA-87 (RFC 9964; aws-lc-rs only), published as an `AKP` key.
    MlDsa87,
}

impl KeyKind {
    /// The kind of key `alg` signs with; `None` for algorithms this issuer does not sign with
    /// (HMAC: a shared secret cannot be published; `none`; unsupported curves).
    pub fn of(alg: Algorithm) -> Option<KeyKind> {
        match alg {
            Algorithm::Rs256
            | Algorithm::Rs384
            | Algorithm::Rs512
            | Algorithm::Ps256
            | Algorithm::Ps384
            | Algorithm::Ps512 => Some(KeyKind::Rsa),
            Algorithm::Es256 => Some(KeyKind::P256),
            Algorithm::Es384 => Some(KeyKind::P384),
            Algorithm::EdDsa | Algorithm::Ed25519 => Some(KeyKind::Ed25519),
            Algorithm::MlDsa44 => Some(KeyKind::MlDsa44),
            Algorithm::MlDsa65 => Some(KeyKind::MlDsa65),
            Algorithm::MlDsa87 => Some(KeyKind::MlDsa87),
            _ => None,
        }
    }

    /// The file name prefix (`rsa`, `p256`, `p384`, `ed25519`, `mldsa44`, `mldsa65`,
    /// `mldsa87`).
    pub fn prefix(self) -> &'static str {
        match self {
            KeyKind::Rsa => "rsa",
            KeyKind::P256 => "p256",
            KeyKind::P384 => "p384",
            KeyKind::Ed25519 => "ed25519",
            KeyKind::MlDsa44 => "mldsa44",
            KeyKind::MlDsa65 => "mldsa65",
            KeyKind::MlDsa87 => "mldsa87",
        }
    }

    pub(super) fn from_prefix(s: &str) -> Option<KeyKind> {
        [
            KeyKind::Rsa,
            KeyKind::P256,
            KeyKind::P384,
            KeyKind::Ed25519,
            KeyKind::MlDsa44,
            KeyKind::MlDsa65,
            KeyKind::MlDsa87,
        ]
        .into_iter()
        .find(|k| k.prefix() == s)
    }
}

impl KeyKind {
    /// The key file name the manager uses for a key of this kind created at `created`.
    pub fn file_name(self, created: i64) -> String {
        format!("{}-{created}.pem", self.prefix())
    }
}
