//! Compact JWS serialization (RFC 7515 section 7.1), split without copying.

use alloc::vec::Vec;

use crate::b64;
use crate::claims::Claims;
use crate::error::{Error, Part};
use crate::header::Header;

/// Size limits applied before any decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest accepted compact token, in bytes. Default 16 KiB.
    pub max_token_len: usize,
}

impl Limits {
    /// The default limit on token length: 16 KiB.
    ///
    /// Why this size: it must hold the largest signature a validator here checks, ML-DSA-87's
    /// 4627 bytes (6170 base64url characters; RFC 9964, FIPS 204 table 2), plus its header and
    /// a claims set of several KiB (roles, groups, `cnf`): an ML-DSA-87 access token with
    /// ordinary claims is about 7 KiB, an RS256 one under 1 KiB. Beyond that it only bounds the
    /// work and memory a hostile token can cost (checked before any decoding; the decoded
    /// segments are at most three quarters of it). Raise it with [`Limits::with_max_token_len`]
    /// for larger claims sets.
    pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

    /// Limits with the given maximum token length.
    pub const fn with_max_token_len(max_token_len: usize) -> Self {
        Limits { max_token_len }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_token_len: Self::DEFAULT_MAX_TOKEN_LEN,
        }
    }
}

/// A compact JWS borrowed from the caller's string. Nothing is decoded yet.
///
/// Invariant (set by [`Compact::split`]): `dot1 < dot2`, and both index a `.` in `token`, so
/// every slice below is on a character boundary and in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compact<'a> {
    token: &'a str,
    dot1: usize,
    dot2: usize,
}

impl<'a> Compact<'a> {
    /// Splits `token` into its three segments after checking its size against `limits`.
    ///
    /// Runs in one linear pass and stops counting dots early, so hostile inputs (thousands of
    /// dots, long runs of one character) fail fast.
    pub fn split(token: &'a str, limits: &Limits) -> Result<Self, Error> {
        if token.len() > limits.max_token_len {
            return Err(Error::TooLarge {
                part: Part::Token,
                size: token.len(),
                limit: limits.max_token_len,
            });
        }
        // Fast path (every well-formed token): exactly two dots, found with SIMD.
        let mut found = memchr::memchr_iter(b'.', token.as_bytes());
        if let (Some(dot1), Some(dot2), None) = (found.next(), found.next(), found.next()) {
            return Ok(Compact { token, dot1, dot2 });
        }
        let mut dots = [0usize; 2];
        let mut count = 0usize;
        for (i, b) in token.bytes().enumerate() {
            if b == b'.' {
                if let Some(slot) = dots.get_mut(count) {
                    *slot = i;
                }
                count += 1;
            }
        }
        match count {
            2 => {}
            4 => return Err(Error::Jwe),
            n => return Err(Error::Segments { found: n + 1 }),
        }
        let [dot1, dot2] = dots;
        Ok(Compact { token, dot1, dot2 })
    }

    /// The whole token.
    pub fn as_str(&self) -> &'a str {
        self.token
    }

    /// The base64url header segment.
    pub fn header_b64(&self) -> &'a str {
        &self.token[..self.dot1]
    }

    /// The base64url payload segment.
    pub fn payload_b64(&self) -> &'a str {
        &self.token[self.dot1 + 1..self.dot2]
    }

    /// The base64url signature segment.
    pub fn signature_b64(&self) -> &'a str {
        &self.token[self.dot2 + 1..]
    }

    /// RFC 7515 section 5.2: the bytes the signature covers (`header.payload`), not copied.
    pub fn signing_input(&self) -> &'a [u8] {
        &self.token.as_bytes()[..self.dot2]
    }

    /// Decodes and parses the header (decoded on the stack when it is at most 512 bytes, as
    /// every usual header is).
    pub fn header(&self) -> Result<Header, Error> {
        let encoded = self.header_b64();
        let mut inline = [0u8; 512];
        if b64::decoded_len(encoded.len()).is_some_and(|n| n <= inline.len()) {
            let n = b64::decode_to_slice(encoded, Part::Header, &mut inline)?;
            return Header::parse(inline.get(..n).unwrap_or_default());
        }
        let mut buf = Vec::new();
        b64::decode_into(encoded, Part::Header, &mut buf)?;
        Header::parse(&buf)
    }

    /// Decodes the payload, appending to `out`.
    pub fn decode_payload_into(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        b64::decode_into(self.payload_b64(), Part::Payload, out)
    }

    /// Decodes the signature, appending to `out`.
    pub fn decode_signature_into(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        b64::decode_into(self.signature_b64(), Part::Signature, out)
    }
}

/// A compact JWS split and with its header parsed. Nothing in it is trusted: no signature has
/// been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct UnverifiedJws<'a> {
    compact: Compact<'a>,
    header: Header,
}

impl<'a> UnverifiedJws<'a> {
    /// Splits `token`, then decodes and parses its header.
    pub fn parse(token: &'a str, limits: &Limits) -> Result<Self, Error> {
        let compact = Compact::split(token, limits)?;
        let header = compact.header()?;
        Ok(UnverifiedJws { compact, header })
    }

    /// The segments.
    pub fn compact(&self) -> &Compact<'a> {
        &self.compact
    }

    /// The parsed (unverified) header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The parsed (unverified) header, owned (no copy).
    pub fn into_header(self) -> Header {
        self.header
    }

    /// The bytes the signature covers.
    pub fn signing_input(&self) -> &'a [u8] {
        self.compact.signing_input()
    }

    /// The decoded signature.
    pub fn signature(&self) -> Result<Vec<u8>, Error> {
        b64::decode(self.compact.signature_b64(), Part::Signature)
    }

    /// The decoded payload bytes, in a buffer of exactly their length (so that
    /// [`Claims::parse_owned`] keeps it without reallocating).
    pub fn payload(&self) -> Result<Vec<u8>, Error> {
        b64::decode(self.compact.payload_b64(), Part::Payload)
    }

    /// The claims, **unverified**: for `jwkctl decode` and logs only. The prefix is there for
    /// code reviewers.
    pub fn dangerous_claims(&self) -> Result<Claims<'static>, Error> {
        Claims::parse_owned(self.payload()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    const RFC7515_A1: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn splits_without_copying() {
        let c = Compact::split(RFC7515_A1, &Limits::default()).unwrap();
        assert_eq!(c.header_b64(), "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
        assert_eq!(
            c.signature_b64(),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
        assert_eq!(c.signing_input().as_ptr(), RFC7515_A1.as_ptr());
        assert_eq!(c.signing_input().len(), RFC7515_A1.rfind('.').unwrap());
    }

    #[test]
    fn segment_errors() {
        let l = Limits::default();
        assert_eq!(
            Compact::split("a.b", &l).unwrap_err(),
            Error::Segments { found: 2 }
        );
        assert_eq!(Compact::split("a.b.c.d.e", &l).unwrap_err(), Error::Jwe);
        assert_eq!(
            Compact::split("abc", &l).unwrap_err(),
            Error::Segments { found: 1 }
        );
        let dots: String = ".".repeat(1000);
        assert_eq!(
            Compact::split(&dots, &l).unwrap_err(),
            Error::Segments { found: 1001 }
        );
        assert_eq!(
            UnverifiedJws::parse(".b.c", &l).unwrap_err().code(),
            "malformed"
        );
    }

    #[test]
    fn headers_around_the_inline_buffer_size_parse_alike() {
        for len in [509, 510, 511, 512, 513, 514, 600] {
            // {"alg":"ES256","x":"aaa..."} padded to exactly `len` bytes.
            let fixed = r#"{"alg":"ES256","x":""}"#.len();
            let json = alloc::format!(r#"{{"alg":"ES256","x":"{}"}}"#, "a".repeat(len - fixed));
            assert_eq!(json.len(), len);
            let token = alloc::format!("{}.e30.c2ln", b64::encode(json.as_bytes()));
            let jws = UnverifiedJws::parse(&token, &Limits::default()).unwrap();
            assert_eq!(jws.header().alg, crate::Algorithm::Es256, "{len}");
            let bad = alloc::format!("{}.e30.c2ln", &b64::encode(json.as_bytes())[1..]);
            assert!(
                UnverifiedJws::parse(&bad, &Limits::default()).is_err(),
                "{len}"
            );
        }
    }

    #[test]
    fn size_checked_first() {
        let long: String = "a".repeat(16 * 1024 + 1);
        let e = Compact::split(&long, &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "too_large");
        let run: String = "a".repeat(16 * 1024);
        assert_eq!(
            Compact::split(&run, &Limits::default()).unwrap_err().code(),
            "malformed"
        );
        assert_eq!(
            Compact::split("a.b.c", &Limits::with_max_token_len(4)).unwrap_err(),
            Error::TooLarge {
                part: Part::Token,
                size: 5,
                limit: 4
            }
        );
    }
}
