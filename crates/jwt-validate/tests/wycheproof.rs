//! Wycheproof `json_web_key_test.json` (tests/vectors/wycheproof, Apache-2.0) through the
//! validator's JWS-level entry point: the payloads are not JWT claims.

use std::collections::BTreeMap;

use jwk_core::{Algorithm, JwkSet};
use jwt_validate::{KeySet, Validator};
use serde_json::Value;

use crate::common::providers;

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
            // Asymmetric groups publish a public set; symmetric ones only the secret set.
            let keys = group.get("public").unwrap_or(&group["private"]);
            let set = JwkSet::parse(keys.to_string().as_bytes()).unwrap();
            let v = Validator::builder()
                .provider(p)
                .keys(KeySet::from_jwks(&set, p, &Default::default()))
                .algorithms(Algorithm::SIGNATURE.iter().cloned())
                .build()
                .unwrap();
            for case in group["tests"].as_array().unwrap() {
                seen += 1;
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
