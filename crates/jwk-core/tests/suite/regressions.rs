//! Inputs that once crashed a fuzz target (`tests/regressions/<target>-<hash>.bin`), replayed
//! with the same invariant the target checks.

use jwk_core::{Claims, Header, Jwk, JwkSet, Limits, UnverifiedJws, Value};

use crate::load;

/// The invariant of fuzz target `target` (see `fuzz/fuzz_targets/`), applied to `data`.
pub fn check(target: &str, data: &[u8]) {
    match target {
        "compact" => {
            if let Ok(token) = std::str::from_utf8(data) {
                if let Ok(jws) = UnverifiedJws::parse(token, &Limits::default()) {
                    let again = Header::parse(jws.header().to_json().as_bytes()).unwrap();
                    assert_eq!(&again, jws.header());
                    let _ = jws.payload();
                    let _ = jws.signature();
                    let _ = jws.dangerous_claims();
                }
            }
        }
        "header" => {
            if let Ok(h) = Header::parse(data) {
                assert_eq!(Header::parse(h.to_json().as_bytes()).unwrap(), h);
            }
        }
        "jwk" => {
            if let Ok(k) = Jwk::parse(data) {
                let again = Jwk::parse(k.to_json().as_bytes()).unwrap();
                assert_eq!(again, k);
                assert_eq!(again.thumbprint(), k.thumbprint());
            }
        }
        "jwks" => {
            if let Ok(set) = JwkSet::parse(data) {
                let again = JwkSet::parse(set.to_json().as_bytes()).unwrap();
                assert_eq!(again.keys, set.keys);
                assert!(again.rejected.is_empty());
            }
        }
        "claims" => {
            if let Ok(c) = Claims::parse(data) {
                assert_eq!(c.raw_json().as_bytes(), data);
                assert_eq!(Claims::parse(c.raw_json().as_bytes()).unwrap(), c);
                let v: Value = c.deserialize_as().unwrap();
                assert_eq!(v, c.to_value());
            }
        }
        other => panic!("no fuzz target named {other:?}"),
    }
}

#[test]
fn fuzz_regressions_replay() {
    let dir = load::path("regressions");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name == "README.md" {
            continue;
        }
        let (target, rest) = name
            .split_once('-')
            .unwrap_or_else(|| panic!("{name}: expected <target>-<hash>.bin"));
        assert!(
            rest.ends_with(".bin"),
            "{name}: expected <target>-<hash>.bin"
        );
        check(target, &std::fs::read(&path).unwrap());
        replayed += 1;
    }
    println!("replayed {replayed} fuzz regression inputs");
}
