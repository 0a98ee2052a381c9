//! `AKP` JWKs (RFC 9964) shaped from the input, so that well-formed ML-DSA keys, near-miss
//! lengths and the refused forms are all reached (raw bytes almost never form a 1312..2592-byte
//! `pub`). Input: `[alg, len_delta, flags, ...pub bytes]`. Never panics; a key parses exactly
//! when RFC 9964's rules hold; what parses prints back equal, with the section 6 thumbprint;
//! a set holding it beside an RSA key keeps the RSA key.
#![no_main]

use jwk_core::{b64, Algorithm, Jwk, JwkSet, KeyParams, MlDsaParams};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [sel, delta, flags, rest @ ..] = data else {
        return;
    };
    let params = MlDsaParams::ALL.get(usize::from(sel % 6)).copied();
    let alg_member = match (sel % 6, params) {
        (_, Some(p)) => format!(r#""alg":"{}","#, p.as_str()),
        (3, None) => r#""alg":"ML-DSA-99","#.to_owned(),
        (4, None) => String::new(),
        _ => r#""alg":65,"#.to_owned(),
    };
    // Lengths within +-127 of the parameter set's (or of ML-DSA-65's for the other shapes).
    let base = params.unwrap_or(MlDsaParams::MlDsa65).public_key_len();
    let len = base.saturating_add_signed(isize::from(*delta as i8));
    let pub_key: Vec<u8> = if rest.is_empty() {
        vec![0; len]
    } else {
        rest.iter().cycle().take(len).copied().collect()
    };
    let with_priv = flags & 1 != 0;
    let dup_alg = flags & 2 != 0;
    let enc = flags & 4 != 0;
    let mut json = format!(
        r#"{{"kty":"AKP",{alg_member}"pub":"{}""#,
        b64::encode(&pub_key)
    );
    if with_priv {
        json.push_str(r#","priv":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA""#);
    }
    if dup_alg {
        json.push_str(r#","alg":"ML-DSA-44""#);
    }
    if enc {
        json.push_str(r#","use":"enc""#);
    }
    json.push('}');

    let parsed = Jwk::parse(json.as_bytes());
    let valid = params.is_some_and(|p| p.public_key_len() == len) && !with_priv && !dup_alg;
    assert_eq!(parsed.is_ok(), valid, "{parsed:?}");
    if let Ok(key) = &parsed {
        let p = params.expect("valid implies a parameter set");
        let KeyParams::Akp(akp) = &key.params else {
            panic!("AKP parsed as {:?}", key.params)
        };
        assert_eq!(akp.params, p);
        assert_eq!(akp.pub_key, pub_key);
        assert_eq!(key.alg, Some(p.algorithm()));
        assert!(key.fits(p.algorithm()));
        assert!(!key.fits(Algorithm::Rs256));
        assert_eq!(
            key.thumbprint_input(),
            format!(
                r#"{{"alg":"{}","kty":"AKP","pub":"{}"}}"#,
                p.as_str(),
                b64::encode(&pub_key)
            )
        );
        let again = Jwk::parse(key.to_json().as_bytes()).expect("reparse");
        assert_eq!(key, &again);
        assert_eq!(key.thumbprint(), again.thumbprint());
        assert_eq!(key.usable_for_verify().is_ok(), !enc);
    }

    let set = format!(r#"{{"keys":[{json},{{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"r"}}]}}"#);
    let set = JwkSet::parse(set.as_bytes()).expect("one odd key never sinks the set");
    assert!(set.keys.iter().any(|k| k.kid.as_deref() == Some("r")));
    assert_eq!(set.keys.len() + set.rejected.len(), 2);
});
