//! RFC 8037 Appendix A.1 to A.4: the Ed25519 key, its thumbprint and the signed example.

use jwk_core::{Algorithm, Error, Jwk, KeyParams, Limits, OkpCurve, UnverifiedJws};

use crate::load;

#[test]
fn rfc8037_appendix_a() {
    let file = load::file("rfc8037.json");
    file.skip("source");

    // A.1: a private key is refused where a public one is expected.
    let e = Jwk::parse(file.json("a1_private_key").as_bytes()).unwrap_err();
    assert_eq!(e, Error::PrivateKey { member: "d" });

    // A.2 and A.3.
    let public = Jwk::parse(file.json("a2_public_key").as_bytes()).unwrap();
    let KeyParams::Okp(okp) = &public.params else {
        panic!("{:?}", public.params)
    };
    assert_eq!(okp.crv, OkpCurve::Ed25519);
    assert_eq!(okp.x.len(), 32);
    assert_eq!(public.thumbprint_input(), file.str("a3_thumbprint_input"));
    assert_eq!(public.thumbprint(), file.str("a3_thumbprint"));
    assert_eq!(
        public.thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );

    // A.4.
    let compact = file.str("a4_compact");
    let jws = UnverifiedJws::parse(&compact, &Limits::default()).unwrap();
    assert_eq!(jws.header().alg, Algorithm::EdDsa);
    assert_eq!(
        &jwk_core::Header::parse(file.str("a4_header_json").as_bytes()).unwrap(),
        jws.header()
    );
    assert_eq!(jws.compact().header_b64(), file.str("a4_header_b64"));
    assert_eq!(jws.compact().payload_b64(), file.str("a4_payload_b64"));
    assert_eq!(jws.payload().unwrap(), file.str("a4_payload").as_bytes());
    assert_eq!(jws.signing_input(), file.str("a4_signing_input").as_bytes());
    assert_eq!(jws.compact().signature_b64(), file.str("a4_signature_b64"));
    assert_eq!(jws.signature().unwrap().len(), 64);
    assert!(public.fits(Algorithm::EdDsa));
    assert!(public.fits(Algorithm::Ed25519));
    assert!(!public.fits(Algorithm::Ed448));
    assert!(!public.fits(Algorithm::Es256));
}
