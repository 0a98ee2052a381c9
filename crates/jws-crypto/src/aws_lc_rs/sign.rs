//! aws-lc-rs signing: RSA (PKCS#1 v1.5 and PSS), ECDSA P-256/384/521, Ed25519, ML-DSA-44/65/87,
//! HMAC; PKCS#8 loading; generation of every key type, RSA included.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use ::aws_lc_rs::encoding::AsDer as _;
use ::aws_lc_rs::hmac;
use ::aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use ::aws_lc_rs::rsa::KeySize;
use ::aws_lc_rs::signature::{self, KeyPair as _};
use jwk_core::{Algorithm, EcCurve, Jwk, MlDsaParams};

use crate::checks::{Hash, Kind};
use crate::error::Error;
use crate::sign::{self as common, GeneratedResult, PublicMaterial, SignFns, Signer, SignerResult};

pub(super) static FNS: SignFns = SignFns {
    from_pkcs8,
    hmac: hmac_signer,
    generate,
};

/// The algorithm's kind; the provider has already checked support.
fn kind(alg: Algorithm) -> Result<Kind, Error> {
    Kind::of(alg).ok_or_else(|| Error::unsupported(alg, super::NAME))
}

fn from_pkcs8(der: &[u8], alg: Algorithm) -> SignerResult {
    let kind = kind(alg)?;
    common::check_pkcs8(der, alg, kind)?;
    let rejected = |e: ::aws_lc_rs::error::KeyRejected| Error::private(alloc::format!("{e}"));
    let (key, public) = match kind {
        Kind::RsaPkcs1(hash) | Kind::RsaPss(hash) => {
            let pair = signature::RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
            let components = pair.public_key();
            let n = components.modulus().big_endian_without_leading_zero();
            let bits = jwk_core::rsa_bits(n);
            if bits < common::MIN_RSA_SIGNING_BITS {
                return Err(Error::weak(alloc::format!(
                    "RSA signing key of {bits} bits, floor {}",
                    common::MIN_RSA_SIGNING_BITS
                )));
            }
            let public = common::public_jwk(
                PublicMaterial::Rsa {
                    n,
                    e: components.exponent().big_endian_without_leading_zero(),
                },
                alg,
            )?;
            let pss = matches!(kind, Kind::RsaPss(_));
            (Key::Rsa(pair, rsa_encoding(pss, hash)), public)
        }
        Kind::Ecdsa(crv) => {
            let pair =
                signature::EcdsaKeyPair::from_pkcs8(ecdsa_signing(crv), der).map_err(rejected)?;
            let public = common::public_jwk(
                PublicMaterial::Ec {
                    crv,
                    point: pair.public_key().as_ref(),
                },
                alg,
            )?;
            (Key::Ecdsa(pair), public)
        }
        Kind::Ed25519 => {
            let pair =
                signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?;
            crate::checks::check_ed25519_point(pair.public_key().as_ref())?;
            let public =
                common::public_jwk(PublicMaterial::Ed25519(pair.public_key().as_ref()), alg)?;
            (Key::Ed25519(pair), public)
        }
        Kind::MlDsa(params) => {
            // Seed or expanded form; aws-lc-rs checks that both agree when both are present.
            let pair = signature::PqdsaKeyPair::from_pkcs8(ml_dsa_signing(params), der)
                .map_err(rejected)?;
            let public = common::public_jwk(
                PublicMaterial::MlDsa {
                    params,
                    pub_key: pair.public_key().as_ref(),
                },
                alg,
            )?;
            (Key::MlDsa(Box::new(pair), params), public)
        }
        Kind::Hmac(_) => return Err(Error::mismatch("HMAC takes a shared secret")),
    };
    Ok(Arc::new(KeySigner { alg, key, public }))
}

fn hmac_signer(secret: &[u8], alg: Algorithm) -> SignerResult {
    let hash = common::check_hmac_secret(secret, alg, kind(alg)?)?;
    Ok(Arc::new(KeySigner {
        alg,
        key: Key::Hmac(Box::new(hmac::Key::new(
            super::hmac_algorithm(hash),
            secret,
        ))),
        public: common::public_jwk(PublicMaterial::Oct(secret), alg)?,
    }))
}

fn generate(alg: Algorithm, rsa_bits: usize) -> GeneratedResult {
    let rng = SystemRandom::new();
    let failed = |_| Error::UnsupportedKeyGeneration {
        reason: "the backend failed to generate a key".into(),
    };
    let der: Vec<u8> = match kind(alg)? {
        Kind::RsaPkcs1(_) | Kind::RsaPss(_) => {
            common::check_rsa_generation_bits(rsa_bits)?;
            let size = match rsa_bits {
                2048 => KeySize::Rsa2048,
                3072 => KeySize::Rsa3072,
                _ => KeySize::Rsa4096,
            };
            let pair = signature::RsaKeyPair::generate(size).map_err(failed)?;
            pair.as_der().map_err(failed)?.as_ref().to_vec()
        }
        Kind::Ecdsa(crv) => signature::EcdsaKeyPair::generate_pkcs8(ecdsa_signing(crv), &rng)
            .map_err(failed)?
            .as_ref()
            .to_vec(),
        Kind::Ed25519 => signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(failed)?
            .as_ref()
            .to_vec(),
        Kind::Hmac(hash) => {
            let mut secret = vec![0; hash.output_len()];
            rng.fill(&mut secret).map_err(failed)?;
            return Ok((hmac_signer(&secret, alg)?, secret));
        }
        // PKCS#8 v1 holding the 32-byte seed, the form RFC 9964 section 4 uses for `priv`.
        Kind::MlDsa(params) => signature::PqdsaKeyPair::generate(ml_dsa_signing(params))
            .map_err(failed)?
            .to_pkcs8v1()
            .map_err(failed)?
            .as_ref()
            .to_vec(),
    };
    Ok((from_pkcs8(&der, alg)?, der))
}

fn rsa_encoding(pss: bool, hash: Hash) -> &'static dyn signature::RsaEncoding {
    match (pss, hash) {
        (false, Hash::Sha256) => &signature::RSA_PKCS1_SHA256,
        (false, Hash::Sha384) => &signature::RSA_PKCS1_SHA384,
        (false, Hash::Sha512) => &signature::RSA_PKCS1_SHA512,
        (true, Hash::Sha256) => &signature::RSA_PSS_SHA256,
        (true, Hash::Sha384) => &signature::RSA_PSS_SHA384,
        (true, Hash::Sha512) => &signature::RSA_PSS_SHA512,
    }
}

fn ml_dsa_signing(params: MlDsaParams) -> &'static signature::PqdsaSigningAlgorithm {
    match params {
        MlDsaParams::MlDsa44 => &signature::ML_DSA_44_SIGNING,
        MlDsaParams::MlDsa65 => &signature::ML_DSA_65_SIGNING,
        // Non-exhaustive enum: only the three sets reach here (`Kind::of`).
        _ => &signature::ML_DSA_87_SIGNING,
    }
}

fn ecdsa_signing(crv: EcCurve) -> &'static signature::EcdsaSigningAlgorithm {
    match crv {
        EcCurve::P256 => &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        EcCurve::P384 => &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        // Only NIST curves reach here (`Kind::of`).
        _ => &signature::ECDSA_P521_SHA512_FIXED_SIGNING,
    }
}

enum Key {
    Rsa(signature::RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ecdsa(signature::EcdsaKeyPair),
    Ed25519(signature::Ed25519KeyPair),
    // Boxed: an HMAC key holds its precomputed inner and outer hash states.
    Hmac(Box<hmac::Key>),
    MlDsa(Box<signature::PqdsaKeyPair>, MlDsaParams),
}

struct KeySigner {
    alg: Algorithm,
    key: Key,
    public: Jwk,
}

impl Signer for KeySigner {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        match &self.key {
            Key::Rsa(pair, encoding) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, &rng, signing_input, &mut sig)
                    .map_err(|_| Error::SigningFailed)?;
                Ok(sig)
            }
            Key::Ecdsa(pair) => pair
                .sign(&rng, signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::SigningFailed),
            Key::Ed25519(pair) => Ok(pair.sign(signing_input).as_ref().to_vec()),
            Key::Hmac(key) => Ok(hmac::sign(key, signing_input).as_ref().to_vec()),
            // Pure ML-DSA with the empty context (RFC 9964 section 5), as aws-lc signs it.
            Key::MlDsa(pair, params) => {
                let mut sig = vec![0; params.signature_len()];
                let len = pair
                    .sign(signing_input, &mut sig)
                    .map_err(|_| Error::SigningFailed)?;
                sig.truncate(len);
                Ok(sig)
            }
        }
    }

    fn public_jwk(&self) -> Jwk {
        self.public.clone()
    }
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("backend", &super::NAME)
            .field("alg", &self.alg.as_str())
            .finish_non_exhaustive()
    }
}
