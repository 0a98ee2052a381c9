//! JSON Web Key Sets (RFC 7517 section 5): one odd key never sinks the set.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::b64;
use crate::error::{Error, Part};
use crate::json::{self, Node};
use crate::jwk::Jwk;

/// A parsed key set: the keys usable for verifying signatures, and the ones set aside.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct JwkSet {
    /// Keys that parsed and may verify signatures, in document order.
    pub keys: Vec<Jwk>,
    /// Keys set aside, each with its position in the document and the reason.
    pub rejected: Vec<RejectedKey>,
}

/// A member of `keys` that cannot be used, with why.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RejectedKey {
    /// Position in the document's `keys` array.
    pub index: usize,
    /// `kid`, when the entry had a string one.
    pub kid: Option<String>,
    /// `kty`, when the entry had a string one.
    pub kty: Option<String>,
    /// `alg`, when the entry had a string one (known to this crate or not).
    pub alg: Option<String>,
    /// `use`, when the entry had a string one.
    pub key_use: Option<String>,
    /// `crv`, when the entry had a string one.
    pub crv: Option<String>,
    /// `key_ops`, when the entry had an array of strings.
    pub key_ops: Option<Vec<String>>,
    /// The key size in bits where the entry says it: the decoded modulus (RSA) or secret
    /// (`oct`), or the size of a known curve.
    pub bits: Option<usize>,
    /// Why the key was set aside.
    pub reason: Error,
}

impl RejectedKey {
    fn of(index: usize, entry: &Node, reason: Error) -> Self {
        let mut r = RejectedKey {
            index,
            kid: None,
            kty: None,
            alg: None,
            key_use: None,
            crv: None,
            key_ops: None,
            bits: None,
            reason,
        };
        let Node::Object(members) = entry else {
            return r;
        };
        let mut n = None;
        let mut k = None;
        for (name, value) in members {
            match (name.as_str(), value) {
                ("kid", Node::String(s)) if r.kid.is_none() => r.kid = Some(s.clone()),
                ("kty", Node::String(s)) if r.kty.is_none() => r.kty = Some(s.clone()),
                ("alg", Node::String(s)) if r.alg.is_none() => r.alg = Some(s.clone()),
                ("use", Node::String(s)) if r.key_use.is_none() => r.key_use = Some(s.clone()),
                ("crv", Node::String(s)) if r.crv.is_none() => r.crv = Some(s.clone()),
                ("key_ops", Node::Array(ops)) if r.key_ops.is_none() => {
                    r.key_ops = ops
                        .iter()
                        .map(|o| match o {
                            Node::String(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                }
                ("n", Node::String(s)) if n.is_none() => n = Some(s.as_str()),
                ("k", Node::String(s)) if k.is_none() => k = Some(s.as_str()),
                _ => {}
            }
        }
        let decoded_len = |s: Option<&str>| s.and_then(|s| b64::decode(s, Part::Jwk).ok());
        r.bits = match (r.kty.as_deref(), r.crv.as_deref()) {
            (Some("RSA"), _) => decoded_len(n).map(|n| crate::jwk::rsa_bits(&n)),
            (Some("oct"), _) => decoded_len(k).map(|k| k.len() * 8),
            (Some("EC"), Some("P-256" | "secp256k1")) | (Some("OKP"), Some("Ed25519")) => Some(256),
            (Some("EC"), Some("P-384")) => Some(384),
            (Some("EC"), Some("P-521")) => Some(521),
            (Some("OKP"), Some("Ed448")) => Some(456),
            _ => None,
        };
        r
    }

    /// A usable key set aside afterwards (see [`JwkSet::parse_public`]).
    fn from_jwk(index: usize, key: &Jwk, reason: Error) -> Self {
        RejectedKey {
            index,
            kid: key.kid.clone(),
            kty: Some(key.params.kty().into()),
            alg: key.alg_name().map(Into::into),
            key_use: key.key_use.as_ref().map(|u| u.as_str().into()),
            crv: match &key.params {
                crate::KeyParams::Ec(k) => Some(k.crv.as_str().into()),
                crate::KeyParams::Okp(k) => Some(k.crv.as_str().into()),
                _ => None,
            },
            key_ops: key.key_ops.clone(),
            bits: Some(key.bits()),
            reason,
        }
    }
}

impl JwkSet {
    /// A set holding `keys`.
    pub fn new(keys: Vec<Jwk>) -> Self {
        JwkSet {
            keys,
            rejected: Vec::new(),
        }
    }

    /// Parses a JWK Set document.
    ///
    /// The document itself must be a JSON object with a `keys` array and no duplicate members
    /// at the top level; otherwise the whole set is an error. Each entry of `keys` that is not
    /// a usable public signature key (unknown `kty` or `crv`, bad coordinates, private members,
    /// `use: enc`, an encryption `alg`, `key_ops` without `verify`, duplicate members) goes to
    /// [`JwkSet::rejected`] with its reason.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        let members = match json::parse_node(json, Part::JwkSet)? {
            Node::Object(members) => members,
            other => {
                return Err(Error::Json {
                    part: Part::JwkSet,
                    line: 0,
                    column: 0,
                    message: alloc::format!(
                        "a JWK Set must be a JSON object, found {}",
                        other.kind()
                    )
                    .into(),
                })
            }
        };
        if let Some(name) = Node::first_duplicate(&members) {
            return Err(Error::DuplicateMember {
                part: Part::JwkSet,
                name: name.into(),
            });
        }
        let keys = members
            .into_iter()
            .find(|(n, _)| n == "keys")
            .map(|(_, v)| v);
        let entries = match keys {
            Some(Node::Array(entries)) => entries,
            Some(other) => {
                return Err(shape(alloc::format!(
                    "\"keys\" must be an array, found {}",
                    other.kind()
                )))
            }
            None => return Err(shape("\"keys\" is required".into())),
        };
        let mut set = JwkSet::default();
        for (index, entry) in entries.into_iter().enumerate() {
            // The entry is kept to describe it if it is refused (its declared members).
            match Jwk::from_node(entry.clone()).and_then(|k| k.usable_for_verify().map(|()| k)) {
                Ok(key) => set.keys.push(key),
                Err(reason) => set.rejected.push(RejectedKey::of(index, &entry, reason)),
            }
        }
        Ok(set)
    }

    /// Parses a JWK Set read from a public place (a URL: what `jwks-fetch` fetches), where a
    /// shared secret has no business: as [`JwkSet::parse`], then every `oct` key is moved to
    /// [`JwkSet::rejected`] as `private_key` (its `k` is usable by anyone who can read the
    /// set). A local set ([`JwkSet::parse`]) may hold `oct` keys.
    pub fn parse_public(json: &[u8]) -> Result<Self, Error> {
        let mut set = JwkSet::parse(json)?;
        if set
            .keys
            .iter()
            .any(|k| matches!(k.params, crate::KeyParams::Oct(_)))
        {
            // Document positions of the usable keys: the indexes the refused entries leave.
            let total = set.keys.len() + set.rejected.len();
            let positions: Vec<usize> = (0..total)
                .filter(|i| !set.rejected.iter().any(|r| r.index == *i))
                .collect();
            let keys = core::mem::take(&mut set.keys);
            for (key, index) in keys.into_iter().zip(positions) {
                if matches!(key.params, crate::KeyParams::Oct(_)) {
                    set.rejected.push(RejectedKey::from_jwk(
                        index,
                        &key,
                        Error::PrivateKey { member: "k" },
                    ));
                } else {
                    set.keys.push(key);
                }
            }
            set.rejected.sort_by_key(|r| r.index);
        }
        Ok(set)
    }

    /// The usable keys whose `kid` is `kid`.
    pub fn by_kid<'s>(&'s self, kid: &'s str) -> impl Iterator<Item = &'s Jwk> + 's {
        self.keys
            .iter()
            .filter(move |k| k.kid.as_deref() == Some(kid))
    }

    /// Serializes the usable keys as a JWK Set document.
    pub fn to_json(&self) -> String {
        let keys = self.keys.iter().map(Jwk::to_value).collect();
        let mut m = Map::new();
        m.insert("keys".into(), Value::Array(keys));
        Value::Object(m).to_string()
    }
}

fn shape(message: String) -> Error {
    Error::Json {
        part: Part::JwkSet,
        line: 0,
        column: 0,
        message: Box::from(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_entries_set_aside() {
        let doc = br#"{"keys":[null,{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"ok"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"bad"},{"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc","kid":"enc"},{"kty":"zzz"},{"kty":"RSA","kty":"RSA"}]}"#;
        let set = JwkSet::parse(doc).unwrap();
        assert_eq!(set.keys.len(), 1);
        assert_eq!(set.keys[0].kid.as_deref(), Some("ok"));
        let reasons: Vec<_> = set
            .rejected
            .iter()
            .map(|r| (r.index, r.reason.code()))
            .collect();
        assert_eq!(
            reasons,
            [
                (0, "invalid_key"),
                (2, "invalid_key"),
                (3, "not_signing_key"),
                (4, "unsupported_key"),
                (5, "malformed")
            ]
        );
        assert_eq!(set.rejected[1].kid.as_deref(), Some("bad"));
    }

    #[test]
    fn set_aside_keys_keep_their_declared_members() {
        let doc = br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"e","alg":"ES256","use":"enc","key_ops":["verify"],"x":"AA","y":"AA"},{"kty":"zzz","alg":"RS256","kid":"z"},{"kty":"RSA","n":"AQAB","e":"AQAB","key_ops":["encrypt",1]}]}"#;
        let set = JwkSet::parse(doc).unwrap();
        let e = &set.rejected[0];
        assert_eq!(
            (e.alg.as_deref(), e.key_use.as_deref(), e.crv.as_deref()),
            (Some("ES256"), Some("enc"), Some("P-256"))
        );
        assert_eq!(e.key_ops.as_deref(), Some(&["verify".to_string()][..]));
        assert_eq!(e.bits, Some(256));
        let z = &set.rejected[1];
        assert_eq!(
            (z.kty.as_deref(), z.alg.as_deref()),
            (Some("zzz"), Some("RS256"))
        );
        assert_eq!(z.bits, None);
        // key_ops that is not an array of strings is not reported as one.
        assert_eq!(set.rejected[2].key_ops, None);
        assert_eq!(set.rejected[2].bits, Some(17));
    }

    #[test]
    fn public_sets_never_yield_secrets() {
        let doc = br#"{"keys":[null,{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0","kid":"s"},{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"},{"kty":"oct","k":"AAAA"}]}"#;
        let local = JwkSet::parse(doc).unwrap();
        assert_eq!(local.keys.len(), 3);
        let public = JwkSet::parse_public(doc).unwrap();
        assert_eq!(public.keys.len(), 1);
        assert_eq!(public.keys[0].kid.as_deref(), Some("ed"));
        let rejected: Vec<_> = public
            .rejected
            .iter()
            .map(|r| (r.index, r.kid.as_deref(), r.reason.code()))
            .collect();
        assert_eq!(
            rejected,
            [
                (0, None, "invalid_key"),
                (1, Some("s"), "private_key"),
                (3, None, "private_key")
            ]
        );
    }

    #[test]
    fn document_errors() {
        for doc in [
            &b"{"[..],
            b"null",
            b"{}",
            br#"{"keys":null}"#,
            br#"{"keys":{}}"#,
            br#"{"keys":[],"keys":[]}"#,
            b"[]",
        ] {
            let e = JwkSet::parse(doc).unwrap_err();
            assert_eq!(
                e.code(),
                "malformed",
                "{}",
                core::str::from_utf8(doc).unwrap()
            );
        }
        let empty = JwkSet::parse(br#"{"keys":[]}"#).unwrap();
        assert!(empty.keys.is_empty() && empty.rejected.is_empty());
    }
}
