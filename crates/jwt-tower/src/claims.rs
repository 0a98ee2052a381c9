//! What the layer needs to read from claims: `iss` and `sub` for tracing, scopes, role lists.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A claims type the layer can fill and read.
///
/// Every method has a default, so a type that only wants custom checks implements it with
/// `impl AccessClaims for Mine {}`; one that wants scope or role requirements says where they
/// are. [`Claims`] (the default) implements everything from the JSON it holds.
pub trait AccessClaims: DeserializeOwned + Send + Sync + 'static {
    /// `iss`, for the tracing span.
    fn iss(&self) -> Option<&str> {
        None
    }

    /// `sub`, for the tracing span.
    fn sub(&self) -> Option<&str> {
        None
    }

    /// The granted scopes: the space-separated `scope` claim (RFC 8693 4.2) and/or the `scp`
    /// claim (an array, or a space-separated string as some providers send it).
    fn scopes(&self) -> Vec<&str> {
        Vec::new()
    }

    /// The string values of claim `name` (a string, or an array of strings), for role and
    /// group requirements. A dotted name (`realm_access.roles`) walks nested objects.
    fn claim_values(&self, name: &str) -> Vec<&str> {
        let _ = name;
        Vec::new()
    }
}

/// The default claims type: the verified claims set as a JSON object.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(transparent)]
pub struct Claims(pub Map<String, Value>);

impl Claims {
    /// One member by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

impl AccessClaims for Claims {
    fn iss(&self) -> Option<&str> {
        self.0.get("iss").and_then(Value::as_str)
    }

    fn sub(&self) -> Option<&str> {
        self.0.get("sub").and_then(Value::as_str)
    }

    fn scopes(&self) -> Vec<&str> {
        scopes_of(&self.0)
    }

    fn claim_values(&self, name: &str) -> Vec<&str> {
        values_at(&self.0, name)
    }
}

impl AccessClaims for Map<String, Value> {
    fn iss(&self) -> Option<&str> {
        self.get("iss").and_then(Value::as_str)
    }

    fn sub(&self) -> Option<&str> {
        self.get("sub").and_then(Value::as_str)
    }

    fn scopes(&self) -> Vec<&str> {
        scopes_of(self)
    }

    fn claim_values(&self, name: &str) -> Vec<&str> {
        values_at(self, name)
    }
}

/// Ignores every claim: for a layer that only authenticates (no typed pass beyond the
/// registered claims the policy reads).
impl AccessClaims for serde::de::IgnoredAny {}

fn scopes_of(map: &Map<String, Value>) -> Vec<&str> {
    let mut out = Vec::new();
    for name in ["scope", "scp"] {
        out.extend(strings(map.get(name)));
    }
    out
}

fn values_at<'a>(map: &'a Map<String, Value>, name: &str) -> Vec<&'a str> {
    if let Some(v) = map.get(name) {
        return strings(Some(v));
    }
    let mut parts = name.split('.');
    let mut here = parts.next().and_then(|p| map.get(p));
    for p in parts {
        here = here.and_then(|v| v.get(p));
    }
    strings(here)
}

/// A string split on spaces, or an array's string elements.
pub(crate) fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => s.split(' ').filter(|s| !s.is_empty()).collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Claims {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn scopes_from_scope_and_scp() {
        let c = claims(serde_json::json!({"scope": "read  write", "scp": ["admin", 3]}));
        assert_eq!(c.scopes(), ["read", "write", "admin"]);
        let c = claims(serde_json::json!({"scp": "a b"}));
        assert_eq!(c.scopes(), ["a", "b"]);
        assert!(claims(serde_json::json!({"scope": 5})).scopes().is_empty());
    }

    #[test]
    fn roles_by_name_and_path() {
        let c = claims(serde_json::json!({
            "roles": ["admin", "ops"],
            "realm_access": {"roles": ["user"]},
            "a.b": "dotted"
        }));
        assert_eq!(c.claim_values("roles"), ["admin", "ops"]);
        assert_eq!(c.claim_values("realm_access.roles"), ["user"]);
        assert_eq!(c.claim_values("a.b"), ["dotted"]);
        assert!(c.claim_values("groups").is_empty());
    }
}
