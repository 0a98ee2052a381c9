//! The JOSE header of a JWS (RFC 7515 section 4).

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::alg::Algorithm;
use crate::error::{Error, Part};
use crate::json::{self, duplicate, fail, KeySeed, Names, Node, NodeSeed, Slot, StrSeed};

/// Header parameter names registered for JWS and JWE (RFC 7515 section 4.1, RFC 7516 section
/// 4.1, RFC 7518 section 4.6 to 4.8). RFC 7515 section 4.1.11: none of them may appear in `crit`.
pub const REGISTERED_NAMES: &[&str] = &[
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc",
    "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
];

/// A parsed JWS header. Unknown members are kept in [`Header::extra`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Header {
    /// `alg` (required). An unregistered name is [`Algorithm::Unknown`]; the name as received
    /// is [`Header::alg_name`].
    pub alg: Algorithm,
    /// `kid`.
    pub kid: Option<String>,
    /// `typ`, as received.
    pub typ: Option<String>,
    /// `cty`.
    pub cty: Option<String>,
    /// `crit`: checked to be non-empty, free of registered names and repeats, and to name
    /// members present in the header. Whether the caller understands each entry is checked by
    /// [`Header::check_crit`].
    pub crit: Option<Vec<String>>,
    /// `jku` (never fetched by this workspace).
    pub jku: Option<String>,
    /// `x5u` (never fetched by this workspace).
    pub x5u: Option<String>,
    /// `x5c`, standard base64 DER certificates as received.
    pub x5c: Option<Vec<String>>,
    /// `x5t`.
    pub x5t: Option<String>,
    /// `x5t#S256`.
    pub x5t_s256: Option<String>,
    /// `jwk`, as untrusted JSON: a header-supplied key is never used to verify.
    pub jwk: Option<Value>,
    /// `b64` (RFC 7797). Only `true` (or absent) is accepted.
    pub b64: Option<bool>,
    /// Members that are not registered, in name order.
    pub extra: Map<String, Value>,
    /// The `alg` text when it names no registered algorithm (`alg` is then `Unknown`); `None`
    /// otherwise, so the usual header allocates nothing for it.
    unknown_alg: Option<Box<str>>,
}

impl Header {
    /// A header with only `alg` set.
    pub fn new(alg: Algorithm) -> Self {
        Header {
            alg,
            kid: None,
            typ: None,
            cty: None,
            crit: None,
            jku: None,
            x5u: None,
            x5c: None,
            x5t: None,
            x5t_s256: None,
            jwk: None,
            b64: None,
            extra: Map::new(),
            unknown_alg: None,
        }
    }

    /// The `alg` name: as received when it is unregistered (`"foo"` for `{"alg":"foo"}`),
    /// else the registered name of [`Header::alg`]. Messages that show a token's algorithm
    /// use this, so an unknown name is shown exactly.
    ///
    /// If `alg` was set to another algorithm after parsing, that algorithm's name is answered;
    /// a hand-set `Unknown` with no name answers `"unknown"`.
    pub fn alg_name(&self) -> &str {
        match (self.alg, &self.unknown_alg) {
            (Algorithm::Unknown, Some(name)) => name,
            (alg, _) => alg.as_str(),
        }
    }

    /// Sets `alg` from a name, keeping the name when it is unregistered (so [`Header::to_json`]
    /// writes it back, and [`Header::alg_name`] answers it).
    pub fn set_alg_name(&mut self, name: &str) {
        self.alg = Algorithm::parse(name);
        self.unknown_alg = (self.alg == Algorithm::Unknown).then(|| name.into());
    }

    /// Parses decoded header JSON strictly.
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        match flat(json) {
            Some(header) => Ok(header),
            None => Self::parse_general(json),
        }
    }

    /// [`Self::parse`] without the fast path for the usual flat header: the reference the fast
    /// path is tested against (through `test_util` with the `test-util` feature).
    pub(crate) fn parse_general(json: &[u8]) -> Result<Self, Error> {
        let slot = Slot::default();
        let header = json::parse_seed(json, Part::Header, &slot, HeaderSeed { slot: &slot })?;
        header.check_structure()?;
        Ok(header)
    }

    /// RFC 7515 section 4.1.11: every `crit` entry must be an extension the caller understands.
    pub fn check_crit(&self, understood: &[&str]) -> Result<(), Error> {
        for name in self.crit.iter().flatten() {
            if !understood.contains(&name.as_str()) {
                return Err(Error::UnsupportedCrit {
                    name: name.as_str().into(),
                    reason: "critical extension not understood",
                });
            }
        }
        Ok(())
    }

    /// The `typ` value without an `application/` prefix, for case-insensitive comparison
    /// (RFC 7515 section 4.1.9).
    pub fn typ_short(&self) -> Option<&str> {
        self.typ.as_deref().map(strip_application)
    }

    /// Serializes the header to JSON (for producers; verification always uses received bytes).
    /// `alg` is written as [`Header::alg_name`]: an unregistered name as received.
    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        map.insert("alg".into(), Value::String(self.alg_name().into()));
        let mut put = |name: &str, v: &Option<String>| {
            if let Some(v) = v {
                map.insert(name.into(), Value::String(v.clone()));
            }
        };
        put("kid", &self.kid);
        put("typ", &self.typ);
        put("cty", &self.cty);
        put("jku", &self.jku);
        put("x5u", &self.x5u);
        put("x5t", &self.x5t);
        put("x5t#S256", &self.x5t_s256);
        let strs = |v: &Vec<String>| Value::Array(v.iter().cloned().map(Value::String).collect());
        if let Some(c) = &self.crit {
            map.insert("crit".into(), strs(c));
        }
        if let Some(c) = &self.x5c {
            map.insert("x5c".into(), strs(c));
        }
        if let Some(j) = &self.jwk {
            map.insert("jwk".into(), j.clone());
        }
        if let Some(b) = self.b64 {
            map.insert("b64".into(), Value::Bool(b));
        }
        for (k, v) in &self.extra {
            map.insert(k.clone(), v.clone());
        }
        Value::Object(map).to_string()
    }

    fn check_structure(&self) -> Result<(), Error> {
        if let Some(crit) = &self.crit {
            if crit.is_empty() {
                return Err(Error::UnsupportedCrit {
                    name: "".into(),
                    reason: "must not be an empty list (RFC 7515 section 4.1.11)",
                });
            }
            let mut seen = Names::default();
            for name in crit {
                let crit_err = |reason| Error::UnsupportedCrit {
                    name: name.as_str().into(),
                    reason,
                };
                if REGISTERED_NAMES.contains(&name.as_str()) {
                    return Err(crit_err(
                        "registered header names must not be listed in crit",
                    ));
                }
                if !seen.insert(Cow::Borrowed(name.as_str())) {
                    return Err(crit_err("listed twice"));
                }
                if !self.has_member(name) {
                    return Err(crit_err("listed in crit but absent from the header"));
                }
            }
        }
        if self.b64 == Some(false) {
            // RFC 7797 unencoded payloads change what the signature covers; JWTs never use
            // them (RFC 7797 section 7), so they are refused rather than half-supported.
            return Err(Error::UnsupportedCrit {
                name: "b64".into(),
                reason: "unencoded payloads (b64: false, RFC 7797) are not supported",
            });
        }
        Ok(())
    }

    fn has_member(&self, name: &str) -> bool {
        match name {
            "b64" => self.b64.is_some(),
            other => self.extra.contains_key(other),
        }
    }
}

/// The usual header, `{"alg":"..","typ":"..","kid":".."}`, read without the general parser:
/// an object whose members are among `alg`, `kid`, `typ` and `cty`, each once, `alg` present,
/// every name and value a string with no escape and no control character, the whole text
/// UTF-8, JSON whitespace anywhere it may be (read with the flat claims path's `Reader`).
/// Anything else is `None`, and the general parser answers (with the same header, or the
/// error). Header parsing is on every validation's path: this
/// takes it from about 240 ns to about 50 ns.
fn flat(json: &[u8]) -> Option<Header> {
    use crate::flat::{next_name, Reader};
    let mut r = Reader::new(core::str::from_utf8(json).ok()?);
    r.ws();
    r.eat(b'{').ok()?;
    let mut h = Header::new(Algorithm::None);
    let mut seen = 0u8;
    let (mut first, mut done) = (true, false);
    while let Some(name) = next_name(&mut r, &mut first, &mut done).ok()? {
        let value = r.string().ok()?;
        let bit = match name {
            "alg" => {
                h.set_alg_name(value);
                1
            }
            "kid" => {
                h.kid = Some(value.into());
                2
            }
            "typ" => {
                h.typ = Some(value.into());
                4
            }
            "cty" => {
                h.cty = Some(value.into());
                8
            }
            _ => return None,
        };
        if seen & bit != 0 {
            return None;
        }
        seen |= bit;
    }
    r.ws();
    (r.at_end() && seen & 1 != 0).then_some(h)
}

/// Lowercases nothing; strips an ASCII-case-insensitive `application/` prefix.
pub fn strip_application(typ: &str) -> &str {
    const PREFIX: &str = "application/";
    match typ.get(..PREFIX.len()) {
        Some(p) if p.eq_ignore_ascii_case(PREFIX) && !typ[PREFIX.len()..].contains('/') => {
            &typ[PREFIX.len()..]
        }
        _ => typ,
    }
}

struct HeaderSeed<'s> {
    slot: &'s Slot,
}

impl<'de> DeserializeSeed<'de> for HeaderSeed<'_> {
    type Value = Header;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Header, D::Error> {
        d.deserialize_map(self)
    }
}

fn invalid<E: de::Error>(slot: &Slot, member: &'static str, reason: &'static str) -> E {
    fail(slot, Error::InvalidHeader { member, reason })
}

impl<'de> Visitor<'de> for HeaderSeed<'_> {
    type Value = Header;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
        let slot = self.slot;
        let mut names = Names::default();
        let mut alg = None;
        let mut h = Header::new(Algorithm::None);
        let seed = NodeSeed {
            depth: 1,
            part: Part::Header,
            slot,
        };
        while let Some(name) = map.next_key_seed(KeySeed)? {
            if !names.insert(name.clone()) {
                return Err(duplicate(slot, Part::Header, &name));
            }
            if name == "alg" {
                // Read without allocating: only the algorithm it names is kept (and the name
                // itself only when it is unregistered).
                match map.next_value_seed(StrSeed(seed))? {
                    Ok(s) => {
                        h.set_alg_name(&s);
                        alg = Some(h.alg);
                    }
                    Err(_) => return Err(invalid(slot, "alg", "must be a string")),
                }
                continue;
            }
            let node = map.next_value_seed(seed)?;
            macro_rules! string {
                ($field:expr, $member:literal) => {
                    $field = Some(json::string(node).map_err(|r| invalid(slot, $member, r))?)
                };
            }
            macro_rules! strings {
                ($field:expr, $member:literal) => {
                    $field = Some(json::strings(node).map_err(|r| invalid(slot, $member, r))?)
                };
            }
            match &*name {
                "kid" => string!(h.kid, "kid"),
                "typ" => string!(h.typ, "typ"),
                "cty" => string!(h.cty, "cty"),
                "jku" => string!(h.jku, "jku"),
                "x5u" => string!(h.x5u, "x5u"),
                "x5t" => string!(h.x5t, "x5t"),
                "x5t#S256" => string!(h.x5t_s256, "x5t#S256"),
                // A malformed crit is still a crit the library cannot honour: the contract
                // answers unsupported_crit for it, not malformed.
                "crit" => match json::strings(node) {
                    Ok(names) => h.crit = Some(names),
                    Err(_) => {
                        return Err(fail(
                            slot,
                            Error::UnsupportedCrit {
                                name: "".into(),
                                reason: "crit must be an array of strings",
                            },
                        ))
                    }
                },
                "x5c" => strings!(h.x5c, "x5c"),
                "jwk" => match node {
                    Node::Object(_) => {
                        h.jwk = Some(node.into_value(Part::Header).map_err(|e| fail(slot, e))?)
                    }
                    _ => return Err(invalid(slot, "jwk", "must be an object")),
                },
                "b64" => match node {
                    Node::Bool(b) => h.b64 = Some(b),
                    _ => return Err(invalid(slot, "b64", "must be a boolean")),
                },
                "zip" => {
                    return Err(invalid(
                        slot,
                        "zip",
                        "compression is defined for JWE only, not JWS",
                    ))
                }
                "enc" => {
                    return Err(invalid(
                        slot,
                        "enc",
                        "an \"enc\" header means a JWE, not a JWS",
                    ))
                }
                _ => {
                    let value = node.into_value(Part::Header).map_err(|e| fail(slot, e))?;
                    h.extra.insert(Cow::into_owned(name), value);
                }
            }
        }
        h.alg = alg.ok_or_else(|| invalid(slot, "alg", "is required (RFC 7515 section 4.1.1)"))?;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Header, Error> {
        Header::parse(s.as_bytes())
    }

    /// `Algorithm` keeps no unregistered name; the header does, on both parse paths, and
    /// writes it back.
    #[test]
    fn unknown_alg_name_is_kept_and_written_back() {
        for json in [
            r#"{"alg":"HS256-Foo","kid":"k"}"#,
            r#"{"alg":"HS256-Foo","kid":"k","x":1}"#,
        ] {
            for h in [
                parse(json).unwrap(),
                Header::parse_general(json.as_bytes()).unwrap(),
            ] {
                assert_eq!(h.alg, Algorithm::Unknown, "{json}");
                assert_eq!(h.alg_name(), "HS256-Foo", "{json}");
                let back: Value = serde_json::from_str(&h.to_json()).unwrap();
                assert_eq!(back["alg"], "HS256-Foo", "{json}");
                // Set to a registered algorithm: the old name is no longer answered.
                let mut h = h;
                h.alg = Algorithm::Rs256;
                assert_eq!(h.alg_name(), "RS256");
            }
        }
        // Case-sensitive: "None" is unknown and kept as written.
        let h = parse(r#"{"alg":"None"}"#).unwrap();
        assert_eq!((h.alg, h.alg_name()), (Algorithm::Unknown, "None"));
        // A registered name keeps nothing extra, and equal headers stay equal.
        let h = parse(r#"{"alg":"ES256"}"#).unwrap();
        assert_eq!(h, Header::new(Algorithm::Es256));
        assert_eq!(h.alg_name(), "ES256");
        // By hand: `Unknown` alone is written "unknown"; `set_alg_name` keeps a name.
        assert_eq!(Header::new(Algorithm::Unknown).alg_name(), "unknown");
        let mut h = Header::new(Algorithm::None);
        h.set_alg_name("x-custom");
        assert_eq!((h.alg, h.alg_name()), (Algorithm::Unknown, "x-custom"));
        h.set_alg_name("EdDSA");
        assert_eq!((h.alg, h.alg_name()), (Algorithm::EdDsa, "EdDSA"));
        assert_eq!(h, Header::new(Algorithm::EdDsa));
    }

    #[test]
    fn typed_members_and_extras() {
        let h =
            parse(r#"{"alg":"ES256","kid":"k1","typ":"at+jwt","x5t#S256":"abc","ext":{"a":[1]}}"#)
                .unwrap();
        assert_eq!(h.alg, Algorithm::Es256);
        assert_eq!(h.kid.as_deref(), Some("k1"));
        assert_eq!(h.x5t_s256.as_deref(), Some("abc"));
        assert_eq!(h.extra.get("ext"), Some(&serde_json::json!({"a":[1]})));
        assert_eq!(parse(&h.to_json()).unwrap(), h);
    }

    #[test]
    fn strictness() {
        assert_eq!(
            parse(r#"{"alg":"RS256","alg":"none"}"#).unwrap_err(),
            Error::DuplicateMember {
                part: Part::Header,
                name: "alg".into()
            }
        );
        assert_eq!(parse(r#"{"kid":"a"}"#).unwrap_err().code(), "malformed");
        assert_eq!(parse(r#"{"alg":1}"#).unwrap_err().code(), "malformed");
        // A non-string alg is the same typed error whatever its JSON type; an escaped one is
        // read like any string.
        for bad in [r#"{"alg":null}"#, r#"{"alg":[1]}"#, r#"{"alg":{"a":1}}"#] {
            assert_eq!(
                parse(bad).unwrap_err(),
                Error::InvalidHeader {
                    member: "alg",
                    reason: "must be a string"
                },
                "{bad}"
            );
        }
        assert_eq!(
            parse(r#"{"alg":"ES\u0032\u0035\u0036"}"#).unwrap().alg,
            Algorithm::Es256
        );
        assert_eq!(parse(r#"["alg"]"#).unwrap_err().code(), "malformed");
        assert_eq!(
            parse(r#"{"alg":"HS256","zip":"DEF"}"#).unwrap_err().code(),
            "malformed"
        );
        assert_eq!(
            parse(r#"{"alg":"HS256","kid":null}"#).unwrap_err().code(),
            "malformed"
        );
        assert_eq!(
            parse(r#"{"alg":"HS256","x":{"y":1,"y":2}}"#)
                .unwrap_err()
                .code(),
            "malformed"
        );
    }

    #[test]
    fn crit_rules() {
        let code = |s| parse(s).unwrap_err().code();
        assert_eq!(code(r#"{"alg":"HS256","crit":[]}"#), "unsupported_crit");
        assert_eq!(
            code(r#"{"alg":"HS256","crit":["alg"]}"#),
            "unsupported_crit"
        );
        assert_eq!(
            code(r#"{"alg":"HS256","crit":["exp"]}"#),
            "unsupported_crit"
        );
        // Issue 11 item 6: a malformed crit (not an array, a non-string entry) is
        // unsupported_crit, as the contract says.
        for header in [
            r#"{"alg":"HS256","crit":"exp","exp":1}"#,
            r#"{"alg":"HS256","crit":["exp",1],"exp":1}"#,
            r#"{"alg":"HS256","crit":[null]}"#,
            r#"{"alg":"HS256","crit":{}}"#,
            r#"{"alg":"HS256","crit":null}"#,
        ] {
            assert_eq!(code(header), "unsupported_crit", "{header}");
        }
        assert_eq!(
            code(r#"{"alg":"HS256","crit":["exp","exp"],"exp":1}"#),
            "unsupported_crit"
        );
        assert_eq!(
            code(r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#),
            "unsupported_crit"
        );
        let h = parse(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#).unwrap();
        assert_eq!(h.check_crit(&[]).unwrap_err().code(), "unsupported_crit");
        assert_eq!(h.check_crit(&["exp"]), Ok(()));
        assert!(parse(r#"{"alg":"HS256","b64":true}"#).is_ok());
    }

    #[test]
    fn flat_headers_take_the_fast_path() {
        for json in [
            r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#,
            " {\n\t\"kid\" : \"k\" ,\r\"alg\":\"ES256\",\"cty\":\"JWT\"} ",
            r#"{"alg":"none"}"#,
            "{\"alg\":\"caf\u{e9}\"}",
        ] {
            let fast = flat(json.as_bytes()).expect(json);
            assert_eq!(Ok(fast), Header::parse_general(json.as_bytes()), "{json}");
        }
        for json in [
            r#"{"alg":"RS256","alg":"none"}"#,
            r#"{"kid":"k"}"#,
            r#"{}"#,
            r#"{"alg":"RS\u0032"}"#,
            r#"{"alg":"RS256","crit":["x"],"x":1}"#,
            r#"{"alg":"RS256",}"#,
            r#"{"alg":"RS256"} x"#,
            r#"{"alg":1}"#,
            "{\"alg\":\"a\tb\"}",
        ] {
            assert_eq!(flat(json.as_bytes()), None, "{json}");
        }
        assert_eq!(flat(b"{\"alg\":\"\xff\"}"), None);
    }

    #[test]
    fn typ_prefix() {
        assert_eq!(strip_application("application/at+jwt"), "at+jwt");
        assert_eq!(strip_application("Application/JWT"), "JWT");
        assert_eq!(strip_application("at+jwt"), "at+jwt");
        assert_eq!(strip_application("application/a/b"), "application/a/b");
    }
}
