//! Strict JSON on top of `serde_json`: duplicate member names are an error at every depth, nesting
//! is bounded, and typed errors travel out of serde visitors through a side slot.
//!
//! `serde_json::Value` (and any map) keeps the last of two equal member names, so
//! `{"alg":"RS256","alg":"none"}` would read as `none` while another parser reads `RS256`. Every
//! parse here goes through visitors that see each member and refuse a repeat.

use alloc::borrow::{Cow, ToOwned};
use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Part};

/// Maximum nesting depth of any JSON document this crate parses (objects and arrays).
pub const MAX_DEPTH: usize = 32;

/// Where a visitor leaves a typed error before returning serde's opaque one.
pub(crate) type Slot = Cell<Option<Error>>;

/// Fails the current serde parse with `err` stored in `slot`.
pub(crate) fn fail<E: de::Error>(slot: &Slot, err: Error) -> E {
    slot.set(Some(err));
    E::custom("")
}

/// Runs `seed` over the whole of `bytes` (trailing non-whitespace is an error).
pub(crate) fn parse_seed<'de, S>(
    bytes: &'de [u8],
    part: Part,
    slot: &Slot,
    seed: S,
) -> Result<S::Value, Error>
where
    S: DeserializeSeed<'de>,
{
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    result.map_err(|e| slot.take().unwrap_or_else(|| json_error(&e, part)))
}

/// [`parse_seed`] over text already checked as UTF-8: serde_json's `str` reader skips its own
/// UTF-8 check of every string, so the bytes are validated once, not twice.
pub(crate) fn parse_seed_str<'de, S>(
    text: &'de str,
    part: Part,
    slot: &Slot,
    seed: S,
) -> Result<S::Value, Error>
where
    S: DeserializeSeed<'de>,
{
    let mut de = serde_json::Deserializer::from_str(text);
    let result = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    result.map_err(|e| slot.take().unwrap_or_else(|| json_error(&e, part)))
}

fn json_error(e: &serde_json::Error, part: Part) -> Error {
    let mut message = e.to_string();
    // serde_json appends " at line L column C"; we carry those as fields.
    if let Some(i) = message.rfind(" at line ") {
        message.truncate(i);
    }
    Error::Json {
        part,
        line: e.line(),
        column: e.column(),
        message: message.into_boxed_str(),
    }
}

/// A set of member names seen in one object: linear scan over an inline array while small (no
/// allocation for the usual header or claims set), a tree beyond, so a hostile object with
/// thousands of members stays `O(n log n)`. The inline scan compares a word made of each
/// name's length and first seven bytes before the names themselves (claim names are mostly
/// three bytes long: the word decides alone).
pub(crate) struct Names<'de> {
    small: [(u64, Cow<'de, str>); SMALL_NAMES],
    /// How many of `small` are in use; 0 once `large` took over.
    len: usize,
    large: BTreeSet<Cow<'de, str>>,
}

const SMALL_NAMES: usize = 16;

impl Default for Names<'_> {
    fn default() -> Self {
        Names {
            small: core::array::from_fn(|_| (0, Cow::Borrowed(""))),
            len: 0,
            large: BTreeSet::new(),
        }
    }
}

/// The length and first seven bytes of `name` in one word: equal names give equal words, and
/// for names of at most seven bytes equal words mean equal names.
fn fingerprint(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let mut word = (bytes.len() as u64) << 56;
    for (i, &b) in bytes.iter().take(7).enumerate() {
        word |= u64::from(b) << (8 * i);
    }
    word
}

impl<'de> Names<'de> {
    /// Adds `name`; false when it was already there.
    pub(crate) fn insert(&mut self, name: Cow<'de, str>) -> bool {
        if self.large.is_empty() {
            let word = fingerprint(&name);
            let used = self.small.get(..self.len).unwrap_or_default();
            if used
                .iter()
                .any(|(w, n)| *w == word && (name.len() <= 7 || *n == name))
            {
                return false;
            }
            if let Some(slot) = self.small.get_mut(self.len) {
                *slot = (word, name);
                self.len += 1;
                return true;
            }
            self.large
                .extend(self.small.iter_mut().map(|(_, n)| core::mem::take(n)));
            self.len = 0;
        }
        self.large.insert(name)
    }
}

/// A member name, borrowed from the input when it has no escapes.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Checks a value (duplicates, depth) without building anything: for members that are kept
/// only as raw JSON.
pub(crate) struct Check<'s> {
    pub(crate) depth: usize,
    pub(crate) part: Part,
    pub(crate) slot: &'s Slot,
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = deeper(self.depth, self.part, self.slot)?;
        while seq.next_element_seed(Check { depth, ..self })?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = deeper(self.depth, self.part, self.slot)?;
        let mut names = Names::default();
        while let Some(name) = map.next_key_seed(KeySeed)? {
            if !names.insert(name.clone()) {
                return Err(duplicate(self.slot, self.part, &name));
            }
            map.next_value_seed(Check { depth, ..self })?;
        }
        Ok(())
    }
}

impl Clone for Check<'_> {
    fn clone(&self) -> Self {
        *self
    }
}
impl Copy for Check<'_> {}

/// The depth of a container's children, or the `TooDeep` error past [`MAX_DEPTH`].
pub(crate) fn deeper<E: de::Error>(depth: usize, part: Part, slot: &Slot) -> Result<usize, E> {
    let depth = depth + 1;
    if depth > MAX_DEPTH {
        return Err(fail(
            slot,
            Error::TooDeep {
                part,
                limit: MAX_DEPTH,
            },
        ));
    }
    Ok(depth)
}

pub(crate) fn duplicate<E: de::Error>(slot: &Slot, part: Part, name: &str) -> E {
    fail(
        slot,
        Error::DuplicateMember {
            part,
            name: name.into(),
        },
    )
}

/// A parsed JSON tree that keeps duplicate members in order, so that one bad key in a set can
/// be set aside without failing the whole document. Depth is bounded while parsing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    /// JSON type name for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Number(_) => "a number",
            Node::String(_) => "a string",
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
        }
    }

    /// Converts to a `serde_json::Value`, refusing duplicate members at any depth.
    pub(crate) fn into_value(self, part: Part) -> Result<Value, Error> {
        Ok(match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Number(n) => Value::Number(n),
            Node::String(s) => Value::String(s),
            Node::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|n| n.into_value(part))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Object(members) => {
                let mut map = Map::new();
                for (name, node) in members {
                    if map.contains_key(&name) {
                        return Err(Error::DuplicateMember {
                            part,
                            name: name.into_boxed_str(),
                        });
                    }
                    let value = node.into_value(part)?;
                    map.insert(name, value);
                }
                Value::Object(map)
            }
        })
    }

    /// The first member name that appears twice in this object (not recursive).
    pub(crate) fn first_duplicate(members: &[(String, Node)]) -> Option<&str> {
        let mut names = Names::default();
        members
            .iter()
            .find(|(n, _)| !names.insert(Cow::Borrowed(n.as_str())))
            .map(|(n, _)| n.as_str())
    }
}

/// Parses one value into a [`Node`], bounding depth.
#[derive(Clone, Copy)]
pub(crate) struct NodeSeed<'s> {
    pub(crate) depth: usize,
    pub(crate) part: Part,
    pub(crate) slot: &'s Slot,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        // serde_json never yields a non-finite float from text.
        Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let depth = deeper(self.depth, self.part, self.slot)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed { depth, ..self })? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let depth = deeper(self.depth, self.part, self.slot)?;
        let mut members = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value_seed(NodeSeed { depth, ..self })?;
            members.push((name, value));
        }
        Ok(Node::Object(members))
    }
}

/// A value read as a string without allocating when it is one (borrowed from the input when it
/// has no escapes); any other value is parsed into a [`Node`] under [`NodeSeed`]'s rules (depth,
/// errors), so callers report the same type error as before.
#[derive(Clone, Copy)]
pub(crate) struct StrSeed<'s>(pub(crate) NodeSeed<'s>);

impl<'de> DeserializeSeed<'de> for StrSeed<'_> {
    type Value = Result<Cow<'de, str>, Node>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrSeed<'_> {
    type Value = Result<Cow<'de, str>, Node>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Ok(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Ok(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Ok(Cow::Owned(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.0.visit_bool(v).map(Err)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.0.visit_i64(v).map(Err)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.0.visit_u64(v).map(Err)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.0.visit_f64(v).map(Err)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit().map(Err)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(seq).map(Err)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map).map(Err)
    }
}

/// Parses a whole document into a [`Node`] (duplicates kept, depth bounded).
pub(crate) fn parse_node(bytes: &[u8], part: Part) -> Result<Node, Error> {
    let slot = Slot::default();
    parse_seed(
        bytes,
        part,
        &slot,
        NodeSeed {
            depth: 0,
            part,
            slot: &slot,
        },
    )
}

/// Parses a whole document strictly into a `serde_json::Value`.
pub fn parse_value(bytes: &[u8], part: Part) -> Result<Value, Error> {
    parse_node(bytes, part)?.into_value(part)
}

/// A claims set's JSON text that passed the strict parse (no duplicate member at any depth,
/// bounded nesting): only this crate's parsers make one, so the plain `serde_json` read that
/// [`Self::deserialize_as`] does cannot meet a duplicate-member trick.
///
/// Made by [`Claims::checked_json`](crate::Claims::checked_json).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedJson<'a>(&'a str);

impl<'a> CheckedJson<'a> {
    /// Wraps `text`, which the caller has just parsed strictly.
    pub(crate) fn new(text: &'a str) -> Self {
        CheckedJson(text)
    }

    /// The JSON text.
    pub fn as_str(self) -> &'a str {
        self.0
    }

    /// Deserializes the text into the caller's type, which may borrow from it. `T`'s own
    /// errors are [`Error::Json`] on the payload.
    pub fn deserialize_as<T: serde::Deserialize<'a>>(self) -> Result<T, Error> {
        serde_json::from_str(self.0).map_err(|e| Error::Json {
            part: Part::Payload,
            line: e.line(),
            column: e.column(),
            message: e.to_string().into(),
        })
    }

    /// Copies the text into `buf` (cleared first): the copy is as checked as the original, and
    /// a type deserialized from it may outlive the value this one borrows from.
    pub fn copy_into(self, buf: &mut Vec<u8>) -> CheckedJson<'_> {
        buf.clear();
        buf.extend_from_slice(self.0.as_bytes());
        // The bytes are those of a `str`.
        match core::str::from_utf8(buf) {
            Ok(text) => CheckedJson(text),
            Err(_) => CheckedJson(""),
        }
    }
}

/// Takes a string member's value or reports its type.
pub(crate) fn string(node: Node) -> Result<String, &'static str> {
    match node {
        Node::String(s) => Ok(s),
        _ => Err("must be a string"),
    }
}

/// Takes an array of strings.
pub(crate) fn strings(node: Node) -> Result<Vec<String>, &'static str> {
    match node {
        Node::Array(items) => items
            .into_iter()
            .map(|n| match n {
                Node::String(s) => Ok(s),
                _ => Err("must be an array of strings"),
            })
            .collect(),
        _ => Err("must be an array of strings"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_rejected_at_any_depth() {
        let e = parse_value(br#"{"a":1,"a":2}"#, Part::Header).unwrap_err();
        assert_eq!(
            e,
            Error::DuplicateMember {
                part: Part::Header,
                name: "a".into()
            }
        );
        let e = parse_value(br#"{"x":{"b":[{"c":1,"c":1}]}}"#, Part::Payload).unwrap_err();
        assert_eq!(
            e,
            Error::DuplicateMember {
                part: Part::Payload,
                name: "c".into()
            }
        );
        // Escaped and plain spellings of one name are the same name.
        let e = parse_value(br#"{"alg":1,"\u0061lg":2}"#, Part::Header).unwrap_err();
        assert_eq!(e.code(), "malformed");
        assert!(parse_value(br#"{"a":{"a":1}}"#, Part::Header).is_ok());
    }

    #[test]
    fn depth_bounded() {
        let mut deep = String::new();
        for _ in 0..MAX_DEPTH + 1 {
            deep.push('[');
        }
        for _ in 0..MAX_DEPTH + 1 {
            deep.push(']');
        }
        let e = parse_value(deep.as_bytes(), Part::Jwk).unwrap_err();
        assert_eq!(
            e,
            Error::TooDeep {
                part: Part::Jwk,
                limit: MAX_DEPTH
            }
        );
        let ok = &deep[1..deep.len() - 1];
        assert!(parse_value(ok.as_bytes(), Part::Jwk).is_ok());
    }

    #[test]
    fn names_compare_by_word_then_text() {
        let mut names = Names::default();
        for n in [
            "iss",
            "is",
            "iss\0",
            "exp",
            "a_long_name_1",
            "a_long_name_2",
            "",
        ] {
            assert!(names.insert(Cow::Borrowed(n)), "{n:?}");
        }
        for n in ["iss", "", "a_long_name_2", "iss\0"] {
            assert!(!names.insert(Cow::Borrowed(n)), "{n:?}");
        }
        assert!(names.insert(Cow::Owned("a_long_name_3".into())));
    }

    #[test]
    fn many_members_use_the_tree() {
        let mut s = String::from("{");
        for i in 0..100 {
            s.push_str(&alloc::format!("\"k{i}\":0,"));
        }
        s.push_str("\"k99\":1}");
        let e = parse_value(s.as_bytes(), Part::Payload).unwrap_err();
        assert_eq!(
            e,
            Error::DuplicateMember {
                part: Part::Payload,
                name: "k99".into()
            }
        );
    }

    #[test]
    fn syntax_errors_carry_position() {
        match parse_value(b"{\"a\":}", Part::Header).unwrap_err() {
            Error::Json {
                line: 1, column, ..
            } => assert!(column > 0),
            other => panic!("{other:?}"),
        }
        assert!(parse_value(b"{} x", Part::Header).is_err());
    }
}
