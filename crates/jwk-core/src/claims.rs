//! JWT claims sets (RFC 7519 section 4).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Part};
use crate::flat;
use crate::json::{
    self, duplicate, fail, Check, CheckedJson, KeySeed, Names, Node, NodeSeed, Slot,
};

/// A NumericDate (RFC 7519 section 2): seconds since the epoch, with an optional fraction.
///
/// Accepted range: -62135596800 (0001-01-01T00:00:00Z) to 253402300799
/// (9999-12-31T23:59:59Z). A date before 1970 is a valid NumericDate (RFC 7519 section 2
/// allows any JSON number): a negative `exp` is simply expired, a negative `nbf` or `iat` lies
/// in the past. Non-finite values and values outside the range are `invalid_claim`: no real
/// token needs them, and a clamp would hide a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NumericDate {
    secs: i64,
    nanos: u32,
}

impl NumericDate {
    /// The largest accepted value, 9999-12-31T23:59:59Z.
    pub const MAX_SECS: i64 = 253_402_300_799;

    /// The smallest accepted value, 0001-01-01T00:00:00Z.
    pub const MIN_SECS: i64 = -62_135_596_800;

    /// A whole number of seconds; `None` outside `MIN_SECS..=MAX_SECS`.
    pub fn from_secs(secs: i64) -> Option<Self> {
        (Self::MIN_SECS..=Self::MAX_SECS)
            .contains(&secs)
            .then_some(NumericDate { secs, nanos: 0 })
    }

    /// Whole seconds, rounded toward negative infinity (the date is `secs() + subsec_nanos()`;
    /// -1.5 is `-2` and 500000000 ns).
    pub fn secs(self) -> i64 {
        self.secs
    }

    /// The fractional part in nanoseconds, always added to [`NumericDate::secs`].
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    fn from_node(node: &Node) -> Result<Self, &'static str> {
        let Node::Number(n) = node else {
            return Err("must be a number (NumericDate)");
        };
        if let Some(u) = n.as_u64() {
            return Self::from_u64(u);
        }
        if let Some(i) = n.as_i64() {
            return Self::from_i64(i);
        }
        Self::from_f64(n.as_f64().ok_or(OUT_OF_RANGE)?)
    }

    /// A JSON integer read as a NumericDate.
    pub(crate) fn from_u64(u: u64) -> Result<Self, &'static str> {
        i64::try_from(u)
            .ok()
            .and_then(Self::from_secs)
            .ok_or(OUT_OF_RANGE)
    }

    /// A negative JSON integer (`serde_json` gives non-negative ones as `u64`).
    pub(crate) fn from_i64(i: i64) -> Result<Self, &'static str> {
        Self::from_secs(i).ok_or(OUT_OF_RANGE)
    }

    /// A JSON number with a fraction or an exponent.
    pub(crate) fn from_f64(f: f64) -> Result<Self, &'static str> {
        if !f.is_finite() || f < Self::MIN_SECS as f64 || f > Self::MAX_SECS as f64 {
            return Err(OUT_OF_RANGE);
        }
        let secs = libm_floor(f);
        let nanos = ((f - secs as f64) * 1e9) as u32;
        Ok(NumericDate {
            secs,
            nanos: nanos.min(999_999_999),
        })
    }
}

/// `f.floor() as i64` for a finite `f` inside the NumericDate range (`f64::floor` is not in
/// `core`): truncation toward zero, one less for a negative value with a fraction.
fn libm_floor(f: f64) -> i64 {
    let t = f as i64;
    if (t as f64) > f {
        t - 1
    } else {
        t
    }
}

const OUT_OF_RANGE: &str = "NumericDate out of range (-62135596800 to 253402300799)";

impl fmt::Display for NumericDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            write!(f, "{}", self.secs)
        } else if self.secs < 0 {
            // secs is floored: -1.5 is stored as -2 + 0.5.
            let frac = alloc::format!("{:09}", 1_000_000_000 - self.nanos);
            write!(f, "-{}.{}", -(self.secs + 1), frac.trim_end_matches('0'))
        } else {
            let frac = alloc::format!("{:09}", self.nanos);
            write!(f, "{}.{}", self.secs, frac.trim_end_matches('0'))
        }
    }
}

/// The `aud` claim: one string or an array of strings, as received. Each value borrows from
/// the claims text where it has no escapes ([`Claims`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience<'a> {
    /// `"aud": "x"`.
    One(Cow<'a, str>),
    /// `"aud": ["x", "y"]` (possibly empty).
    Many(Vec<Cow<'a, str>>),
}

impl Audience<'_> {
    /// Every audience value.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let s: &[Cow<'_, str>] = match self {
            Audience::One(s) => core::slice::from_ref(s),
            Audience::Many(v) => v,
        };
        s.iter().map(|c| &**c)
    }

    /// True when `aud` names `value` (exact, case-sensitive: RFC 7519 section 4.1.3).
    pub fn contains(&self, value: &str) -> bool {
        self.iter().any(|a| a == value)
    }

    /// True for an empty array.
    pub fn is_empty(&self) -> bool {
        matches!(self, Audience::Many(v) if v.is_empty())
    }

    /// The same values, owned (copies what is borrowed).
    pub fn into_owned(self) -> Audience<'static> {
        match self {
            Audience::One(s) => Audience::One(own(s)),
            Audience::Many(v) => Audience::Many(v.into_iter().map(own).collect()),
        }
    }
}

fn own(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

/// A JWT claims set. The registered claims are typed; all members are kept as the received JSON.
///
/// One type for borrowed and owned claims: [`Claims::parse`] borrows from its input (string
/// claims are [`Cow::Borrowed`] where the text has no escapes and the usual claims set takes
/// the flat fast path, owned otherwise), [`Claims::parse_owned`] and [`Claims::into_owned`]
/// give a `Claims<'static>` that can be stored or sent to another thread.
///
/// A registered claim of the wrong JSON type is an error when parsing, never read as absent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claims<'a> {
    /// `iss`.
    pub iss: Option<Cow<'a, str>>,
    /// `sub`.
    pub sub: Option<Cow<'a, str>>,
    /// `aud`.
    pub aud: Option<Audience<'a>>,
    /// `exp`.
    pub exp: Option<NumericDate>,
    /// `nbf`.
    pub nbf: Option<NumericDate>,
    /// `iat`.
    pub iat: Option<NumericDate>,
    /// `jti`.
    pub jti: Option<Cow<'a, str>>,
    raw: Cow<'a, str>,
}

impl<'a> Claims<'a> {
    /// No claims, `raw` as the kept JSON.
    pub(crate) fn empty(raw: Cow<'a, str>) -> Self {
        Claims {
            iss: None,
            sub: None,
            aud: None,
            exp: None,
            nbf: None,
            iat: None,
            jti: None,
            raw,
        }
    }

    /// Parses a decoded payload strictly: a JSON object, no duplicate member at any depth,
    /// bounded nesting, registered claims of the right type. The claims borrow from `json`
    /// (see [`Claims`]); [`Self::into_owned`] detaches them.
    pub fn parse(json: &'a [u8]) -> Result<Self, Error> {
        let text = utf8(json)?;
        match flat::parse_into::<de::IgnoredAny>(text) {
            Some((claims, _)) => Ok(claims),
            None => Self::parse_general(json),
        }
    }

    /// [`Self::parse`] without the flat fast path (`crate::flat`): the reference that path is
    /// tested and fuzzed against (through `test_util` with the `test-util` feature).
    pub(crate) fn parse_general(json: &'a [u8]) -> Result<Self, Error> {
        // UTF-8 once, up front (RFC 8259 section 8.1: JSON text is UTF-8); the JSON parser
        // then reads a `str` and does not check every string again.
        let text = utf8(json)?;
        let mut claims = general(text)?;
        claims.raw = Cow::Borrowed(text);
        Ok(claims)
    }

    /// [`Self::parse`] taking the decoded payload by value: its buffer becomes
    /// [`Self::raw_json`] without a copy, and the claims own their values.
    pub fn parse_owned(json: Vec<u8>) -> Result<Claims<'static>, Error> {
        let text = String::from_utf8(json).map_err(|e| not_utf8(e.utf8_error()))?;
        // The usual claims set takes the flat path (see `crate::flat`); the rest, and every
        // error, the general parser.
        let mut claims = match flat::parse_into::<de::IgnoredAny>(&text) {
            Some((claims, _)) => claims.owned_values(),
            None => general(&text)?,
        };
        claims.raw = Cow::Owned(text);
        Ok(claims)
    }

    /// Parses a decoded payload strictly (as [`Claims::parse`]: a JSON object, no duplicate
    /// member at any depth, bounded nesting, registered claims of the right type) and
    /// deserializes it into `T` in the same pass. `T` may borrow from `json`.
    ///
    /// The usual claims set takes one pass through the flat reader (`crate::flat`), which
    /// checks it, reads the registered claims and fills `T` at once. Anything it declines (an
    /// escape, a fraction, a negative number, a `RawValue`, any error) takes two: the general
    /// strict parser, then `serde_json` over the text it checked ([`CheckedJson`]). The flat
    /// reader changes the cost, never the answer.
    ///
    /// Errors: those of [`Claims::parse`] first; then `T`'s own, as [`Error::Json`].
    pub fn parse_into<T: Deserialize<'a>>(json: &'a [u8]) -> Result<(Self, T), Error> {
        let text = utf8(json)?;
        if let Some(done) = flat::parse_into(text) {
            return Ok(done);
        }
        let claims = Self::parse_general(json)?;
        let t = CheckedJson::new(text).deserialize_as()?;
        Ok((claims, t))
    }

    /// The same claims, owning every value (copies what is borrowed): for storing them or
    /// sending them to another thread after the input is gone.
    pub fn into_owned(mut self) -> Claims<'static> {
        let raw = core::mem::take(&mut self.raw).into_owned();
        let mut claims = self.owned_values();
        claims.raw = Cow::Owned(raw);
        claims
    }

    /// The registered claims owned, with an empty `raw` for the caller to set.
    fn owned_values(self) -> Claims<'static> {
        Claims {
            iss: self.iss.map(own),
            sub: self.sub.map(own),
            aud: self.aud.map(Audience::into_owned),
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
            jti: self.jti.map(own),
            raw: Cow::Borrowed(""),
        }
    }

    /// The claims set as received (decoded from base64url, not re-serialized).
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The claims as a JSON value (parses the text again: for rare lookups).
    pub fn to_value(&self) -> Value {
        json::parse_value(self.raw.as_bytes(), Part::Payload).unwrap_or(Value::Null)
    }

    /// One member by name, as JSON (parses the text again: for rare lookups).
    pub fn get(&self, name: &str) -> Option<Value> {
        match self.to_value() {
            Value::Object(mut m) => m.remove(name),
            _ => None,
        }
    }

    /// Deserializes the whole claims set into the caller's type. Safe against duplicate-member
    /// tricks: the same bytes already passed the strict parse.
    pub fn deserialize_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.checked_json().deserialize_as()
    }

    /// The claims set as received, as JSON that passed the strict parse: for a type that
    /// borrows from it ([`CheckedJson::deserialize_as`]).
    pub fn checked_json(&self) -> CheckedJson<'_> {
        CheckedJson::new(&self.raw)
    }
}

/// The general strict parse of `text`, values owned, `raw` empty.
fn general(text: &str) -> Result<Claims<'static>, Error> {
    let slot = Slot::default();
    json::parse_seed_str(text, Part::Payload, &slot, ClaimsSeed { slot: &slot })
}

fn utf8(json: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(json).map_err(not_utf8)
}

fn not_utf8(e: core::str::Utf8Error) -> Error {
    Error::Json {
        part: Part::Payload,
        line: 0,
        column: e.valid_up_to(),
        message: "not UTF-8".into(),
    }
}

struct ClaimsSeed<'s> {
    slot: &'s Slot,
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = Claims<'static>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Claims<'static>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = Claims<'static>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (JWT claims set)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims<'static>, A::Error> {
        let slot = self.slot;
        let mut names = Names::default();
        let mut c = Claims::empty(Cow::Borrowed(""));
        let node_seed = NodeSeed {
            depth: 1,
            part: Part::Payload,
            slot,
        };
        let bad = |claim: &'static str, reason: &'static str| {
            fail::<A::Error>(slot, Error::InvalidClaim { claim, reason })
        };
        while let Some(name) = map.next_key_seed(KeySeed)? {
            if !names.insert(name.clone()) {
                return Err(duplicate(slot, Part::Payload, &name));
            }
            match &*name {
                "iss" | "sub" | "jti" => {
                    let claim: &'static str = match &*name {
                        "iss" => "iss",
                        "sub" => "sub",
                        _ => "jti",
                    };
                    let s =
                        json::string(map.next_value_seed(node_seed)?).map_err(|r| bad(claim, r))?;
                    *match claim {
                        "iss" => &mut c.iss,
                        "sub" => &mut c.sub,
                        _ => &mut c.jti,
                    } = Some(Cow::Owned(s));
                }
                "exp" | "nbf" | "iat" => {
                    let claim: &'static str = match &*name {
                        "exp" => "exp",
                        "nbf" => "nbf",
                        _ => "iat",
                    };
                    let node = map.next_value_seed(node_seed)?;
                    let d = NumericDate::from_node(&node).map_err(|r| bad(claim, r))?;
                    *match claim {
                        "exp" => &mut c.exp,
                        "nbf" => &mut c.nbf,
                        _ => &mut c.iat,
                    } = Some(d);
                }
                "aud" => {
                    c.aud = Some(match map.next_value_seed(node_seed)? {
                        Node::String(s) => Audience::One(Cow::Owned(s)),
                        node @ Node::Array(_) => Audience::Many(
                            json::strings(node)
                                .map_err(|_| bad("aud", "must be a string or an array of strings"))?
                                .into_iter()
                                .map(Cow::Owned)
                                .collect(),
                        ),
                        _ => return Err(bad("aud", "must be a string or an array of strings")),
                    });
                }
                _ => map.next_value_seed(Check {
                    depth: 1,
                    part: Part::Payload,
                    slot,
                })?,
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Claims<'_>, Error> {
        Claims::parse(s.as_bytes())
    }

    fn parse_bytes(b: &[u8]) -> Result<Claims<'_>, Error> {
        Claims::parse(b)
    }

    #[test]
    fn registered_claims_typed() {
        let c = parse(r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":1300819380,"nbf":1.5,"iat":0,"jti":"j","x":{"y":[1]}}"#).unwrap();
        assert_eq!(c.iss.as_deref(), Some("i"));
        assert!(c.aud.as_ref().unwrap().contains("b"));
        assert_eq!(c.exp.unwrap().secs(), 1_300_819_380);
        assert_eq!(c.nbf.unwrap().secs(), 1);
        assert_eq!(c.nbf.unwrap().subsec_nanos(), 500_000_000);
        assert_eq!(c.nbf.unwrap().to_string(), "1.5");
        assert_eq!(c.get("x"), Some(serde_json::json!({"y":[1]})));
        #[derive(serde::Deserialize)]
        struct Mine {
            x: Value,
            jti: String,
        }
        let owned = Claims::parse_owned(c.raw_json().as_bytes().to_vec()).unwrap();
        assert_eq!(owned, c);
        assert_eq!(
            Claims::parse_owned(b"{\"iss\":\"\xff\"}".to_vec()).unwrap_err(),
            parse_bytes(b"{\"iss\":\"\xff\"}").unwrap_err()
        );
        let m: Mine = c.deserialize_as().unwrap();
        assert_eq!(m.jti, "j");
        assert_eq!(m.x["y"][0], 1);
    }

    #[test]
    fn wrong_types_are_errors() {
        let claim = |s| match parse(s).unwrap_err() {
            Error::InvalidClaim { claim, .. } => claim,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(claim(r#"{"exp":"1"}"#), "exp");
        assert_eq!(claim(r#"{"nbf":true}"#), "nbf");
        assert_eq!(claim(r#"{"iat":[1]}"#), "iat");
        assert_eq!(claim(r#"{"exp":null}"#), "exp");
        assert_eq!(claim(r#"{"exp":1e300}"#), "exp");
        assert_eq!(claim(r#"{"exp":-62135596801}"#), "exp");
        assert_eq!(claim(r#"{"nbf":-1e300}"#), "nbf");
        assert_eq!(claim(r#"{"exp":18446744073709551615}"#), "exp");
        assert_eq!(claim(r#"{"aud":1}"#), "aud");
        assert_eq!(claim(r#"{"aud":["a",1]}"#), "aud");
        assert_eq!(claim(r#"{"iss":{}}"#), "iss");
        assert_eq!(claim(r#"{"sub":7}"#), "sub");
        assert_eq!(
            parse(r#"{"exp":253402300799}"#)
                .unwrap()
                .exp
                .unwrap()
                .secs(),
            NumericDate::MAX_SECS
        );
        assert!(parse(r#"{"aud":[]}"#).unwrap().aud.unwrap().is_empty());
    }

    /// Issue 11 item 7: a NumericDate before 1970 is valid (RFC 7519 section 2).
    #[test]
    fn dates_before_1970() {
        let c = parse(r#"{"exp":-1,"nbf":-1.5,"iat":-62135596800}"#).unwrap();
        assert_eq!(c.exp.unwrap().secs(), -1);
        let nbf = c.nbf.unwrap();
        assert_eq!((nbf.secs(), nbf.subsec_nanos()), (-2, 500_000_000));
        assert_eq!(nbf.to_string(), "-1.5");
        assert_eq!(c.iat.unwrap().secs(), NumericDate::MIN_SECS);
        assert!(nbf < c.exp.unwrap());
        assert_eq!(NumericDate::from_f64(-0.25).unwrap().to_string(), "-0.25");
        assert_eq!(NumericDate::from_f64(-3.0).unwrap().to_string(), "-3");
    }

    #[test]
    fn strict_shape() {
        assert_eq!(
            parse(r#"{"exp":1,"exp":2}"#).unwrap_err().code(),
            "malformed"
        );
        assert_eq!(
            parse(r#"{"a":{"b":1,"b":1}}"#).unwrap_err().code(),
            "malformed"
        );
        assert_eq!(parse("[]").unwrap_err().code(), "malformed");
        assert_eq!(parse("\"x\"").unwrap_err().code(), "malformed");
        assert_eq!(parse("{} {}").unwrap_err().code(), "malformed");
    }
}
