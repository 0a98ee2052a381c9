//! RFC 7520 (JOSE cookbook): section 3 keys, section 4 signatures, and a section 5 JWE.

use jwk_core::{Algorithm, Compact, Error, Jwk, JwkSet, Limits, UnverifiedJws};

use crate::load;

#[test]
fn rfc7520_section3_keys() {
    let file = load::file("rfc7520_section3_keys.json");
    file.skip("source");
    let mut set_members = Vec::new();
    let mut outcomes = Vec::new();
    for key in file.list("keys") {
        let section = key.str("section");
        key.skip("title");
        let json = key.json("jwk");
        set_members.push(json.clone());
        let parsed = Jwk::parse(json.as_bytes());
        match key.str("expect").as_str() {
            "ok" => {
                let jwk = parsed.unwrap_or_else(|e| panic!("{section}: {e}"));
                assert_eq!(jwk.bits() as u64, key.u64("bits"), "{section}");
                assert_eq!(jwk.usable_for_verify(), Ok(()), "{section}");
                assert_eq!(Jwk::parse(jwk.to_json().as_bytes()).unwrap(), jwk);
            }
            "private_key" => {
                let e = parsed.unwrap_err();
                assert_eq!(e.code(), "private_key", "{section}: {e}");
                assert_eq!(e, Error::PrivateKey { member: "d" }, "{section}");
            }
            other => panic!("{section}: unknown expectation {other}"),
        }
        outcomes.push(section);
    }
    assert_eq!(outcomes, ["3.1", "3.2", "3.3", "3.4", "3.5"]);

    // As one set: the private keys are set aside with their reason, the others load.
    let doc = format!("{{\"keys\":[{}]}}", set_members.join(","));
    let set = JwkSet::parse(doc.as_bytes()).unwrap();
    let kids: Vec<_> = set.keys.iter().map(|k| k.kid.as_deref().unwrap()).collect();
    assert_eq!(
        kids,
        [
            "bilbo.baggins@hobbiton.example",
            "bilbo.baggins@hobbiton.example",
            "018c0ae5-4d9b-471b-bfd6-eef314bc7037"
        ]
    );
    let rejected: Vec<_> = set
        .rejected
        .iter()
        .map(|r| (r.index, r.kty.as_deref(), r.reason.code()))
        .collect();
    assert_eq!(
        rejected,
        [
            (1, Some("EC"), "private_key"),
            (3, Some("RSA"), "private_key")
        ]
    );
}

fn alg(name: &str) -> Algorithm {
    let a = Algorithm::parse(name);
    assert!(a.is_signature(), "{name}");
    a
}

#[test]
fn rfc7520_section4_signatures() {
    let file = load::file("rfc7520_section4_jws.json");
    file.skip("source");
    let payload = file.str("payload");
    let keys = load::file("rfc7520_section3_keys.json");
    keys.skip("source");
    let public: Vec<Jwk> = keys
        .list("keys")
        .iter()
        .filter_map(|k| {
            k.skip("section");
            k.skip("title");
            k.skip("expect");
            if k.has("bits") {
                k.skip("bits");
            }
            Jwk::parse(k.json("jwk").as_bytes()).ok()
        })
        .collect();
    assert_eq!(public.len(), 3);

    let mut seen = Vec::new();
    for case in file.list("cases") {
        let section = case.str("section");
        case.skip("title");
        let compact = case.str("compact");
        let jws = UnverifiedJws::parse(&compact, &Limits::default())
            .unwrap_or_else(|e| panic!("{section}: {e}"));
        let alg = alg(&case.str("alg"));
        assert_eq!(jws.header().alg, alg, "{section}");
        assert_eq!(jws.header().kid.as_deref(), Some(case.str("kid").as_str()));
        assert_eq!(jws.compact().header_b64(), case.str("protected_b64u"));
        let protected = case.str("protected_json");
        assert_eq!(
            &jwk_core::Header::parse(protected.as_bytes()).unwrap(),
            jws.header()
        );
        assert_eq!(jws.compact().signature_b64(), case.str("signature_b64"));

        let payload_b64 = case.str("payload_b64");
        let signing_input = case.str("signing_input");
        if payload_b64.is_empty() {
            // 4.5, detached content: the token carries an empty payload; the signature covers
            // the header and the payload sent elsewhere.
            assert_eq!(jws.compact().payload_b64(), "");
            let reattached = format!(
                "{}.{}",
                jws.compact().header_b64(),
                jwk_core::b64::encode(payload.as_bytes())
            );
            assert_eq!(reattached, signing_input);
            assert_eq!(jws.payload().unwrap(), b"");
        } else {
            assert_eq!(jws.signing_input(), signing_input.as_bytes(), "{section}");
            assert_eq!(jws.compact().payload_b64(), payload_b64);
            assert_eq!(jws.payload().unwrap(), payload.as_bytes());
        }

        // The section 3 key with this kid fits the algorithm; no other key type does.
        let fitting: Vec<_> = public
            .iter()
            .filter(|k| k.kid == jws.header().kid && k.fits(alg))
            .collect();
        assert_eq!(fitting.len(), 1, "{section}");
        seen.push(section);
    }
    assert_eq!(seen, ["4.1", "4.2", "4.3", "4.4", "4.5"]);
}

#[test]
fn rfc7520_5_6_jwe_is_named_as_such() {
    let file = load::file("rfc7520_5_6_jwe.json");
    file.skip("source");
    file.skip("protected_json"); // a fuzz seed; the header is never parsed here
    let jwe = file.str("compact");
    assert_eq!(
        Compact::split(&jwe, &Limits::default()).unwrap_err(),
        Error::Jwe
    );
    let e = UnverifiedJws::parse(&jwe, &Limits::default()).unwrap_err();
    assert_eq!(e, Error::Jwe);
    assert_eq!(e.code(), "malformed");
}
