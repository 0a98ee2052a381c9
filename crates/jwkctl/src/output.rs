//! Exit codes and the JSON shapes printed on stdout.

use std::process::ExitCode;

use serde_json::Value;

/// Token valid, or command done.
pub(crate) const OK: u8 = 0;
/// Token invalid.
pub(crate) const INVALID: u8 = 1;
/// Could not decide: usage, unreadable or unavailable key source.
pub(crate) const UNDECIDED: u8 = 2;

/// A JSON string literal.
pub(crate) fn string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// `{"valid":false,"error":{"code":..,"message":..}}`, members in contract order.
pub(crate) fn error_json(code: &str, message: &str) -> String {
    format!(
        r#"{{"valid":false,"error":{}}}"#,
        error_object(code, message)
    )
}

/// `{"code":..,"message":..}`.
pub(crate) fn error_object(code: &str, message: &str) -> String {
    format!(
        r#"{{"code":{},"message":{}}}"#,
        string(code),
        string(message)
    )
}

/// The JOSE header of `token` exactly as received, as JSON.
pub(crate) fn received_header(compact: &jwk_core::Compact<'_>) -> Result<Value, jwk_core::Error> {
    let mut buf = Vec::new();
    jwk_core::b64::decode_into(compact.header_b64(), jwk_core::Part::Header, &mut buf)?;
    jwk_core::json::parse_value(&buf, jwk_core::Part::Header)
}

/// Prints the invalid-token JSON and returns exit code 1.
pub(crate) fn invalid(code: &str, message: &str) -> ExitCode {
    println!("{}", error_json(code, message));
    ExitCode::from(INVALID)
}

/// Could not decide: message on stderr; with `code`, the error JSON on stdout too.
pub(crate) fn undecided(code: Option<&str>, message: &str) -> ExitCode {
    eprintln!("jwkctl: {message}");
    if let Some(code) = code {
        println!("{}", error_json(code, message));
    }
    ExitCode::from(UNDECIDED)
}
