//! JWT claims: never panics; parsed claims keep the received bytes, which parse again to the
//! same claims, and the caller's serde view agrees with the strict one. The one-pass reading
//! into a caller's type (`ClaimsRef::parse_into`, with its flat fast path) answers exactly as
//! the strict parse followed by serde: same value and registered claims, or the same error.
#![no_main]

use std::borrow::Cow;
use std::collections::BTreeMap;

use jwk_core::test_util::claims_parse_general;
use jwk_core::{Claims, ClaimsRef, Value};

/// A typical application claims type: borrowed strings, options, an untagged audience, a
/// nested struct, an enum and a catch-all map.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[allow(dead_code)]
struct App<'a> {
    #[serde(borrow)]
    iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sub: Option<&'a str>,
    aud: Option<Aud>,
    exp: Option<u64>,
    nbf: Option<f64>,
    scope: Option<String>,
    roles: Option<Vec<Role>>,
    realm_access: Option<Realm>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(untagged)]
enum Aud {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, PartialEq, serde::Deserialize)]
enum Role {
    Admin,
    User,
    Other(String),
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Realm {
    roles: Vec<String>,
}

/// The one-pass answer for `T` is the two-pass answer.
fn agree<'a, T: serde::Deserialize<'a> + PartialEq + std::fmt::Debug>(data: &'a [u8]) {
    let one = ClaimsRef::parse_into::<T>(data);
    let two = claims_parse_general(data).and_then(|c| {
        // The same checked text, borrowed from `data` as the one pass borrows it.
        let checked = ClaimsRef::parse_into::<serde::de::IgnoredAny>(data)?
            .0
            .checked_json();
        assert_eq!(checked.as_str(), c.raw_json());
        checked.deserialize_as::<T>().map(|t| (c, t))
    });
    match (one, two) {
        (Ok((r, a)), Ok((c, b))) => {
            assert_eq!(a, b);
            assert_eq!(r.to_claims(), c);
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("one pass {a:?}, two passes {b:?}"),
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let strict = claims_parse_general(data);
    assert_eq!(Claims::parse(data), strict, "flat path and general parser");
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
    agree::<App<'_>>(data);
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
