//! Claims: wrong JSON types are errors, time boundaries, audience/issuer/subject/typ rules.

use std::time::Duration;

use jwk_core::Algorithm;
use jwt_validate::{Validator, ValidatorBuilder};
use serde_json::{json, Value};

use crate::common::*;

/// One boundary per line: claims changed by `edit`, validated by `v`, gives `expected`.
struct Check {
    v: Validator,
    signer: std::sync::Arc<dyn jws_crypto::Signer>,
}

impl Check {
    fn new(
        p: &'static jws_crypto::Provider,
        f: impl FnOnce(ValidatorBuilder) -> ValidatorBuilder,
    ) -> Self {
        let signer = generated(p, Algorithm::EdDsa);
        let v = f(builder(p, set(vec![jwk(&*signer, "ed")])))
            .build()
            .unwrap();
        Check { v, signer }
    }

    /// `claims` is raw JSON text, so wrong types and odd numbers go out exactly as written.
    fn raw(&self, claims: &str, expected: &str) {
        let t = mint(&*self.signer, &header(&*self.signer, Some("ed")), claims);
        let got = match self.v.validate(&t) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        assert_eq!(got, expected, "claims {claims}");
        // The single strict pass into a caller's type answers alike, owned or borrowed.
        let typed = match self.v.validate_as::<Value>(&t) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        assert_eq!(typed, expected, "validate_as, claims {claims}");
        let mut buf = Vec::new();
        let borrowed = match self
            .v
            .validate_borrowed::<serde::de::IgnoredAny>(&t, &mut buf)
        {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        assert_eq!(borrowed, expected, "validate_borrowed, claims {claims}");
    }

    /// Good claims with `member` set to the raw JSON `value` (or removed when `None`).
    fn set(&self, member: &str, value: Option<&str>, expected: &str) {
        let mut c: serde_json::Map<String, Value> = serde_json::from_value(good_claims()).unwrap();
        c.remove(member);
        let mut text = Value::Object(c).to_string();
        if let Some(v) = value {
            text.pop();
            text.push_str(&format!(r#","{member}":{v}}}"#));
        }
        self.raw(&text, expected);
    }
}

#[test]
fn wrong_json_types_are_errors_never_absent() {
    for p in providers() {
        let c = Check::new(p, |b| b);
        for claim in ["exp", "nbf", "iat"] {
            for v in [
                r#""1700000000""#,
                "true",
                "false",
                "[1700000000]",
                "{}",
                "null",
                "1e300",
                "253402300800",
                "18446744073709551616",
                "-62135596801",
                "-1e300",
            ] {
                c.set(claim, Some(v), "invalid_claim");
            }
        }
        c.set("aud", Some("1"), "invalid_claim");
        c.set("aud", Some("[1]"), "invalid_claim");
        c.set("aud", Some("{}"), "invalid_claim");
        c.set("aud", Some("[]"), "audience_mismatch");
        c.set("iss", Some(r#"{"a":1}"#), "invalid_claim");
        c.set("iss", Some("[]"), "invalid_claim");
        c.set("sub", Some("42"), "invalid_claim");
        c.set("jti", Some("true"), "invalid_claim");
        // Skipping the audience check does not make a mistyped aud acceptable.
        let skip = Check::new(p, |b| b.dangerous_skip_audience_check());
        skip.set("aud", Some("1"), "invalid_claim");
        skip.set("aud", Some(r#""anything""#), "ok");
    }
}

#[test]
fn time_boundaries() {
    for p in providers() {
        let c = Check::new(p, |b| b);
        let n = NOW as f64;
        let num = |x: f64| Some(format!("{x}"));
        // exp <= now - leeway is expired.
        c.set("exp", num(n - 60.0).as_deref(), "expired");
        c.set("exp", num(n - 59.0).as_deref(), "ok");
        c.set("exp", num(n - 59.5).as_deref(), "ok");
        c.set("exp", num(n - 60.5).as_deref(), "expired");
        // nbf > now + leeway is not yet valid.
        c.set("nbf", num(n + 60.0).as_deref(), "ok");
        c.set("nbf", num(n + 60.5).as_deref(), "not_yet_valid");
        c.set("nbf", num(n + 61.0).as_deref(), "not_yet_valid");
        c.set("nbf", Some("0"), "ok");
        // iat > now + leeway is in the future.
        c.set("iat", num(n + 60.0).as_deref(), "ok");
        c.set("iat", num(n + 60.25).as_deref(), "issued_in_future");
        // The far future and the range edge.
        c.set("exp", Some("253402300799"), "ok");
        c.set("exp", Some("253402300799.5"), "invalid_claim");
        c.set("exp", Some("253402300800"), "invalid_claim");
        c.set("exp", Some(r#""253402300799""#), "invalid_claim");
        // Before 1970 is a NumericDate too (issue 11 item 7), down to year 1.
        c.set("exp", Some("-1700000000"), "expired");
        c.set("nbf", Some("-1700000000"), "ok");
        c.set("iat", Some("-62135596800"), "ok");
        c.set("iat", Some("-62135596800.5"), "invalid_claim");
        // exp is required by default.
        c.set("exp", None, "missing_claim");
        let lax = Check::new(p, |b| b.dangerous_allow_missing_exp());
        lax.set("exp", None, "ok");
        lax.set("exp", num(n - 61.0).as_deref(), "expired");
        // No leeway: the exact instant is already expired.
        let strict = Check::new(p, |b| b.leeway(Duration::ZERO));
        strict.set("exp", num(n).as_deref(), "expired");
        strict.set("exp", num(n + 0.001).as_deref(), "ok");
        strict.set("nbf", num(n).as_deref(), "ok");
        strict.set("nbf", num(n + 0.001).as_deref(), "not_yet_valid");
        // Maximum age from iat, with the leeway.
        let aged = Check::new(p, |b| b.max_age(Duration::from_secs(300)));
        aged.set("iat", num(n - 360.0).as_deref(), "ok");
        aged.set("iat", num(n - 361.0).as_deref(), "too_old");
        aged.set("iat", None, "missing_claim");
    }
}

#[test]
fn audience_issuer_subject_rules() {
    for p in providers() {
        // No audience named: a token with aud is refused (RFC 7519 4.1.3), one without passes.
        let signer = generated(p, Algorithm::EdDsa);
        let keys = set(vec![jwk(&*signer, "ed")]);
        let unnamed = Check {
            v: Validator::builder()
                .provider(p)
                .jwks(keys.clone())
                .issuer(ISS)
                .clock(jwt_validate::FixedClock::at_secs(NOW))
                .build()
                .unwrap(),
            signer: signer.clone(),
        };
        unnamed.set("aud", Some(r#""api://orders""#), "audience_mismatch");
        unnamed.set("aud", None, "ok");
        // Several audiences and issuers.
        let multi = Check::new(p, |b| b.audience("second").issuer("https://other.test"));
        multi.set("aud", Some(r#"["x","second"]"#), "ok");
        multi.set("iss", Some(r#""https://other.test""#), "ok");
        multi.set("iss", Some(r#""https://other.test/""#), "issuer_mismatch");
        multi.set("iss", None, "missing_claim");
        multi.set("aud", None, "missing_claim");
        let sub = Check::new(p, |b| b.subject("alice"));
        sub.set("sub", Some(r#""alice""#), "ok");
        sub.set("sub", Some(r#""Alice""#), "subject_mismatch");
        sub.set("sub", None, "missing_claim");
        let req = Check::new(p, |b| b.require("scope").require("jti"));
        req.raw(
            &json!({"iss":ISS,"aud":AUD,"exp":NOW+9,"scope":"read","jti":"1"}).to_string(),
            "ok",
        );
        req.raw(
            &json!({"iss":ISS,"aud":AUD,"exp":NOW+9,"scope":null,"jti":"1"}).to_string(),
            "ok",
        );
        req.raw(
            &json!({"iss":ISS,"aud":AUD,"exp":NOW+9,"jti":"1"}).to_string(),
            "missing_claim",
        );
    }
}

#[test]
fn typ_is_case_insensitive_with_optional_prefix() {
    for p in providers() {
        let signer = generated(p, Algorithm::Es256);
        let keys = set(vec![jwk(&*signer, "ec")]);
        for configured in ["at+jwt", "application/at+jwt", "AT+JWT"] {
            let v = builder(p, keys.clone()).typ(configured).build().unwrap();
            for (typ, expected) in [
                (Some("at+jwt"), "ok"),
                (Some("application/at+jwt"), "ok"),
                (Some("Application/AT+JWT"), "ok"),
                (Some("JWT"), "type_mismatch"),
                (Some("at+jwt+x"), "type_mismatch"),
                (None, "type_mismatch"),
            ] {
                let mut h = header(&*signer, Some("ec"));
                if let Some(t) = typ {
                    h["typ"] = json!(t);
                }
                let t = mint(&*signer, &h, &good_claims().to_string());
                let got = v.validate(&t).map(|_| "ok").unwrap_or_else(|e| e.code());
                assert_eq!(got, expected, "{configured} vs {typ:?}");
            }
        }
    }
}

#[test]
fn typed_claims_for_the_caller() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Mine {
        sub: String,
        scope: Vec<String>,
    }
    for p in providers() {
        let signer = generated(p, Algorithm::Es256);
        let v = builder(p, set(vec![jwk(&*signer, "ec")])).build().unwrap();
        let mut c = good_claims();
        c["scope"] = json!(["read", "write"]);
        let t = mint(&*signer, &header(&*signer, Some("ec")), &c.to_string());
        let verified = v.validate(&t).unwrap();
        assert_eq!(verified.alg(), Algorithm::Es256);
        assert_eq!(verified.claims().exp.unwrap().secs(), (NOW + 600) as i64);
        assert_eq!(verified.claims().raw_json(), c.to_string());
        let mine: Mine = verified.claims_as().unwrap();
        assert_eq!(mine.scope, ["read", "write"]);
        let typed = v.validate_as::<Mine>(&t).unwrap();
        assert_eq!(typed.claims().sub, "alice");
        // A caller type that does not fit is an error, not a panic.
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Wrong {
            scope: String,
        }
        assert_eq!(v.validate_as::<Wrong>(&t).unwrap_err().code(), "malformed");
    }
}

#[test]
fn borrowed_claims_and_the_order_of_errors() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Access<'a> {
        sub: &'a str,
        #[serde(borrow)]
        scope: Option<&'a str>,
        exp: u64,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct NeedsRoles {
        roles: Vec<String>,
    }
    for p in providers() {
        let signer = generated(p, Algorithm::EdDsa);
        let v = builder(p, set(vec![jwk(&*signer, "ed")])).build().unwrap();
        let h = header(&*signer, Some("ed"));
        let mut buf = Vec::new();
        let mut c = good_claims();
        c["scope"] = json!("read write");
        let t = mint(&*signer, &h, &c.to_string());
        {
            let ok = v.validate_borrowed::<Access<'_>>(&t, &mut buf).unwrap();
            assert_eq!(ok.claims().sub, "alice");
            assert_eq!(ok.claims().scope, Some("read write"));
            assert_eq!(ok.claims().exp, NOW + 600);
            assert_eq!(ok.kid(), Some("ed"));
        }
        // The buffer is reused: a second token replaces the first payload.
        c["sub"] = json!("bob");
        let t2 = mint(&*signer, &h, &c.to_string());
        assert_eq!(
            v.validate_borrowed::<Access<'_>>(&t2, &mut buf)
                .unwrap()
                .claims()
                .sub,
            "bob"
        );
        assert_eq!(buf, c.to_string().as_bytes());

        // Order: signature, then the strict parse, then the policy, then the caller's type.
        let code = |r: Result<jwt_validate::Verified<NeedsRoles>, jwt_validate::Error>| {
            r.map(|_| "ok").unwrap_or_else(|e| e.code())
        };
        let mut expired = good_claims();
        expired["exp"] = json!(NOW - 3600);
        let expired = mint(&*signer, &h, &expired.to_string());
        assert_eq!(code(v.validate_as(&expired)), "expired");
        assert_eq!(code(v.validate_as(&tamper(&expired))), "bad_signature");
        let dup = mint(
            &*signer,
            &h,
            &format!(r#"{{"exp":{},"exp":{}}}"#, NOW + 600, NOW - 3600),
        );
        assert_eq!(code(v.validate_as(&dup)), "malformed");
        let wrong_type = mint(&*signer, &h, r#"{"exp":"soon","roles":[]}"#);
        assert_eq!(code(v.validate_as(&wrong_type)), "invalid_claim");
        assert_eq!(
            code(v.validate_as(&t)),
            "malformed",
            "no roles: the type's error"
        );
        let mut with_roles = good_claims();
        with_roles["roles"] = json!(["admin"]);
        let with_roles = mint(&*signer, &h, &with_roles.to_string());
        assert_eq!(code(v.validate_as(&with_roles)), "ok");
        let mut buf = Vec::new();
        assert_eq!(code(v.validate_borrowed(&with_roles, &mut buf)), "ok");
    }
}

#[test]
fn typed_validation_with_the_token_cache_and_routes() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Sub<'a> {
        sub: &'a str,
    }
    for p in providers() {
        let signer = generated(p, Algorithm::Es256);
        let keys = set(vec![jwk(&*signer, "ec")]);
        let cached = builder(p, keys.clone())
            .verified_token_cache(16)
            .build()
            .unwrap();
        let routed = Validator::builder()
            .provider(p)
            .clock(jwt_validate::FixedClock::at_secs(NOW))
            .route(
                ISS,
                std::sync::Arc::new(jwt_validate::StaticKeys::from_jwks(
                    &keys,
                    p,
                    &jws_crypto::KeyPolicy::default(),
                )),
                jwt_validate::Policy::new().audience(AUD),
            )
            .build()
            .unwrap();
        let t = good_token(&*signer, "ec");
        for v in [&cached, &routed] {
            let mut buf = Vec::new();
            // Twice: the second is a cache hit for the caching validator.
            for _ in 0..2 {
                assert_eq!(
                    v.validate_borrowed::<Sub<'_>>(&t, &mut buf)
                        .unwrap()
                        .claims()
                        .sub,
                    "alice"
                );
                assert_eq!(v.validate_as::<Value>(&t).unwrap().claims()["sub"], "alice");
            }
            assert_eq!(
                v.validate_as::<Value>(&tamper(&t)).unwrap_err().code(),
                "bad_signature"
            );
        }
        assert_eq!(cached.cached_tokens(), 1);
    }
}

/// `validate_as` decodes into a per-thread buffer; a claims type whose deserializer validates
/// another token on the same thread (re-entrant) gets a buffer of its own, and both answers
/// are right.
#[test]
fn validate_as_is_reentrant() {
    use std::cell::RefCell;
    thread_local! {
        static INNER: RefCell<Option<(Validator, String)>> = const { RefCell::new(None) };
    }
    #[derive(Debug)]
    struct Reentrant {
        outer: Value,
        inner_sub: String,
    }
    impl<'de> serde::Deserialize<'de> for Reentrant {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let outer = Value::deserialize(d)?;
            let inner_sub = INNER.with(|i| {
                let i = i.borrow();
                let (v, t) = i.as_ref().unwrap();
                let inner = v.validate_as::<Value>(t).unwrap();
                inner.claims()["sub"].as_str().unwrap().to_owned()
            });
            Ok(Reentrant { outer, inner_sub })
        }
    }
    for p in providers() {
        let signer = generated(p, Algorithm::Es256);
        let v = builder(p, set(vec![jwk(&*signer, "ec")])).build().unwrap();
        let mut c = good_claims();
        c["sub"] = json!("bob");
        let inner = mint(&*signer, &header(&*signer, Some("ec")), &c.to_string());
        INNER.with(|i| *i.borrow_mut() = Some((v.clone(), inner)));
        let outer = good_token(&*signer, "ec");
        for _ in 0..2 {
            let r = v.validate_as::<Reentrant>(&outer).unwrap();
            assert_eq!(r.claims().outer["sub"], "alice");
            assert_eq!(r.claims().inner_sub, "bob");
        }
        // And the per-thread buffer still serves plain calls afterwards.
        assert_eq!(
            v.validate_as::<Value>(&outer).unwrap().claims()["sub"],
            "alice"
        );
    }
}

/// Issue 11 item 7: a NumericDate before 1970 is a valid NumericDate: a negative `exp` is
/// expired, a negative `nbf` or `iat` lies in the past.
#[test]
fn dates_before_1970() {
    for p in providers() {
        let rs = rsa(p, Algorithm::Rs256);
        let v = builder(p, set(vec![jwk(&*rs, "rs")])).build().unwrap();
        let with = |member: &str, raw: &str| {
            let mut c = good_claims();
            c.as_object_mut().unwrap().remove(member);
            let mut text = c.to_string();
            text.pop();
            mint(
                &*rs,
                &header(&*rs, Some("rs")),
                &format!(r#"{text},"{member}":{raw}}}"#),
            )
        };
        let code = |t: &str| v.validate(t).map(|_| "ok").unwrap_or_else(|e| e.code());
        assert_eq!(code(&with("exp", "-1")), "expired", "{}", p.name);
        assert_eq!(code(&with("exp", "-0.5")), "expired");
        assert_eq!(code(&with("nbf", "-1")), "ok");
        assert_eq!(code(&with("iat", "-86400.25")), "ok");
        assert_eq!(code(&with("exp", "-62135596801")), "invalid_claim");
    }
}
