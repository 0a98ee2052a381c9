//! Handing values to the caller's type as `serde_json` would: the registered claim names,
//! member names borrowed where the text has no escapes, scalar values and the `aud` array.
//! Used by the flat reader (`crate::flat`) while it records the registered claims.

use alloc::borrow::Cow;
use core::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer, StrDeserializer};
use serde::de::{self, Deserializer, IntoDeserializer, Visitor};

/// `serde_json`'s private name for `RawValue`: a raw value skips the strict checks, so a type
/// asking for one takes the general path.
pub(crate) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Refuses `serde_json`'s `RawValue` (see [`RAW_VALUE_TOKEN`]), which would skip the checks.
pub(crate) fn not_raw_value<E: de::Error>(newtype: &str) -> Result<(), E> {
    if newtype == RAW_VALUE_TOKEN {
        return Err(E::custom("raw value: two passes"));
    }
    Ok(())
}

/// Which registered claim a member is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimName {
    Iss,
    Sub,
    Jti,
    Aud,
    Exp,
    Nbf,
    Iat,
}

impl ClaimName {
    pub(crate) fn of(name: &str) -> Option<Self> {
        Some(match name {
            "iss" => ClaimName::Iss,
            "sub" => ClaimName::Sub,
            "jti" => ClaimName::Jti,
            "aud" => ClaimName::Aud,
            "exp" => ClaimName::Exp,
            "nbf" => ClaimName::Nbf,
            "iat" => ClaimName::Iat,
            _ => return None,
        })
    }
}

/// A member name handed on to the caller's type: borrowed when the text has no escapes.
pub(crate) struct CowStr<'a, E>(pub(crate) Cow<'a, str>, pub(crate) PhantomData<E>);

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
pub(crate) enum Scalar<'x, 'a> {
    Borrowed(&'a str),
    Transient(&'x str),
    U64(u64),
}

impl<'a> Scalar<'_, 'a> {
    fn deserialize_any<V: Visitor<'a>, E: de::Error>(self, visitor: V) -> Result<V::Value, E> {
        match self {
            Scalar::Borrowed(s) => visitor.visit_borrowed_str(s),
            Scalar::Transient(s) => visitor.visit_str(s),
            Scalar::U64(n) => visitor.visit_u64(n),
        }
    }
}

pub(crate) struct ScalarDe<'x, 'a, E>(pub(crate) Scalar<'x, 'a>, pub(crate) PhantomData<E>);

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
pub(crate) struct AudSeq<'v, 'a, E>(pub(crate) &'v [Cow<'a, str>], pub(crate) PhantomData<E>);

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
