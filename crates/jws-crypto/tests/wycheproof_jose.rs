//! Project Wycheproof's JOSE-level vectors (`tests/vectors/wycheproof/`, see its README):
//! `json_web_signature_test.json` run in full on every backend, and the key-level cases of
//! `json_web_key_test.json`.
//!
//! For each group the public JWK (or, for `oct`, the private JWK, whose `k` is the shared key)
//! is imported for the token header's `alg` and the signing input verified. A case is
//! accepted only when the compact JWS parses under jwk-core's strict rules, the key imports,
//! and the signature verifies; a refusal at any step counts as "rejected", and the step is
//! tallied.
//!
//! Deviations, each asserted by tcId:
//! - 346, 347, 350, 351 (`valid`, refused with `key_mismatch`): in the `rfc7520` groups
//!   Wycheproof pairs the RFC 7520 figure 3 key with `"alg":"PS256"` and the figure 1 key
//!   with `"alg":"ES521"`, then marks tokens signed with PS384 and ES512 `valid`. This crate
//!   binds a key to its `alg` member (RFC 7517 section 4.4), so those cases are refused:
//!   algorithm confusion must be impossible by construction.
//! - 367 and 370 (`invalid`, accepted): "invalidBase64Padding" tokens that are byte for byte
//!   tc 357, a `valid` case (the padding their names refer to is not in the file). No
//!   verifier can tell them apart; the test asserts the bytes are identical.
//! - 372 and 373 (`valid`, refused): a `?` inserted into the header or payload segment, with
//!   the MAC of the original signing input. The MAC covers the bytes received (RFC 7515
//!   section 5.2), which are not base64url: jwk-core refuses both segments, and the MAC, made
//!   over other bytes, would not verify either. Accepting them would mean verifying bytes
//!   other than those received.

use std::collections::BTreeMap;

use jws_crypto::{Algorithm, KeyPolicy, Provider, ALL};
use serde_json::Value;

const SIGNATURE_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/wycheproof/json_web_signature_test.json"
);
const KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/wycheproof/json_web_key_test.json"
);

/// tcIds of `valid` cases refused because the JWK's own `alg` names another algorithm.
const REFUSED_BY_KEY_ALG: &[u64] = &[346, 347, 350, 351];

/// `invalid` cases byte-identical to a `valid` one (tc 357), so accepted.
const IDENTICAL_TO_VALID: &[u64] = &[367, 370];

/// `valid` cases that are not base64url, so refused.
const NOT_BASE64URL: &[u64] = &[372, 373];

/// Private members dropped to get a JWK's public half (RFC 7518 section 6).
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth"];

fn load(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The key a verifier would hold for this group: `public`, else `private` without its
/// private members (an `oct` key's `k` is the shared secret and stays).
fn group_key(group: &Value) -> Value {
    public_half(group.get("public").unwrap_or(&group["private"]).clone())
}

/// Drops private members, except an `oct` key's `k`; a JWK Set has each of its keys treated.
fn public_half(mut key: Value) -> Value {
    if let Some(keys) = key.get_mut("keys").and_then(Value::as_array_mut) {
        for k in keys.iter_mut() {
            *k = public_half(k.take());
        }
        return key;
    }
    if key["kty"] != "oct" {
        if let Some(map) = key.as_object_mut() {
            for m in PRIVATE_MEMBERS {
                map.remove(*m);
            }
        }
    }
    key
}

/// Where a case stopped: `Ok` accepted, else the step and code that refused it.
fn run_case(p: &Provider, key: &Value, token: &str) -> Result<(), String> {
    let jws = jwk_core::UnverifiedJws::parse(token, &jwk_core::Limits::default())
        .map_err(|e| format!("parse:{}", e.code()))?;
    let sig = jws.signature().map_err(|e| format!("parse:{}", e.code()))?;
    // A JWS consumer decodes the payload too; a payload that is not base64url is refused.
    jws.payload().map_err(|e| format!("payload:{}", e.code()))?;
    let jwk = jwk_core::Jwk::parse(key.to_string().as_bytes())
        .map_err(|e| format!("jwk:{}", e.code()))?;
    let verifier = p
        .import(&jwk, jws.header().alg, &KeyPolicy::default())
        .map_err(|e| format!("import:{}", e.code()))?;
    verifier
        .verify(jws.signing_input(), &sig)
        .map_err(|_| "verify:bad_signature".to_string())
}

fn case(file: &Value, tc: u64) -> &Value {
    file["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tests"].as_array().unwrap())
        .find(|t| t["tcId"] == tc)
        .unwrap()
}

/// The header `alg` of a case's token, or `none` when the token does not parse.
fn token_alg(t: &Value) -> Algorithm {
    jwk_core::UnverifiedJws::parse(t["jws"].as_str().unwrap(), &jwk_core::Limits::default())
        .map(|j| j.header().alg)
        .unwrap_or(Algorithm::None)
}

#[test]
fn json_web_signature_test_all_401_cases() {
    let file = load(SIGNATURE_FILE);
    let total = file["numberOfTests"].as_u64().unwrap() as usize;
    assert_eq!(total, 401);
    for p in ALL {
        let mut steps: BTreeMap<String, usize> = BTreeMap::new();
        let (mut valid_ok, mut invalid_refused, mut by_key_alg, mut unsupported) = (0, 0, 0, 0);
        let (mut identical, mut not_base64url) = (0, 0);
        let mut wrong = Vec::new();
        let mut seen = 0;
        let valid_357 = case(&file, 357)["jws"].clone();
        for group in file["testGroups"].as_array().unwrap() {
            let key = group_key(group);
            for t in group["tests"].as_array().unwrap() {
                seen += 1;
                let tc = t["tcId"].as_u64().unwrap();
                let expected = t["result"].as_str().unwrap();
                let got = run_case(p, &key, t["jws"].as_str().unwrap());
                if let Err(step) = &got {
                    *steps.entry(step.clone()).or_default() += 1;
                }
                // This backend lacks an algorithm the crate implements elsewhere (ring: ES512).
                let lacks =
                    |s: &str| s == "import:unsupported_alg" && token_alg(t) == Algorithm::Es512;
                match (expected, &got) {
                    ("valid", Err(s)) if lacks(s) => unsupported += 1,
                    ("valid", Ok(())) => valid_ok += 1,
                    ("invalid", Ok(())) if IDENTICAL_TO_VALID.contains(&tc) => {
                        assert_eq!(t["jws"], valid_357, "tc {tc}");
                        identical += 1
                    }
                    ("valid", Err(_)) if NOT_BASE64URL.contains(&tc) => not_base64url += 1,
                    ("valid", Err(s))
                        if s == "import:key_mismatch" && REFUSED_BY_KEY_ALG.contains(&tc) =>
                    {
                        by_key_alg += 1
                    }
                    ("invalid", Err(_)) => invalid_refused += 1,
                    _ => wrong.push(format!(
                        "tc {tc} ({}): expected {expected}, got {got:?}",
                        t["comment"]
                    )),
                }
            }
        }
        println!(
            "json_web_signature_test [{}]: {seen} cases: valid accepted {valid_ok}, invalid rejected {invalid_refused}, valid refused by key alg binding {by_key_alg}, valid refused as not base64url {not_base64url}, invalid accepted as identical to a valid case {identical}, valid unsupported by this backend {unsupported}",
            p.name
        );
        println!("  rejected at: {steps:?}");
        assert!(wrong.is_empty(), "[{}] {wrong:#?}", p.name);
        assert_eq!(seen, total);
        assert_eq!(
            valid_ok + invalid_refused + by_key_alg + not_base64url + identical + unsupported,
            total
        );
        assert_eq!(identical, IDENTICAL_TO_VALID.len());
        assert_eq!(not_base64url, NOT_BASE64URL.len());
        let p521 = usize::from(!p.supports(Algorithm::Es512));
        // ring lacks P-521: the ES512 cases of the two rfc7520 EC groups are unsupported
        // there; both are valid cases already refused by the key's `alg` elsewhere.
        assert_eq!(
            by_key_alg + unsupported,
            REFUSED_BY_KEY_ALG.len(),
            "[{}]",
            p.name
        );
        assert_eq!(unsupported, 2 * p521, "[{}]", p.name);
    }
}

/// `json_web_key_test.json` checks key-set policy: which keys a verifier should refuse to
/// hold. Every case's key is a JWK Set. Sets of one key are checked here: the key is imported
/// for the token's `alg` and the signature decides (an empty `k` is refused by jwk-core's
/// parser, step `jwk:`). Sets of several keys (`MixedKeySet`, `DuplicateKid`, choosing by
/// `kid`) test key-set policy, which is `jwt-validate`'s (it chooses keys from sets): they are
/// only counted here.
#[test]
fn json_web_key_test_key_cases() {
    let file = load(KEY_FILE);
    let total = file["numberOfTests"].as_u64().unwrap() as usize;
    for p in ALL {
        let (mut checked, mut key_set_cases, mut seen) = (0, 0, 0);
        let mut wrong = Vec::new();
        let mut steps: BTreeMap<String, usize> = BTreeMap::new();
        for group in file["testGroups"].as_array().unwrap() {
            let set = group_key(group);
            let keys = set["keys"].as_array().unwrap();
            for t in group["tests"].as_array().unwrap() {
                seen += 1;
                let [key] = keys.as_slice() else {
                    key_set_cases += 1;
                    continue;
                };
                checked += 1;
                let expected = t["result"].as_str().unwrap();
                let got = run_case(p, key, t["jws"].as_str().unwrap());
                if let Err(step) = &got {
                    *steps.entry(step.clone()).or_default() += 1;
                }
                let ok = match expected {
                    "valid" => got.is_ok(),
                    "invalid" => got.is_err(),
                    _ => false,
                };
                if !ok {
                    wrong.push(format!(
                        "tc {} ({} / {}): expected {expected}, got {got:?}",
                        t["tcId"], group["comment"], t["comment"]
                    ));
                }
            }
        }
        println!(
            "json_web_key_test [{}]: {seen} cases: {checked} single-key cases checked, {key_set_cases} key-set cases left to jwt-validate",
            p.name
        );
        println!("  rejected at: {steps:?}");
        assert!(wrong.is_empty(), "[{}] {wrong:#?}", p.name);
        assert_eq!(seen, total);
    }
}
