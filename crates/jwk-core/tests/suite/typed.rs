//! `Claims::parse_into` (one strict pass into the caller's type) against the two-pass
//! reference (`Claims::parse`, then `serde_json` into the same type): same value, same error,
//! on hand-picked shapes and on generated claims sets full of repeats, escapes, odd numbers
//! and deep nesting.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use jwk_core::{Audience, Claims, Error, NumericDate, Value};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Debug, PartialEq, Deserialize)]
struct Owned {
    iss: String,
    sub: Option<String>,
    aud: Option<Aud>,
    exp: u64,
    nbf: Option<f64>,
    scope: Option<String>,
    extra: Option<Value>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum Aud {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, PartialEq, Deserialize)]
struct Borrowed<'a> {
    #[serde(borrow)]
    iss: &'a str,
    #[serde(borrow)]
    jti: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    scope: Option<&'a str>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct Flattened {
    iss: Option<String>,
    #[serde(flatten)]
    rest: BTreeMap<String, Value>,
}

#[derive(Debug, PartialEq, Deserialize)]
enum Role {
    Admin,
    User { name: String, groups: Vec<String> },
    Guest(u32),
}

#[derive(Debug, PartialEq, Deserialize)]
struct Nested {
    roles: Vec<Role>,
    attrs: HashMap<String, Vec<Option<i64>>>,
}

#[derive(Debug, PartialEq, Deserialize)]
struct IntKeys {
    by_id: HashMap<u32, String>,
}

/// Both paths' results, compared: same error, or same value and same registered claims.
fn same<'a, T>(json: &'a str) -> Result<T, Error>
where
    T: Deserialize<'a> + PartialEq + std::fmt::Debug,
{
    assert_eq!(
        Claims::parse(json.as_bytes()),
        jwk_core::test_util::claims_parse_general(json.as_bytes()),
        "flat path and general parser: {json}"
    );
    let fast = Claims::parse_into::<T>(json.as_bytes());
    let slow = jwk_core::test_util::claims_parse_general(json.as_bytes()).and_then(|c| {
        serde_json::from_str::<T>(json)
            .map(|t| (c, t))
            .map_err(|e| Error::Json {
                part: jwk_core::Part::Payload,
                line: e.line(),
                column: e.column(),
                message: e.to_string().into(),
            })
    });
    match (fast, slow) {
        (Ok((r, t)), Ok((c, u))) => {
            assert_eq!(t, u, "{json}");
            assert_eq!(r, c, "{json}");
            assert_eq!(r.raw_json(), json);
            Ok(t)
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "{json}");
            Err(a)
        }
        (a, b) => panic!("{json}: single pass {a:?}, two passes {b:?}"),
    }
}

#[test]
fn registered_claims_are_read_while_filling_the_type() {
    let json = r#"{"iss":"https://i","sub":"s","aud":["a","b"],"exp":1700000000,"nbf":1.5,"iat":3,"jti":"j","scope":"read","extra":{"k":[1,{"x":null}]}}"#;
    let (r, t) = Claims::parse_into::<Owned>(json.as_bytes()).unwrap();
    assert_eq!(t.iss, "https://i");
    assert_eq!(t.aud, Some(Aud::Many(vec!["a".into(), "b".into()])));
    assert_eq!(t.nbf, Some(1.5));
    assert_eq!(r.iss.as_deref(), Some("https://i"));
    // A fraction (`nbf`) is off the flat path: the two-pass answer, registered claims copied.
    assert!(matches!(r.iss, Some(Cow::Owned(_))), "two passes: owned");
    let (flat, _) = Claims::parse_into::<Owned>(br#"{"iss":"https://i","exp":1}"#).unwrap();
    assert!(
        matches!(flat.iss, Some(Cow::Borrowed(_))),
        "flat path, no escapes: borrowed"
    );
    assert_eq!(r.aud, Some(Audience::Many(vec!["a".into(), "b".into()])));
    assert!(r.aud.as_ref().unwrap().contains("b"));
    assert_eq!(r.exp, NumericDate::from_secs(1_700_000_000));
    assert_eq!(r.nbf.unwrap().subsec_nanos(), 500_000_000);
    assert_eq!(r.iat.unwrap().secs(), 3);
    assert_eq!(r.jti.as_deref(), Some("j"));
    assert_eq!(r.get("scope"), Some(Value::from("read")));
    same::<Owned>(json).unwrap();
}

#[test]
fn the_callers_type_may_borrow() {
    let json = r#"{"iss":"i","jti":"a\"b","scope":"s"}"#;
    let (r, t) = Claims::parse_into::<Borrowed<'_>>(json.as_bytes()).unwrap();
    assert_eq!(t.iss, "i");
    assert_eq!(t.jti.as_deref(), Some("a\"b"));
    assert!(matches!(r.jti, Some(Cow::Owned(_))), "escaped: owned");
    assert_eq!(t.scope, Some("s"));
    // An escaped value cannot be borrowed: serde's own error, by either path.
    let e = same::<Borrowed<'_>>(r#"{"iss":"a\nb"}"#).unwrap_err();
    assert_eq!(e.code(), "malformed");
}

#[test]
fn strictness_holds_inside_the_callers_type() {
    let code = |r: Result<Value, Error>| r.unwrap_err();
    // A repeat at the top, inside a member, and inside an array inside a member.
    assert_eq!(
        code(same::<Value>(r#"{"iss":"a","iss":"b"}"#)),
        Error::DuplicateMember {
            part: jwk_core::Part::Payload,
            name: "iss".into()
        }
    );
    assert!(matches!(
        same::<Owned>(r#"{"iss":"a","exp":1,"extra":{"k":1,"k":2}}"#),
        Err(Error::DuplicateMember { .. })
    ));
    assert!(matches!(
        same::<Nested>(r#"{"roles":[{"User":{"name":"n","name":"m","groups":[]}}],"attrs":{}}"#),
        Err(Error::DuplicateMember { .. })
    ));
    // Escaped and plain spellings of one name are one name.
    assert!(matches!(
        same::<Flattened>(r#"{"iss":"a","\u0069ss":"b"}"#),
        Err(Error::DuplicateMember { .. })
    ));
    // Members the type skips are still checked.
    assert!(matches!(
        same::<Borrowed<'_>>(r#"{"iss":"a","skipped":{"x":[{"y":1,"y":1}]}}"#),
        Err(Error::DuplicateMember { .. })
    ));
    assert!(matches!(
        same::<serde::de::IgnoredAny>(r#"{"a":{"b":1,"b":2}}"#),
        Err(Error::DuplicateMember { .. })
    ));
    // Depth: 32 levels pass, 33 do not, whether the type reads them or skips them.
    for (levels, ok) in [(31, true), (32, false)] {
        let deep = format!(
            r#"{{"iss":"a","x":{}1{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        );
        assert_eq!(same::<Value>(&deep).is_ok(), ok, "{levels}");
        assert_eq!(same::<Borrowed<'_>>(&deep).is_ok(), ok, "{levels}");
    }
    // Wrong types of registered claims are errors even when the type would take them.
    for (json, claim) in [
        (r#"{"exp":"1"}"#, "exp"),
        (r#"{"exp":-62135596801}"#, "exp"),
        (r#"{"iat":-1e300}"#, "iat"),
        (r#"{"iat":1e300}"#, "iat"),
        (r#"{"iss":5}"#, "iss"),
        (r#"{"sub":{"a":1,"a":2}}"#, "sub"),
        (r#"{"aud":["a",1]}"#, "aud"),
        (r#"{"aud":true}"#, "aud"),
        (r#"{"jti":null}"#, "jti"),
    ] {
        match same::<Value>(json) {
            Err(Error::InvalidClaim { claim: c, .. }) => assert_eq!(c, claim, "{json}"),
            other => panic!("{json}: {other:?}"),
        }
    }
    // Not an object, trailing text, not UTF-8.
    for json in ["[]", "\"x\"", "{} {}", "{\"a\":1", "null"] {
        assert_eq!(code(same::<Value>(json)).code(), "malformed", "{json}");
    }
    assert_eq!(
        Claims::parse_into::<Value>(b"{\"iss\":\"\xff\"}").unwrap_err(),
        Claims::parse(b"{\"iss\":\"\xff\"}").unwrap_err()
    );
}

#[test]
fn types_the_wrapper_does_not_take_get_the_two_pass_answer() {
    // Integer map keys: serde_json parses them from the member name; so does the fallback.
    let t = same::<IntKeys>(r#"{"by_id":{"1":"a","22":"b"}}"#).unwrap();
    assert_eq!(t.by_id[&22], "b");
    assert!(matches!(
        same::<IntKeys>(r#"{"by_id":{"1":"a","1":"b"}}"#),
        Err(Error::DuplicateMember { .. })
    ));
    // Enums, flatten, untagged, options and the type's own errors.
    same::<Nested>(r#"{"roles":["Admin",{"Guest":3},{"User":{"name":"n","groups":["g"]}}],"attrs":{"a":[1,null,-2]}}"#).unwrap();
    same::<Flattened>(r#"{"iss":"a","x":{"y":[1,2]},"z":null}"#).unwrap();
    assert_eq!(
        same::<Owned>(r#"{"sub":"s"}"#).unwrap_err().code(),
        "malformed",
        "missing field"
    );
    same::<Option<Owned>>(r#"{"iss":"a","exp":1}"#).unwrap();
    same::<HashMap<String, Value>>(r#"{"iss":"a","aud":"b","exp":2.25}"#).unwrap();
}

#[test]
fn every_path_agrees_on_audience_shapes() {
    for (json, aud) in [
        (r#"{"aud":"x"}"#, Audience::One("x".into())),
        (r#"{"aud":[]}"#, Audience::Many(vec![])),
        (
            r#"{"aud":["x","\u0079"]}"#,
            Audience::Many(vec!["x".into(), "y".into()]),
        ),
    ] {
        let (r, _) = Claims::parse_into::<Value>(json.as_bytes()).unwrap();
        assert_eq!(r.aud, Some(aud.clone()));
        assert_eq!(r.aud.as_ref().unwrap().is_empty(), aud.is_empty());
        let owned = Claims::parse_owned(json.as_bytes().to_vec()).unwrap();
        assert_eq!(owned.aud, Some(aud.clone()));
        assert_eq!(r.into_owned().aud, Some(aud.into_owned()));
    }
}

/// A JSON value as text, from a small alphabet so that repeats, escapes and the registered
/// names come up often.
fn value(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("1700000000".to_owned()),
        Just("1.5".to_owned()),
        Just("1e300".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("253402300800".to_owned()),
        Just(r#""a""#.to_owned()),
        Just(r#""\u0061""#.to_owned()),
        Just(r#""\ud83d\ude00""#.to_owned()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        3 => leaf,
        1 => proptest::collection::vec(value(depth - 1), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
        1 => object(depth - 1),
    ]
    .boxed()
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("iss"),
        Just("sub"),
        Just("aud"),
        Just("exp"),
        Just("nbf"),
        Just("iat"),
        Just("jti"),
        Just("scope"),
        Just("extra"),
        Just("\\u0069ss"),
        Just("k"),
    ]
    .prop_map(|n| format!("\"{n}\""))
}

fn object(depth: u32) -> BoxedStrategy<String> {
    proptest::collection::vec((name(), value(depth)), 0..6)
        .prop_map(|members| {
            let inner: Vec<String> = members.iter().map(|(n, v)| format!("{n}:{v}")).collect();
            format!("{{{}}}", inner.join(","))
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn one_pass_answers_as_two_passes(json in object(3)) {
        let _ = same::<Value>(&json);
        let _ = same::<Owned>(&json);
        let _ = same::<Flattened>(&json);
        let _ = same::<serde::de::IgnoredAny>(&json);
        let _ = same::<HashMap<String, Value>>(&json);
    }

    #[test]
    fn mangled_text_never_panics_and_agrees(json in object(2), cut in any::<prop::sample::Index>(), junk in "[\\[\\]{}\",:a0]") {
        let mut s = json.clone();
        let i = cut.index(s.len() + 1);
        s.insert_str(i, &junk);
        let _ = same::<Value>(&s);
        let _ = same::<Owned>(&s);
    }
}

/// The checked text of a strict parse deserializes into a borrowing type, also once copied.
#[test]
fn checked_json_borrows_and_copies() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Access<'a> {
        sub: &'a str,
        scope: &'a str,
    }
    let json = br#"{"sub":"alice","scope":"read","exp":1}"#;
    let (registered, _) = Claims::parse_into::<serde::de::IgnoredAny>(json).unwrap();
    let access: Access<'_> = registered.checked_json().deserialize_as().unwrap();
    assert_eq!(access.sub, "alice");
    let owned = Claims::parse(json).unwrap();
    let mut buf = b"left over".to_vec();
    let copied = owned.checked_json().copy_into(&mut buf);
    assert_eq!(copied.as_str().as_bytes(), json);
    let again: Access<'_> = copied.deserialize_as().unwrap();
    assert_eq!(again, access);
    // A type the text does not fit: the caller's error, as `malformed` JSON on the payload.
    let e = owned
        .checked_json()
        .deserialize_as::<Vec<u8>>()
        .unwrap_err();
    assert_eq!(e.code(), "malformed");
    // No checked text exists for a duplicate member: the strict parse refuses it first.
    let dup = br#"{"sub":"alice","sub":"mallory"}"#;
    assert_eq!(Claims::parse(dup).unwrap_err().code(), "malformed");
}

/// Where the text has no escapes, the flat path borrows every string claim; an escape (or any
/// shape the flat path declines) gives owned values, with the same content.
#[test]
fn claims_borrow_where_the_text_has_no_escapes() {
    let plain = br#"{"iss":"https://i","sub":"s","aud":["a","b"],"jti":"j","exp":1}"#;
    let c = Claims::parse(plain).unwrap();
    assert!(matches!(c.iss, Some(Cow::Borrowed("https://i"))));
    assert!(matches!(c.sub, Some(Cow::Borrowed("s"))));
    assert!(matches!(c.jti, Some(Cow::Borrowed("j"))));
    let Some(Audience::Many(aud)) = &c.aud else {
        panic!("{:?}", c.aud)
    };
    assert!(aud.iter().all(|a| matches!(a, Cow::Borrowed(_))));
    assert_eq!(c.raw_json().as_bytes(), plain);
    let one = Claims::parse(br#"{"aud":"x"}"#).unwrap();
    assert!(matches!(one.aud, Some(Audience::One(Cow::Borrowed("x")))));

    let escaped = br#"{"iss":"https:\/\/i","sub":"\u0073","aud":["a","\u0062"],"jti":"j","exp":1}"#;
    let e = Claims::parse(escaped).unwrap();
    assert!(matches!(&e.iss, Some(Cow::Owned(s)) if s == "https://i"));
    assert!(matches!(&e.sub, Some(Cow::Owned(s)) if s == "s"));
    assert!(
        matches!(&e.aud, Some(Audience::Many(v)) if v.iter().all(|a| matches!(a, Cow::Owned(_))))
    );
    assert_eq!(
        (&e.iss, &e.sub, &e.aud, e.exp),
        (&c.iss, &c.sub, &c.aud, c.exp),
        "same content, either form"
    );
    // Owned parses own every value.
    let o = Claims::parse_owned(plain.to_vec()).unwrap();
    assert!(matches!(o.iss, Some(Cow::Owned(_))));
    assert_eq!(
        (&o.iss, &o.aud, o.raw_json()),
        (&c.iss, &c.aud, c.raw_json())
    );
}

/// `into_owned` keeps every value and outlives the input it was parsed from.
#[test]
fn into_owned_outlives_the_input() {
    let text = br#"{"iss":"https://i","aud":"a","exp":1700000000,"nbf":1,"jti":"\u006a","x":[1]}"#;
    let buf = text.to_vec();
    let borrowed = Claims::parse(&buf).unwrap();
    let expected = borrowed.clone();
    let owned: Claims<'static> = borrowed.into_owned();
    assert_eq!(owned, expected);
    assert!(matches!(owned.iss, Some(Cow::Owned(_))));
    let expected = format!("{expected:?}");
    drop(buf);
    let moved = std::thread::spawn(move || {
        assert_eq!(owned.get("x"), Some(serde_json::json!([1])));
        owned
    })
    .join()
    .unwrap();
    assert_eq!(format!("{moved:?}"), expected);
    assert_eq!(moved.raw_json().as_bytes(), text);
    assert_eq!(moved.jti.as_deref(), Some("j"));
    assert_eq!(
        Audience::One(Cow::Borrowed("a")).into_owned(),
        Audience::One(Cow::Owned("a".into()))
    );
}
