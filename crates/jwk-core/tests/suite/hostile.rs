//! Hostile shapes fail with the right code, before any expensive work. Nothing here measures
//! time: the checks are that the answer is the early one (size or segment count, not a base64
//! or JSON error from deep inside).

use jwk_core::json::{parse_value, MAX_DEPTH};
use jwk_core::{b64, Claims, Compact, Error, Header, Jwk, JwkSet, Limits, Part, UnverifiedJws};

const KIB16: usize = 16 * 1024;

#[test]
fn a_thousand_dots() {
    let dots = ".".repeat(1000);
    let e = Compact::split(&dots, &Limits::default()).unwrap_err();
    assert_eq!(e, Error::Segments { found: 1001 });
    assert_eq!(e.code(), "malformed");
    // Dots between valid segments too: still the segment count, nothing decoded.
    let token = format!("eyJhbGciOiJIUzI1NiJ9{}", ".e30".repeat(999));
    let e = UnverifiedJws::parse(&token, &Limits::default()).unwrap_err();
    assert_eq!(e, Error::Segments { found: 1000 });
}

#[test]
fn a_16_kib_run_of_one_character() {
    let limits = Limits::default();
    for c in ['a', '.', '=', '{', '[', '"', '\\', ' ', 'é'] {
        let run: String = core::iter::repeat_n(c, KIB16 / c.len_utf8()).collect();
        let e = UnverifiedJws::parse(&run, &limits).unwrap_err();
        assert_eq!(e.code(), "malformed", "{c:?}: {e}");
        let over = format!("{run}{c}");
        assert_eq!(
            UnverifiedJws::parse(&over, &limits).unwrap_err(),
            Error::TooLarge {
                part: Part::Token,
                size: over.len(),
                limit: KIB16
            },
            "{c:?}"
        );
        // The same run given to every JSON parser: an error, never a panic or a deep stack.
        for r in [
            Header::parse(run.as_bytes()).map(|_| ()),
            Claims::parse(run.as_bytes()).map(|_| ()),
            Jwk::parse(run.as_bytes()).map(|_| ()),
            JwkSet::parse(run.as_bytes()).map(|_| ()),
            parse_value(run.as_bytes(), Part::Payload).map(|_| ()),
        ] {
            assert!(r.is_err(), "{c:?}");
        }
        // base64url: only a run of an alphabet character decodes.
        assert_eq!(b64::decode(&run, Part::Token).is_ok(), c == 'a', "{c:?}");
    }
    // A run of '[' stops at the depth limit, not at the end of the input.
    let brackets = "[".repeat(KIB16);
    for part in [Part::Header, Part::Payload, Part::JwkSet] {
        assert_eq!(
            parse_value(brackets.as_bytes(), part).unwrap_err(),
            Error::TooDeep {
                part,
                limit: MAX_DEPTH
            }
        );
    }
    assert_eq!(
        JwkSet::parse(brackets.as_bytes()).unwrap_err(),
        Error::TooDeep {
            part: Part::JwkSet,
            limit: MAX_DEPTH
        }
    );
    let objects = "{\"a\":".repeat(KIB16 / 5);
    assert_eq!(
        Claims::parse(objects.as_bytes()).unwrap_err(),
        Error::TooDeep {
            part: Part::Payload,
            limit: MAX_DEPTH
        }
    );
}

#[test]
fn a_jwe_is_refused_by_name() {
    // Five segments, whatever they hold.
    for token in [
        "a.b.c.d.e",
        "....",
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..aaaa.bbbb.cccc",
    ] {
        assert_eq!(
            UnverifiedJws::parse(token, &Limits::default()).unwrap_err(),
            Error::Jwe,
            "{token}"
        );
    }
    // Three segments whose header says JWE (`enc`).
    let header = b64::encode(br#"{"alg":"dir","enc":"A128GCM"}"#);
    let e = UnverifiedJws::parse(&format!("{header}.e30.AA"), &Limits::default()).unwrap_err();
    assert!(
        matches!(e, Error::InvalidHeader { member: "enc", .. }),
        "{e:?}"
    );
}

#[test]
fn a_zip_header_is_refused() {
    let header = b64::encode(br#"{"alg":"HS256","zip":"DEF"}"#);
    let e = UnverifiedJws::parse(&format!("{header}.e30.AA"), &Limits::default()).unwrap_err();
    assert!(
        matches!(e, Error::InvalidHeader { member: "zip", .. }),
        "{e:?}"
    );
    assert_eq!(e.code(), "malformed");
}

#[test]
fn size_limit_is_configurable_and_checked_first() {
    let token = format!(
        "{}.{}.{}",
        "!".repeat(100),
        "!".repeat(100),
        "!".repeat(100)
    );
    // Over the limit: too_large, although the segments are not even base64url.
    assert_eq!(
        UnverifiedJws::parse(&token, &Limits::with_max_token_len(300))
            .unwrap_err()
            .code(),
        "too_large"
    );
    // Within a larger limit the base64 error shows.
    assert!(matches!(
        UnverifiedJws::parse(&token, &Limits::with_max_token_len(302)).unwrap_err(),
        Error::Base64 {
            part: Part::Header,
            offset: 0,
            ..
        }
    ));
}

#[test]
fn duplicate_alg_is_the_parser_differential_case() {
    let header = b64::encode(br#"{"alg":"RS256","alg":"none"}"#);
    assert_eq!(
        UnverifiedJws::parse(&format!("{header}.e30.AA"), &Limits::default()).unwrap_err(),
        Error::DuplicateMember {
            part: Part::Header,
            name: "alg".into()
        }
    );
}

/// Repeats in `key_ops` (JWK) and `crit` (header) are found with a set, not by comparing every
/// pair: a JWK Set document has no size limit of its own, and 150,000 distinct `key_ops`
/// entries (1.6 MB) used to take about 10^10 comparisons.
#[test]
fn long_member_lists_are_checked_in_n_log_n() {
    let ops: Vec<String> = core::iter::once("verify".to_owned())
        .chain((0..150_000).map(|i| format!("op{i}")))
        .collect();
    let doc = serde_json::json!({ "keys": [{ "kty": "oct", "k": "AQAB", "key_ops": ops }] });
    let set = JwkSet::parse(doc.to_string().as_bytes()).unwrap();
    assert_eq!(set.keys[0].key_ops.as_ref().map(Vec::len), Some(150_001));

    let mut repeated = ops.clone();
    repeated.push("op149999".to_owned());
    let doc = serde_json::json!({ "keys": [{ "kty": "oct", "k": "AQAB", "key_ops": repeated }] });
    let set = JwkSet::parse(doc.to_string().as_bytes()).unwrap();
    assert_eq!(set.rejected[0].reason.code(), "invalid_key");

    let names: Vec<String> = (0..3_000).map(|i| format!("e{i}")).collect();
    let mut header = serde_json::Map::new();
    header.insert("alg".into(), "HS256".into());
    for n in &names {
        header.insert(n.clone(), 1.into());
    }
    header.insert("crit".into(), serde_json::json!(names));
    let text = serde_json::Value::Object(header).to_string();
    let h = Header::parse(text.as_bytes()).unwrap();
    assert_eq!(h.crit.as_ref().map(Vec::len), Some(3_000));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(h.check_crit(&names), Ok(()));
}
