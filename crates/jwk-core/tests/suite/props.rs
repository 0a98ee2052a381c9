//! Laws checked with proptest: base64url round trips and has exactly one accepted encoding,
//! no parser panics on any bytes, and a repeated member name is refused at any depth.

use std::collections::BTreeMap;

use jwk_core::json::parse_value;
use jwk_core::{b64, Claims, Error, Header, Jwk, JwkSet, Limits, Part, UnverifiedJws};
use proptest::prelude::*;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn rejected_as(input: &str, reason: &str) {
    match b64::decode(input, Part::Token) {
        Err(Error::Base64 { reason: r, .. }) => assert_eq!(r, reason, "{input:?}"),
        other => panic!("{input:?} gave {other:?}, wanted {reason}"),
    }
}

proptest! {
    #[test]
    fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let enc = b64::encode(&bytes);
        prop_assert!(enc.bytes().all(|c| ALPHABET.contains(&c)));
        prop_assert_eq!(b64::decode(&enc, Part::Token).unwrap(), bytes.clone());
        prop_assert_eq!(b64::decoded_len(enc.len()), Some(bytes.len()));
        let mut out = vec![7u8];
        b64::decode_into(&enc, Part::Token, &mut out).unwrap();
        prop_assert_eq!(&out[1..], &bytes[..]);
    }

    /// Setting any of the unused low bits of the last character gives another string that
    /// a lax decoder maps to the same bytes; it must be refused.
    #[test]
    fn non_canonical_trailing_bits_rejected(
        bytes in proptest::collection::vec(any::<u8>(), 1..100),
        mask in 1u8..16,
    ) {
        let unused_bits = match bytes.len() % 3 {
            1 => 4, // last character carries 2 bits of data
            2 => 2, // last character carries 4 bits of data
            _ => return Ok(()),
        };
        let mask = mask & ((1 << unused_bits) - 1);
        prop_assume!(mask != 0);
        let mut enc = b64::encode(&bytes).into_bytes();
        let last = enc.last_mut().unwrap();
        let value = ALPHABET.iter().position(|c| c == last).unwrap() as u8;
        *last = ALPHABET[usize::from(value | mask)];
        rejected_as(std::str::from_utf8(&enc).unwrap(), "non-canonical encoding (trailing bits set)");
    }

    #[test]
    fn padding_rejected(bytes in proptest::collection::vec(any::<u8>(), 0..100), pads in 1usize..3) {
        let enc = format!("{}{}", b64::encode(&bytes), "=".repeat(pads));
        prop_assert!(b64::decode(&enc, Part::Token).is_err());
        if bytes.len() % 3 != 0 {
            rejected_as(&enc, "padding is not allowed");
        }
    }

    #[test]
    fn standard_alphabet_rejected(
        bytes in proptest::collection::vec(any::<u8>(), 1..100),
        at in any::<prop::sample::Index>(),
        plus in any::<bool>(),
    ) {
        let mut enc = b64::encode(&bytes).into_bytes();
        let i = at.index(enc.len());
        enc[i] = if plus { b'+' } else { b'/' };
        rejected_as(std::str::from_utf8(&enc).unwrap(), "'+' and '/' are base64, not base64url");
    }

    #[test]
    fn whitespace_rejected(
        bytes in proptest::collection::vec(any::<u8>(), 0..100),
        at in any::<prop::sample::Index>(),
        ws in prop::sample::select(vec![' ', '\n', '\r', '\t']),
    ) {
        let mut enc = b64::encode(&bytes);
        let i = at.index(enc.len() + 1);
        enc.insert(i, ws);
        prop_assert!(b64::decode(&enc, Part::Token).is_err());
    }

    /// Any number in an unregistered member survives `to_json()` and a second parse exactly
    /// (the default `serde_json` float parser did not: see tests/regressions/*-float-*).
    #[test]
    fn numbers_in_members_round_trip(f in any::<f64>().prop_filter("finite", |f| f.is_finite()), i in any::<i64>(), u in any::<u64>()) {
        let text = format!("{{\"alg\":\"HS256\",\"f\":{:e},\"g\":{},\"i\":{i},\"u\":{u}}}", f, serde_json::to_string(&f).unwrap());
        let header = Header::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(Header::parse(header.to_json().as_bytes()).unwrap(), header);
        let key = format!("{{\"kty\":\"oct\",\"k\":\"AQAB\",\"f\":{:e},\"g\":{},\"i\":{i},\"u\":{u}}}", f, serde_json::to_string(&f).unwrap());
        let jwk = Jwk::parse(key.as_bytes()).unwrap();
        prop_assert_eq!(Jwk::parse(jwk.to_json().as_bytes()).unwrap(), jwk);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_everything(&bytes);
    }

    /// Bytes drawn from JSON's and JOSE's own characters reach deeper into the parsers.
    #[test]
    fn json_like_bytes_never_panic(
        bytes in proptest::collection::vec(
            prop::sample::select(b"{}[]:,\"\\ -0123456789.eE+truefalsnl\"algkidtypcrit.AaQ_".to_vec()),
            0..256,
        )
    ) {
        parse_everything(&bytes);
    }

    /// A generated document with one name repeated in one object, at a random depth, is
    /// refused by every parser with `DuplicateMember` naming it.
    #[test]
    fn duplicate_members_always_rejected(doc in json_object(), target in any::<prop::sample::Index>(), escape in any::<bool>()) {
        let objects = count_objects(&doc);
        let target = target.index(objects);
        let mut out = String::new();
        let mut counter = 0;
        let mut dup = None;
        render(&doc, target, escape, &mut counter, &mut dup, &mut out);
        let name = dup.expect("the target object got a duplicate");
        let inner = out.strip_prefix('{').unwrap().strip_suffix('}').unwrap();
        let comma = if inner.is_empty() { "" } else { "," };

        let expect = |part| Error::DuplicateMember { part, name: name.clone().into() };
        prop_assert_eq!(parse_value(out.as_bytes(), Part::Payload).unwrap_err(), expect(Part::Payload));
        prop_assert_eq!(Claims::parse(out.as_bytes()).unwrap_err(), expect(Part::Payload));
        let header = format!("{{\"alg\":\"HS256\"{comma}{inner}}}");
        prop_assert_eq!(Header::parse(header.as_bytes()).unwrap_err(), expect(Part::Header));
        let key = format!("{{\"kty\":\"oct\",\"k\":\"AQAB\"{comma}{inner}}}");
        prop_assert_eq!(Jwk::parse(key.as_bytes()).unwrap_err(), expect(Part::Jwk));
        let set = JwkSet::parse(format!("{{\"keys\":[{key}]}}").as_bytes()).unwrap();
        prop_assert!(set.keys.is_empty());
        prop_assert_eq!(&set.rejected[0].reason, &expect(Part::Jwk));
    }
}

fn parse_everything(bytes: &[u8]) {
    let _ = Header::parse(bytes);
    let _ = Claims::parse(bytes);
    let _ = Jwk::parse(bytes);
    let _ = JwkSet::parse(bytes);
    let _ = parse_value(bytes, Part::Jwk);
    let text = String::from_utf8_lossy(bytes);
    let _ = b64::decode(&text, Part::Token);
    if let Ok(jws) = UnverifiedJws::parse(&text, &Limits::default()) {
        let _ = jws.payload();
        let _ = jws.signature();
        let _ = jws.dangerous_claims();
    }
}

/// A JSON value whose objects have unique member names; names never collide with registered
/// header, claim or JWK names (they start with `x_`; `x5t`, `x5c` and `x5u` are registered
/// header names, so a plain `x` prefix was not enough), so the duplicate is the first error.
#[derive(Debug, Clone)]
enum J {
    Null,
    Num(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(BTreeMap<String, J>),
}

fn name() -> impl Strategy<Value = String> {
    "x_[a-z0-9_ é]{0,6}"
}

fn json_value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<i64>().prop_map(J::Num),
        "[a-zA-Z0-9 ]{0,8}".prop_map(J::Str),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(J::Arr),
            proptest::collection::btree_map(name(), inner, 0..5).prop_map(J::Obj),
        ]
    })
}

fn json_object() -> impl Strategy<Value = J> {
    proptest::collection::btree_map(name(), json_value(), 0..6).prop_map(J::Obj)
}

fn count_objects(j: &J) -> usize {
    match j {
        J::Arr(items) => items.iter().map(count_objects).sum(),
        J::Obj(m) => 1 + m.values().map(count_objects).sum::<usize>(),
        _ => 0,
    }
}

fn string(s: &str, escape_first: bool, out: &mut String) {
    out.push('"');
    for (i, c) in s.chars().enumerate() {
        if i == 0 && escape_first {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

/// Renders `j`; the `target`-th object (pre-order) gets an extra member repeating a name
/// already in it (or `xdup` twice when it is empty), spelled with a `\u` escape when `escape`.
fn render(
    j: &J,
    target: usize,
    escape: bool,
    counter: &mut usize,
    dup: &mut Option<String>,
    out: &mut String,
) {
    match j {
        J::Null => out.push_str("null"),
        J::Num(n) => out.push_str(&n.to_string()),
        J::Str(s) => string(s, false, out),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render(item, target, escape, counter, dup, out);
            }
            out.push(']');
        }
        J::Obj(m) => {
            let me = *counter;
            *counter += 1;
            out.push('{');
            let mut first = true;
            for (k, v) in m {
                if !first {
                    out.push(',');
                }
                first = false;
                string(k, false, out);
                out.push(':');
                render(v, target, escape, counter, dup, out);
            }
            if me == target {
                let name = m
                    .keys()
                    .next()
                    .cloned()
                    .unwrap_or_else(|| "xdup".to_owned());
                if m.is_empty() {
                    out.push_str("\"xdup\":0,");
                } else {
                    out.push(',');
                }
                string(&name, escape, out);
                out.push_str(":1");
                *dup = Some(name);
            }
            out.push('}');
        }
    }
}

/// A header-like JSON text: the usual members and others, plain and escaped strings, odd
/// values, whitespace, repeats, and now and then a broken byte.
fn header_text() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        Just("alg"),
        Just("kid"),
        Just("typ"),
        Just("cty"),
        Just("crit"),
        Just("x"),
        Just("\\u0061lg"),
        Just("al"),
    ];
    let value = prop_oneof![
        Just("\"RS256\"".to_owned()),
        Just("\"ES256\"".to_owned()),
        Just("\"none\"".to_owned()),
        Just("\"JWT\"".to_owned()),
        Just("\"k\\\"1\"".to_owned()),
        Just("\"caf\u{e9}\"".to_owned()),
        Just("\"\"".to_owned()),
        Just("1".to_owned()),
        Just("null".to_owned()),
        Just("[\"x\"]".to_owned()),
        Just("{\"a\":1}".to_owned()),
    ];
    let ws = prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\r")];
    (
        proptest::collection::vec((name, ws.clone(), value, ws.clone()), 0..5),
        ws,
        proptest::option::of((any::<prop::sample::Index>(), any::<u8>())),
    )
        .prop_map(|(members, outer, corrupt)| {
            let inner: Vec<String> = members
                .iter()
                .map(|(n, w1, v, w2)| format!("{w1}\"{n}\"{w2}:{w1}{v}{w2}"))
                .collect();
            let mut bytes = format!("{outer}{{{}}}{outer}", inner.join(",")).into_bytes();
            if let Some((at, b)) = corrupt {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The fast path for flat headers gives exactly the general parser's answer.
    #[test]
    fn header_fast_path_agrees_with_the_general_parser(json in header_text()) {
        prop_assert_eq!(Header::parse(&json), jwk_core::test_util::header_parse_general(&json));
    }
}
