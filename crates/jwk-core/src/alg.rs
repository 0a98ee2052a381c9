//! JWS algorithm identifiers (RFC 7518 section 3.1, RFC 8037, RFC 8812, RFC 9864, RFC 9964).

use core::fmt;

/// A JWS `alg` value. Registered names are variants; anything else is [`Algorithm::Unknown`].
///
/// `Algorithm` is `Copy`: it is passed by value everywhere. An unregistered name is therefore
/// not stored here but where it was received, and read from there:
///
/// - a parsed [`Header`](crate::Header) keeps the `alg` text: [`Header::alg_name`](crate::Header::alg_name);
/// - a parsed [`Jwk`](crate::Jwk) keeps its `alg` text: [`Jwk::alg_name`](crate::Jwk::alg_name);
/// - errors that must name an unknown algorithm carry the name as their own string field.
///
/// Serializing a parsed `Header` or `Jwk` writes the name as received, so an unknown `alg`
/// round-trips. `Algorithm::Unknown` on its own has no name: [`Algorithm::as_str`] answers
/// `"unknown"` for it (which parses back to `Unknown`), so a `Header`/`Jwk` built by hand with
/// `Unknown` and no name serializes `"alg":"unknown"`; use
/// [`Header::set_alg_name`](crate::Header::set_alg_name) /
/// [`Jwk::set_alg_name`](crate::Jwk::set_alg_name) to keep a name.
///
/// Parsing is case-sensitive (RFC 7515 section 4.1.1 values are case-sensitive), so `"None"`
/// is `Unknown`, never `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    Hs256,
    /// HMAC with SHA-384.
    Hs384,
    /// HMAC with SHA-512.
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// ECDSA P-521 with SHA-512.
    Es512,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384 and MGF1 with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512 and MGF1 with SHA-512.
    Ps512,
    /// `none`: an unsecured JWS. Parsed so it can be named in errors; never verified.
    None,
    /// EdDSA (RFC 8037); the curve comes from the key.
    EdDsa,
    /// ECDSA secp256k1 with SHA-256 (RFC 8812).
    Es256K,
    /// Ed25519, fully specified (RFC 9864).
    Ed25519,
    /// Ed448, fully specified (RFC 9864).
    Ed448,
    /// ML-DSA-44 (FIPS 204; RFC 9964), with an `AKP` key.
    MlDsa44,
    /// ML-DSA-65 (FIPS 204; RFC 9964), with an `AKP` key.
    MlDsa65,
    /// ML-DSA-87 (FIPS 204; RFC 9964), with an `AKP` key.
    MlDsa87,
    /// Any other value. The name itself is kept where it was received (see the type's docs).
    Unknown,
}

/// The kind of key an algorithm needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// A shared secret (`oct`).
    Hmac,
    /// RSA PKCS#1 v1.5.
    RsaPkcs1,
    /// RSA PSS.
    RsaPss,
    /// ECDSA on a NIST or secp256k1 curve.
    Ecdsa,
    /// EdDSA on an OKP curve.
    EdDsa,
    /// ML-DSA (RFC 9964) with an `AKP` key whose `alg` fixes the parameter set.
    MlDsa,
    /// `none` or unknown: no key can verify it.
    Unsecured,
}

impl Algorithm {
    /// Every registered signature algorithm (excluding `none`), in RFC order.
    pub const SIGNATURE: &'static [Algorithm] = &[
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::EdDsa,
        Algorithm::Es256K,
        Algorithm::Ed25519,
        Algorithm::Ed448,
        Algorithm::MlDsa44,
        Algorithm::MlDsa65,
        Algorithm::MlDsa87,
    ];

    /// Parses an `alg` value (case-sensitive).
    ///
    /// Any name that is not registered is [`Algorithm::Unknown`]; keep `s` if it must be shown.
    pub fn parse(s: &str) -> Algorithm {
        match s {
            "HS256" => Algorithm::Hs256,
            "HS384" => Algorithm::Hs384,
            "HS512" => Algorithm::Hs512,
            "RS256" => Algorithm::Rs256,
            "RS384" => Algorithm::Rs384,
            "RS512" => Algorithm::Rs512,
            "ES256" => Algorithm::Es256,
            "ES384" => Algorithm::Es384,
            "ES512" => Algorithm::Es512,
            "PS256" => Algorithm::Ps256,
            "PS384" => Algorithm::Ps384,
            "PS512" => Algorithm::Ps512,
            "none" => Algorithm::None,
            "EdDSA" => Algorithm::EdDsa,
            "ES256K" => Algorithm::Es256K,
            "Ed25519" => Algorithm::Ed25519,
            "Ed448" => Algorithm::Ed448,
            "ML-DSA-44" => Algorithm::MlDsa44,
            "ML-DSA-65" => Algorithm::MlDsa65,
            "ML-DSA-87" => Algorithm::MlDsa87,
            _ => Algorithm::Unknown,
        }
    }

    /// The registered name (`"RS256"`); `"unknown"` for [`Algorithm::Unknown`], whose name is
    /// kept where it was received (for example [`Header::alg_name`](crate::Header::alg_name)).
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::None => "none",
            Algorithm::EdDsa => "EdDSA",
            Algorithm::Es256K => "ES256K",
            Algorithm::Ed25519 => "Ed25519",
            Algorithm::Ed448 => "Ed448",
            Algorithm::MlDsa44 => "ML-DSA-44",
            Algorithm::MlDsa65 => "ML-DSA-65",
            Algorithm::MlDsa87 => "ML-DSA-87",
            Algorithm::Unknown => "unknown",
        }
    }

    /// The key family this algorithm needs.
    pub const fn family(self) -> Family {
        match self {
            Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512 => Family::Hmac,
            Algorithm::Rs256 | Algorithm::Rs384 | Algorithm::Rs512 => Family::RsaPkcs1,
            Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512 => Family::RsaPss,
            Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 | Algorithm::Es256K => {
                Family::Ecdsa
            }
            Algorithm::EdDsa | Algorithm::Ed25519 | Algorithm::Ed448 => Family::EdDsa,
            Algorithm::MlDsa44 | Algorithm::MlDsa65 | Algorithm::MlDsa87 => Family::MlDsa,
            Algorithm::None | Algorithm::Unknown => Family::Unsecured,
        }
    }

    /// True for the HMAC algorithms, which use a shared secret.
    pub const fn is_symmetric(self) -> bool {
        matches!(self.family(), Family::Hmac)
    }

    /// True for a registered JWS signature or MAC algorithm (not `none`, not unknown).
    pub const fn is_signature(self) -> bool {
        !matches!(self.family(), Family::Unsecured)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Algorithm {
    type Err = core::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Algorithm::parse(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_none_is_case_sensitive() {
        for alg in Algorithm::SIGNATURE {
            assert_eq!(Algorithm::parse(alg.as_str()), *alg);
            assert!(alg.is_signature());
        }
        assert_eq!(Algorithm::parse("none"), Algorithm::None);
        assert_eq!(Algorithm::parse("None"), Algorithm::Unknown);
        assert_eq!(Algorithm::parse("NONE").family(), Family::Unsecured);
        assert!(!Algorithm::None.is_signature());
        assert_eq!(Algorithm::parse("rs256"), Algorithm::Unknown);
        assert_eq!(Algorithm::parse(""), Algorithm::Unknown);
        // `Unknown` names itself "unknown", which parses back to `Unknown`.
        assert_eq!(Algorithm::Unknown.as_str(), "unknown");
        assert_eq!(
            Algorithm::parse(Algorithm::Unknown.as_str()),
            Algorithm::Unknown
        );
        assert!(!Algorithm::Unknown.is_signature());
        assert!(!Algorithm::Unknown.is_symmetric());
        assert_eq!(Algorithm::parse("ML-DSA-65"), Algorithm::MlDsa65);
        assert_eq!(Algorithm::MlDsa87.family(), Family::MlDsa);
        assert_eq!(Algorithm::parse("ml-dsa-44"), Algorithm::Unknown);
    }
}
