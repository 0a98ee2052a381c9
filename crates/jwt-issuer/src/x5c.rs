//! Self-signed certificates for RSA keys, published as `x5c` with a matching `x5t#S256`
//! (as the Asgardeo guide's JWKS does).
//!
//! The certificate is a function of the key and its creation time only: serial number from the
//! key's thumbprint, validity from the creation date, and RSA PKCS#1 v1.5 signatures are
//! deterministic. So every instance sharing a key directory publishes the same certificate,
//! and the JWKS `ETag` stays the same across instances and restarts.

use std::sync::Arc;

use jwk_core::{Jwk, KeyParams};
use jws_crypto::Signer;
use sha2::{Digest, Sha256};

/// `(x5c entry, x5t#S256)` for an RSA key: standard base64 DER, and base64url SHA-256 of it.
pub(crate) fn self_signed(
    signer: Arc<dyn Signer>,
    jwk: &Jwk,
    created: i64,
) -> Result<(String, String), String> {
    let KeyParams::Rsa(rsa) = &jwk.params else {
        return Err("x5c certificates are made for RSA keys only".into());
    };
    let remote = RsaRemote {
        public: rsa_public_key_der(&rsa.n, &rsa.e),
        signer,
    };
    let key_pair = rcgen::KeyPair::from_remote(Box::new(remote)).map_err(|e| e.to_string())?;
    let thumb = jwk.thumbprint();
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, format!("jwt-issuer {thumb}"));
    params.distinguished_name = dn;
    let digest = Sha256::digest(thumb.as_bytes());
    let mut serial = digest.get(..16).map(<[u8]>::to_vec).unwrap_or_default();
    if let Some(first) = serial.first_mut() {
        // Positive and non-zero, as RFC 5280 section 4.1.2.2 requires.
        *first = (*first & 0x7f) | 0x01;
    }
    params.serial_number = Some(rcgen::SerialNumber::from(serial));
    let (y, m, d) = civil_date(created);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    params.not_after = rcgen::date_time_ymd(y + 10, m, d.min(28));
    let cert = params.self_signed(&key_pair).map_err(|e| e.to_string())?;
    let der = cert.der();
    let x5c = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(der.as_ref())
    };
    let x5t = jwk_core::b64::encode(&Sha256::digest(der.as_ref()));
    Ok((x5c, x5t))
}

/// rcgen signs the certificate through our signer (RS256: RSA PKCS#1 v1.5 with SHA-256).
struct RsaRemote {
    public: Vec<u8>,
    signer: Arc<dyn Signer>,
}

impl rcgen::RemoteKeyPair for RsaRemote {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.signer
            .sign(msg)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// RFC 8017 appendix A.1.1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent
/// INTEGER }`, DER.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = der_integer(n);
    body.extend(der_integer(e));
    der_tlv(0x30, &body)
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let mut v: &[u8] = bytes;
    while let [0, rest @ ..] = v {
        if rest.is_empty() {
            break;
        }
        v = rest;
    }
    let mut content = Vec::with_capacity(v.len() + 1);
    // A leading 1 bit would make the integer negative.
    if v.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(v);
    if content.is_empty() {
        content.push(0);
    }
    der_tlv(0x02, &content)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// Year, month, day (UTC) of a Unix time (Howard Hinnant's `civil_from_days`).
fn civil_date(secs: i64) -> (i32, u8, u8) {
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        i32::try_from(y).unwrap_or(9999).clamp(1970, 9989),
        u8::try_from(m).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(1_800_000_000), (2027, 1, 15));
    }

    #[test]
    fn der() {
        assert_eq!(der_integer(&[0, 0, 1]), [2, 1, 1]);
        assert_eq!(der_integer(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(der_integer(&[0]), [2, 1, 0]);
        let long = der_tlv(0x30, &[0; 300]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x2c]);
    }
}
