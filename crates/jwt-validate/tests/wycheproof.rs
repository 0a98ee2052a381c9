//! Wycheproof `json_web_key_test.json` (tests/vectors/wycheproof, Apache-2.0) through the
//! validator's JWS-level entry point: the payloads are not JWT claims.

use std::collections::BTreeMap;

use jwk_core::{Algorithm, JwkSet};
use jws_crypto::Provider;
use jwt_validate::{KeySet, StaticKeys, Validator};
use serde_json::Value;

use crate::common::providers;

/// Fails when a vector has a member this loader does not read (a new field could change what
/// a case means).
fn only_known(value: &Value, known: &[&str], what: &str) {
    for name in value.as_object().unwrap().keys() {
        assert!(
            known.contains(&name.as_str()),
            "{what}: unread member {name:?}"
        );
    }
}

/// A validator over `set` that allows every registered signature algorithm: the vectors pick
/// the algorithm, the validator's key and policy rules decide.
fn every_algorithm(set: &JwkSet, p: &'static Provider) -> Validator {
    Validator::builder()
        .provider(p)
        // A key source, not `keys`: a vector's set may hold no usable key, and the token must
        // still get that key's reason.
        .key_source(StaticKeys::new(KeySet::from_jwks(
            set,
            p,
            &Default::default(),
        )))
        .algorithms(Algorithm::SIGNATURE.iter().cloned())
        .build()
        .unwrap()
}

const GROUP_MEMBERS: &[&str] = &["type", "source", "comment", "private", "public", "tests"];
const CASE_MEMBERS: &[&str] = &["tcId", "comment", "jws", "result", "flags"];

const FILE: &str = include_str!("vectors/wycheproof/json_web_key_test.json");

#[test]
fn json_web_key_test() {
    let file: Value = serde_json::from_str(FILE).unwrap();
    let expected_total = file["numberOfTests"].as_u64().unwrap();
    for p in providers() {
        let mut seen = 0u64;
        let mut tally: BTreeMap<String, u64> = BTreeMap::new();
        let mut wrong = Vec::new();
        for group in file["testGroups"].as_array().unwrap() {
            assert_eq!(group["type"], "JsonWebKey");
            only_known(group, GROUP_MEMBERS, "group");
            // Asymmetric groups publish a public set; symmetric ones only the secret set.
            let keys = group.get("public").unwrap_or(&group["private"]);
            let set = JwkSet::parse(keys.to_string().as_bytes()).unwrap();
            let v = every_algorithm(&set, p);
            for case in group["tests"].as_array().unwrap() {
                seen += 1;
                only_known(case, CASE_MEMBERS, "case");
                let id = case["tcId"].as_u64().unwrap();
                let result = case["result"].as_str().unwrap();
                let got = v.verify_jws(case["jws"].as_str().unwrap());
                let outcome = match &got {
                    Ok(_) => "valid".to_string(),
                    Err(e) => e.code().to_string(),
                };
                *tally.entry(format!("{result} -> {outcome}")).or_default() += 1;
                let ok = match result {
                    "valid" => got.is_ok(),
                    "invalid" => got.is_err(),
                    other => panic!("tcId {id}: unexpected result {other:?}"),
                };
                if !ok {
                    wrong.push(format!("tcId {id} ({}): {outcome}", case["comment"]));
                }
                if let Ok(jws) = &got {
                    assert_eq!(jws.payload, b"foo", "tcId {id}");
                }
            }
        }
        println!("wycheproof json_web_key_test [{}]: {seen} cases", p.name);
        for (k, n) in &tally {
            println!("  {k}: {n}");
        }
        assert_eq!(seen, expected_total, "a silent skip");
        assert!(wrong.is_empty(), "backend {}: {wrong:#?}", p.name);
    }
}

const JWS_FILE: &str = include_str!("vectors/wycheproof/json_web_signature_test.json");

/// Wycheproof `json_web_signature_test.json`: each group's one key as a set, every case
/// through [`Validator::verify_jws`] with every registered algorithm allowed.
///
/// Deviations, each asserted by tcId (the same as jws-crypto's, see its
/// `tests/wycheproof_jose.rs`):
/// - 346, 350 (`valid`, `key_mismatch`): the key says `"alg":"PS256"`, the token PS384; a key
///   is bound to its `alg` (RFC 7517 section 4.4).
/// - 347, 351 (`valid`, `key_not_found`): the key's `alg` is `"ES521"`, not a JWS algorithm, so
///   the key is set aside when the set is parsed.
/// - 367, 370 (`invalid`, accepted): byte for byte tcId 357, a `valid` case.
/// - 372, 373 (`valid`, `malformed`): a `?` in the header or payload segment is not base64url;
///   the MAC covers bytes other than those received.
const DEVIATIONS: &[(u64, &str)] = &[
    (346, "key_mismatch"),
    (347, "key_not_found"),
    (350, "key_mismatch"),
    (351, "key_not_found"),
    (367, "valid"),
    (370, "valid"),
    (372, "malformed"),
    (373, "malformed"),
];
#[test]
fn json_web_signature_test() {
    let file: Value = serde_json::from_str(JWS_FILE).unwrap();
    let expected_total = file["numberOfTests"].as_u64().unwrap();
    for p in providers() {
        let mut seen = 0u64;
        let mut tally: BTreeMap<String, u64> = BTreeMap::new();
        let mut wrong = Vec::new();
        for group in file["testGroups"].as_array().unwrap() {
            assert_eq!(group["type"], "JsonWebSignature");
            only_known(group, GROUP_MEMBERS, "group");
            let key = group.get("public").unwrap_or(&group["private"]);
            let doc = serde_json::json!({ "keys": [key] }).to_string();
            let set = JwkSet::parse(doc.as_bytes()).unwrap();
            let v = every_algorithm(&set, p);
            for case in group["tests"].as_array().unwrap() {
                seen += 1;
                only_known(case, CASE_MEMBERS, "case");
                let id = case["tcId"].as_u64().unwrap();
                let result = case["result"].as_str().unwrap();
                let got = v.verify_jws(case["jws"].as_str().unwrap());
                let outcome = match &got {
                    Ok(_) => "valid".to_string(),
                    Err(e) => e.code().to_string(),
                };
                *tally.entry(format!("{result} -> {outcome}")).or_default() += 1;
                let ok = match DEVIATIONS.iter().find(|(d, _)| *d == id) {
                    Some((_, expected)) => outcome == *expected,
                    None => match result {
                        "valid" => got.is_ok(),
                        "invalid" => got.is_err(),
                        other => panic!("tcId {id}: unexpected result {other:?}"),
                    },
                };
                if !ok {
                    wrong.push(format!("tcId {id} ({}): {outcome}", case["comment"]));
                }
            }
        }
        println!(
            "wycheproof json_web_signature_test [{}]: {seen} cases",
            p.name
        );
        for (k, n) in &tally {
            println!("  {k}: {n}");
        }
        assert_eq!(seen, expected_total, "a silent skip");
        assert!(wrong.is_empty(), "backend {}: {wrong:#?}", p.name);
    }
}
