//! RFC 7638 JWK thumbprints.

use alloc::string::String;

use sha2::{Digest, Sha256};

use crate::b64;
use crate::jwk::{strip_leading_zeros, Jwk, KeyParams};

impl Jwk {
    /// The RFC 7638 thumbprint input: the required members, sorted, without whitespace.
    pub fn thumbprint_input(&self) -> String {
        let mut s = String::with_capacity(match &self.params {
            // An ML-DSA-87 `pub` is 3456 base64url characters.
            KeyParams::Akp(k) => 48 + k.pub_key.len().div_ceil(3) * 4,
            _ => 128,
        });
        let mut member = |name: &str, value: &str, last: bool| {
            s.push('"');
            s.push_str(name);
            s.push_str("\":\"");
            s.push_str(value);
            s.push('"');
            if !last {
                s.push(',');
            }
        };
        // Member values here are base64url or fixed registered names: nothing needs escaping.
        match &self.params {
            KeyParams::Rsa(k) => {
                // Minimal octets (RFC 7638 section 3.2, RFC 7518 section 6.3.1): parsing
                // already drops leading zeros; a hand-edited key is hashed by its value too.
                member("e", &b64::encode(strip_leading_zeros(&k.e)), false);
                member("kty", "RSA", false);
                member("n", &b64::encode(strip_leading_zeros(&k.n)), true);
            }
            KeyParams::Ec(k) => {
                member("crv", k.crv.as_str(), false);
                member("kty", "EC", false);
                member("x", &b64::encode(&k.x), false);
                member("y", &b64::encode(&k.y), true);
            }
            KeyParams::Okp(k) => {
                member("crv", k.crv.as_str(), false);
                member("kty", "OKP", false);
                member("x", &b64::encode(&k.x), true);
            }
            KeyParams::Oct(k) => {
                member("k", &b64::encode(&k.k), false);
                member("kty", "oct", true);
            }
            // RFC 9964 section 6: the required members are `alg`, `kty`, `pub`, in that order.
            KeyParams::Akp(k) => {
                member("alg", k.params.as_str(), false);
                member("kty", "AKP", false);
                member("pub", &b64::encode(&k.pub_key), true);
            }
        }
        let mut out = String::with_capacity(s.len() + 2);
        out.push('{');
        out.push_str(&s);
        out.push('}');
        out
    }

    /// The RFC 7638 SHA-256 thumbprint, raw.
    pub fn thumbprint_sha256(&self) -> [u8; 32] {
        Sha256::digest(self.thumbprint_input().as_bytes()).into()
    }

    /// The RFC 7638 SHA-256 thumbprint as base64url (the usual `kid` form).
    pub fn thumbprint(&self) -> String {
        b64::encode(&self.thumbprint_sha256())
    }
}

#[cfg(test)]
mod tests {
    use crate::Jwk;

    /// RFC 7638 section 3.1.
    #[test]
    fn rfc7638_example() {
        let jwk = Jwk::parse(br#"{
          "kty": "RSA",
          "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
          "e": "AQAB",
          "alg": "RS256",
          "kid": "2011-04-29"
        }"#).unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
