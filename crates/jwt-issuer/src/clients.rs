//! Known clients and their authentication at the token endpoint (RFC 6749 section 2.3,
//! RFC 7521 section 4.2, RFC 7523 sections 2.2 and 3).

use core::fmt;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::Argon2;
use jwk_core::Algorithm;
use jwt_validate::KeySource;

use crate::error::Error;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 section 2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest client secret accepted (bounds the hashing work a request can cause).
pub(crate) const MAX_SECRET_LEN: usize = 512;

/// How a client authenticates at the token endpoint (the `token_endpoint_auth_method` names of
/// RFC 7591).
#[derive(Clone)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the client id and secret (RFC 6749 2.3.1).
    SecretBasic(SecretHash),
    /// `client_secret_post`: `client_id` and `client_secret` form parameters.
    SecretPost(SecretHash),
    /// `private_key_jwt`: a JWT signed with one of the client's keys (RFC 7523 2.2).
    PrivateKeyJwt {
        /// The client's public keys: a `jwks-fetch` remote set for `jwks_uri`, or static keys.
        keys: Arc<dyn KeySource>,
        /// Algorithms accepted. Empty: every asymmetric algorithm.
        algorithms: Vec<Algorithm>,
    },
    /// `none`: a public client naming itself with the `client_id` parameter.
    None,
}

impl ClientAuth {
    /// The RFC 7591 method name.
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::SecretBasic(_) => "client_secret_basic",
            ClientAuth::SecretPost(_) => "client_secret_post",
            ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt",
            ClientAuth::None => "none",
        }
    }
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.method())
    }
}

/// A client secret stored as an Argon2id PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`),
/// never in clear. Checked in constant time by the `argon2` crate.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// Parses a PHC string made by [`hash_client_secret`] (or any Argon2id PHC string).
    pub fn parse(phc: &str) -> Result<SecretHash, Error> {
        let h = PasswordHash::new(phc)
            .map_err(|e| Error::config(format!("client secret hash is not a PHC string: {e}")))?;
        if h.algorithm.as_str() != "argon2id" {
            return Err(Error::config(
                "client secret hash must be Argon2id ($argon2id$...): make one with \
                 `jwkctl client-secret-hash`",
            ));
        }
        Ok(SecretHash(phc.to_owned()))
    }

    /// True when `secret` matches.
    pub(crate) fn verify(&self, secret: &str) -> bool {
        match PasswordHash::new(&self.0) {
            Ok(h) => Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// The PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// Hashes a client secret with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes, one
/// lane; a random 16-byte salt) into the PHC string a `[[clients]]` entry stores.
pub fn hash_client_secret(secret: &str) -> Result<String, Error> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(Error::config(format!(
            "a client secret must have 1 to {MAX_SECRET_LEN} bytes"
        )));
    }
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|e| Error::config(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::config(format!("hashing: {e}")))
}

/// A client registered with the token service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Client {
    /// Its identifier (`client_id` of issued tokens).
    pub client_id: String,
    /// How it authenticates.
    pub auth: ClientAuth,
    /// The trusted issuers whose assertions it may exchange (each must be trusted by the
    /// service). Empty: none.
    pub trusted_issuers: Vec<String>,
    /// The scopes it may get (a granted scope must also be allowed for the assertion's
    /// issuer). Empty: none.
    pub scopes: Vec<String>,
}

impl Client {
    /// A client `client_id` authenticating with `auth`, allowed no issuer and no scope yet.
    pub fn new(client_id: impl Into<String>, auth: ClientAuth) -> Self {
        Client {
            client_id: client_id.into(),
            auth,
            trusted_issuers: Vec::new(),
            scopes: Vec::new(),
        }
    }

    /// The trusted issuers whose assertions it may exchange.
    pub fn trusted_issuers(mut self, issuers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.trusted_issuers = issuers.into_iter().map(Into::into).collect();
        self
    }

    /// The scopes it may get.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// How the request tried to authenticate, read from the Authorization header and the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Presented {
    /// Nothing but maybe a `client_id` parameter.
    Nothing(Option<String>),
    /// HTTP Basic (decoded id and secret); `None` when the header did not decode.
    Basic(Option<(String, String)>),
    /// `client_secret` in the form (with `client_id`).
    Post {
        client_id: Option<String>,
        secret: String,
    },
    /// `client_assertion` (with an optional `client_id`).
    Jwt {
        client_id: Option<String>,
        assertion: String,
    },
    /// Another Authorization scheme.
    OtherScheme,
}

impl Presented {
    /// Whether HTTP Basic was tried (the 401 then carries `WWW-Authenticate: Basic`).
    pub(crate) fn tried_basic(&self) -> bool {
        matches!(self, Presented::Basic(_))
    }
}

/// Decodes `Authorization: Basic ...`: base64 of `id:secret`, each form-urlencoded
/// (RFC 6749 section 2.3.1). `None` when it does not decode.
pub(crate) fn decode_basic(value: &str) -> Option<(String, String)> {
    use base64::Engine as _;
    let b64 = value.trim();
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = crate::oauth::form_decode(id.as_bytes()).ok()?;
    let secret = crate::oauth::form_decode(secret.as_bytes()).ok()?;
    (!id.is_empty()).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hash_and_verify() {
        let phc = hash_client_secret("s3cret pass").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        let h = SecretHash::parse(&phc).unwrap();
        assert!(h.verify("s3cret pass"));
        assert!(!h.verify("s3cret pasS"));
        assert!(!h.verify(""));
        // Salted: the same secret hashes differently each time.
        assert_ne!(hash_client_secret("s3cret pass").unwrap(), phc);
        assert_eq!(
            SecretHash::parse("plain").unwrap_err().code(),
            "invalid_config"
        );
        let argon2i = phc.replace("$argon2id$", "$argon2i$");
        assert_eq!(
            SecretHash::parse(&argon2i).unwrap_err().code(),
            "invalid_config"
        );
        assert!(hash_client_secret("").is_err());
        // Debug never shows the hash.
        assert_eq!(format!("{h:?}"), "SecretHash(..)");
    }

    #[test]
    fn basic_credentials() {
        use base64::Engine as _;
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            decode_basic(&enc("my%20app:p%3Ass+w")),
            Some(("my app".into(), "p:ss w".into()))
        );
        assert_eq!(decode_basic(&enc("nocolon")), None);
        assert_eq!(decode_basic(&enc(":secret")), None);
        assert_eq!(decode_basic("!!!"), None);
    }
}
