//! Laws over arbitrary input: nothing panics, no altered token verifies.

use std::sync::OnceLock;

use jwk_core::Algorithm;
use jwt_validate::Validator;
use proptest::prelude::*;

use crate::common::*;

/// One validator and one good token, built once (key generation is the slow part).
fn fixture() -> &'static (Validator, String) {
    static F: OnceLock<(Validator, String)> = OnceLock::new();
    F.get_or_init(|| {
        let p = jws_crypto::default_provider();
        let es = generated(p, Algorithm::Es256);
        let v = builder(p, set(vec![jwk(&*es, "ec")])).build().unwrap();
        let t = good_token(&*es, "ec");
        v.validate(&t).unwrap();
        (v, t)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_is_refused_without_panic(s in "\\PC{0,300}") {
        let (v, _) = fixture();
        let e = v.validate(&s).unwrap_err();
        prop_assert!(jwt_validate::Error::CODES.contains(&e.code()));
    }

    #[test]
    fn token_shaped_garbage_is_refused(h in "[A-Za-z0-9_-]{0,80}", p in "[A-Za-z0-9_-]{0,80}", s in "[A-Za-z0-9_-]{0,100}") {
        let (v, _) = fixture();
        let token = [h, p, s].join(".");
        prop_assert!(v.validate(&token).is_err());
        prop_assert!(v.verify_jws(&token).is_err());
    }

    #[test]
    fn any_flipped_bit_fails(index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (v, token) = fixture();
        let mut bytes = token.clone().into_bytes();
        let i = index.index(bytes.len());
        bytes[i] ^= 1 << bit;
        // A flip may leave invalid UTF-8: that is not a token a caller can pass at all.
        if let Ok(altered) = String::from_utf8(bytes) {
            prop_assert!(v.validate(&altered).is_err(), "byte {} bit {} still verifies", i, bit);
        }
    }
}
