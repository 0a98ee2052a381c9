//! The usual claims set read without `serde_json`: a strict streaming deserializer for the
//! JSON that JWTs carry, handing values straight to the caller's type.
//!
//! It reads objects, arrays, `true`/`false`/`null`, non-negative integers of at most 19 digits
//! and strings without escapes (borrowed), with the same rules as the general path: no member
//! name twice in any object, at most [`json::MAX_DEPTH`] levels, registered claims of the right
//! type. Anything else (an escape, a fraction or exponent, a negative number, a syntax error,
//! the caller's type refusing a value, a repeated name) stops it with [`Bail`], and the general
//! path parses the text from the start and gives the answer, errors included. So this path
//! only has to be right when it succeeds: its successes are compared with the general path's
//! by the differential tests (`tests/suite/typed.rs`) and the `claims` fuzz target.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

mod handoff;

use self::handoff::{not_raw_value, AudSeq, ClaimName, CowStr, Scalar, ScalarDe};
use crate::claims::{Audience, Claims, NumericDate};
use crate::json::{self, Names};

/// "Not on this path": the general path decides.
#[derive(Debug)]
pub(crate) struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not on the flat path")
    }
}

impl core::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

pub(crate) type R<T> = Result<T, Bail>;

/// The claims set `text` (already UTF-8) read into `T`, with its registered claims; `None`
/// when the general path must answer.
pub(super) fn parse_into<'a, T: Deserialize<'a>>(text: &'a str) -> Option<(Claims<'a>, T)> {
    let mut reader = Reader { text, i: 0 };
    let mut claims = Claims::empty(Cow::Borrowed(text));
    reader.ws();
    reader.eat(b'{').ok()?;
    let mut map = TopMap {
        r: &mut reader,
        names: Names::default(),
        claims: &mut claims,
        pending: None,
        first: true,
        done: false,
    };
    let t = T::deserialize(TopDe { map: &mut map }).ok()?;
    if !map.done {
        return None;
    }
    reader.ws();
    (reader.i == text.len()).then_some((claims, t))
}

/// A position in JSON text, for the strict readers of the usual shapes (this module, and the
/// flat header of `Header::parse`).
pub(crate) struct Reader<'a> {
    text: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Reader { text, i: 0 }
    }

    /// True once the whole text is read.
    pub(crate) fn at_end(&self) -> bool {
        self.i == self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.i).copied()
    }

    pub(crate) fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    pub(crate) fn eat(&mut self, b: u8) -> R<()> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// A string with no escape and no control character, borrowed (the text is UTF-8 and the
    /// quotes are ASCII, so the slice is on character boundaries).
    pub(crate) fn string(&mut self) -> R<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let rest = self.text.as_bytes().get(start..).ok_or(Bail)?;
        let len = special(rest).ok_or(Bail)?;
        if rest.get(len) != Some(&b'"') {
            return Err(Bail);
        }
        self.i = start + len + 1;
        self.text.get(start..start + len).ok_or(Bail)
    }

    /// A JSON integer without sign, fraction or exponent, of at most 19 digits (so `serde_json`
    /// too reads it as a `u64`).
    fn uint(&mut self) -> R<u64> {
        let bytes = self.text.as_bytes();
        let start = self.i;
        let mut n: u64 = 0;
        while let Some(&b) = bytes.get(self.i) {
            if !b.is_ascii_digit() {
                break;
            }
            if self.i - start == 19 {
                // A 20th digit: serde_json may read it as a float; not this path.
                return Err(Bail);
            }
            // At most 19 digits: below 10^19 < 2^64, no overflow.
            n = n * 10 + u64::from(b - b'0');
            self.i += 1;
        }
        let digits = self.i - start;
        let leading_zero = digits > 1 && bytes.get(start) == Some(&b'0');
        if digits == 0 || leading_zero || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Err(Bail);
        }
        Ok(n)
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        let end = self.i + word.len();
        if self.text.as_bytes().get(self.i..end) == Some(word) {
            self.i = end;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Checks and skips one value (a member the caller's type ignores).
    fn skip(&mut self, depth: usize) -> R<()> {
        match self.peek().ok_or(Bail)? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.uint().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'[' => {
                let inner = deeper(depth)?;
                self.i += 1;
                let (mut first, mut done) = (true, false);
                while next_element(self, &mut first, &mut done, b']')?.is_some() {
                    self.skip(inner)?;
                }
                Ok(())
            }
            b'{' => {
                let inner = deeper(depth)?;
                self.i += 1;
                let (mut first, mut done) = (true, false);
                let mut names = Names::default();
                while let Some(name) = next_name(self, &mut first, &mut done)? {
                    if !names.insert(Cow::Borrowed(name)) {
                        return Err(Bail);
                    }
                    self.skip(inner)?;
                }
                Ok(())
            }
            _ => Err(Bail),
        }
    }
}

/// The index of the first `"`, `\\` or control character in `bytes`, eight bytes at a time.
///
/// In each word, `(x - 0x01..) & !x & 0x80..` flags the bytes of `x` that are zero, exactly up
/// to the first one (a borrow can only flag bytes after it); likewise `(w - 0x20..) & !w`
/// flags bytes below 0x20. So the lowest flag of the three masks together is the first byte
/// that is a quote, a backslash or a control character.
fn special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let flags = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (w.wrapping_sub(ONES * 0x20) & !w);
        let flags = flags & HIGH;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// The depth of a container's children, as the general path counts it.
fn deeper(depth: usize) -> R<usize> {
    let d = depth + 1;
    if d > json::MAX_DEPTH {
        Err(Bail)
    } else {
        Ok(d)
    }
}

/// The claims object as the caller's type sees it: whatever it asks for, a map.
struct TopDe<'m, 'r, 'c, 'a> {
    map: &'m mut TopMap<'r, 'c, 'a>,
}

impl<'a> Deserializer<'a> for TopDe<'_, '_, '_, 'a> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_map(&mut *self.map)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> R<V::Value> {
        not_raw_value(name)?;
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct TopMap<'r, 'c, 'a> {
    r: &'r mut Reader<'a>,
    names: Names<'a>,
    claims: &'c mut Claims<'a>,
    pending: Option<ClaimName>,
    first: bool,
    done: bool,
}

/// Moves to the next member of an object (after `{` or a value): its name, or `None` at `}`.
pub(crate) fn next_name<'a>(
    r: &mut Reader<'a>,
    first: &mut bool,
    done: &mut bool,
) -> R<Option<&'a str>> {
    if *done {
        return Ok(None);
    }
    r.ws();
    if *first {
        *first = false;
        if r.peek() == Some(b'}') {
            r.i += 1;
            *done = true;
            return Ok(None);
        }
    } else {
        match r.peek() {
            Some(b',') => {
                r.i += 1;
                r.ws();
            }
            Some(b'}') => {
                r.i += 1;
                *done = true;
                return Ok(None);
            }
            _ => return Err(Bail),
        }
    }
    let name = r.string()?;
    r.ws();
    r.eat(b':')?;
    r.ws();
    Ok(Some(name))
}

impl<'a> MapAccess<'a> for TopMap<'_, '_, 'a> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let Some(name) = next_name(self.r, &mut self.first, &mut self.done)? else {
            return Ok(None);
        };
        if !self.names.insert(Cow::Borrowed(name)) {
            return Err(Bail);
        }
        self.pending = ClaimName::of(name);
        seed.deserialize(CowStr(Cow::Borrowed(name), PhantomData))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> R<S::Value> {
        let Some(claim) = self.pending.take() else {
            return seed.deserialize(Value {
                r: self.r,
                depth: 1,
            });
        };
        let c = &mut *self.claims;
        match claim {
            ClaimName::Iss | ClaimName::Sub | ClaimName::Jti => {
                let s = self.r.string()?;
                *match claim {
                    ClaimName::Iss => &mut c.iss,
                    ClaimName::Sub => &mut c.sub,
                    _ => &mut c.jti,
                } = Some(Cow::Borrowed(s));
                seed.deserialize(ScalarDe(Scalar::Borrowed(s), PhantomData))
            }
            ClaimName::Exp | ClaimName::Nbf | ClaimName::Iat => {
                if !matches!(self.r.peek(), Some(b'0'..=b'9')) {
                    return Err(Bail);
                }
                let n = self.r.uint()?;
                let date = NumericDate::from_u64(n).map_err(|_| Bail)?;
                *match claim {
                    ClaimName::Exp => &mut c.exp,
                    ClaimName::Nbf => &mut c.nbf,
                    _ => &mut c.iat,
                } = Some(date);
                seed.deserialize(ScalarDe(Scalar::U64(n), PhantomData))
            }
            ClaimName::Aud => {
                if self.r.peek() == Some(b'"') {
                    let s = self.r.string()?;
                    c.aud = Some(Audience::One(Cow::Borrowed(s)));
                    return seed.deserialize(ScalarDe(Scalar::Borrowed(s), PhantomData));
                }
                self.r.eat(b'[')?;
                let mut values = Vec::new();
                let (mut first, mut done) = (true, false);
                while let Some(()) = next_element(self.r, &mut first, &mut done, b']')? {
                    values.push(Cow::Borrowed(self.r.string()?));
                }
                let t = seed.deserialize(AudSeq(&values, PhantomData))?;
                c.aud = Some(Audience::Many(values));
                Ok(t)
            }
        }
    }
}

/// Moves to the next element of an array (after `[` or a value): `Some` when there is one.
fn next_element(r: &mut Reader<'_>, first: &mut bool, done: &mut bool, close: u8) -> R<Option<()>> {
    if *done {
        return Ok(None);
    }
    r.ws();
    if *first {
        *first = false;
        if r.peek() == Some(close) {
            r.i += 1;
            *done = true;
            return Ok(None);
        }
    } else {
        match r.peek() {
            Some(b',') => {
                r.i += 1;
                r.ws();
            }
            Some(b) if b == close => {
                r.i += 1;
                *done = true;
                return Ok(None);
            }
            _ => return Err(Bail),
        }
    }
    Ok(Some(()))
}

/// One value below the top level, at `depth` (top-level members' values are at 1).
struct Value<'r, 'a> {
    r: &'r mut Reader<'a>,
    depth: usize,
}

impl<'a> Deserializer<'a> for Value<'_, 'a> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        let r = self.r;
        match r.peek().ok_or(Bail)? {
            b'"' => visitor.visit_borrowed_str(r.string()?),
            b'0'..=b'9' => visitor.visit_u64(r.uint()?),
            b't' => {
                r.literal(b"true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                r.literal(b"false")?;
                visitor.visit_bool(false)
            }
            b'n' => {
                r.literal(b"null")?;
                visitor.visit_unit()
            }
            b'[' => {
                let depth = deeper(self.depth)?;
                r.i += 1;
                let mut seq = Seq {
                    r,
                    depth,
                    first: true,
                    done: false,
                };
                let v = visitor.visit_seq(&mut seq)?;
                if seq.done {
                    Ok(v)
                } else {
                    Err(Bail)
                }
            }
            b'{' => {
                let depth = deeper(self.depth)?;
                r.i += 1;
                let mut map = Map {
                    r,
                    depth,
                    names: Names::default(),
                    first: true,
                    done: false,
                };
                let v = visitor.visit_map(&mut map)?;
                if map.done {
                    Ok(v)
                } else {
                    Err(Bail)
                }
            }
            _ => Err(Bail),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        if self.r.peek() == Some(b'n') {
            self.r.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> R<V::Value> {
        not_raw_value(name)?;
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        // A unit variant by name; the object form goes to the general path.
        if self.r.peek() != Some(b'"') {
            return Err(Bail);
        }
        visitor.visit_enum(BorrowedStrDeserializer::new(self.r.string()?))
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        if self.r.peek() == Some(b'"') {
            visitor.visit_borrowed_bytes(self.r.string()?.as_bytes())
        } else {
            self.deserialize_any(visitor)
        }
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> R<V::Value> {
        self.r.skip(self.depth)?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

struct Seq<'r, 'a> {
    r: &'r mut Reader<'a>,
    depth: usize,
    first: bool,
    done: bool,
}

impl<'a> SeqAccess<'a> for Seq<'_, 'a> {
    type Error = Bail;

    fn next_element_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> R<Option<S::Value>> {
        if next_element(self.r, &mut self.first, &mut self.done, b']')?.is_none() {
            return Ok(None);
        }
        seed.deserialize(Value {
            r: self.r,
            depth: self.depth,
        })
        .map(Some)
    }
}

struct Map<'r, 'a> {
    r: &'r mut Reader<'a>,
    depth: usize,
    names: Names<'a>,
    first: bool,
    done: bool,
}

impl<'a> MapAccess<'a> for Map<'_, 'a> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'a>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let Some(name) = next_name(self.r, &mut self.first, &mut self.done)? else {
            return Ok(None);
        };
        if !self.names.insert(Cow::Borrowed(name)) {
            return Err(Bail);
        }
        seed.deserialize(CowStr(Cow::Borrowed(name), PhantomData))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> R<S::Value> {
        seed.deserialize(Value {
            r: self.r,
            depth: self.depth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// The word-at-a-time scan finds what a byte loop finds.
        #[test]
        fn special_is_the_first_quote_backslash_or_control(
            bytes in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff, Just(0x7f), Just(0x80)],
                0..40,
            ),
            plain in 0usize..30,
        ) {
            let mut input = alloc::vec![b'a'; plain];
            input.extend_from_slice(&bytes);
            let expected = input.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(special(&input), expected);
        }
    }
    use serde_json::Value as Json;

    fn flat(text: &str) -> Option<Json> {
        parse_into::<Json>(text).map(|(_, v)| v)
    }

    #[test]
    fn the_usual_shapes_stay_on_this_path() {
        for text in [
            r#"{"iss":"https://i","sub":"s","aud":"a","exp":1700000000,"iat":0,"jti":"j"}"#,
            r#" { "aud" : [ "a" , "b" ] , "scope" : "x y" , "ok" : true , "n" : null } "#,
            r#"{"realm_access":{"roles":["a","b"]},"groups":[],"o":{},"deep":[[[1]]]}"#,
            "{}",
            "{\"caf\u{e9}\":\"\u{1F600}\"}",
        ] {
            let v = flat(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(v, serde_json::from_str::<Json>(text).unwrap(), "{text}");
        }
        let (c, _) = parse_into::<Json>(r#"{"aud":["a","b"],"exp":5,"iss":"i"}"#).unwrap();
        assert_eq!(
            c.aud,
            Some(Audience::Many(alloc::vec!["a".into(), "b".into()]))
        );
        assert_eq!(c.exp.map(NumericDate::secs), Some(5));
        assert_eq!(c.iss.as_deref(), Some("i"));
    }

    #[test]
    fn everything_else_goes_to_the_general_path() {
        let deep = |n: usize| {
            let mut s = String::from("{\"x\":");
            s.push_str(&"[".repeat(n));
            s.push_str(&"]".repeat(n));
            s.push('}');
            s
        };
        assert!(flat(&deep(31)).is_some());
        assert!(
            flat(&deep(32)).is_none(),
            "too deep, as the general path counts"
        );
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":2}}"#,
            r#"{"a":[{"b":1,"b":2}]}"#,
            r#"{"a":"\u0041"}"#,
            r#"{"\u0061":1}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-1}"#,
            r#"{"a":01}"#,
            r#"{"a":12345678901234567890}"#,
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{,"a":1}"#,
            r#"{"a":1} x"#,
            r#"{"a":1"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            "{\"a\":\"x\ty\"}",
            r#"{"exp":"1"}"#,
            r#"{"exp":253402300800}"#,
            r#"{"iss":1}"#,
            r#"{"aud":["a",1]}"#,
            r#"{"aud":{}}"#,
            r#"[]"#,
            "",
        ] {
            assert!(flat(text).is_none(), "{text}");
        }
    }
}
