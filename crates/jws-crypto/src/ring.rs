//! The ring backend. ring has no parsed public key type, so the import checks run once here
//! and the verifier keeps what ring can take directly: RSA `n` and `e` as minimal big-endian
//! bytes, the EC point encoded once (checked on its curve at import), the Ed25519 key bytes,
//! a ready HMAC key. ring has no P-521: ES512 is `unsupported_alg`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use ::ring::{agreement, hmac, rand, signature};
use jwk_core::{Algorithm, EcCurve, Jwk};

use crate::checks::{self, Checked, Hash, Kind};
use crate::error::{BadSignature, Error};
use crate::policy::KeyPolicy;
use crate::provider::{Provider, Verifier};

#[cfg(feature = "sign")]
mod sign;

const NAME: &str = "ring";

/// The ring provider.
pub static PROVIDER: Provider = Provider::backend(
    NAME,
    import,
    supports,
    #[cfg(feature = "sign")]
    &sign::FNS,
);

/// ring has neither P-521 nor ML-DSA.
fn supports_kind(kind: Kind) -> bool {
    !matches!(kind, Kind::Ecdsa(EcCurve::P521) | Kind::MlDsa(_))
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
        } => Arc::new(RsaKey {
            alg,
            key: signature::RsaPublicKeyComponents {
                n: n.to_vec(),
                e: e.to_vec(),
            },
            params: rsa_params(pss, hash, bits),
            bits,
        }),
        Checked::Ec { crv, x, y } => {
            let point = checks::uncompressed_point(x, y);
            let (verify_alg, agree_alg) = ecdsa_algorithms(crv);
            check_on_curve(agree_alg, &point)
                .map_err(|()| Error::invalid(alloc::format!("point not on {}", crv.as_str())))?;
            Arc::new(PublicKey {
                alg,
                key: signature::UnparsedPublicKey::new(verify_alg, point),
                signature_len: 2 * crv.coordinate_len(),
            })
        }
        Checked::Ed25519 { x } => Arc::new(PublicKey {
            alg,
            key: signature::UnparsedPublicKey::new(&signature::ED25519, x.to_vec()),
            signature_len: 64,
        }),
        // `supports_kind` refuses ML-DSA, so `checks::check` never returns it here.
        Checked::MlDsa { params, .. } => return Err(Error::unsupported(params.algorithm(), NAME)),
    };
    Ok(verifier)
}

/// ring validates a peer's point (on the curve, not the identity) before ECDH; an ephemeral
/// agreement is the public way to ask it, at import only.
fn check_on_curve(alg: &'static agreement::Algorithm, point: &[u8]) -> Result<(), ()> {
    let rng = rand::SystemRandom::new();
    let mine = agreement::EphemeralPrivateKey::generate(alg, &rng).map_err(|_| ())?;
    let peer = agreement::UnparsedPublicKey::new(alg, point);
    agreement::agree_ephemeral(mine, &peer, |_| ()).map_err(|_| ())
}

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

/// `checks` admits P-256 and P-384 here (P-521 is unsupported on ring).
fn ecdsa_algorithms(
    crv: EcCurve,
) -> (
    &'static signature::EcdsaVerificationAlgorithm,
    &'static agreement::Algorithm,
) {
    match crv {
        EcCurve::P384 => (&signature::ECDSA_P384_SHA384_FIXED, &agreement::ECDH_P384),
        _ => (&signature::ECDSA_P256_SHA256_FIXED, &agreement::ECDH_P256),
    }
}

pub(crate) fn hmac_algorithm(hash: Hash) -> hmac::Algorithm {
    match hash {
        Hash::Sha256 => hmac::HMAC_SHA256,
        Hash::Sha384 => hmac::HMAC_SHA384,
        Hash::Sha512 => hmac::HMAC_SHA512,
    }
}

/// An RSA key as checked components; ring builds its arithmetic from them per call.
struct RsaKey {
    alg: Algorithm,
    key: signature::RsaPublicKeyComponents<Vec<u8>>,
    params: &'static signature::RsaParameters,
    bits: usize,
}

impl Verifier for RsaKey {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        self.key
            .verify(self.params, signing_input, signature)
            .map_err(|_| BadSignature)
    }
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKey")
            .field("backend", &NAME)
            .field("alg", &self.alg.as_str())
            .field("bits", &self.bits)
            .finish()
    }
}

/// An ECDSA point (checked on its curve at import) or an Ed25519 key.
struct PublicKey {
    alg: Algorithm,
    key: signature::UnparsedPublicKey<Vec<u8>>,
    /// Exact JOSE signature length (`r || s` for ECDSA, 64 for Ed25519).
    signature_len: usize,
}

impl Verifier for PublicKey {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        if signature.len() != self.signature_len {
            return Err(BadSignature);
        }
        self.key
            .verify(signing_input, signature)
            .map_err(|_| BadSignature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("backend", &NAME)
            .field("alg", &self.alg.as_str())
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
