//! JOSE header: never panics; whatever parses prints back to JSON that parses to the same header.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(header) = jwk_core::Header::parse(data) {
        let again = jwk_core::Header::parse(header.to_json().as_bytes()).expect("reparse");
        assert_eq!(header, again);
    }
});
