//! Backend-independent import checks: algorithm support, key/algorithm binding, RSA sizes and
//! exponents, HMAC lengths. Backends add only what needs their arithmetic (points on curves).

use alloc::format;

use jwk_core::{Algorithm, EcCurve, Jwk, KeyParams, KeyUse, MlDsaParams, OkpCurve};

use crate::error::Error;
use crate::policy::KeyPolicy;

/// The hash of an RSA or HMAC algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub(crate) fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// The algorithms this crate implements on some backend, in a form backends match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Hmac(Hash),
    RsaPkcs1(Hash),
    RsaPss(Hash),
    Ecdsa(EcCurve),
    Ed25519,
    /// RFC 9964; aws-lc-rs only.
    MlDsa(MlDsaParams),
}

impl Kind {
    /// `None` for `none`, unknown names, and registered algorithms this crate does not
    /// implement on any backend (ES256K, Ed448).
    pub(crate) fn of(alg: &Algorithm) -> Option<Kind> {
        Some(match alg {
            Algorithm::Hs256 => Kind::Hmac(Hash::Sha256),
            Algorithm::Hs384 => Kind::Hmac(Hash::Sha384),
            Algorithm::Hs512 => Kind::Hmac(Hash::Sha512),
            Algorithm::Rs256 => Kind::RsaPkcs1(Hash::Sha256),
            Algorithm::Rs384 => Kind::RsaPkcs1(Hash::Sha384),
            Algorithm::Rs512 => Kind::RsaPkcs1(Hash::Sha512),
            Algorithm::Ps256 => Kind::RsaPss(Hash::Sha256),
            Algorithm::Ps384 => Kind::RsaPss(Hash::Sha384),
            Algorithm::Ps512 => Kind::RsaPss(Hash::Sha512),
            Algorithm::Es256 => Kind::Ecdsa(EcCurve::P256),
            Algorithm::Es384 => Kind::Ecdsa(EcCurve::P384),
            Algorithm::Es512 => Kind::Ecdsa(EcCurve::P521),
            Algorithm::EdDsa | Algorithm::Ed25519 => Kind::Ed25519,
            Algorithm::MlDsa44 => Kind::MlDsa(MlDsaParams::MlDsa44),
            Algorithm::MlDsa65 => Kind::MlDsa(MlDsaParams::MlDsa65),
            Algorithm::MlDsa87 => Kind::MlDsa(MlDsaParams::MlDsa87),
            _ => return None,
        })
    }
}

/// Key material that passed every backend-independent check, borrowed from the JWK.
/// No `Debug`: it may hold an HMAC secret.
pub(crate) enum Checked<'a> {
    /// `n` and `e` without leading zero bytes; `bits` is the modulus size.
    Rsa {
        n: &'a [u8],
        e: &'a [u8],
        bits: usize,
        pss: bool,
        hash: Hash,
    },
    Ec {
        crv: EcCurve,
        x: &'a [u8],
        y: &'a [u8],
    },
    Ed25519 {
        x: &'a [u8],
    },
    Hmac {
        k: &'a [u8],
        hash: Hash,
    },
    /// `pub` of exactly the parameter set's length. Read by aws-lc-rs only (ring refuses ML-DSA).
    #[cfg_attr(not(feature = "aws-lc-rs"), allow(dead_code))]
    MlDsa {
        params: MlDsaParams,
        pub_key: &'a [u8],
    },
}

/// Runs the checks in this order: the algorithm is implemented (`unsupported_alg`), the key
/// fits it (`key_mismatch`), then the key's own values (`weak_key`, `invalid_key`).
pub(crate) fn check<'a>(
    jwk: &'a Jwk,
    alg: &Algorithm,
    policy: &KeyPolicy,
    backend: &'static str,
    backend_supports: fn(Kind) -> bool,
) -> Result<Checked<'a>, Error> {
    let kind = Kind::of(alg)
        .filter(|k| backend_supports(*k))
        .ok_or_else(|| Error::unsupported(alg, backend))?;
    check_binding(jwk, alg)?;
    match (&jwk.params, kind) {
        (KeyParams::Rsa(k), Kind::RsaPkcs1(hash) | Kind::RsaPss(hash)) => {
            let pss = matches!(kind, Kind::RsaPss(_));
            let n = strip_leading_zeros(&k.n);
            let e = strip_leading_zeros(&k.e);
            let bits = jwk_core::rsa_bits(n);
            check_rsa(n, e, bits, pss, hash, policy)?;
            Ok(Checked::Rsa {
                n,
                e,
                bits,
                pss,
                hash,
            })
        }
        (KeyParams::Ec(k), Kind::Ecdsa(crv)) if k.crv == crv => {
            let len = crv.coordinate_len();
            if k.x.len() != len || k.y.len() != len {
                return Err(Error::invalid(format!(
                    "{} coordinates must be {len} bytes",
                    crv.as_str()
                )));
            }
            Ok(Checked::Ec {
                crv,
                x: &k.x,
                y: &k.y,
            })
        }
        (KeyParams::Okp(k), Kind::Ed25519) if k.crv == OkpCurve::Ed25519 => {
            if k.x.len() != 32 {
                return Err(Error::invalid("Ed25519 \"x\" must be 32 bytes"));
            }
            Ok(Checked::Ed25519 { x: &k.x })
        }
        (KeyParams::Oct(k), Kind::Hmac(hash)) => {
            if k.k.len() < hash.output_len() {
                return Err(Error::weak(format!(
                    "HMAC secret is {} bytes, {alg} needs at least {} (RFC 7518 section 3.2)",
                    k.k.len(),
                    hash.output_len()
                )));
            }
            Ok(Checked::Hmac { k: &k.k, hash })
        }
        (KeyParams::Akp(k), Kind::MlDsa(params)) if k.params == params => {
            if k.pub_key.len() != params.public_key_len() {
                return Err(Error::invalid(format!(
                    "{} \"pub\" must be {} bytes",
                    params.as_str(),
                    params.public_key_len()
                )));
            }
            Ok(Checked::MlDsa {
                params,
                pub_key: &k.pub_key,
            })
        }
        (params, _) => Err(Error::mismatch(format!(
            "a {} key cannot be used for {alg}",
            describe(params)
        ))),
    }
}

/// The JWK's own `alg`, `use` and `key_ops` members must allow verification with `alg`.
fn check_binding(jwk: &Jwk, alg: &Algorithm) -> Result<(), Error> {
    if let Some(own) = &jwk.alg {
        if own != alg {
            return Err(Error::mismatch(format!(
                "the key's \"alg\" is {own}, requested {alg}"
            )));
        }
    }
    match &jwk.key_use {
        None | Some(KeyUse::Sig) => {}
        Some(other) => {
            return Err(Error::mismatch(format!(
                "the key's \"use\" is {:?}, not \"sig\"",
                other.as_str()
            )))
        }
    }
    if let Some(ops) = &jwk.key_ops {
        if !ops.iter().any(|o| o == "verify") {
            return Err(Error::mismatch(
                "the key's \"key_ops\" does not include \"verify\"",
            ));
        }
    }
    Ok(())
}

fn check_rsa(
    n: &[u8],
    e: &[u8],
    bits: usize,
    pss: bool,
    hash: Hash,
    policy: &KeyPolicy,
) -> Result<(), Error> {
    let (min, max) = policy.rsa_bits_range();
    if bits < min {
        return Err(Error::weak(format!("RSA modulus {bits} bits, floor {min}")));
    }
    if bits > max {
        return Err(Error::invalid(format!(
            "RSA modulus {bits} bits, ceiling {max}"
        )));
    }
    // Both backends offer only RS256 and RS512 for moduli under 2048 bits.
    if bits < 2048 && (pss || hash == Hash::Sha384) {
        return Err(Error::weak(format!(
            "RSA modulus {bits} bits: PS256/384/512 and RS384 need at least 2048"
        )));
    }
    if n.last().is_none_or(|b| b & 1 == 0) {
        return Err(Error::invalid("RSA modulus is even"));
    }
    if policy.roca_check_enabled() && has_roca_fingerprint(n) {
        return Err(Error::weak(
            "RSA modulus has the ROCA fingerprint (CVE-2017-15361): its factors can be found",
        ));
    }
    if e.last().is_none_or(|b| b & 1 == 0) {
        return Err(Error::invalid("RSA public exponent is even"));
    }
    if e == [1] {
        return Err(Error::invalid("RSA public exponent is 1"));
    }
    // e is odd and not 1, so at least 3. Above 2^32 it must be allowed, and both backends
    // refuse exponents of more than 33 bits, so that is the limit whatever the policy.
    if e.len() > 4 {
        if !policy.large_rsa_exponent_allowed() {
            return Err(Error::invalid(
                "RSA public exponent above 2^32 (KeyPolicy::allow_large_rsa_exponent)",
            ));
        }
        if e.len() > 5 || e.first().is_some_and(|b| *b > 1) {
            return Err(Error::invalid("RSA public exponent above 2^33 - 1"));
        }
    }
    Ok(())
}

/// The small primes of the ROCA test (Nemec et al., CCS 2017, and their `roca-detect` tool).
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// Keys from the vulnerable Infineon library have `n = k * M + (65537^a mod M)`, where `M` is a
/// primorial, so `n mod p` lies in the subgroup generated by 65537 for every small prime `p`.
/// A random modulus passes this test with probability about 2^-27.8.
fn has_roca_fingerprint(n: &[u8]) -> bool {
    ROCA_PRIMES.iter().all(|&p| {
        let residue = n.iter().fold(0u32, |r, &b| (r * 256 + u32::from(b)) % p);
        let generator = 65537 % p;
        let mut x = 1;
        loop {
            if x == residue {
                return true;
            }
            x = x * generator % p;
            if x == 1 {
                return false;
            }
        }
    })
}

fn describe(params: &KeyParams) -> alloc::string::String {
    match params {
        KeyParams::Ec(k) => format!("EC {}", k.crv.as_str()),
        KeyParams::Okp(k) => format!("OKP {}", k.crv.as_str()),
        KeyParams::Akp(k) => format!("AKP {}", k.params.as_str()),
        other => other.kty().into(),
    }
}

pub(crate) fn strip_leading_zeros(mut n: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = n {
        n = rest;
    }
    n
}

/// The uncompressed SEC 1 encoding `04 || x || y` that both backends parse.
pub(crate) fn uncompressed_point(x: &[u8], y: &[u8]) -> alloc::vec::Vec<u8> {
    let mut p = alloc::vec::Vec::with_capacity(1 + x.len() + y.len());
    p.push(4);
    p.extend_from_slice(x);
    p.extend_from_slice(y);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(Kind::of(&Algorithm::None), None);
        assert_eq!(Kind::of(&Algorithm::Es256K), None);
        assert_eq!(Kind::of(&Algorithm::Ed448), None);
        assert_eq!(Kind::of(&Algorithm::Ed25519), Some(Kind::Ed25519));
        assert_eq!(
            Kind::of(&Algorithm::MlDsa87),
            Some(Kind::MlDsa(MlDsaParams::MlDsa87))
        );
        assert_eq!(Kind::of(&Algorithm::Unknown("HS256 ".into())), None);
        assert_eq!(strip_leading_zeros(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(strip_leading_zeros(&[0]), &[] as &[u8]);
        // 65537 itself is in every subgroup generated by 65537.
        assert!(has_roca_fingerprint(&[1, 0, 1]));
        assert!(!has_roca_fingerprint(&[1, 0, 3]));
    }
}
