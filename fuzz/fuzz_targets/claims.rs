//! JWT claims: never panics; parsed claims keep the received bytes, which parse again to the
//! same claims, and the caller's serde view agrees with the strict one.
#![no_main]

use jwk_core::{Claims, Value};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = Claims::parse(data) {
        assert_eq!(claims.raw_json().as_bytes(), data);
        let again = Claims::parse(claims.raw_json().as_bytes()).expect("reparse");
        assert_eq!(claims, again);
        let value: Value = claims.deserialize_as().expect("serde view of strict JSON");
        assert_eq!(value, claims.to_value());
    }
});
