//! The key that signs now, and compact JWS serialization.

use std::sync::Arc;

use jwk_core::Header;
use jws_crypto::Signer;

use crate::error::Error;

/// The key that signs now for one algorithm.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// The `kid` tokens carry.
    pub kid: String,
    /// The signer.
    pub signer: Arc<dyn Signer>,
}

impl SigningKey {
    /// Signs a JWT: header `{"alg", "kid", "typ"}`, the claims as given, compact serialization.
    pub fn sign_jwt(&self, typ: &str, claims: &serde_json::Value) -> Result<String, Error> {
        let mut header = Header::new(self.signer.algorithm());
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        sign_compact(self.signer.as_ref(), &header.to_json(), &claims.to_string())
    }
}

/// Signs `header` and `payload` JSON into a compact JWS (RFC 7515 section 7.1).
pub fn sign_compact(signer: &dyn Signer, header: &str, payload: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(header.len() * 4 / 3 + payload.len() * 4 / 3 + 400);
    jwk_core::b64::encode_into(header.as_bytes(), &mut out);
    out.push('.');
    jwk_core::b64::encode_into(payload.as_bytes(), &mut out);
    let sig = signer.sign(out.as_bytes())?;
    out.push('.');
    jwk_core::b64::encode_into(&sig, &mut out);
    Ok(out)
}
