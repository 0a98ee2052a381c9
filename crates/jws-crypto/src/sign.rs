//! Signing (feature `sign`): the `Signer` trait, PKCS#8 loading, HMAC signers, key generation.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use alloc::format;
use jwk_core::b64::encode as b64;
use jwk_core::{Algorithm, EcCurve, Jwk, MlDsaParams};

use crate::checks::{Hash, Kind};
use crate::error::Error;
use crate::provider::Provider;

/// A private key bound to exactly one algorithm.
pub trait Signer: Send + Sync + fmt::Debug {
    /// The algorithm this key signs with.
    fn algorithm(&self) -> Algorithm;
    /// Signs `signing_input` (RFC 7515 section 5.1); ECDSA signatures are the JOSE form
    /// `r || s` (RFC 7518 section 3.4).
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, Error>;
    /// The public half as a JWK with `alg` set and no `kid`. For HMAC this is the `oct` secret
    /// itself: publish it nowhere.
    fn public_jwk(&self) -> Jwk;
}

pub(crate) type SignerResult = Result<Arc<dyn Signer>, Error>;
pub(crate) type GeneratedResult = Result<(Arc<dyn Signer>, Vec<u8>), Error>;

/// A backend's signing functions.
pub(crate) struct SignFns {
    pub(crate) from_pkcs8: fn(&[u8], Algorithm) -> SignerResult,
    pub(crate) hmac: fn(&[u8], Algorithm) -> SignerResult,
    pub(crate) generate: fn(Algorithm, usize) -> GeneratedResult,
}

impl Provider {
    /// Loads a PKCS#8 private key (DER) to sign with `alg`.
    pub fn signer_from_pkcs8_der(
        &self,
        der: &[u8],
        alg: Algorithm,
    ) -> Result<Arc<dyn Signer>, Error> {
        (self.fns(alg)?.from_pkcs8)(der, alg)
    }

    /// Loads a PEM `PRIVATE KEY` (PKCS#8) to sign with `alg`.
    pub fn signer_from_pkcs8_pem(
        &self,
        pem: &str,
        alg: Algorithm,
    ) -> Result<Arc<dyn Signer>, Error> {
        use rustls_pki_types::pem::PemObject as _;
        let fns = self.fns(alg)?;
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| Error::private(alloc::format!("no PKCS#8 PEM block: {e}")))?;
        (fns.from_pkcs8)(der.secret_pkcs8_der(), alg)
    }

    /// An HMAC signer. The secret must be at least the hash output long (`weak_key`).
    pub fn hmac_signer(&self, secret: &[u8], alg: Algorithm) -> Result<Arc<dyn Signer>, Error> {
        (self.fns(alg)?.hmac)(secret, alg)
    }

    /// Generates a key for `alg` and returns its signer and PKCS#8 DER (for persisting).
    /// `rsa_bits` (2048, 3072 or 4096) applies to RSA only, where the backend can generate
    /// (aws-lc-rs can, ring cannot: `unsupported_key_generation`). HMAC: a random secret of
    /// the hash output length is returned as the "DER".
    pub fn generate(
        &self,
        alg: Algorithm,
        rsa_bits: usize,
    ) -> Result<(Arc<dyn Signer>, Vec<u8>), Error> {
        (self.fns(alg)?.generate)(alg, rsa_bits)
    }

    fn fns(&self, alg: Algorithm) -> Result<&'static SignFns, Error> {
        match self.signing {
            Some(f) if self.supports(alg) => Ok(f),
            _ => Err(Error::unsupported(alg, self.name)),
        }
    }
}

/// The key type a PKCS#8 `PrivateKeyInfo` declares (RFC 5208, RFC 5915, RFC 8410).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pkcs8Kind {
    /// With the modulus size when the RSAPrivateKey could be read.
    Rsa(Option<usize>),
    Ec(Option<EcCurve>),
    Ed25519,
    /// id-ml-dsa-44/65/87 (RFC 9881; aws-lc-rs writes the 32-byte seed form).
    MlDsa(MlDsaParams),
    Other,
}

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
// 2.16.840.1.101.3.4.3.17 to .19: id-ml-dsa-44, -65, -87 (NIST CSOR, RFC 9881).
const OID_ML_DSA_44: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11];
const OID_ML_DSA_65: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];
const OID_ML_DSA_87: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13];

/// Splits one DER TLV off `input`: `(tag, contents, rest)`. Definite lengths up to 4 bytes.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

/// The modulus size of the RSAPrivateKey (RFC 8017 A.1.2) in a PKCS#8 `privateKey` field.
fn rsa_modulus_bits(private_key_field: &[u8]) -> Option<usize> {
    let (0x04, octets, _) = tlv(private_key_field)? else {
        return None;
    };
    let (0x30, key, _) = tlv(octets)? else {
        return None;
    };
    let (0x02, _version, rest) = tlv(key)? else {
        return None;
    };
    let (0x02, modulus, _) = tlv(rest)? else {
        return None;
    };
    Some(jwk_core::rsa_bits(modulus))
}

/// Reads the algorithm identifier of a PKCS#8 document, without trusting anything else in it
/// (the backend parses and checks the key itself).
fn pkcs8_kind(der: &[u8]) -> Option<Pkcs8Kind> {
    let (0x30, info, _) = tlv(der)? else {
        return None;
    };
    let (0x02, _version, rest) = tlv(info)? else {
        return None;
    };
    let (0x30, alg_id, rest) = tlv(rest)? else {
        return None;
    };
    let (0x06, oid, params) = tlv(alg_id)? else {
        return None;
    };
    Some(match oid {
        OID_RSA => Pkcs8Kind::Rsa(rsa_modulus_bits(rest)),
        OID_ED25519 => Pkcs8Kind::Ed25519,
        OID_ML_DSA_44 => Pkcs8Kind::MlDsa(MlDsaParams::MlDsa44),
        OID_ML_DSA_65 => Pkcs8Kind::MlDsa(MlDsaParams::MlDsa65),
        OID_ML_DSA_87 => Pkcs8Kind::MlDsa(MlDsaParams::MlDsa87),
        OID_EC => Pkcs8Kind::Ec(match tlv(params) {
            Some((0x06, OID_P256, _)) => Some(EcCurve::P256),
            Some((0x06, OID_P384, _)) => Some(EcCurve::P384),
            Some((0x06, OID_P521, _)) => Some(EcCurve::P521),
            _ => None,
        }),
        _ => Pkcs8Kind::Other,
    })
}

/// The public key a PKCS#8 v2 `OneAsymmetricKey` (RFC 5958) carries after the private key:
/// `publicKey [1] IMPLICIT BIT STRING`, without its unused-bits octet. `None` for v1 documents.
fn ed25519_pkcs8_public_key(der: &[u8]) -> Option<&[u8]> {
    let (0x30, info, _) = tlv(der)? else {
        return None;
    };
    let (0x02, _version, rest) = tlv(info)? else {
        return None;
    };
    let (0x30, _alg_id, rest) = tlv(rest)? else {
        return None;
    };
    let (0x04, _private_key, mut rest) = tlv(rest)? else {
        return None;
    };
    while !rest.is_empty() {
        let (tag, contents, after) = tlv(rest)?;
        if tag == 0x81 {
            return contents.strip_prefix(&[0]);
        }
        rest = after;
    }
    None
}

/// Checks that a PKCS#8 key's declared type fits `alg` (`key_mismatch` otherwise), before the
/// backend parses it. `kind` is the algorithm's kind, already checked as supported.
pub(crate) fn check_pkcs8(der: &[u8], alg: Algorithm, kind: Kind) -> Result<(), Error> {
    let declared =
        pkcs8_kind(der).ok_or_else(|| Error::private("not a PKCS#8 PrivateKeyInfo (RFC 5208)"))?;
    let fits = match (kind, declared) {
        (Kind::RsaPkcs1(_) | Kind::RsaPss(_), Pkcs8Kind::Rsa(bits)) => {
            if let Some(bits) = bits.filter(|b| *b < MIN_RSA_SIGNING_BITS) {
                return Err(Error::weak(format!(
                    "RSA signing key of {bits} bits, floor {MIN_RSA_SIGNING_BITS}"
                )));
            }
            true
        }
        (Kind::Ecdsa(crv), Pkcs8Kind::Ec(Some(declared))) => crv == declared,
        (Kind::Ed25519, Pkcs8Kind::Ed25519) => {
            if let Some(public) = ed25519_pkcs8_public_key(der) {
                crate::checks::check_ed25519_point(public)?;
            }
            true
        }
        (Kind::MlDsa(params), Pkcs8Kind::MlDsa(declared)) => params == declared,
        (_, Pkcs8Kind::Other | Pkcs8Kind::Ec(None)) => {
            return Err(Error::private(
                "PKCS#8 key of a type this crate does not sign with",
            ))
        }
        _ => false,
    };
    if fits {
        Ok(())
    } else if let Kind::Hmac(_) = kind {
        Err(Error::mismatch(format!(
            "{alg} takes a shared secret (hmac_signer), not a PKCS#8 key"
        )))
    } else {
        Err(Error::mismatch(format!(
            "a PKCS#8 {declared:?} key cannot sign {alg}"
        )))
    }
}

/// The hash of an HMAC algorithm, and the secret long enough for it.
pub(crate) fn check_hmac_secret(secret: &[u8], alg: Algorithm, kind: Kind) -> Result<Hash, Error> {
    let Kind::Hmac(hash) = kind else {
        return Err(Error::mismatch(format!("{alg} is not an HMAC algorithm")));
    };
    if secret.len() < hash.output_len() {
        return Err(Error::weak(format!(
            "HMAC secret is {} bytes, {alg} needs at least {} (RFC 7518 section 3.2)",
            secret.len(),
            hash.output_len()
        )));
    }
    Ok(hash)
}

/// The RSA sizes key generation offers.
pub(crate) fn check_rsa_generation_bits(bits: usize) -> Result<(), Error> {
    match bits {
        2048 | 3072 | 4096 => Ok(()),
        _ => Err(Error::UnsupportedKeyGeneration {
            reason: format!("RSA keys of {bits} bits (2048, 3072 or 4096)").into(),
        }),
    }
}

/// Builds the public JWK of a signer, `alg` set, no `kid`.
pub(crate) fn public_jwk(material: PublicMaterial<'_>, alg: Algorithm) -> Result<Jwk, Error> {
    let json = match material {
        PublicMaterial::Rsa { n, e } => format!(
            r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
            b64(crate::checks::strip_leading_zeros(n)),
            b64(crate::checks::strip_leading_zeros(e))
        ),
        PublicMaterial::Ec { crv, point } => {
            let len = crv.coordinate_len();
            let coords = point
                .strip_prefix(&[4])
                .filter(|c| c.len() == 2 * len)
                .ok_or_else(|| Error::private("unexpected EC public key encoding"))?;
            let (x, y) = coords.split_at(len);
            format!(
                r#"{{"kty":"EC","crv":"{}","x":"{}","y":"{}"}}"#,
                crv.as_str(),
                b64(x),
                b64(y)
            )
        }
        PublicMaterial::Ed25519(x) => {
            format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64(x))
        }
        PublicMaterial::Oct(k) => format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(k)),
        PublicMaterial::MlDsa { params, pub_key } => format!(
            r#"{{"kty":"AKP","alg":"{}","pub":"{}"}}"#,
            params.as_str(),
            b64(pub_key)
        ),
    };
    let mut jwk = Jwk::parse(json.as_bytes())
        .map_err(|e| Error::private(format!("public key does not form a JWK: {e}")))?;
    jwk.alg = Some(alg);
    Ok(jwk)
}

/// What a signer's public JWK is built from.
pub(crate) enum PublicMaterial<'a> {
    Rsa {
        n: &'a [u8],
        e: &'a [u8],
    },
    Ec {
        crv: EcCurve,
        point: &'a [u8],
    },
    Ed25519(&'a [u8]),
    Oct(&'a [u8]),
    /// aws-lc-rs only (ring has no ML-DSA).
    #[cfg_attr(not(feature = "aws-lc-rs"), allow(dead_code))]
    MlDsa {
        params: MlDsaParams,
        pub_key: &'a [u8],
    },
}

/// The RSA modulus floor for signing keys (RFC 7518 section 3.3).
pub(crate) const MIN_RSA_SIGNING_BITS: usize = 2048;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlv_bounds() {
        assert_eq!(tlv(&[]), None);
        assert_eq!(tlv(&[0x30]), None);
        assert_eq!(tlv(&[0x30, 2, 1]), None);
        assert_eq!(tlv(&[0x30, 0x80]), None);
        assert_eq!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(
            tlv(&[0x30, 0x81, 1, 7, 9]),
            Some((0x30, &[7u8][..], &[9u8][..]))
        );
        assert_eq!(pkcs8_kind(&[0x30, 3, 2, 1, 0]), None);
    }
}
