//! JWK Set: never panics; whatever parses prints back to something that parses to the same
//! keys, and nothing usable is set aside on the way back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(set) = jwk_core::JwkSet::parse(data) {
        let again = jwk_core::JwkSet::parse(set.to_json().as_bytes()).expect("reparse");
        assert_eq!(set.keys, again.keys);
        assert!(again.rejected.is_empty());
    }
});
