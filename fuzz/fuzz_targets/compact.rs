//! Compact JWS: never panics; a token that parses has exactly the segments its dots say, and
//! its signing input is the token up to the last dot, borrowed, not copied.
#![no_main]

use jwk_core::{Limits, UnverifiedJws};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(token) = core::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    let Ok(jws) = UnverifiedJws::parse(token, &limits) else {
        return;
    };
    assert_eq!(token.matches('.').count(), 2);
    assert!(token.len() <= limits.max_token_len);
    let last_dot = token.rfind('.').expect("two dots");
    assert_eq!(jws.signing_input(), &token.as_bytes()[..last_dot]);
    assert_eq!(jws.signing_input().as_ptr(), token.as_ptr());
    // The header re-serializes to JSON that parses to the same header.
    let again = jwk_core::Header::parse(jws.header().to_json().as_bytes()).expect("reparse");
    assert_eq!(&again, jws.header());
    let _ = jws.payload();
    let _ = jws.signature();
    let _ = jws.dangerous_claims();
});
