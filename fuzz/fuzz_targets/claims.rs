//! JWT claims: never panics; parsed claims keep the received bytes, which parse again to the
//! same claims, and the caller's serde view agrees with the strict one. The one-pass reading
//! into a caller's type (`ClaimsRef::parse_into`, with its flat fast path) answers exactly as
//! the strict parse followed by serde: same value and registered claims, or the same error.
#![no_main]

use jwk_core::{Claims, ClaimsRef, Value};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let strict = Claims::parse(data);
    let typed = ClaimsRef::parse_into::<Value>(data);
    match (&strict, &typed) {
        (Ok(claims), Ok((registered, value))) => {
            assert_eq!(&registered.to_claims(), claims);
            let view: Value = claims.deserialize_as().expect("serde view of strict JSON");
            assert_eq!(value, &view);
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("strict {a:?}, one pass {b:?}"),
    }
    // A type that skips every member still checks all of them.
    let skipped = ClaimsRef::parse_into::<serde::de::IgnoredAny>(data);
    assert_eq!(skipped.is_ok(), strict.is_ok());
    if let Ok(claims) = strict {
        assert_eq!(claims.raw_json().as_bytes(), data);
        let again = Claims::parse(claims.raw_json().as_bytes()).expect("reparse");
        assert_eq!(claims, again);
        let value: Value = claims.deserialize_as().expect("serde view of strict JSON");
        assert_eq!(value, claims.to_value());
    }
});
