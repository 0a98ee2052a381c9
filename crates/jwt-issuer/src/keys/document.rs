//! The published JWKS document: body, strong `ETag`, `max-age`.

use bytes::Bytes;
use jwk_core::{Jwk, JwkSet};
use sha2::{Digest, Sha256};

/// The JWKS document as served: body, strong `ETag`, and the `max-age` to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksDocument {
    /// The JSON body.
    pub body: Bytes,
    /// A strong entity tag, quoted (`"…"`): the base64url SHA-256 of the body, truncated.
    pub etag: String,
    /// `Cache-Control: max-age` in seconds: the pre-publish period, so a cache that fetched
    /// just before a key was added still sees that key before it signs.
    pub max_age: u64,
}

impl JwksDocument {
    /// The document before any key is loaded.
    pub(super) fn empty() -> JwksDocument {
        JwksDocument {
            body: Bytes::from_static(b"{\"keys\":[]}"),
            etag: String::new(),
            max_age: 0,
        }
    }

    /// The document publishing `keys` in this order, with its `ETag`.
    pub(super) fn publish(keys: Vec<Jwk>, max_age: u64) -> JwksDocument {
        let body = JwkSet::new(keys).to_json();
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!("\"{}\"", jwk_core::b64::encode(&digest[..18]));
        JwksDocument {
            body: Bytes::from(body),
            etag,
            max_age,
        }
    }
}
