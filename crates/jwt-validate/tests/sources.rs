//! Key sources: refresh on unknown kid, header failures never touch the source, multi-issuer
//! routing, key-set accounting, configuration errors, selection bounds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jwk_core::{Algorithm, Jwk, JwkSet};
use jwt_validate::{
    ConfigError, FixedClock, KeySet, KeySource, Lookup, Policy, RefreshFuture, StaticKeys,
    Validator,
};
use serde_json::json;

use crate::common::*;

/// Holds one set; `refresh` swaps in the next one and records why it was asked.
#[derive(Debug)]
struct Rotating {
    now: Mutex<Option<Arc<KeySet>>>,
    next: Arc<KeySet>,
    cached_calls: AtomicUsize,
    lookups: Mutex<Vec<String>>,
}

impl Rotating {
    fn new(now: Option<KeySet>, next: KeySet) -> Arc<Self> {
        Arc::new(Rotating {
            now: Mutex::new(now.map(Arc::new)),
            next: Arc::new(next),
            cached_calls: AtomicUsize::new(0),
            lookups: Mutex::new(Vec::new()),
        })
    }
    fn touched(&self) -> usize {
        self.cached_calls.load(Ordering::SeqCst) + self.lookups.lock().unwrap().len()
    }
}

impl KeySource for Rotating {
    fn cached(&self) -> Option<Arc<KeySet>> {
        self.cached_calls.fetch_add(1, Ordering::SeqCst);
        self.now.lock().unwrap().clone()
    }
    fn refresh<'a>(&'a self, lookup: Lookup<'a>) -> RefreshFuture<'a> {
        self.lookups.lock().unwrap().push(format!("{lookup:?}"));
        let next = self.next.clone();
        *self.now.lock().unwrap() = Some(next.clone());
        Box::pin(async move { Ok(next) })
    }
}

fn validator_over(p: &'static jws_crypto::Provider, source: Arc<Rotating>) -> Validator {
    Validator::builder()
        .provider(p)
        .shared_key_source(source)
        .issuer(ISS)
        .audience(AUD)
        .clock(FixedClock::at_secs(NOW))
        .build()
        .unwrap()
}

#[test]
fn unknown_kid_triggers_one_refresh() {
    for p in providers() {
        let old = generated(p, Algorithm::Es256);
        let new = generated(p, Algorithm::Es256);
        let before = KeySet::from_jwks(&set(vec![jwk(&*old, "old")]), p, &Default::default());
        let after = KeySet::from_jwks(
            &set(vec![jwk(&*old, "old"), jwk(&*new, "new")]),
            p,
            &Default::default(),
        );
        let source = Rotating::new(Some(before), after);
        let v = validator_over(p, source.clone());
        let token = good_token(&*new, "new");
        // Sync never refreshes.
        assert_eq!(v.validate(&token).unwrap_err().code(), "key_not_found");
        assert!(source.lookups.lock().unwrap().is_empty());
        // Async asks once, with the kid, then finds the key.
        let ok = block_on(v.validate_async(&token)).unwrap();
        assert_eq!(ok.kid(), Some("new"));
        assert_eq!(*source.lookups.lock().unwrap(), [r#"UnknownKid("new")"#]);
        // Known now: no more refreshes.
        block_on(v.validate_async(&token)).unwrap();
        assert_eq!(source.lookups.lock().unwrap().len(), 1);
        // A bad signature under a known kid is not a reason to refresh.
        let e = block_on(v.validate_async(&tamper(&token))).unwrap_err();
        assert_eq!(e.code(), "bad_signature");
        assert_eq!(source.lookups.lock().unwrap().len(), 1);
    }
}

#[test]
fn empty_source_loads_on_first_use() {
    for p in providers() {
        let key = generated(p, Algorithm::EdDsa);
        let source = Rotating::new(
            None,
            KeySet::from_jwks(&set(vec![jwk(&*key, "k")]), p, &Default::default()),
        );
        let v = validator_over(p, source.clone());
        let token = good_token(&*key, "k");
        match v.validate(&token) {
            Err(jwt_validate::Error::JwksUnavailable(e)) => assert_eq!(e.code(), "not_loaded"),
            other => panic!("expected jwks_unavailable, got {other:?}"),
        }
        block_on(v.validate_async(&token)).unwrap();
        assert_eq!(*source.lookups.lock().unwrap(), ["Empty"]);
        // No kid, nothing fits: NoKid, and the refreshed set is used.
        let other = generated(p, Algorithm::Es384);
        let source = Rotating::new(
            Some(KeySet::from_jwks(
                &set(vec![jwk(&*key, "k")]),
                p,
                &Default::default(),
            )),
            KeySet::from_jwks(&set(vec![jwk(&*other, "o")]), p, &Default::default()),
        );
        let v = validator_over(p, source.clone());
        let t = mint(&*other, &header(&*other, None), &good_claims().to_string());
        block_on(v.validate_async(&t)).unwrap();
        assert_eq!(*source.lookups.lock().unwrap(), ["NoKid"]);
    }
}

#[test]
fn header_policy_failures_never_touch_the_source() {
    for p in providers() {
        let key = generated(p, Algorithm::Es256);
        let ks = || KeySet::from_jwks(&set(vec![jwk(&*key, "k")]), p, &Default::default());
        let source = Rotating::new(Some(ks()), ks());
        let v = Validator::builder()
            .provider(p)
            .shared_key_source(source.clone())
            .typ("at+jwt")
            .audience(AUD)
            .clock(FixedClock::at_secs(NOW))
            .build()
            .unwrap();
        let claims = good_claims().to_string();
        for (h, code) in [
            (
                json!({"alg":"none","kid":"unknown","typ":"at+jwt"}),
                "alg_not_allowed",
            ),
            (
                json!({"alg":"HS256","kid":"unknown","typ":"at+jwt"}),
                "alg_not_allowed",
            ),
            (
                json!({"alg":"ES256","kid":"unknown","typ":"at+jwt","crit":["x"],"x":1}),
                "unsupported_crit",
            ),
        ] {
            let t = mint(&*key, &h, &claims);
            assert_eq!(block_on(v.validate_async(&t)).unwrap_err().code(), code);
            assert_eq!(v.validate(&t).unwrap_err().code(), code);
        }
        for t in ["x", "a.b", "a.b.c.d.e"] {
            assert_eq!(
                block_on(v.validate_async(t)).unwrap_err().code(),
                "malformed"
            );
        }
        assert_eq!(source.touched(), 0, "the key source was consulted");
        // typ is not one of them: it is judged after the signature (issue 11 item 8).
        let t = mint(
            &*key,
            &json!({"alg":"ES256","kid":"k","typ":"JWT"}),
            &claims,
        );
        assert_eq!(v.validate(&t).unwrap_err().code(), "type_mismatch");
    }
}

#[test]
fn multi_issuer_routing() {
    for p in providers() {
        let a = generated(p, Algorithm::Es256);
        let b = rsa(p, Algorithm::Ps256);
        let src = |s: &dyn jws_crypto::Signer, kid: &str| -> Arc<dyn KeySource> {
            Arc::new(StaticKeys::from_jwks(
                &set(vec![jwk(s, kid)]),
                p,
                &Default::default(),
            ))
        };
        let v = Validator::builder()
            .provider(p)
            .route(
                "https://a.test",
                src(&*a, "a1"),
                Policy::new().audience("app-a"),
            )
            .route(
                "https://b.test",
                src(&*b, "b1"),
                Policy::new()
                    .audience("app-b")
                    .algorithms([Algorithm::Ps256]),
            )
            .clock(FixedClock::at_secs(NOW))
            .build()
            .unwrap();
        let claims =
            |iss: &str, aud: &str| json!({"iss": iss, "aud": aud, "exp": NOW + 60}).to_string();
        let code = |t: &str| v.validate(t).map(|_| "ok").unwrap_or_else(|e| e.code());
        let a_tok = mint(
            &*a,
            &header(&*a, Some("a1")),
            &claims("https://a.test", "app-a"),
        );
        let b_tok = mint(
            &*b,
            &header(&*b, Some("b1")),
            &claims("https://b.test", "app-b"),
        );
        assert_eq!(code(&a_tok), "ok");
        assert_eq!(code(&b_tok), "ok");
        assert_eq!(
            block_on(v.validate_async(&b_tok)).map(|_| "ok").unwrap(),
            "ok"
        );
        // Each issuer's own policy applies.
        assert_eq!(
            code(&mint(
                &*a,
                &header(&*a, Some("a1")),
                &claims("https://a.test", "app-b")
            )),
            "audience_mismatch"
        );
        // A's key claiming to be B: routed to B's keys, where kid a1 does not exist.
        assert_eq!(
            code(&mint(
                &*a,
                &header(&*a, Some("a1")),
                &claims("https://b.test", "app-b")
            )),
            "alg_not_allowed"
        );
        let a_as_b = mint(
            &*b,
            &header(&*b, Some("a1")),
            &claims("https://b.test", "app-b"),
        );
        assert_eq!(code(&a_as_b), "key_not_found");
        assert_eq!(
            code(&mint(
                &*a,
                &header(&*a, Some("a1")),
                &claims("https://c.test", "app-a")
            )),
            "issuer_mismatch"
        );
        assert_eq!(
            code(&mint(
                &*a,
                &header(&*a, Some("a1")),
                &json!({"exp": NOW + 60}).to_string()
            )),
            "issuer_mismatch"
        );
        // A route with a policy naming another issuer is a configuration error.
        let e = Validator::builder()
            .route(
                "https://a.test",
                src(&*a, "a1"),
                Policy::new().issuer("https://b.test"),
            )
            .build()
            .unwrap_err();
        assert!(matches!(e, ConfigError::RouteIssuerConflict(_)));
        assert_eq!(e.code(), "route_issuer_conflict");
        let e = Validator::builder()
            .route("https://a.test", src(&*a, "a1"), Policy::new())
            .route("https://a.test", src(&*a, "a1"), Policy::new())
            .build()
            .unwrap_err();
        assert!(matches!(e, ConfigError::DuplicateIssuer(_)));
        assert_eq!(e.code(), "duplicate_issuer");
    }
}

#[test]
fn configuration_errors() {
    let code = |r: Result<Validator, ConfigError>| r.map(|_| ()).map_err(|e| e.code());
    assert_eq!(code(Validator::builder().build()), Err("no_key_source"));
    let keys = || JwkSet::new(vec![]);
    assert_eq!(
        code(Validator::builder().jwks(keys()).algorithms([]).build()),
        Err("no_algorithms")
    );
    assert_eq!(
        code(
            Validator::builder()
                .jwks(keys())
                .algorithms([Algorithm::parse("XS1")])
                .build()
        ),
        Err("forbidden_algorithm")
    );
    // Static keys of which none is usable: refused, whether given as a document or imported.
    assert_eq!(
        code(Validator::builder().jwks(keys()).build()),
        Err("no_usable_keys")
    );
    let weak =
        JwkSet::parse(br#"{"keys":[{"kty":"oct","kid":"s","k":"c2hvcnQ"},{"kty":"XX"}]}"#).unwrap();
    let e = Validator::builder().jwks(weak.clone()).build().unwrap_err();
    assert_eq!(e.code(), "no_usable_keys");
    match &e {
        ConfigError::NoUsableKeys {
            set_aside,
            first_reason,
        } => {
            // The short secret (an import failure) and the unknown kty (a parse failure).
            assert_eq!(*set_aside, 2);
            assert!(
                first_reason
                    .as_deref()
                    .is_some_and(|r| r.ends_with("(weak_key)")),
                "{first_reason:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let imported = KeySet::from_jwks(&weak, jws_crypto::default_provider(), &Default::default());
    assert_eq!(
        code(Validator::builder().keys(imported).build()),
        Err("no_usable_keys")
    );
    // One usable key is enough; the others stay aside with their reasons.
    let mut mixed = weak;
    mixed.keys.push(
        Jwk::parse(
            br#"{"kty":"oct","kid":"ok","k":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"}"#,
        )
        .unwrap(),
    );
    assert_eq!(code(Validator::builder().jwks(mixed).build()), Ok(()));
}

#[test]
fn selection_bounds_and_ambiguity() {
    for p in providers() {
        let signers: Vec<_> = (0..6).map(|_| generated(p, Algorithm::Es256)).collect();
        let claims = good_claims().to_string();
        let last = &signers[5];
        let no_kid = mint(&**last, &header(&**last, None), &claims);
        let all = set(signers
            .iter()
            .enumerate()
            .map(|(i, s)| jwk(&**s, &format!("k{i}")))
            .collect());
        let v = builder(p, all.clone()).build().unwrap();
        assert_eq!(v.validate(&no_kid).unwrap_err().code(), "key_not_found");
        let v = builder(p, all).max_untagged_candidates(6).build().unwrap();
        v.validate(&no_kid).unwrap();
        // Two keys with the same kid that both fit: refused as ambiguous, even for the right one.
        let dup = set(vec![jwk(&*signers[0], "same"), jwk(&*signers[1], "same")]);
        let v = builder(p, dup).build().unwrap();
        let e = v.validate(&good_token(&*signers[0], "same")).unwrap_err();
        assert_eq!(e.code(), "key_not_found");
        assert!(
            matches!(&e, jwt_validate::Error::KeyNotFound { kid: Some(k), .. } if &**k == "same"),
            "{e:?}"
        );
        // Same kid, different algorithms: two keys, each selected by alg.
        let ec = generated(p, Algorithm::Es256);
        let ed = generated(p, Algorithm::EdDsa);
        let v = builder(p, set(vec![jwk(&*ec, "k"), jwk(&*ed, "k")]))
            .build()
            .unwrap();
        v.validate(&good_token(&*ec, "k")).unwrap();
        v.validate(&good_token(&*ed, "k")).unwrap();
    }
}

#[test]
fn key_set_accounting() {
    for p in providers() {
        let ec = generated(p, Algorithm::Es256);
        let doc = format!(
            r#"{{"keys":[{},{{"kty":"oct","kid":"short","k":"AAECAwQFBgcICQoLDA0ODw"}},{{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}}]}}"#,
            jwk(&*ec, "ec").to_json()
        );
        let parsed = JwkSet::parse(doc.as_bytes()).unwrap();
        assert_eq!(parsed.rejected.len(), 1);
        let ks = KeySet::from_jwks(&parsed, p, &Default::default());
        assert_eq!(ks.len(), 1);
        assert!(!ks.is_empty());
        assert!(ks.contains_kid("ec"));
        assert!(!ks.contains_kid("short"));
        let f = &ks.import_failures()[0];
        assert_eq!((f.index, f.code), (1, "mixed_key_set"));
        let only_short = JwkSet::parse(
            br#"{"keys":[{"kty":"oct","kid":"short","k":"AAECAwQFBgcICQoLDA0ODw"}]}"#,
        )
        .unwrap();
        let ks = KeySet::from_jwks(&only_short, p, &Default::default());
        assert!(ks.is_empty());
        let codes: Vec<_> = ks.import_failures().iter().map(|f| f.code).collect();
        assert_eq!(codes, ["weak_key", "weak_key", "weak_key"]);
    }
}

#[test]
fn validator_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Validator>();
    for p in providers() {
        let key = generated(p, Algorithm::Es256);
        let v = builder(p, set(vec![jwk(&*key, "k")])).build().unwrap();
        let token = good_token(&*key, "k");
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..20 {
                        v.clone().validate(&token).unwrap();
                    }
                });
            }
        });
    }
}

#[test]
fn validate_async_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let p = jws_crypto::default_provider();
    let key = generated(p, Algorithm::Es256);
    let v = builder(p, set(vec![jwk(&*key, "k")])).build().unwrap();
    let token = good_token(&*key, "k");
    let fut = v.validate_async(&token);
    assert_send(&fut);
    assert_eq!(block_on(fut).unwrap().kid(), Some("k"));
}

#[test]
fn validate_async_as_refreshes_and_types_in_one_pass() {
    #[derive(Debug, serde::Deserialize)]
    struct Mine {
        sub: String,
        iss: String,
    }
    for p in providers() {
        let key = generated(p, Algorithm::Es256);
        let source = Rotating::new(
            None,
            KeySet::from_jwks(&set(vec![jwk(&*key, "k")]), p, &Default::default()),
        );
        let v = validator_over(p, source.clone());
        let token = good_token(&*key, "k");
        let fut = v.validate_async_as::<Mine>(&token);
        fn assert_send<T: Send>(_: &T) {}
        assert_send(&fut);
        // Nothing cached: the source is asked once, then the typed claims come back.
        let ok = block_on(fut).unwrap();
        assert_eq!(ok.kid(), Some("k"));
        assert_eq!(ok.claims().iss, ISS);
        assert_eq!(ok.claims().sub, good_claims()["sub"].as_str().unwrap());
        assert_eq!(*source.lookups.lock().unwrap(), ["Empty"]);
        // The same codes as the untyped path, in the same order.
        let bad = tamper(&token);
        assert_eq!(
            block_on(v.validate_async_as::<Mine>(&bad))
                .unwrap_err()
                .code(),
            block_on(v.validate_async(&bad)).unwrap_err().code(),
        );
        let mut expired = good_claims();
        expired["exp"] = json!(NOW - 3600);
        expired["iat"] = json!(NOW - 7200);
        let t = mint(&*key, &header(&*key, Some("k")), &expired.to_string());
        assert_eq!(
            block_on(v.validate_async_as::<Mine>(&t))
                .unwrap_err()
                .code(),
            "expired"
        );
        // A type the claims do not fit: `malformed`, after the policy passed.
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Needs {
            tenant: String,
        }
        assert_eq!(
            block_on(v.validate_async_as::<Needs>(&token))
                .unwrap_err()
                .code(),
            "malformed"
        );
    }
}
