//! JWK Sets as real providers publish them (see `tests/vectors/README.md` for each file).

use jwk_core::{Algorithm, Error, JwkSet, KeyParams, KeyUse};

use crate::load;

fn set(name: &str) -> JwkSet {
    let set = JwkSet::parse(&load::bytes(&format!("providers/{name}.json")))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    // Whatever loads prints back to a set with the same keys and nothing set aside.
    let again = JwkSet::parse(set.to_json().as_bytes()).unwrap();
    assert_eq!(again.keys, set.keys, "{name}: round trip");
    assert!(again.rejected.is_empty(), "{name}: {:?}", again.rejected);
    set
}

fn modulus(set: &JwkSet, i: usize) -> &[u8] {
    match &set.keys[i].params {
        KeyParams::Rsa(k) => &k.n,
        other => panic!("{other:?}"),
    }
}

#[test]
fn asgardeo_keys_load_from_n_and_e_despite_truncated_x5c() {
    let set = set("asgardeo-jwks");
    assert!(set.rejected.is_empty(), "{:?}", set.rejected);
    assert_eq!(set.keys.len(), 2);
    let [rs, ps] = [&set.keys[0], &set.keys[1]];
    assert!(rs.kid.as_deref().unwrap().ends_with("_RS256"));
    assert!(ps.kid.as_deref().unwrap().ends_with("_PS256"));
    assert_eq!(rs.alg, Some(Algorithm::Rs256));
    assert_eq!(ps.alg, Some(Algorithm::Ps256));
    assert_eq!(rs.key_use, Some(KeyUse::Sig));
    // One modulus, two entries: each bound to its own algorithm by `alg`.
    assert_eq!(modulus(&set, 0), modulus(&set, 1));
    assert_eq!(rs.bits(), 2048);
    assert!(rs.fits(Algorithm::Rs256) && !rs.fits(Algorithm::Ps256));
    assert!(ps.fits(Algorithm::Ps256) && !ps.fits(Algorithm::Rs256));
    assert_eq!(rs.algorithms(), [Algorithm::Rs256]);
    // Same key material, so the same RFC 7638 thumbprint under two kids.
    assert_eq!(rs.thumbprint(), ps.thumbprint());
    // The certificate is kept as received (it is truncated; nothing here verifies it).
    assert_eq!(rs.x5c.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        rs.x5t_s256.as_deref(),
        Some("m_eCU6DLMVTX9h5TomL64Swtp-AMsmA-6xvWCTr5gf4")
    );
    let kid = ps.kid.clone().unwrap();
    assert_eq!(set.by_kid(&kid).count(), 1);
}

#[test]
fn microsoft_style_set_without_alg() {
    let set = set("microsoft-style");
    assert!(set.rejected.is_empty(), "{:?}", set.rejected);
    assert_eq!(set.keys.len(), 2);
    for key in &set.keys {
        assert_eq!(key.alg, None);
        assert_eq!(key.kid, key.x5t, "Microsoft's kid is the x5t");
        assert!(key.x5c.is_some());
        // Without `alg`, the key type decides: every RSA algorithm.
        assert_eq!(
            key.algorithms(),
            [
                Algorithm::Rs256,
                Algorithm::Rs384,
                Algorithm::Rs512,
                Algorithm::Ps256,
                Algorithm::Ps384,
                Algorithm::Ps512
            ]
        );
        assert!(!key.fits(Algorithm::Es256));
        assert!(!key.fits(Algorithm::Hs256));
        // Unknown members are kept, not dropped.
        let issuer = key.extra.get("issuer").and_then(|v| v.as_str()).unwrap();
        assert!(issuer.starts_with("https://login.microsoftonline.com/"));
    }
}

#[test]
fn keycloak_style_enc_key_is_set_aside_with_reason() {
    let set = set("keycloak-style");
    assert_eq!(set.keys.len(), 1);
    let sig = &set.keys[0];
    assert_eq!(sig.alg, Some(Algorithm::Rs256));
    assert!(sig.x5t_s256.is_some() && sig.x5t.is_some());
    assert_eq!(set.rejected.len(), 1);
    let r = &set.rejected[0];
    assert_eq!(r.index, 1);
    assert_eq!(r.kty.as_deref(), Some("RSA"));
    assert_eq!(
        r.kid.as_deref(),
        Some("pWzq2B1mY7nJvVxXc8QeH4sK0tLgR6oF9uA3iD5bZkE")
    );
    assert_eq!(r.reason.code(), "not_signing_key");
    assert!(
        matches!(&r.reason, Error::NotSigningKey { reason } if reason.contains("enc")),
        "{:?}",
        r.reason
    );
}

#[test]
fn google_style_set() {
    let set = set("google-style");
    assert!(set.rejected.is_empty(), "{:?}", set.rejected);
    assert_eq!(set.keys.len(), 2);
    for key in &set.keys {
        let kid = key.kid.as_deref().unwrap();
        assert_eq!(kid.len(), 40);
        assert!(kid.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(key.alg, Some(Algorithm::Rs256));
        assert_eq!(key.bits(), 2048);
        assert_eq!(set.by_kid(kid).count(), 1);
    }
}
