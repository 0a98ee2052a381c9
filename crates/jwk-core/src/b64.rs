//! Strict base64url (RFC 7515 section 2): URL-safe alphabet, no padding, no whitespace, and
//! non-canonical trailing bits rejected, so every byte string has exactly one accepted encoding.

use alloc::string::String;
use alloc::vec::Vec;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine as _};
use base64::{alphabet, DecodeError};

use crate::error::{Error, Part};

/// The `base64` crate's engine configured for RFC 7515: padding refused, trailing bits checked.
const STRICT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: &[u8]) -> String {
    STRICT.encode(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    STRICT.encode_string(bytes, out);
}

/// Decodes strict base64url into a new vector; `part` names the input in errors.
pub fn decode(input: &str, part: Part) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    decode_into(input, part, &mut out)?;
    Ok(out)
}

/// Decodes strict base64url, appending to `out` (callers on hot paths lend a scratch buffer).
pub fn decode_into(input: &str, part: Part, out: &mut Vec<u8>) -> Result<(), Error> {
    STRICT
        .decode_vec(input.as_bytes(), out)
        .map_err(|e| map_error(e, input.len(), part))
}

/// Decodes strict base64url into `out`, returning the decoded length: for hot paths that
/// decode into a buffer on the stack. An `out` shorter than [`decoded_len`] is `too_large`.
pub fn decode_to_slice(input: &str, part: Part, out: &mut [u8]) -> Result<usize, Error> {
    STRICT
        .decode_slice(input.as_bytes(), out)
        .map_err(|e| match e {
            base64::DecodeSliceError::DecodeError(e) => map_error(e, input.len(), part),
            base64::DecodeSliceError::OutputSliceTooSmall => Error::TooLarge {
                part,
                size: decoded_len(input.len()).unwrap_or(input.len()),
                limit: out.len(),
            },
        })
}

/// Decoded length of a base64url string of `len` characters (no padding), or `None` when no
/// strict encoding has that length.
pub fn decoded_len(len: usize) -> Option<usize> {
    match len % 4 {
        1 => None,
        r => Some(len / 4 * 3 + r.saturating_sub(1)),
    }
}

fn map_error(e: DecodeError, len: usize, part: Part) -> Error {
    let (offset, reason) = match e {
        DecodeError::InvalidByte(offset, b'=') => (offset, "padding is not allowed"),
        DecodeError::InvalidByte(offset, b'+' | b'/') => {
            (offset, "'+' and '/' are base64, not base64url")
        }
        DecodeError::InvalidByte(offset, b) if b.is_ascii_whitespace() => {
            (offset, "whitespace is not allowed")
        }
        DecodeError::InvalidByte(offset, _) => (offset, "character outside the base64url alphabet"),
        DecodeError::InvalidLength(_) => (len, "impossible length (a multiple of 4 plus 1)"),
        DecodeError::InvalidLastSymbol(offset, _) => {
            (offset, "non-canonical encoding (trailing bits set)")
        }
        DecodeError::InvalidPadding => (len, "padding is not allowed"),
    };
    Error::Base64 {
        part,
        offset,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(input: &str) -> Result<Vec<u8>, &'static str> {
        decode(input, Part::Token).map_err(|e| match e {
            Error::Base64 { reason, .. } => reason,
            _ => "other",
        })
    }

    #[test]
    fn round_trips_rfc4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(raw.as_bytes()), enc);
            assert_eq!(code(enc).unwrap(), raw.as_bytes());
            assert_eq!(decoded_len(enc.len()), Some(raw.len()));
        }
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn rejects_non_strict_forms() {
        assert_eq!(code("Zg=="), Err("padding is not allowed"));
        assert_eq!(code("Zm8="), Err("padding is not allowed"));
        assert_eq!(code("+_8"), Err("'+' and '/' are base64, not base64url"));
        assert_eq!(code("-/8"), Err("'+' and '/' are base64, not base64url"));
        assert_eq!(code("Zm 9v"), Err("whitespace is not allowed"));
        assert_eq!(code("Zm9v\n"), Err("whitespace is not allowed"));
        assert_eq!(
            code("Zh"),
            Err("non-canonical encoding (trailing bits set)")
        );
        assert_eq!(
            code("Zm9"),
            Err("non-canonical encoding (trailing bits set)")
        );
        assert_eq!(
            code("Zm9vY"),
            Err("impossible length (a multiple of 4 plus 1)")
        );
        assert_eq!(
            code("Zm9v*"),
            Err("character outside the base64url alphabet")
        );
        assert_eq!(decoded_len(5), None);
    }
}
