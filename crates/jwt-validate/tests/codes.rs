//! Every error code is reached through the library, and the list of codes is stable.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jwk_core::{Algorithm, Jwk, JwkSet};
use jwt_validate::{
    Error, KeySet, KeySource, Lookup, RefreshFuture, SourceError, SourceErrorKind, Validator,
};
use serde_json::json;

use crate::common::*;

#[test]
fn code_list_is_stable_and_unique() {
    let one_of_each = [
        Error::Parse(jwk_core::Error::Jwe),
        Error::Parse(jwk_core::Error::TooLarge {
            part: jwk_core::Part::Token,
            size: 2,
            limit: 1,
        }),
        Error::AlgNotAllowed {
            alg: Algorithm::None,
            name: "none".into(),
        },
        Error::UnsupportedAlg {
            alg: Algorithm::Es256K,
            reason: "r".into(),
        },
        Error::Parse(jwk_core::Error::UnsupportedCrit {
            name: "x".into(),
            reason: "r",
        }),
        Error::KeyNotFound {
            kid: None,
            reason: "r".into(),
        },
        Error::KeyMismatch {
            kid: None,
            alg: Algorithm::Rs256,
            reason: "r".into(),
        },
        Error::WeakKey {
            kid: None,
            reason: "r".into(),
        },
        Error::BadSignature,
        Error::Parse(jwk_core::Error::InvalidClaim {
            claim: "exp",
            reason: "r",
        }),
        Error::MissingClaim { claim: "c".into() },
        Error::Expired {
            exp: 1,
            now: 2,
            leeway: Duration::ZERO,
        },
        Error::NotYetValid { nbf: 2, now: 1 },
        Error::IssuedInFuture { iat: 2, now: 1 },
        Error::TooOld {
            iat: 1,
            now: 2,
            max_age: Duration::ZERO,
        },
        Error::IssuerMismatch { found: None },
        Error::AudienceMismatch { reason: "r".into() },
        Error::SubjectMismatch { found: "s".into() },
        Error::TypeMismatch {
            found: None,
            expected: "at+jwt".into(),
        },
        Error::JwksUnavailable(SourceError::new(SourceErrorKind::Other, "down")),
    ];
    let codes: Vec<&str> = one_of_each.iter().map(Error::code).collect();
    // The CLI contract (issue 4). A rename or a duplicate fails here.
    assert_eq!(
        codes,
        [
            "malformed",
            "too_large",
            "alg_not_allowed",
            "unsupported_alg",
            "unsupported_crit",
            "key_not_found",
            "key_mismatch",
            "weak_key",
            "bad_signature",
            "invalid_claim",
            "missing_claim",
            "expired",
            "not_yet_valid",
            "issued_in_future",
            "too_old",
            "issuer_mismatch",
            "audience_mismatch",
            "subject_mismatch",
            "type_mismatch",
            "jwks_unavailable",
        ]
    );
    assert_eq!(codes, Error::CODES);
    let unique: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len());
    for e in &one_of_each {
        let text = e.to_string();
        assert!(!text.is_empty() && !text.ends_with('.'), "{text}");
    }
    let e = Error::JwksUnavailable(SourceError::new(SourceErrorKind::Other, "down"));
    let inner = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<SourceError>());
    assert_eq!(inner.map(SourceError::code), Some("other"));
}

/// The source-error codes are a small stable set: a rename or a duplicate fails here.
#[test]
fn source_error_codes_are_stable_and_the_cause_is_kept() {
    let codes: Vec<&str> = SourceErrorKind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(
        codes,
        [
            "not_loaded",
            "fetch_failed",
            "timeout",
            "http_status",
            "rate_limited",
            "invalid_document",
            "tls",
            "backoff",
            "config",
            "other"
        ]
    );
    let unique: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(unique.len(), codes.len());

    let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    let e = SourceError::new(SourceErrorKind::FetchFailed, "cannot connect")
        .with_retry_after(Some(Duration::from_secs(7)))
        .with_source(cause);
    assert_eq!(e.kind(), SourceErrorKind::FetchFailed);
    assert_eq!(e.code(), "fetch_failed");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    let kept = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<std::io::Error>());
    assert_eq!(
        kept.map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionRefused)
    );
    assert!(std::error::Error::source(&SourceError::new(SourceErrorKind::Other, "x")).is_none());
}

/// A source that has loaded nothing and cannot load anything.
#[derive(Debug)]
struct Down;

impl KeySource for Down {
    fn cached(&self) -> Option<Arc<KeySet>> {
        None
    }
    fn refresh<'a>(&'a self, _lookup: Lookup<'a>) -> RefreshFuture<'a> {
        Box::pin(async {
            Err(
                SourceError::new(SourceErrorKind::FetchFailed, "connection refused")
                    .with_retry_after(Some(Duration::from_secs(30))),
            )
        })
    }
}

/// `Algorithm` is `Copy` and keeps no name for an unregistered `alg`: the error takes the name
/// from the header, so the exact text received is still what the message shows.
#[test]
fn an_unknown_alg_is_refused_by_its_name() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")])).build().unwrap();
        for name in ["foo", "None", "rs256", "unknown"] {
            let token = format!(
                "{}.e30.AAAA",
                jwk_core::b64::encode(format!(r#"{{"alg":"{name}","kid":"rs"}}"#).as_bytes())
            );
            let e = v.validate(&token).expect_err(name);
            assert_eq!(
                e,
                Error::AlgNotAllowed {
                    alg: Algorithm::Unknown,
                    name: name.into()
                },
                "{}",
                p.name
            );
            assert_eq!(
                e.to_string(),
                format!("algorithm {name:?} is not allowed by this validator")
            );
        }
    }
}

#[test]
fn every_code_is_reached() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let mut ps_key = jwk(&*rs, "ps");
        ps_key.alg = Some(Algorithm::Ps256);
        let short =
            Jwk::parse(br#"{"kty":"oct","kid":"short","k":"AAECAwQFBgcICQoLDA0ODw"}"#).unwrap();
        let k1 = Jwk::parse(br#"{"kty":"EC","crv":"secp256k1","kid":"k1","x":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8","y":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}"#).unwrap();
        let keys = set(vec![jwk(&*rs, "rs"), ps_key]);
        let v = builder(p, keys.clone()).build().unwrap();
        let good = good_claims();
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut c = good.clone();
            f(&mut c);
            mint(&*rs, &header(&*rs, Some("rs")), &c.to_string())
        };
        let mut reached: Vec<(&str, Error)> = Vec::new();
        let mut run = |name: &'static str, v: &Validator, token: &str| {
            let e = v.validate(token).expect_err(name);
            assert_eq!(e.code(), name, "{}: {e}", p.name);
            reached.push((name, e));
        };

        run("malformed", &v, "abc");
        run("too_large", &v, &"a".repeat(16 * 1024 + 1));
        run("alg_not_allowed", &v, "eyJhbGciOiJub25lIn0.e30.");
        let k1v = builder_keeping_unusable(p, JwkSet::new(vec![k1]))
            .algorithms([Algorithm::Es256K])
            .build()
            .unwrap();
        let k1_token = format!(
            "{}.e30.AAAA",
            jwk_core::b64::encode(br#"{"alg":"ES256K","kid":"k1"}"#)
        );
        run("unsupported_alg", &k1v, &k1_token);
        run(
            "unsupported_crit",
            &v,
            &mint(
                &*rs,
                &json!({"alg":"RS256","kid":"rs","crit":["urn:x"],"urn:x":1}),
                &good.to_string(),
            ),
        );
        run(
            "key_not_found",
            &v,
            &mint(&*rs, &header(&*rs, Some("nope")), &good.to_string()),
        );
        run(
            "key_mismatch",
            &v,
            &mint(&*rs, &header(&*rs, Some("ps")), &good.to_string()),
        );
        let hv = builder_keeping_unusable(p, JwkSet::new(vec![short]))
            .algorithms([Algorithm::Hs256])
            .build()
            .unwrap();
        let hs = hmac(p, &[7; 32], Algorithm::Hs256);
        run(
            "weak_key",
            &hv,
            &mint(&*hs, &header(&*hs, Some("short")), &good.to_string()),
        );
        run("bad_signature", &v, &tamper(&good_token(&*rs, "rs")));
        run("invalid_claim", &v, &with(&|c| c["exp"] = json!("soon")));
        let rv = builder(p, keys.clone()).require("scope").build().unwrap();
        run("missing_claim", &rv, &good_token(&*rs, "rs"));
        run("expired", &v, &with(&|c| c["exp"] = json!(NOW - 61)));
        run("not_yet_valid", &v, &with(&|c| c["nbf"] = json!(NOW + 61)));
        run(
            "issued_in_future",
            &v,
            &with(&|c| c["iat"] = json!(NOW + 61)),
        );
        let av = builder(p, keys.clone())
            .max_age(Duration::from_secs(300))
            .build()
            .unwrap();
        run("too_old", &av, &with(&|c| c["iat"] = json!(NOW - 400)));
        run(
            "issuer_mismatch",
            &v,
            &with(&|c| c["iss"] = json!("https://evil.test")),
        );
        run(
            "audience_mismatch",
            &v,
            &with(&|c| c["aud"] = json!("other")),
        );
        let sv = builder(p, keys.clone()).subject("bob").build().unwrap();
        run("subject_mismatch", &sv, &good_token(&*rs, "rs"));
        let tv = builder(p, keys.clone()).typ("at+jwt").build().unwrap();
        run("type_mismatch", &tv, &good_token(&*rs, "rs"));
        let dv = Validator::builder().key_source(Down).build().unwrap();
        run("jwks_unavailable", &dv, &good_token(&*rs, "rs"));
        let e = block_on(dv.validate_async(&good_token(&*rs, "rs"))).unwrap_err();
        assert_eq!(e.code(), "jwks_unavailable");
        // The source's own error is passed through whole.
        assert!(
            matches!(&e, Error::JwksUnavailable(s)
                if s.code() == "fetch_failed" && s.retry_after() == Some(Duration::from_secs(30))),
            "{e:?}"
        );

        let seen: BTreeSet<&str> = reached.iter().map(|(n, _)| *n).collect();
        let all: BTreeSet<&str> = Error::CODES.iter().copied().collect();
        assert_eq!(seen, all, "backend {}", p.name);
        // And the good token passes, so the failures above are the intended ones.
        let ok = v.validate(&good_token(&*rs, "rs")).unwrap();
        assert_eq!(ok.kid(), Some("rs"));
        assert_eq!(ok.claims().sub.as_deref(), Some("alice"));
    }
}
