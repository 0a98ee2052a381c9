//! Registered claims borrowed from the payload ([`ClaimsRef`], [`AudienceRef`]), and the
//! strict parse that fills the caller's type on the way ([`ClaimsRef::parse_into`]).
//!
//! The usual claims set takes one pass through the flat reader (`crate::flat`), which checks
//! it, reads the registered claims and fills the caller's type at once. Anything the flat
//! reader declines (an escape, a fraction, a negative number, a `RawValue`, any error) takes
//! two: [`Claims::parse`]'s general parser, then `serde_json` over the text it checked
//! ([`CheckedJson`]). The flat reader changes the cost, never the answer (tested
//! differentially in `tests/suite/typed.rs` and by the `claims` fuzz target).

use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use serde::de;
use serde::Deserialize;
use serde_json::Value;

use crate::claims::{Audience, Claims, NumericDate};
use crate::error::{Error, Part};
use crate::flat;
use crate::json::{self, CheckedJson};

/// The `aud` claim borrowed from the payload: one string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceRef<'a> {
    /// `"aud": "x"`.
    One(Cow<'a, str>),
    /// `"aud": ["x", "y"]` (possibly empty).
    Many(Vec<Cow<'a, str>>),
}

impl AudienceRef<'_> {
    /// Every audience value.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let s: &[Cow<'_, str>] = match self {
            AudienceRef::One(s) => core::slice::from_ref(s),
            AudienceRef::Many(v) => v,
        };
        s.iter().map(|c| &**c)
    }

    /// True when `aud` names `value` (exact, case-sensitive: RFC 7519 section 4.1.3).
    pub fn contains(&self, value: &str) -> bool {
        self.iter().any(|a| a == value)
    }

    /// True for an empty array.
    pub fn is_empty(&self) -> bool {
        matches!(self, AudienceRef::Many(v) if v.is_empty())
    }
}

/// The registered claims of a claims set, borrowed from its text where it has no escapes, as
/// read by [`ClaimsRef::parse_into`]. The same typing rules as [`Claims`]: a registered claim of
/// the wrong JSON type is an error, never absent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClaimsRef<'a> {
    /// `iss`.
    pub iss: Option<Cow<'a, str>>,
    /// `sub`.
    pub sub: Option<Cow<'a, str>>,
    /// `aud`.
    pub aud: Option<AudienceRef<'a>>,
    /// `exp`.
    pub exp: Option<NumericDate>,
    /// `nbf`.
    pub nbf: Option<NumericDate>,
    /// `iat`.
    pub iat: Option<NumericDate>,
    /// `jti`.
    pub jti: Option<Cow<'a, str>>,
    raw: &'a str,
}

impl<'a> ClaimsRef<'a> {
    pub(crate) fn empty(raw: &'a str) -> Self {
        ClaimsRef {
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

    /// Parses a decoded payload strictly (as [`Claims::parse`]: a JSON object, no duplicate
    /// member at any depth, bounded nesting, registered claims of the right type) and
    /// deserializes it into `T` in the same pass. `T` may borrow from `json`.
    ///
    /// Errors: those of [`Claims::parse`] first; then `T`'s own, as [`Error::Json`].
    pub fn parse_into<T: Deserialize<'a>>(json: &'a [u8]) -> Result<(Self, T), Error> {
        let text = utf8(json)?;
        match flat::parse_into(text) {
            Some(done) => Ok(done),
            None => Self::two_passes(text),
        }
    }

    /// The answer of the strict parse and then plain `serde_json` over the checked text, for
    /// what the flat reader does not take.
    fn two_passes<T: Deserialize<'a>>(text: &'a str) -> Result<(Self, T), Error> {
        let claims = Claims::parse_general(text.as_bytes())?;
        let t = CheckedJson::new(text).deserialize_as()?;
        let owned = |s: Option<String>| s.map(Cow::Owned);
        Ok((
            ClaimsRef {
                iss: owned(claims.iss),
                sub: owned(claims.sub),
                aud: claims.aud.map(|a| match a {
                    Audience::One(s) => AudienceRef::One(Cow::Owned(s)),
                    Audience::Many(v) => AudienceRef::Many(v.into_iter().map(Cow::Owned).collect()),
                }),
                exp: claims.exp,
                nbf: claims.nbf,
                iat: claims.iat,
                jti: owned(claims.jti),
                raw: text,
            },
            t,
        ))
    }

    /// The claims set as received.
    pub fn raw_json(&self) -> &'a str {
        self.raw
    }

    /// The claims set as received, as JSON that passed the strict parse: for another type that
    /// borrows from the payload ([`CheckedJson::deserialize_as`]).
    pub fn checked_json(&self) -> CheckedJson<'a> {
        CheckedJson::new(self.raw)
    }

    /// One member by name, as JSON (parses the text again: for rare lookups).
    pub fn get(&self, name: &str) -> Option<Value> {
        match json::parse_value(self.raw.as_bytes(), Part::Payload) {
            Ok(Value::Object(mut m)) => m.remove(name),
            _ => None,
        }
    }

    /// An owned [`Claims`] with the same content.
    pub fn to_claims(&self) -> Claims {
        self.to_claims_with_raw(self.raw.into())
    }

    /// [`Self::to_claims`] with `raw` (the same text) as the kept JSON.
    fn to_claims_with_raw(&self, raw: Box<str>) -> Claims {
        Claims::from_parts(
            self.iss.as_deref().map(Into::into),
            self.sub.as_deref().map(Into::into),
            self.aud.as_ref().map(|a| match a {
                AudienceRef::One(s) => Audience::One(s.as_ref().into()),
                AudienceRef::Many(v) => {
                    Audience::Many(v.iter().map(|s| s.as_ref().into()).collect())
                }
            }),
            [self.exp, self.nbf, self.iat],
            self.jti.as_deref().map(Into::into),
            raw,
        )
    }
}

/// [`Claims`] from the flat path, copying `text` as the raw JSON; `None` when the general
/// parser must answer.
pub(crate) fn flat_claims_borrowed(text: &str) -> Option<Claims> {
    flat::parse_into::<de::IgnoredAny>(text).map(|(r, _)| r.to_claims())
}

/// [`Claims`] from the flat path, keeping `text` as the raw JSON without a copy; `Err` gives
/// the text back when the general parser must answer.
pub(crate) fn flat_claims(text: String) -> Result<Claims, String> {
    let registered = match flat::parse_into::<de::IgnoredAny>(&text) {
        Some((r, _)) => r.to_claims_with_raw(Box::default()),
        None => return Err(text),
    };
    Ok(registered.with_raw(text.into_boxed_str()))
}

fn utf8(json: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(json).map_err(|e| Error::Json {
        part: Part::Payload,
        line: 0,
        column: e.valid_up_to(),
        message: "not UTF-8".into(),
    })
}
