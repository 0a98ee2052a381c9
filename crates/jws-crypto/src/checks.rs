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
    pub(crate) fn of(alg: Algorithm) -> Option<Kind> {
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
    alg: Algorithm,
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
            check_ed25519_point(&k.x)?;
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
fn check_binding(jwk: &Jwk, alg: Algorithm) -> Result<(), Error> {
    if let (Some(own), Some(name)) = (jwk.alg, jwk.alg_name()) {
        if own != alg {
            return Err(Error::mismatch(format!(
                "the key's \"alg\" is {name}, requested {alg}"
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

/// The y coordinates (little-endian, sign bit clear) of the eight points of order dividing 8
/// on edwards25519: 0 (the two points of order 4), 1 (the identity), the two y values of the
/// four points of order 8, and p - 1 (the point of order 2). The list is libsodium's
/// `ge25519_has_small_order` blocklist without its two non-canonical entries (p and p + 1),
/// which [`check_ed25519_point`] reaches by reducing y modulo p first.
const ED25519_SMALL_ORDER_Y: [[u8; 32]; 5] = [
    [0; 32],
    [
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0,
    ],
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    ED25519_P_MINUS_1,
];

/// p - 1 = 2^255 - 20, little-endian.
const ED25519_P_MINUS_1: [u8; 32] = {
    let mut b = [0xff; 32];
    b[0] = 0xec;
    b[31] = 0x7f;
    b
};

/// An Ed25519 public key (RFC 8032 section 5.1.3 encoding) that no signature check can trust:
/// a point of small order (order 1, 2, 4 or 8) verifies forged signatures such as `R = A`,
/// `S = 0` for every message, whatever the sign bit and however y is spelled; a y at or above
/// p is not a canonical encoding at all. Both are `invalid_key`, on every backend.
pub(crate) fn check_ed25519_point(x: &[u8]) -> Result<(), Error> {
    let Ok(enc) = <[u8; 32]>::try_from(x) else {
        return Err(Error::invalid("Ed25519 \"x\" must be 32 bytes"));
    };
    let mut y = enc;
    y[31] &= 0x7f;
    // y < 2^255 = p + 19, so y >= p means y - p is in 0..19: only the low byte changes.
    let canonical = y.iter().rev().cmp(ED25519_P_MINUS_1.iter().rev()).is_le();
    let mut reduced = y;
    if !canonical {
        reduced = [0; 32];
        reduced[0] = y[0] - 0xed;
    }
    if ED25519_SMALL_ORDER_Y.contains(&reduced) {
        return Err(Error::invalid(
            "Ed25519 public key is a point of small order (order 1, 2, 4 or 8): it would \
             verify forged signatures",
        ));
    }
    if !canonical {
        return Err(Error::invalid(
            "Ed25519 public key is not canonically encoded (y >= p, RFC 8032 section 5.1.3)",
        ));
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
                "RSA public exponent above 2^32 (refused unless the key policy allows large exponents)",
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
        assert_eq!(Kind::of(Algorithm::None), None);
        assert_eq!(Kind::of(Algorithm::Es256K), None);
        assert_eq!(Kind::of(Algorithm::Ed448), None);
        assert_eq!(Kind::of(Algorithm::Ed25519), Some(Kind::Ed25519));
        assert_eq!(
            Kind::of(Algorithm::MlDsa87),
            Some(Kind::MlDsa(MlDsaParams::MlDsa87))
        );
        assert_eq!(Kind::of(Algorithm::parse("HS256 ")), None);
        assert_eq!(strip_leading_zeros(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(strip_leading_zeros(&[0]), &[] as &[u8]);
        // 65537 itself is in every subgroup generated by 65537.
        assert!(has_roca_fingerprint(&[1, 0, 1]));
        assert!(!has_roca_fingerprint(&[1, 0, 3]));
    }
}
