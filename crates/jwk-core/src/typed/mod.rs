//! One strict pass over a claims set that fills the caller's type and reads the registered
//! claims on the way.
//!
//! [`Claims::parse`] followed by [`Claims::deserialize_as`] reads the payload twice: once to
//! check it (duplicate members, depth, registered claim types) and once more for the caller's
//! struct. [`ClaimsRef::parse_into`] does both in the same pass: the caller's `Deserialize`
//! implementation runs over a deserializer that wraps `serde_json`'s, refuses a repeated member
//! name at any depth, bounds nesting, and copies (borrows, where the text has no escapes) the
//! registered claims as they go by. The caller's type may borrow from the payload
//! (`&'a str` fields), so a validation need not allocate for its claims at all.
//!
//! Anything the wrapper does not handle exactly like `serde_json` itself (a map with integer
//! keys, `RawValue`, a caller's type that refuses the shape) falls back to the two-pass path,
//! so results and errors are those of [`Claims::parse`] then `serde_json`: the fast pass
//! changes the cost, never the answer.

use alloc::borrow::{Cow, ToOwned};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer, StrDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::Deserialize;
use serde_json::Value;

use crate::claims::{Audience, Claims, NumericDate};
use crate::error::{Error, Part};
use crate::json::{self, deeper, duplicate, fail, Check, CheckedJson, KeySeed, Names, Slot};

pub(crate) mod flat;

/// `serde_json`'s private name for `RawValue`: a raw value skips the strict checks, so a type
/// asking for one takes the two-pass path.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Refuses `serde_json`'s `RawValue` (see [`RAW_VALUE_TOKEN`]), which would skip the checks.
fn not_raw_value<E: de::Error>(newtype: &str) -> Result<(), E> {
    if newtype == RAW_VALUE_TOKEN {
        return Err(E::custom("raw value: two passes"));
    }
    Ok(())
}

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
    fn empty(raw: &'a str) -> Self {
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
        if let Some(done) = flat::parse_into(text) {
            return Ok(done);
        }
        let slot = Slot::default();
        let mut claims = ClaimsRef::empty(text);
        let mut de = serde_json::Deserializer::from_str(text);
        let fast = T::deserialize(Top {
            de: &mut de,
            claims: &mut claims,
            slot: &slot,
        })
        .and_then(|t| de.end().map(|()| t));
        match fast {
            Ok(t) => Ok((claims, t)),
            Err(_) => match slot.take() {
                Some(strict) => Err(strict),
                None => Self::two_passes(text),
            },
        }
    }

    /// The answer of the strict parse and then plain `serde_json`, for what the single pass
    /// does not take.
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
    fn to_claims_with_raw(&self, raw: alloc::boxed::Box<str>) -> Claims {
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
        Some((r, _)) => r.to_claims_with_raw(alloc::boxed::Box::default()),
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

/// Which registered claim a member is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Registered {
    Iss,
    Sub,
    Jti,
    Aud,
    Exp,
    Nbf,
    Iat,
}

impl Registered {
    fn of(name: &str) -> Option<Self> {
        Some(match name {
            "iss" => Registered::Iss,
            "sub" => Registered::Sub,
            "jti" => Registered::Jti,
            "aud" => Registered::Aud,
            "exp" => Registered::Exp,
            "nbf" => Registered::Nbf,
            "iat" => Registered::Iat,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Registered::Iss => "iss",
            Registered::Sub => "sub",
            Registered::Jti => "jti",
            Registered::Aud => "aud",
            Registered::Exp => "exp",
            Registered::Nbf => "nbf",
            Registered::Iat => "iat",
        }
    }

    /// The reason a value of the wrong JSON type is refused (the words of [`Claims::parse`]).
    fn type_reason(self) -> &'static str {
        match self {
            Registered::Iss | Registered::Sub | Registered::Jti => "must be a string",
            Registered::Aud => "must be a string or an array of strings",
            Registered::Exp | Registered::Nbf | Registered::Iat => "must be a number (NumericDate)",
        }
    }
}

/// The top level: whatever `T` asks for, it is given the claims object.
struct Top<'c, 'a, D> {
    de: D,
    claims: &'c mut ClaimsRef<'a>,
    slot: &'c Slot,
}

impl<'a, D: Deserializer<'a>> Deserializer<'a> for Top<'_, 'a, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_map(TopVisitor {
            inner: visitor,
            claims: self.claims,
            slot: self.slot,
        })
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        not_raw_value(name)?;
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct TopVisitor<'c, 'a, V> {
    inner: V,
    claims: &'c mut ClaimsRef<'a>,
    slot: &'c Slot,
}

impl<'a, V: Visitor<'a>> Visitor<'a> for TopVisitor<'_, 'a, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object (JWT claims set)")
    }

    fn visit_map<A: MapAccess<'a>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(TopMap {
            map,
            names: Names::default(),
            claims: self.claims,
            slot: self.slot,
            pending: None,
        })
    }
}

struct TopMap<'c, 'a, A> {
    map: A,
    names: Names<'a>,
    claims: &'c mut ClaimsRef<'a>,
    slot: &'c Slot,
    /// The registered claim whose value comes next, if it is one.
    pending: Option<Registered>,
}

impl<'a, A: MapAccess<'a>> MapAccess<'a> for TopMap<'_, 'a, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(name) = unique_key(&mut self.map, &mut self.names, self.slot)? else {
            return Ok(None);
        };
        self.pending = Registered::of(&name);
        seed.deserialize(CowStr(name, PhantomData)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.pending.take() {
            None => self.map.next_value_seed(StrictSeed {
                seed,
                depth: 1,
                slot: self.slot,
            }),
            Some(claim) => self.map.next_value_seed(Tee {
                seed,
                claim,
                claims: self.claims,
                slot: self.slot,
            }),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// The next member name of `map`, refused (through `slot`) when `names` already has it.
fn unique_key<'a, A: MapAccess<'a>>(
    map: &mut A,
    names: &mut Names<'a>,
    slot: &Slot,
) -> Result<Option<Cow<'a, str>>, A::Error> {
    let Some(name) = map.next_key_seed(KeySeed)? else {
        return Ok(None);
    };
    if !names.insert(name.clone()) {
        return Err(duplicate(slot, Part::Payload, &name));
    }
    Ok(Some(name))
}

/// A member name handed on to the caller's type: borrowed when the text has no escapes.
struct CowStr<'a, E>(Cow<'a, str>, PhantomData<E>);

impl<'a, E: de::Error> CowStr<'a, E> {
    /// The name as `serde_json` hands it over: borrowed, or (escaped) a transient `&str`.
    fn scalar(&self) -> ScalarDe<'_, 'a, E> {
        ScalarDe(
            match &self.0 {
                Cow::Borrowed(s) => Scalar::Borrowed(s),
                Cow::Owned(s) => Scalar::Transient(s),
            },
            PhantomData,
        )
    }
}

macro_rules! via_scalar {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, E> {
                self.scalar().$method($($arg,)* visitor)
            }
        )*
    };
}

impl<'a, E: de::Error> Deserializer<'a> for CowStr<'a, E> {
    type Error = E;

    via_scalar! {
        deserialize_any(); deserialize_option(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_newtype_struct(name: &'static str);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// A registered claim's scalar value handed on to the caller's type, answering each request
/// as `serde_json` does for the same text (`Option` is `Some`, a string may be an enum's unit
/// variant or bytes).
enum Scalar<'x, 'a> {
    Borrowed(&'a str),
    Transient(&'x str),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl<'a> Scalar<'_, 'a> {
    fn deserialize_any<V: Visitor<'a>, E: de::Error>(self, visitor: V) -> Result<V::Value, E> {
        match self {
            Scalar::Borrowed(s) => visitor.visit_borrowed_str(s),
            Scalar::Transient(s) => visitor.visit_str(s),
            Scalar::U64(n) => visitor.visit_u64(n),
            Scalar::I64(n) => visitor.visit_i64(n),
            Scalar::F64(n) => visitor.visit_f64(n),
        }
    }
}

struct ScalarDe<'x, 'a, E>(Scalar<'x, 'a>, PhantomData<E>);

impl<'a, E: de::Error> Deserializer<'a> for ScalarDe<'_, 'a, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, E> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.0 {
            Scalar::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            Scalar::Transient(s) => visitor.visit_enum(StrDeserializer::new(s)),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, E> {
        match self.0 {
            Scalar::Borrowed(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            Scalar::Transient(s) => visitor.visit_bytes(s.as_bytes()),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, E> {
        self.deserialize_bytes(visitor)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// The `aud` array handed on to the caller's type.
struct AudSeq<'v, 'a, E>(&'v [Cow<'a, str>], PhantomData<E>);

impl<'a, E: de::Error> Deserializer<'a> for AudSeq<'_, 'a, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, E> {
        let mut seq =
            SeqDeserializer::new(self.0.iter().map(|v| CowStr::<E>(v.clone(), PhantomData)));
        let value = visitor.visit_seq(&mut seq)?;
        seq.end()?;
        Ok(value)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

impl<'a, E: de::Error> IntoDeserializer<'a, E> for CowStr<'a, E> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// The value of a registered claim: checked and kept, then handed on to the caller's type.
struct Tee<'c, 'a, S> {
    seed: S,
    claim: Registered,
    claims: &'c mut ClaimsRef<'a>,
    slot: &'c Slot,
}

impl<'a, S: DeserializeSeed<'a>> DeserializeSeed<'a> for Tee<'_, 'a, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'a, S: DeserializeSeed<'a>> Tee<'_, 'a, S> {
    fn bad<E: de::Error>(&self, reason: &'static str) -> E {
        fail(
            self.slot,
            Error::InvalidClaim {
                claim: self.claim.name(),
                reason,
            },
        )
    }

    /// A value of the wrong JSON type: the two-pass path reports it (with what else it finds
    /// first in the same value, such as too deep a nesting), so the error is the same.
    fn wrong_type<E: de::Error>(&self) -> E {
        E::custom(self.claim.type_reason())
    }

    fn string<E: de::Error>(&mut self, s: Cow<'a, str>) -> Result<(), E> {
        let field = match self.claim {
            Registered::Iss => &mut self.claims.iss,
            Registered::Sub => &mut self.claims.sub,
            Registered::Jti => &mut self.claims.jti,
            Registered::Aud => {
                self.claims.aud = Some(AudienceRef::One(s));
                return Ok(());
            }
            _ => return Err(self.wrong_type()),
        };
        *field = Some(s);
        Ok(())
    }

    fn date<E: de::Error>(&mut self, date: Result<NumericDate, &'static str>) -> Result<(), E> {
        if !matches!(
            self.claim,
            Registered::Exp | Registered::Nbf | Registered::Iat
        ) {
            return Err(self.wrong_type());
        }
        let date = date.map_err(|r| self.bad(r))?;
        *match self.claim {
            Registered::Exp => &mut self.claims.exp,
            Registered::Nbf => &mut self.claims.nbf,
            _ => &mut self.claims.iat,
        } = Some(date);
        Ok(())
    }
}

impl<'a, S: DeserializeSeed<'a>> Visitor<'a> for Tee<'_, 'a, S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.claim.type_reason())
    }

    fn visit_borrowed_str<E: de::Error>(mut self, v: &'a str) -> Result<S::Value, E> {
        self.string(Cow::Borrowed(v))?;
        self.seed
            .deserialize(ScalarDe(Scalar::Borrowed(v), PhantomData))
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<S::Value, E> {
        self.string(Cow::Owned(v.to_owned()))?;
        self.seed
            .deserialize(ScalarDe(Scalar::Transient(v), PhantomData))
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<S::Value, E> {
        self.string(Cow::Owned(v.clone()))?;
        self.seed
            .deserialize(ScalarDe(Scalar::Transient(&v), PhantomData))
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<S::Value, E> {
        self.date(NumericDate::from_u64(v))?;
        self.seed.deserialize(ScalarDe(Scalar::U64(v), PhantomData))
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<S::Value, E> {
        self.date(NumericDate::from_i64(v))?;
        self.seed.deserialize(ScalarDe(Scalar::I64(v), PhantomData))
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<S::Value, E> {
        self.date(NumericDate::from_f64(v))?;
        self.seed.deserialize(ScalarDe(Scalar::F64(v), PhantomData))
    }

    fn visit_seq<Q: SeqAccess<'a>>(self, mut seq: Q) -> Result<S::Value, Q::Error> {
        if self.claim != Registered::Aud {
            return Err(self.wrong_type());
        }
        let mut values = Vec::new();
        while let Some(v) = seq.next_element_seed(StrOnly)? {
            match v {
                Some(v) => values.push(v),
                None => return Err(self.wrong_type()),
            }
        }
        let t = self.seed.deserialize(AudSeq(&values, PhantomData))?;
        self.claims.aud = Some(AudienceRef::Many(values));
        Ok(t)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<S::Value, E> {
        Err(self.wrong_type())
    }

    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        Err(self.wrong_type())
    }

    fn visit_map<M: MapAccess<'a>>(self, _: M) -> Result<S::Value, M::Error> {
        Err(self.wrong_type())
    }
}

/// An array element that must be a string: `Some` when it is, `None` (with the element
/// skipped under the strict rules) when it is not.
struct StrOnly;

impl<'a> DeserializeSeed<'a> for StrOnly {
    type Value = Option<Cow<'a, str>>;
    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(StrOnly)
    }
}

impl<'a> Visitor<'a> for StrOnly {
    type Value = Option<Cow<'a, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'a str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<Q: SeqAccess<'a>>(self, _: Q) -> Result<Self::Value, Q::Error> {
        Ok(None)
    }
    fn visit_map<M: MapAccess<'a>>(self, _: M) -> Result<Self::Value, M::Error> {
        Ok(None)
    }
}

/// A value below the top level, handed to the caller's type through [`Strict`].
struct StrictSeed<'s, S> {
    seed: S,
    depth: usize,
    slot: &'s Slot,
}

impl<'a, S: DeserializeSeed<'a>> DeserializeSeed<'a> for StrictSeed<'_, S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'a>>(self, d: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Strict {
            de: d,
            depth: self.depth,
            slot: self.slot,
        })
    }
}

/// `serde_json`'s deserializer for one value, with every object and array checked as
/// [`Check`] does: no repeated member name, at most [`json::MAX_DEPTH`] levels.
struct Strict<'s, D> {
    de: D,
    depth: usize,
    slot: &'s Slot,
}

impl<'s, D> Strict<'s, D> {
    fn wrap<V>(&self, inner: V) -> Wrap<'s, V> {
        Wrap {
            inner,
            depth: self.depth,
            slot: self.slot,
        }
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
                let wrapped = self.wrap(visitor);
                self.de.$method($($arg,)* wrapped)
            }
        )*
    };
}

impl<'a, D: Deserializer<'a>> Deserializer<'a> for Strict<'_, D> {
    type Error = D::Error;

    forward! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_option(); deserialize_unit(); deserialize_seq(); deserialize_map();
        deserialize_identifier();
        deserialize_unit_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        not_raw_value(name)?;
        let wrapped = self.wrap(visitor);
        self.de.deserialize_newtype_struct(name, wrapped)
    }

    /// A value the caller's type skips is still checked.
    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_any(Check {
            depth: self.depth,
            part: Part::Payload,
            slot: self.slot,
        })?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// Visitor methods that hand a scalar straight to `self.inner`.
macro_rules! forward_visits {
    ($($method:ident($($ty:ty)?);)*) => {
        $(
            fn $method<E: de::Error>(self $(, v: $ty)?) -> Result<V::Value, E> {
                self.inner.$method($(forward_visits!(@arg v $ty))?)
            }
        )*
    };
    (@arg $v:ident $ty:ty) => { $v };
}

/// The caller's visitor, with the maps, arrays and enums it is given wrapped in turn.
struct Wrap<'s, V> {
    inner: V,
    depth: usize,
    slot: &'s Slot,
}

impl<'a, V: Visitor<'a>> Visitor<'a> for Wrap<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }
    forward_visits! {
        visit_bool(bool);
        visit_i64(i64);
        visit_i128(i128);
        visit_u64(u64);
        visit_u128(u128);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'a str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'a [u8]);
        visit_byte_buf(Vec<u8>);
        visit_none();
        visit_unit();
    }
    fn visit_some<D: Deserializer<'a>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Strict {
            de: d,
            depth: self.depth,
            slot: self.slot,
        })
    }
    fn visit_newtype_struct<D: Deserializer<'a>>(self, d: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Strict {
            de: d,
            depth: self.depth,
            slot: self.slot,
        })
    }
    fn visit_seq<A: SeqAccess<'a>>(self, seq: A) -> Result<V::Value, A::Error> {
        let depth = deeper(self.depth, Part::Payload, self.slot)?;
        self.inner.visit_seq(StrictSeq {
            seq,
            depth,
            slot: self.slot,
        })
    }
    fn visit_map<A: MapAccess<'a>>(self, map: A) -> Result<V::Value, A::Error> {
        let depth = deeper(self.depth, Part::Payload, self.slot)?;
        self.inner.visit_map(StrictMap {
            map,
            names: Names::default(),
            depth,
            slot: self.slot,
        })
    }
    fn visit_enum<A: EnumAccess<'a>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(StrictEnum {
            data,
            depth: self.depth,
            slot: self.slot,
        })
    }
}

struct StrictSeq<'s, A> {
    seq: A,
    depth: usize,
    slot: &'s Slot,
}

impl<'a, A: SeqAccess<'a>> SeqAccess<'a> for StrictSeq<'_, A> {
    type Error = A::Error;
    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.seq.next_element_seed(StrictSeed {
            seed,
            depth: self.depth,
            slot: self.slot,
        })
    }
    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

struct StrictMap<'s, 'a, A> {
    map: A,
    names: Names<'a>,
    depth: usize,
    slot: &'s Slot,
}

impl<'a, A: MapAccess<'a>> MapAccess<'a> for StrictMap<'_, 'a, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let Some(name) = unique_key(&mut self.map, &mut self.names, self.slot)? else {
            return Ok(None);
        };
        seed.deserialize(CowStr(name, PhantomData)).map(Some)
    }
    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(StrictSeed {
            seed,
            depth: self.depth,
            slot: self.slot,
        })
    }
    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// An enum: `serde_json` reads `"Variant"` or `{"Variant": value}`; the object form is one
/// level deeper, as [`Check`] counts it.
struct StrictEnum<'s, A> {
    data: A,
    depth: usize,
    slot: &'s Slot,
}

impl<'s, 'a, A: EnumAccess<'a>> EnumAccess<'a> for StrictEnum<'s, A> {
    type Error = A::Error;
    type Variant = StrictVariant<'s, A::Variant>;
    fn variant_seed<S: DeserializeSeed<'a>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.data.variant_seed(seed)?;
        Ok((
            value,
            StrictVariant {
                variant,
                depth: self.depth,
                slot: self.slot,
            },
        ))
    }
}

struct StrictVariant<'s, A> {
    variant: A,
    depth: usize,
    slot: &'s Slot,
}

impl<'a, A: VariantAccess<'a>> VariantAccess<'a> for StrictVariant<'_, A> {
    type Error = A::Error;
    fn unit_variant(self) -> Result<(), A::Error> {
        self.variant.unit_variant()
    }
    fn newtype_variant_seed<S: DeserializeSeed<'a>>(self, seed: S) -> Result<S::Value, A::Error> {
        let depth = deeper(self.depth, Part::Payload, self.slot)?;
        self.variant.newtype_variant_seed(StrictSeed {
            seed,
            depth,
            slot: self.slot,
        })
    }
    fn tuple_variant<V: Visitor<'a>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let depth = deeper(self.depth, Part::Payload, self.slot)?;
        self.variant.tuple_variant(
            len,
            Wrap {
                inner: visitor,
                depth,
                slot: self.slot,
            },
        )
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let depth = deeper(self.depth, Part::Payload, self.slot)?;
        self.variant.struct_variant(
            fields,
            Wrap {
                inner: visitor,
                depth,
                slot: self.slot,
            },
        )
    }
}
