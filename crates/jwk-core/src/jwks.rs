//! JSON Web Key Sets (RFC 7517 section 5): one odd key never sinks the set.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;

use serde_json::{Map, Value};

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
    /// Why the key was set aside.
    pub reason: Error,
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
            let (kid, kty) = ids(&entry);
            match Jwk::from_node(entry).and_then(|k| k.usable_for_verify().map(|()| k)) {
                Ok(key) => set.keys.push(key),
                Err(reason) => set.rejected.push(RejectedKey {
                    index,
                    kid,
                    kty,
                    reason,
                }),
            }
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

fn ids(entry: &Node) -> (Option<String>, Option<String>) {
    let mut kid = None;
    let mut kty = None;
    if let Node::Object(members) = entry {
        for (name, value) in members {
            if let Node::String(s) = value {
                match name.as_str() {
                    "kid" if kid.is_none() => kid = Some(s.clone()),
                    "kty" if kty.is_none() => kty = Some(s.clone()),
                    _ => {}
                }
            }
        }
    }
    (kid, kty)
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
