//! JOSE header: never panics; the fast path for flat headers answers exactly as the general
//! parser; whatever parses prints back to JSON that parses to the same header.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let parsed = jwk_core::Header::parse(data);
    assert_eq!(parsed, jwk_core::test_util::header_parse_general(data));
    if let Ok(header) = parsed {
        let again = jwk_core::Header::parse(header.to_json().as_bytes()).expect("reparse");
        assert_eq!(header, again);
    }
});
