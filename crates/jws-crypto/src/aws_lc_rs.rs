//! The aws-lc-rs backend: every algorithm this crate implements, keys parsed once into
//! aws-lc-rs's `ParsedPublicKey` at import.

use alloc::sync::Arc;
use core::fmt;

use ::aws_lc_rs::{hmac, signature};
use jwk_core::{Algorithm, EcCurve, Jwk, MlDsaParams};

use crate::checks::{self, Checked, Hash, Kind};
use crate::error::{BadSignature, Error};
use crate::policy::KeyPolicy;
use crate::provider::{Provider, Verifier};

#[cfg(feature = "sign")]
mod sign;

const NAME: &str = "aws-lc-rs";

/// The aws-lc-rs provider.
pub static PROVIDER: Provider = Provider::backend(
    NAME,
    import,
    supports,
    #[cfg(feature = "sign")]
    &sign::FNS,
);

fn supports_kind(_: Kind) -> bool {
    true
}

fn supports(alg: Algorithm) -> bool {
    Kind::of(alg).is_some_and(supports_kind)
}

fn import(jwk: &Jwk, alg: Algorithm, policy: &KeyPolicy) -> Result<Arc<dyn Verifier>, Error> {
    let checked = checks::check(jwk, alg, policy, NAME, supports_kind)?;
    let verifier: Arc<dyn Verifier> = match checked {
        Checked::Hmac { k, hash } => Arc::new(HmacKey {
            alg,
            key: hmac::Key::new(hmac_algorithm(hash), k),
        }),
        Checked::Rsa {
            n,
            e,
            bits,
            pss,
            hash,
        } => {
            let params = rsa_params(pss, hash, bits);
            let key = signature::RsaPublicKeyComponents { n, e }
                .to_parsed_public_key(params)
                .map_err(|e| Error::invalid(alloc::format!("RSA key rejected: {e}")))?;
            Arc::new(PublicKey {
                alg,
                key,
                signature_len: None,
                bits,
            })
        }
        Checked::Ec { crv, x, y } => {
            let point = checks::uncompressed_point(x, y);
            // Parsing decodes the point and checks that it is on the curve.
            let key = signature::ParsedPublicKey::new(ecdsa_algorithm(crv), point)
                .map_err(|_| Error::invalid(alloc::format!("point not on {}", crv.as_str())))?;
            Arc::new(PublicKey {
                alg,
                key,
                signature_len: Some(2 * crv.coordinate_len()),
                bits: crv.coordinate_len() * 8,
            })
        }
        Checked::Ed25519 { x } => {
            let key = signature::ParsedPublicKey::new(&signature::ED25519, x)
                .map_err(|_| Error::invalid("Ed25519 public key rejected"))?;
            Arc::new(PublicKey {
                alg,
                key,
                signature_len: Some(64),
                bits: 256,
            })
        }
        Checked::MlDsa { params, pub_key } => {
            // Parsing runs FIPS 204 pkDecode once (RFC 9964 section 7.3).
            let key = signature::ParsedPublicKey::new(ml_dsa_algorithm(params), pub_key)
                .map_err(|_| Error::invalid(alloc::format!("{} key rejected", params.as_str())))?;
            Arc::new(PublicKey {
                alg,
                key,
                // RFC 9964 section 5: the JWS signature is the FIPS 204 encoding, fixed length.
                signature_len: Some(params.signature_len()),
                bits: pub_key.len() * 8,
            })
        }
    };
    Ok(verifier)
}

/// The aws-lc-rs parameters for an RSA algorithm. Moduli under 2048 bits reach here only for
/// RS256 and RS512 (the checks refuse the rest), which have 1024-bit legacy parameters.
pub(crate) fn rsa_params(pss: bool, hash: Hash, bits: usize) -> &'static signature::RsaParameters {
    match (pss, hash, bits >= 2048) {
        (false, Hash::Sha256, true) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (false, Hash::Sha384, _) => &signature::RSA_PKCS1_2048_8192_SHA384,
        (false, Hash::Sha512, true) => &signature::RSA_PKCS1_2048_8192_SHA512,
        (false, Hash::Sha256, false) => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        (false, Hash::Sha512, false) => &signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        (true, Hash::Sha256, _) => &signature::RSA_PSS_2048_8192_SHA256,
        (true, Hash::Sha384, _) => &signature::RSA_PSS_2048_8192_SHA384,
        (true, Hash::Sha512, _) => &signature::RSA_PSS_2048_8192_SHA512,
    }
}

pub(crate) fn ecdsa_algorithm(crv: EcCurve) -> &'static signature::EcdsaVerificationAlgorithm {
    match crv {
        EcCurve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
        EcCurve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
        // `checks` admits only the three NIST curves for ECDSA; secp256k1 never reaches here.
        _ => &signature::ECDSA_P521_SHA512_FIXED,
    }
}

/// aws-lc-rs's (stable, since 1.18) ML-DSA verification algorithms: pure ML-DSA with the
/// empty context, as RFC 9964 section 5 requires.
pub(crate) fn ml_dsa_algorithm(
    params: MlDsaParams,
) -> &'static signature::PqdsaVerificationAlgorithm {
    match params {
        MlDsaParams::MlDsa44 => &signature::ML_DSA_44,
        MlDsaParams::MlDsa65 => &signature::ML_DSA_65,
        // `MlDsaParams` is non-exhaustive; a future set would need its own arm before `Kind::of`
        // maps to it.
        _ => &signature::ML_DSA_87,
    }
}

pub(crate) fn hmac_algorithm(hash: Hash) -> hmac::Algorithm {
    match hash {
        Hash::Sha256 => hmac::HMAC_SHA256,
        Hash::Sha384 => hmac::HMAC_SHA384,
        Hash::Sha512 => hmac::HMAC_SHA512,
    }
}

/// An RSA, ECDSA, Ed25519 or ML-DSA key, parsed once.
struct PublicKey {
    alg: Algorithm,
    key: signature::ParsedPublicKey,
    /// Exact JOSE signature length for ECDSA (`r || s`), Ed25519 and ML-DSA.
    signature_len: Option<usize>,
    bits: usize,
}

impl Verifier for PublicKey {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        if self.signature_len.is_some_and(|len| len != signature.len()) {
            return Err(BadSignature);
        }
        self.key
            .verify_sig(signing_input, signature)
            .map_err(|_| BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("backend", &NAME)
            .field("alg", &self.alg.as_str())
            .field("bits", &self.bits)
            .finish()
    }
}

/// An HMAC secret. The tag is recomputed and compared in constant time by the backend.
struct HmacKey {
    alg: Algorithm,
    key: hmac::Key,
}

impl Verifier for HmacKey {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        // The backend recomputes the tag and compares in constant time (`CRYPTO_memcmp`);
        // a tag of any other length is refused, so a truncated tag never verifies.
        hmac::verify(&self.key, signing_input, signature).map_err(|_| BadSignature)
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacKey")
            .field("backend", &NAME)
            .field("alg", &self.alg.as_str())
            .finish_non_exhaustive()
    }
}
