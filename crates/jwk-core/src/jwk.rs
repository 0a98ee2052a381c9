//! JSON Web Keys (RFC 7517), public halves only, with RFC 7518, RFC 8037 and RFC 9964 (`AKP`)
//! key types.

use alloc::borrow::{Cow, ToOwned};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::alg::{Algorithm, Family};
use crate::b64;
use crate::error::{Error, Part};
use crate::json::{self, Names, Node};

/// A public JSON Web Key.
///
/// Built only by [`Jwk::parse`] (or from a set), which checks every member, or by
/// [`Jwk::new`] for producers. Private members are refused, so a `Jwk` never holds private
/// key material other than an `oct` secret, which is a shared key by definition.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Jwk {
    /// The key material (`kty` and its members).
    pub params: KeyParams,
    /// `kid`.
    pub kid: Option<String>,
    /// `alg`: the algorithm this key is meant for, when the publisher says. An unregistered
    /// name is `Some(Algorithm::Unknown)`; the name as received is [`Jwk::alg_name`].
    pub alg: Option<Algorithm>,
    /// `use`.
    pub key_use: Option<KeyUse>,
    /// `key_ops` (no repeats).
    pub key_ops: Option<Vec<String>>,
    /// `x5c`: standard base64 DER certificates as received (not verified here).
    pub x5c: Option<Vec<String>>,
    /// `x5t`: checked to be base64url of 20 bytes.
    pub x5t: Option<String>,
    /// `x5t#S256`: checked to be base64url of 32 bytes.
    pub x5t_s256: Option<String>,
    /// `x5u`.
    pub x5u: Option<String>,
    /// Members this crate does not interpret, in name order.
    pub extra: Map<String, Value>,
    /// The `alg` text when it names no registered algorithm (`alg` is then
    /// `Some(Unknown)`); `None` otherwise.
    unknown_alg: Option<Box<str>>,
}

/// The type-specific members of a key.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyParams {
    /// `kty: RSA`.
    Rsa(RsaPublic),
    /// `kty: EC`.
    Ec(EcPublic),
    /// `kty: OKP` (RFC 8037).
    Okp(OkpPublic),
    /// `kty: oct`: a shared secret.
    Oct(OctKey),
    /// `kty: AKP` (RFC 9964): an ML-DSA public key.
    Akp(AkpPublic),
}

/// An Algorithm Key Pair public key (RFC 9964 section 3) of one of the ML-DSA parameter sets.
///
/// RFC 9964 makes the JWK's `alg` member REQUIRED for `AKP` keys and lets it fix the format of
/// `pub`; so [`Jwk::alg`] of a parsed `AKP` key is always `Some(params.algorithm())`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AkpPublic {
    /// The parameter set, from the key's `alg`.
    pub params: MlDsaParams,
    /// `pub`: the encoded ML-DSA public key (FIPS 204 section 7.2, `pkEncode`), exactly
    /// [`MlDsaParams::public_key_len`] bytes.
    pub pub_key: Vec<u8>,
}

/// The ML-DSA parameter sets of FIPS 204 table 1, as RFC 9964 section 5 registers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MlDsaParams {
    /// ML-DSA-44.
    MlDsa44,
    /// ML-DSA-65.
    MlDsa65,
    /// ML-DSA-87.
    MlDsa87,
}

impl MlDsaParams {
    /// All three, smallest first.
    pub const ALL: [MlDsaParams; 3] = [
        MlDsaParams::MlDsa44,
        MlDsaParams::MlDsa65,
        MlDsaParams::MlDsa87,
    ];

    /// The parameter set an algorithm names, if it is an ML-DSA one.
    pub fn of(alg: Algorithm) -> Option<Self> {
        Some(match alg {
            Algorithm::MlDsa44 => MlDsaParams::MlDsa44,
            Algorithm::MlDsa65 => MlDsaParams::MlDsa65,
            Algorithm::MlDsa87 => MlDsaParams::MlDsa87,
            _ => return None,
        })
    }

    /// The JWS algorithm (and JWK `alg`) of this parameter set.
    pub fn algorithm(self) -> Algorithm {
        match self {
            MlDsaParams::MlDsa44 => Algorithm::MlDsa44,
            MlDsaParams::MlDsa65 => Algorithm::MlDsa65,
            MlDsaParams::MlDsa87 => Algorithm::MlDsa87,
        }
    }

    /// The registered name (`"ML-DSA-65"`).
    pub fn as_str(self) -> &'static str {
        match self {
            MlDsaParams::MlDsa44 => "ML-DSA-44",
            MlDsaParams::MlDsa65 => "ML-DSA-65",
            MlDsaParams::MlDsa87 => "ML-DSA-87",
        }
    }

    /// Length of `pub` in bytes (FIPS 204 table 2; RFC 9964 table 1): 1312, 1952, 2592.
    pub fn public_key_len(self) -> usize {
        match self {
            MlDsaParams::MlDsa44 => 1312,
            MlDsaParams::MlDsa65 => 1952,
            MlDsaParams::MlDsa87 => 2592,
        }
    }

    /// Length of a signature in bytes (FIPS 204 table 2; RFC 9964 table 1): 2420, 3309, 4627.
    pub fn signature_len(self) -> usize {
        match self {
            MlDsaParams::MlDsa44 => 2420,
            MlDsaParams::MlDsa65 => 3309,
            MlDsaParams::MlDsa87 => 4627,
        }
    }

    /// Length of the private key `priv`, the FIPS 204 seed (RFC 9964 section 4): 32 bytes.
    pub const SEED_LEN: usize = 32;

    /// NIST security category (FIPS 204 table 1): 2, 3 or 5.
    pub fn security_category(self) -> u8 {
        match self {
            MlDsaParams::MlDsa44 => 2,
            MlDsaParams::MlDsa65 => 3,
            MlDsaParams::MlDsa87 => 5,
        }
    }
}

/// An RSA public key: big-endian modulus and exponent as decoded from the JWK, without
/// leading zero octets (parsing drops them; see the crate docs, "RSA keys").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RsaPublic {
    /// Modulus `n`.
    pub n: Vec<u8>,
    /// Public exponent `e`.
    pub e: Vec<u8>,
}

/// An elliptic-curve public key (RFC 7518 section 6.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EcPublic {
    /// The curve.
    pub crv: EcCurve,
    /// `x`, exactly the curve's coordinate length.
    pub x: Vec<u8>,
    /// `y`, exactly the curve's coordinate length.
    pub y: Vec<u8>,
}

/// An octet key pair public key (RFC 8037 section 2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OkpPublic {
    /// The curve.
    pub crv: OkpCurve,
    /// `x`, exactly the curve's key length.
    pub x: Vec<u8>,
}

/// A symmetric key. `Debug` prints its length, never its bytes.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OctKey {
    /// The secret `k`.
    pub k: Vec<u8>,
}

/// Curves for `kty: EC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
    /// NIST P-521.
    P521,
    /// secp256k1 (RFC 8812).
    Secp256k1,
}

/// Curves for `kty: OKP` that sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OkpCurve {
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
}

/// `use` (RFC 7517 section 4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyUse {
    /// `sig`.
    Sig,
    /// `enc`.
    Enc,
    /// Any other value.
    Other(String),
}

impl EcCurve {
    /// The registered `crv` name.
    pub fn as_str(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
            EcCurve::Secp256k1 => "secp256k1",
        }
    }
    /// Length in bytes of one coordinate (and of `r` or `s` in a JOSE signature).
    pub fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 | EcCurve::Secp256k1 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }
    /// The one JWS algorithm for this curve.
    pub fn algorithm(self) -> Algorithm {
        match self {
            EcCurve::P256 => Algorithm::Es256,
            EcCurve::P384 => Algorithm::Es384,
            EcCurve::P521 => Algorithm::Es512,
            EcCurve::Secp256k1 => Algorithm::Es256K,
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "P-256" => EcCurve::P256,
            "P-384" => EcCurve::P384,
            "P-521" => EcCurve::P521,
            "secp256k1" => EcCurve::Secp256k1,
            _ => return None,
        })
    }
}

impl OkpCurve {
    /// The registered `crv` name.
    pub fn as_str(self) -> &'static str {
        match self {
            OkpCurve::Ed25519 => "Ed25519",
            OkpCurve::Ed448 => "Ed448",
        }
    }
    /// Public key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            OkpCurve::Ed25519 => 32,
            OkpCurve::Ed448 => 57,
        }
    }
}

impl KeyUse {
    /// The member value.
    pub fn as_str(&self) -> &str {
        match self {
            KeyUse::Sig => "sig",
            KeyUse::Enc => "enc",
            KeyUse::Other(s) => s,
        }
    }
}

impl KeyParams {
    /// The `kty` value.
    pub fn kty(&self) -> &'static str {
        match self {
            KeyParams::Rsa(_) => "RSA",
            KeyParams::Ec(_) => "EC",
            KeyParams::Okp(_) => "OKP",
            KeyParams::Oct(_) => "oct",
            KeyParams::Akp(_) => "AKP",
        }
    }
}

impl fmt::Debug for OctKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OctKey {{ k: <{} secret bytes> }}", self.k.len())
    }
}

impl fmt::Debug for KeyParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyParams::Rsa(k) => write!(f, "Rsa({} bits)", rsa_bits(&k.n)),
            KeyParams::Ec(k) => write!(f, "Ec({})", k.crv.as_str()),
            KeyParams::Okp(k) => write!(f, "Okp({})", k.crv.as_str()),
            KeyParams::Oct(k) => k.fmt(f),
            KeyParams::Akp(k) => write!(f, "Akp({})", k.params.as_str()),
        }
    }
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("params", &self.params)
            .field("kid", &self.kid)
            .field("alg", &self.alg_name())
            .field("key_use", &self.key_use)
            .finish_non_exhaustive()
    }
}

/// Bit length of a big-endian unsigned integer (leading zero bytes ignored).
pub fn rsa_bits(n: &[u8]) -> usize {
    let n = strip_leading_zeros(n);
    match n.first() {
        Some(&b) => n.len() * 8 - b.leading_zeros() as usize,
        None => 0,
    }
}

pub(crate) fn strip_leading_zeros(mut n: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = n {
        n = rest;
    }
    n
}

const RSA_PRIVATE: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

impl Jwk {
    /// A key with only its material set.
    pub fn new(params: KeyParams) -> Self {
        Jwk {
            params,
            kid: None,
            alg: None,
            key_use: None,
            key_ops: None,
            x5c: None,
            x5t: None,
            x5t_s256: None,
            x5u: None,
            extra: Map::new(),
            unknown_alg: None,
        }
    }

    /// The `alg` member's name: as received when it is unregistered (`"foo"` for
    /// `"alg":"foo"`), else the registered name of [`Jwk::alg`]; `None` when there is no `alg`.
    /// A hand-set `Some(Unknown)` with no name answers `"unknown"`.
    pub fn alg_name(&self) -> Option<&str> {
        match (self.alg?, &self.unknown_alg) {
            (Algorithm::Unknown, Some(name)) => Some(name),
            (alg, _) => Some(alg.as_str()),
        }
    }

    /// Sets `alg` from a name, keeping the name when it is unregistered (so
    /// [`Jwk::to_value`] writes it back, and [`Jwk::alg_name`] answers it).
    pub fn set_alg_name(&mut self, name: &str) {
        let alg = Algorithm::parse(name);
        self.alg = Some(alg);
        self.unknown_alg = (alg == Algorithm::Unknown).then(|| name.into());
    }

    /// Parses one public JWK strictly.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        Jwk::from_node(json::parse_node(json, Part::Jwk)?)
    }

    /// The algorithms this key may verify: its `alg` when present, else every algorithm its
    /// type and curve allow.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let allowed_by_type: &[Algorithm] = match &self.params {
            KeyParams::Rsa(_) => &[
                Algorithm::Rs256,
                Algorithm::Rs384,
                Algorithm::Rs512,
                Algorithm::Ps256,
                Algorithm::Ps384,
                Algorithm::Ps512,
            ],
            KeyParams::Ec(k) => match k.crv {
                EcCurve::P256 => &[Algorithm::Es256],
                EcCurve::P384 => &[Algorithm::Es384],
                EcCurve::P521 => &[Algorithm::Es512],
                EcCurve::Secp256k1 => &[Algorithm::Es256K],
            },
            KeyParams::Okp(k) => match k.crv {
                OkpCurve::Ed25519 => &[Algorithm::EdDsa, Algorithm::Ed25519],
                OkpCurve::Ed448 => &[Algorithm::EdDsa, Algorithm::Ed448],
            },
            KeyParams::Oct(_) => &[Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512],
            KeyParams::Akp(k) => match k.params {
                MlDsaParams::MlDsa44 => &[Algorithm::MlDsa44],
                MlDsaParams::MlDsa65 => &[Algorithm::MlDsa65],
                MlDsaParams::MlDsa87 => &[Algorithm::MlDsa87],
            },
        };
        match self.alg {
            Some(a) => allowed_by_type
                .iter()
                .copied()
                .filter(|t| *t == a)
                .collect(),
            None => allowed_by_type.to_vec(),
        }
    }

    /// True when this key's type, curve and `alg` member fit `alg`.
    pub fn fits(&self, alg: Algorithm) -> bool {
        let type_ok = match (&self.params, alg.family()) {
            (KeyParams::Rsa(_), Family::RsaPkcs1 | Family::RsaPss) => true,
            (KeyParams::Ec(k), Family::Ecdsa) => k.crv.algorithm() == alg,
            (KeyParams::Okp(k), Family::EdDsa) => match alg {
                Algorithm::EdDsa => true,
                Algorithm::Ed25519 => k.crv == OkpCurve::Ed25519,
                Algorithm::Ed448 => k.crv == OkpCurve::Ed448,
                _ => false,
            },
            (KeyParams::Oct(_), Family::Hmac) => true,
            (KeyParams::Akp(k), Family::MlDsa) => k.params.algorithm() == alg,
            _ => false,
        };
        type_ok && self.alg.is_none_or(|a| a == alg)
    }

    /// Whether the key may verify signatures by its `use` and `key_ops` members
    /// (RFC 7517 sections 4.2 and 4.3).
    pub fn usable_for_verify(&self) -> Result<(), Error> {
        match &self.key_use {
            None | Some(KeyUse::Sig) => {}
            Some(other) => {
                return Err(Error::NotSigningKey {
                    reason: format!("use is {:?}", other.as_str()).into(),
                })
            }
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|o| o == "verify") {
                return Err(Error::NotSigningKey {
                    reason: "key_ops does not include \"verify\"".into(),
                });
            }
        }
        if let (Some(alg), Some(name)) = (self.alg, self.alg_name()) {
            if !alg.is_signature() {
                return Err(Error::NotSigningKey {
                    reason: format!("alg {name:?} is not a JWS signature algorithm").into(),
                });
            }
        }
        Ok(())
    }

    /// Modulus size for RSA keys, curve size for others (in bits).
    pub fn bits(&self) -> usize {
        match &self.params {
            KeyParams::Rsa(k) => rsa_bits(&k.n),
            KeyParams::Ec(k) => match k.crv {
                EcCurve::P256 | EcCurve::Secp256k1 => 256,
                EcCurve::P384 => 384,
                EcCurve::P521 => 521,
            },
            KeyParams::Okp(k) => match k.crv {
                OkpCurve::Ed25519 => 256,
                OkpCurve::Ed448 => 456,
            },
            KeyParams::Oct(k) => k.k.len() * 8,
            // The size of `pub`, as for the other public keys.
            KeyParams::Akp(k) => k.pub_key.len() * 8,
        }
    }

    /// Serializes to a JSON object.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.clone());
        }
        let s = |v: &str| Value::String(v.to_owned());
        let b = |v: &[u8]| Value::String(b64::encode(v));
        m.insert("kty".into(), s(self.params.kty()));
        match &self.params {
            KeyParams::Rsa(k) => {
                m.insert("n".into(), b(&k.n));
                m.insert("e".into(), b(&k.e));
            }
            KeyParams::Ec(k) => {
                m.insert("crv".into(), s(k.crv.as_str()));
                m.insert("x".into(), b(&k.x));
                m.insert("y".into(), b(&k.y));
            }
            KeyParams::Okp(k) => {
                m.insert("crv".into(), s(k.crv.as_str()));
                m.insert("x".into(), b(&k.x));
            }
            KeyParams::Oct(k) => {
                m.insert("k".into(), b(&k.k));
            }
            KeyParams::Akp(k) => {
                m.insert("pub".into(), b(&k.pub_key));
            }
        }
        if let Some(v) = &self.kid {
            m.insert("kid".into(), s(v));
        }
        // An unregistered `alg` is written as received (`alg_name`), never lost.
        if let Some(v) = self.alg_name() {
            m.insert("alg".into(), s(v));
        }
        if let Some(v) = &self.key_use {
            m.insert("use".into(), s(v.as_str()));
        }
        let strs = |v: &Vec<String>| Value::Array(v.iter().map(|x| s(x)).collect());
        if let Some(v) = &self.key_ops {
            m.insert("key_ops".into(), strs(v));
        }
        if let Some(v) = &self.x5c {
            m.insert("x5c".into(), strs(v));
        }
        if let Some(v) = &self.x5t {
            m.insert("x5t".into(), s(v));
        }
        if let Some(v) = &self.x5t_s256 {
            m.insert("x5t#S256".into(), s(v));
        }
        if let Some(v) = &self.x5u {
            m.insert("x5u".into(), s(v));
        }
        Value::Object(m)
    }

    /// Serializes to JSON text.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    pub(crate) fn from_node(node: Node) -> Result<Self, Error> {
        let members = match node {
            Node::Object(members) => members,
            other => {
                return Err(Error::invalid_key(format!(
                    "a JWK must be a JSON object, found {}",
                    other.kind()
                )))
            }
        };
        if let Some(name) = Node::first_duplicate(&members) {
            return Err(Error::DuplicateMember {
                part: Part::Jwk,
                name: name.into(),
            });
        }
        let mut fields = Fields { members };
        let kty = fields
            .string("kty")?
            .ok_or_else(|| Error::invalid_key("\"kty\" is required"))?;
        let params = match kty.as_str() {
            "RSA" => {
                fields.refuse_private(RSA_PRIVATE)?;
                let n = fields.bytes_required("n")?;
                let e = fields.bytes_required("e")?;
                // Normalised: leading zero octets (forbidden by RFC 7518 section 6.3.1.1,
                // but sent by encoders that copy a DER INTEGER) are dropped, so one key has
                // one representation and one RFC 7638 thumbprint (see the crate docs).
                let (n, e) = (strip_leading_zeros(&n), strip_leading_zeros(&e));
                if n.is_empty() || e.is_empty() {
                    return Err(Error::invalid_key("RSA \"n\" and \"e\" must be non-zero"));
                }
                KeyParams::Rsa(RsaPublic {
                    n: n.to_vec(),
                    e: e.to_vec(),
                })
            }
            "EC" => {
                fields.refuse_private(&["d"])?;
                let crv_name = fields
                    .string("crv")?
                    .ok_or_else(|| Error::invalid_key("EC key needs \"crv\""))?;
                let crv = EcCurve::parse(&crv_name)
                    .ok_or_else(|| Error::unsupported_key(format!("EC curve {crv_name:?}")))?;
                let len = crv.coordinate_len();
                let x = fields.bytes_required("x")?;
                let y = fields.bytes_required("y")?;
                if x.len() != len || y.len() != len {
                    return Err(Error::invalid_key(format!(
                        "{} coordinates must be {len} bytes each, found x {} and y {}",
                        crv.as_str(),
                        x.len(),
                        y.len()
                    )));
                }
                KeyParams::Ec(EcPublic { crv, x, y })
            }
            "OKP" => {
                fields.refuse_private(&["d"])?;
                let crv_name = fields
                    .string("crv")?
                    .ok_or_else(|| Error::invalid_key("OKP key needs \"crv\""))?;
                let crv = match crv_name.as_str() {
                    "Ed25519" => OkpCurve::Ed25519,
                    "Ed448" => OkpCurve::Ed448,
                    "X25519" | "X448" => {
                        return Err(Error::NotSigningKey {
                            reason: format!("OKP curve {crv_name} is for key agreement").into(),
                        })
                    }
                    _ => return Err(Error::unsupported_key(format!("OKP curve {crv_name:?}"))),
                };
                let x = fields.bytes_required("x")?;
                if x.len() != crv.key_len() {
                    return Err(Error::invalid_key(format!(
                        "{} \"x\" must be {} bytes, found {}",
                        crv.as_str(),
                        crv.key_len(),
                        x.len()
                    )));
                }
                KeyParams::Okp(OkpPublic { crv, x })
            }
            "oct" => {
                let k = fields.bytes_required("k")?;
                if k.is_empty() {
                    return Err(Error::invalid_key("oct \"k\" is empty"));
                }
                KeyParams::Oct(OctKey { k })
            }
            "AKP" => {
                // RFC 9964 section 3: `priv` MUST NOT be present in public keys; `alg` is
                // REQUIRED and fixes the format of `pub` (it is read again below, as for
                // every key type, into `Jwk::alg`).
                fields.refuse_private(&["priv"])?;
                let alg_name = fields
                    .peek_string("alg")?
                    .ok_or_else(|| Error::invalid_key("AKP key needs \"alg\" (RFC 9964)"))?;
                let params = MlDsaParams::of(Algorithm::parse(&alg_name))
                    .ok_or_else(|| Error::unsupported_key(format!("AKP algorithm {alg_name:?}")))?;
                let pub_key = fields.bytes_required("pub")?;
                if pub_key.len() != params.public_key_len() {
                    return Err(Error::invalid_key(format!(
                        "{} \"pub\" must be {} bytes, found {}",
                        params.as_str(),
                        params.public_key_len(),
                        pub_key.len()
                    )));
                }
                KeyParams::Akp(AkpPublic { params, pub_key })
            }
            other => return Err(Error::unsupported_key(format!("kty {other:?}"))),
        };
        let mut jwk = Jwk::new(params);
        jwk.kid = fields.string("kid")?;
        if let Some(name) = fields.string("alg")? {
            jwk.set_alg_name(&name);
        }
        jwk.key_use = fields.string("use")?.map(|u| match u.as_str() {
            "sig" => KeyUse::Sig,
            "enc" => KeyUse::Enc,
            _ => KeyUse::Other(u),
        });
        jwk.key_ops = fields.strings("key_ops")?;
        if let Some(ops) = &jwk.key_ops {
            // A set, not pairwise comparison: a JWK Set has no size limit of its own.
            let mut seen = Names::default();
            for op in ops {
                if !seen.insert(Cow::Borrowed(op.as_str())) {
                    return Err(Error::invalid_key(format!("key_ops lists {op:?} twice")));
                }
            }
        }
        jwk.x5c = fields.strings("x5c")?;
        jwk.x5t = fields.thumb("x5t", 20)?;
        jwk.x5t_s256 = fields.thumb("x5t#S256", 32)?;
        jwk.x5u = fields.string("x5u")?;
        for (name, node) in fields.members {
            jwk.extra.insert(name, node.into_value(Part::Jwk)?);
        }
        Ok(jwk)
    }
}

/// The members of a JWK object not yet consumed.
struct Fields {
    members: Vec<(String, Node)>,
}

impl Fields {
    fn take(&mut self, name: &str) -> Option<Node> {
        let i = self.members.iter().position(|(n, _)| n == name)?;
        Some(self.members.swap_remove(i).1)
    }

    fn string(&mut self, name: &str) -> Result<Option<String>, Error> {
        self.take(name)
            .map(|n| json::string(n).map_err(|r| Error::invalid_key(format!("{name:?} {r}"))))
            .transpose()
    }

    /// A string member, left in place.
    fn peek_string(&self, name: &str) -> Result<Option<String>, Error> {
        match self.members.iter().find(|(n, _)| n == name) {
            None => Ok(None),
            Some((_, Node::String(s))) => Ok(Some(s.clone())),
            Some(_) => Err(Error::invalid_key(format!("{name:?} must be a string"))),
        }
    }

    fn strings(&mut self, name: &str) -> Result<Option<Vec<String>>, Error> {
        self.take(name)
            .map(|n| json::strings(n).map_err(|r| Error::invalid_key(format!("{name:?} {r}"))))
            .transpose()
    }

    fn bytes_required(&mut self, name: &str) -> Result<Vec<u8>, Error> {
        let s = self
            .string(name)?
            .ok_or_else(|| Error::invalid_key(format!("{name:?} is required")))?;
        b64::decode(&s, Part::Jwk).map_err(|e| Error::invalid_key(format!("{name:?}: {e}")))
    }

    fn thumb(&mut self, name: &str, len: usize) -> Result<Option<String>, Error> {
        let Some(s) = self.string(name)? else {
            return Ok(None);
        };
        let bytes =
            b64::decode(&s, Part::Jwk).map_err(|e| Error::invalid_key(format!("{name:?}: {e}")))?;
        if bytes.len() != len {
            return Err(Error::invalid_key(format!(
                "{name:?} must encode {len} bytes, found {}",
                bytes.len()
            )));
        }
        Ok(Some(s))
    }

    fn refuse_private(&self, names: &[&'static str]) -> Result<(), Error> {
        for name in names {
            if self.members.iter().any(|(n, _)| n == name) {
                return Err(Error::PrivateKey { member: name });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Jwk, Error> {
        Jwk::parse(s.as_bytes())
    }

    /// `Algorithm` keeps no unregistered name; the key does, shows it, and writes it back.
    #[test]
    fn unknown_alg_name_is_kept_and_written_back() {
        let k = parse(r#"{"kty":"oct","k":"AAECAwQFBgcICQoLDA0ODw","alg":"HS256-Foo"}"#).unwrap();
        assert_eq!(k.alg, Some(Algorithm::Unknown));
        assert_eq!(k.alg_name(), Some("HS256-Foo"));
        assert_eq!(k.to_value()["alg"], "HS256-Foo");
        assert_eq!(Jwk::parse(k.to_json().as_bytes()).unwrap(), k);
        assert!(k.algorithms().is_empty());
        assert!(!k.fits(Algorithm::Hs256));
        let e = k.usable_for_verify().unwrap_err();
        assert!(e.to_string().contains(r#""HS256-Foo""#), "{e}");
        assert!(alloc::format!("{k:?}").contains("HS256-Foo"));
        let mut k = k;
        k.set_alg_name("HS384");
        assert_eq!(
            (k.alg, k.alg_name()),
            (Some(Algorithm::Hs384), Some("HS384"))
        );
        k.alg = None;
        assert_eq!(k.alg_name(), None);
    }

    /// Issue 11 item 3: the same RSA key with and without leading zero octets in `n` and `e`
    /// is one key, with one thumbprint.
    #[test]
    fn rsa_leading_zeros_are_normalised() {
        let n = [0xc5u8, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];
        let with_zeros = |zn: usize, ze: usize| {
            let mut nn = vec![0; zn];
            nn.extend_from_slice(&n);
            let mut ee = vec![0; ze];
            ee.extend_from_slice(&[1, 0, 1]);
            parse(&alloc::format!(
                r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
                b64::encode(&nn),
                b64::encode(&ee)
            ))
            .unwrap()
        };
        let plain = with_zeros(0, 0);
        for (zn, ze) in [(1, 0), (0, 1), (2, 3)] {
            let padded = with_zeros(zn, ze);
            assert_eq!(padded.params, plain.params, "{zn} {ze}");
            assert_eq!(padded.thumbprint(), plain.thumbprint(), "{zn} {ze}");
            assert_eq!(padded.bits(), 64);
        }
        // A key whose fields were changed by hand still hashes to its value.
        let mut edited = plain.clone();
        if let KeyParams::Rsa(k) = &mut edited.params {
            k.n.insert(0, 0);
        }
        assert_eq!(edited.thumbprint(), plain.thumbprint());
    }

    #[test]
    fn rsa_and_members() {
        let k = parse(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"a","use":"sig","alg":"PS256","key_ops":["verify"],"x-extra":true}"#).unwrap();
        assert_eq!(k.kid.as_deref(), Some("a"));
        assert_eq!(k.alg, Some(Algorithm::Ps256));
        assert_eq!(k.algorithms(), [Algorithm::Ps256]);
        assert!(k.fits(Algorithm::Ps256));
        assert!(!k.fits(Algorithm::Rs256));
        assert_eq!(k.extra.get("x-extra"), Some(&Value::Bool(true)));
        assert_eq!(Jwk::parse(k.to_json().as_bytes()).unwrap(), k);
        assert_eq!(k.usable_for_verify(), Ok(()));
    }

    #[test]
    fn refusals() {
        let code = |s| parse(s).unwrap_err().code();
        assert_eq!(
            code(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#),
            "private_key"
        );
        assert_eq!(
            code(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}"#),
            "private_key"
        );
        assert_eq!(
            code(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#),
            "invalid_key"
        );
        assert_eq!(
            code(r#"{"kty":"EC","crv":"P-999","x":"AA","y":"AA"}"#),
            "unsupported_key"
        );
        assert_eq!(code(r#"{"kty":"XYZ"}"#), "unsupported_key");
        assert_eq!(code(r#"{"n":"AQAB"}"#), "invalid_key");
        assert_eq!(
            code(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","kty":"EC"}"#),
            "malformed"
        );
        assert_eq!(
            code(r#"{"kty":"RSA","n":"AQAB=","e":"AQAB"}"#),
            "invalid_key"
        );
        assert_eq!(code(r#"{"kty":"RSA","n":"AA","e":"AQAB"}"#), "invalid_key");
        assert_eq!(
            code(r#"{"kty":"OKP","crv":"X25519","x":"AA"}"#),
            "not_signing_key"
        );
        assert_eq!(
            code(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","key_ops":["verify","verify"]}"#),
            "invalid_key"
        );
        assert_eq!(
            code(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","x5t#S256":"AQAB"}"#),
            "invalid_key"
        );
        assert_eq!(code(r#"[1]"#), "invalid_key");
    }

    #[test]
    fn usage() {
        let k = parse(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc"}"#).unwrap();
        assert_eq!(k.usable_for_verify().unwrap_err().code(), "not_signing_key");
        let k = parse(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","alg":"RSA-OAEP"}"#).unwrap();
        assert_eq!(k.usable_for_verify().unwrap_err().code(), "not_signing_key");
        let k = parse(r#"{"kty":"RSA","n":"AQAB","e":"AQAB","key_ops":["encrypt"]}"#).unwrap();
        assert_eq!(k.usable_for_verify().unwrap_err().code(), "not_signing_key");
    }

    #[test]
    fn bits() {
        assert_eq!(rsa_bits(&[0, 0, 1]), 1);
        assert_eq!(rsa_bits(&[0x80, 0]), 16);
        assert_eq!(rsa_bits(&[]), 0);
    }
}
