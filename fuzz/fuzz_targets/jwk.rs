//! One JWK: never panics; whatever parses prints back to a key that parses equal, with the
//! same RFC 7638 thumbprint.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(key) = jwk_core::Jwk::parse(data) {
        let again = jwk_core::Jwk::parse(key.to_json().as_bytes()).expect("reparse");
        assert_eq!(key, again);
        assert_eq!(key.thumbprint(), again.thumbprint());
    }
});
