//! What changed between two key sets.

use std::collections::BTreeMap;

use jwk_core::JwkSet;

/// The difference between the set held and a newly fetched one. Keys are named by `kid`, or
/// `thumbprint:<RFC 7638 thumbprint>` when they have none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySetDiff {
    /// Names present now and not before.
    pub added: Vec<String>,
    /// Names present before and not now.
    pub removed: Vec<String>,
    /// The same `kid` with different key material: worth an alarm (a key was replaced under
    /// the same name, which is how key substitution looks too).
    pub changed: Vec<String>,
}

impl KeySetDiff {
    /// Compares `old` (none before the first load) with `new`.
    pub fn between(old: Option<&JwkSet>, new: &JwkSet) -> KeySetDiff {
        let before = old.map(index).unwrap_or_default();
        let after = index(new);
        let mut diff = KeySetDiff::default();
        for (name, prints) in &after {
            match before.get(name) {
                None => diff.added.push(name.clone()),
                Some(old_prints) if old_prints != prints => diff.changed.push(name.clone()),
                Some(_) => {}
            }
        }
        for name in before.keys() {
            if !after.contains_key(name) {
                diff.removed.push(name.clone());
            }
        }
        diff
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl core::fmt::Display for KeySetDiff {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "added [{}] removed [{}] changed [{}]",
            self.added.join(", "),
            self.removed.join(", "),
            self.changed.join(", ")
        )
    }
}

/// name -> sorted thumbprints (and `alg`, so a republished key with another `alg` counts as
/// changed).
fn index(set: &JwkSet) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in &set.keys {
        let print = key.thumbprint();
        let name = match &key.kid {
            Some(kid) => kid.clone(),
            None => format!("thumbprint:{print}"),
        };
        let alg = key.alg_name().unwrap_or("");
        map.entry(name).or_default().push(format!("{print}/{alg}"));
    }
    for prints in map.values_mut() {
        prints.sort_unstable();
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}"#;
    const A2: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURs","kid":"a"}"#;
    const B: &str = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"b"}"#;
    const NOKID: &str =
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn set(keys: &[&str]) -> JwkSet {
        JwkSet::parse(format!("{{\"keys\":[{}]}}", keys.join(",")).as_bytes()).unwrap()
    }

    #[test]
    fn added_removed_changed() {
        let d = KeySetDiff::between(Some(&set(&[A, B])), &set(&[A2, NOKID]));
        assert_eq!(d.changed, ["a"]);
        assert_eq!(d.removed, ["b"]);
        assert_eq!(d.added.len(), 1);
        assert!(d.added[0].starts_with("thumbprint:"));
        assert!(KeySetDiff::between(Some(&set(&[A])), &set(&[A])).is_empty());
        assert_eq!(KeySetDiff::between(None, &set(&[A, B])).added, ["a", "b"]);
    }
}
