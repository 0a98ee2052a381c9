//! RFC 7638 section 3.1: the JWK thumbprint example.

use jwk_core::{b64, Jwk, Part};

use crate::load;

#[test]
fn rfc7638_section_3_1_thumbprint() {
    let file = load::file("rfc7638.json");
    file.skip("source");
    let jwk = Jwk::parse(file.json("jwk").as_bytes()).unwrap();
    assert_eq!(jwk.thumbprint_input(), file.str("thumbprint_input"));
    let expected = file.str("thumbprint");
    assert_eq!(jwk.thumbprint(), expected);
    assert_eq!(
        b64::decode(&expected, Part::Jwk).unwrap(),
        jwk.thumbprint_sha256()
    );
    // Members outside the required ones (alg, kid) do not change the thumbprint.
    let mut bare = jwk.clone();
    bare.kid = None;
    bare.alg = None;
    assert_eq!(bare.thumbprint(), expected);
}
