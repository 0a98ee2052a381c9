//! Our accept / refuse decision against `jsonwebtoken`'s on the same token, key and policy.
//!
//! The fuzzer writes the header and the claims as JSON (`header 0xFF payload`); the target
//! signs them with HS256 under one shared secret, so both libraries see a correctly signed
//! token and the decision rests on parsing and policy alone. Policy on both sides: HS256 only,
//! issuer `https://idp.example`, audience `api`, `exp` required, `nbf` checked, 60 s leeway,
//! the system clock (jsonwebtoken reads it itself, so both read it).
//!
//! Where they may disagree, and why (each case is checked, anything else fails the run):
//! - **We accept, jsonwebtoken refuses** is allowed only when
//!   - a time claim sits within 2 s of a boundary (the two clocks are read a moment apart, and
//!     jsonwebtoken rounds fractional dates while we floor them), or
//!   - jsonwebtoken could not deserialize a header member that it types and we never use
//!     (`jwk`, `x5c`, `jku`, `x5u`, `x5t`, `x5t#S256`, `cty`, `typ` of another JSON type): we
//!     never read keys or URLs from a header, so their shape does not change our decision.
//!   - `nbf` is before 1970: a negative NumericDate is valid (RFC 7519 section 2) and lies in
//!     the past for us; jsonwebtoken reads dates as `u64` and refuses it as a bad format.
//! - **jsonwebtoken accepts, we refuse** is allowed for the stricter rules we document, each
//!   with our stable code: `malformed` (repeated member names, nesting past our depth bound,
//!   a header or claims set that is not an object in the strict reading), `too_large`,
//!   `unsupported_crit` (jsonwebtoken ignores `crit`, RFC 7515 4.1.11 says to refuse what is
//!   not understood), `invalid_claim` (a registered claim of the wrong JSON type, such as an
//!   `iss` array or a fractional `exp`, that jsonwebtoken skips or coerces); `missing_claim`
//!   only when the claims lack `iss` or `aud` and `audience_mismatch` only when they lack
//!   `aud` (an issuer and an audience are configured: jsonwebtoken lets a token without the
//!   claim through unless it is also listed as required); and,
//!   only when `iat` is present, `issued_in_future` (jwt-validate checks `iat`, jsonwebtoken
//!   does not); and, only when the header names a `kid`, `key_not_found` (keys are selected
//!   by `kid` and the set's one key has none; jsonwebtoken is handed its key and never reads
//!   `kid`).
//!   A refusal with any other code (`bad_signature`, `expired`, ...) while jsonwebtoken accepts
//!   fails the run.
#![no_main]

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwk_core::{Algorithm, JwkSet};
use jwt_validate::Validator;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SECRET: &[u8] = b"a shared HS256 secret of at least thirty-two bytes";
const ISSUER: &str = "https://idp.example";
const AUDIENCE: &str = "api";

/// Codes for which our refusal of a token jsonwebtoken accepts is a documented, stricter rule.
const STRICTER: &[&str] = &[
    "malformed",
    "too_large",
    "unsupported_crit",
    "invalid_claim",
];

fn ours() -> &'static Validator {
    static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let k = URL_SAFE_NO_PAD.encode(SECRET);
        let set = format!(r#"{{"keys":[{{"kty":"oct","k":"{k}"}}]}}"#);
        Validator::builder()
            .jwks(JwkSet::parse(set.as_bytes()).expect("the fixed set parses"))
            .provider(&jws_crypto::ring::PROVIDER)
            .algorithms([Algorithm::Hs256])
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .expect("the fixed validator builds")
    })
}

fn theirs() -> &'static (jsonwebtoken::DecodingKey, jsonwebtoken::Validation) {
    static V: std::sync::OnceLock<(jsonwebtoken::DecodingKey, jsonwebtoken::Validation)> =
        std::sync::OnceLock::new();
    V.get_or_init(|| {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_nbf = true;
        validation.leeway = 60;
        let key = jsonwebtoken::DecodingKey::from_secret(SECRET).expect("an HMAC key from bytes");
        (key, validation)
    })
}

fn now() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i128::from(d.as_secs()))
        .unwrap_or(0)
}

/// Whether a time claim lies within 2 s of where either library's answer flips.
fn near_time_boundary(claims: &Value) -> bool {
    let now = now();
    ["exp", "nbf", "iat"].iter().any(|name| {
        claims.get(*name).and_then(Value::as_f64).is_some_and(|t| {
            let t = t as i128;
            [now - 60, now + 60, now].iter().any(|b| (t - b).abs() <= 2)
        })
    })
}

/// A negative `nbf` (before 1970), which jsonwebtoken cannot read as a `u64`.
fn nbf_before_1970(claims: &Value) -> bool {
    claims
        .get("nbf")
        .and_then(Value::as_f64)
        .is_some_and(|t| t < 0.0)
}

/// Whether the header names a `kid`: the one key of our set has none, so a `kid` selects no
/// key (`key_not_found`), where jsonwebtoken is handed the key and never reads `kid`.
fn header_has_kid(header: &[u8]) -> bool {
    serde_json::from_slice::<Value>(header).is_ok_and(|h| h.get("kid").is_some())
}

/// Header members jsonwebtoken deserializes into types, which we never use for a decision.
fn header_member_jsonwebtoken_types(header: &[u8]) -> bool {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(header) else {
        return false;
    };
    let typed: HashSet<&str> = [
        "jwk", "x5c", "jku", "x5u", "x5t", "x5t#S256", "cty", "typ", "kid",
    ]
    .into_iter()
    .collect();
    let untyped_ok = map.iter().all(|(k, v)| match k.as_str() {
        "x5c" => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)) || v.is_null(),
        "jwk" => false,
        k if typed.contains(k) => v.is_string() || v.is_null(),
        _ => true,
    });
    !untyped_ok
}

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0xFF) else {
        return;
    };
    let (header, payload) = (&data[..split], &data[split + 1..]);
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let Ok(key) = jsonwebtoken::EncodingKey::from_secret(SECRET) else {
        return;
    };
    let Ok(signature) = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &key,
        jsonwebtoken::Algorithm::HS256,
    ) else {
        return;
    };
    let token = format!("{signing_input}.{signature}");

    let our = ours().validate(&token).map(|_| ()).map_err(|e| e.code());
    let (dkey, validation) = theirs();
    let their = jsonwebtoken::decode::<Value>(&token, dkey, validation).map(|_| ());

    let claims: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    match (&our, &their) {
        (Ok(()), Ok(())) | (Err(_), Err(_)) => {}
        (Ok(()), Err(e)) => {
            let explained = near_time_boundary(&claims)
                || header_member_jsonwebtoken_types(header)
                || nbf_before_1970(&claims);
            assert!(
                explained,
                "we accept, jsonwebtoken refuses ({e:?}): {token}"
            );
        }
        (Err(code), Ok(())) => {
            let explained = STRICTER.contains(code)
                || near_time_boundary(&claims)
                || (*code == "missing_claim"
                    && (claims.get("aud").is_none() || claims.get("iss").is_none()))
                || (*code == "audience_mismatch" && claims.get("aud").is_none())
                || (*code == "issued_in_future" && claims.get("iat").is_some())
                || (*code == "key_not_found" && header_has_kid(header));
            assert!(
                explained,
                "jsonwebtoken accepts, we refuse with {code}: {token}"
            );
        }
    }
});
