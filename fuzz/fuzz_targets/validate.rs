//! The whole validator past the signature: key selection, header policy and the claims policy.
//!
//! A fuzzer cannot forge RSA, ECDSA or EdDSA signatures, so a target over real keys never gets
//! past `bad_signature`. This one uses a fuzz-only provider (rustls's pattern for fuzzing): it
//! imports every key through the real ring backend, so every import check and the key
//! selection rules are the real ones, and then hands back a verifier that accepts exactly one
//! fixed signature value. Every token the fuzzer builds whose third segment is that value
//! reaches key selection and the claims policy.
//!
//! Input: the first byte picks the shape.
//! - even: the rest is a token as text;
//! - odd: the rest is `header JSON 0xFF payload JSON`, and the target builds the token (both
//!   base64url-encoded, then the fixed signature), so the fuzzer works on the JSON itself.
//!
//! Properties:
//! - never a panic (libFuzzer's own check);
//! - `validate`, `validate_as` and `validate_borrowed` agree: all accept, or all refuse with the
//!   same code;
//! - an accepted token passes an independent re-check written with `serde_json` only: the
//!   signature segment is the fixed value, `alg` is one of the keys' algorithms, a `kid` names
//!   a key published for that `alg`, no `crit`, `exp` is a number and not past (60 s leeway),
//!   `nbf` (when present) not in the future, `iss` is the configured issuer and `aud` names the
//!   configured audience.
#![no_main]

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jwk_core::{Algorithm, Jwk, JwkSet};
use jws_crypto::{BadSignature, Error as CryptoError, KeyPolicy, Provider, Verifier};
use jwt_validate::{FixedClock, Validator};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The one signature value the fuzz provider's verifiers accept.
const SIGNATURE: &[u8] = b"fuzz-only signature: never a real one";
const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://idp.example";
const AUDIENCE: &str = "api";
const LEEWAY: i128 = 60;

/// Real public keys (RFC 7515 A.2 RSA, A.3 P-256, RFC 8037 Ed25519): the RSA key listed once
/// per algorithm as Asgardeo does, and one key without `kid`.
const JWKS: &str = r#"{"keys":[
 {"kty":"RSA","kid":"rsa_RS256","alg":"RS256","use":"sig","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
 {"kty":"RSA","kid":"rsa_PS256","alg":"PS256","use":"sig","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"},
 {"kty":"EC","kid":"ec","alg":"ES256","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
 {"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
]}"#;

/// A verifier of the fuzz provider: the algorithm the real import bound, and one accepted
/// signature.
#[derive(Debug)]
struct FixedSignature(Algorithm);

impl Verifier for FixedSignature {
    fn algorithm(&self) -> Algorithm {
        self.0
    }

    fn verify(&self, _signing_input: &[u8], signature: &[u8]) -> Result<(), BadSignature> {
        if signature == SIGNATURE {
            Ok(())
        } else {
            Err(BadSignature)
        }
    }
}

/// The real ring import (every check), then the fixed-signature verifier in its place.
fn import(jwk: &Jwk, alg: Algorithm, policy: &KeyPolicy) -> Result<Arc<dyn Verifier>, CryptoError> {
    let real = jws_crypto::ring::PROVIDER.import(jwk, alg, policy)?;
    Ok(Arc::new(FixedSignature(real.algorithm())))
}

fn supports(alg: Algorithm) -> bool {
    jws_crypto::ring::PROVIDER.supports(alg)
}

static FUZZ_PROVIDER: Provider = Provider::new("fuzz", import, supports);

/// The caller's own claims type for `validate_as` / `validate_borrowed`.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct App<'a> {
    #[serde(borrow)]
    sub: Option<std::borrow::Cow<'a, str>>,
    scope: Option<String>,
}

fn validator() -> &'static Validator {
    static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let keys = JwkSet::parse(JWKS.as_bytes()).expect("the fixed set parses");
        Validator::builder()
            .provider(&FUZZ_PROVIDER)
            .jwks(keys)
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .clock(FixedClock::at_secs(NOW))
            .build()
            .expect("the fixed validator builds")
    })
}

fn token_from(data: &[u8]) -> Option<String> {
    let (&shape, rest) = data.split_first()?;
    if shape % 2 == 0 {
        return String::from_utf8(rest.to_vec()).ok();
    }
    let split = rest.iter().position(|&b| b == 0xFF)?;
    let (header, payload) = (&rest[..split], &rest[split + 1..]);
    Some(format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(SIGNATURE)
    ))
}

/// A NumericDate as a number of whole seconds (fractions floored), `None` for anything else.
fn seconds(v: &Value) -> Option<i128> {
    if let Some(i) = v.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = v.as_u64() {
        return Some(i128::from(u));
    }
    v.as_f64()
        .filter(|f| f.is_finite())
        .map(|f| f.floor() as i128)
}

/// The independent re-check of an accepted token.
fn recheck(token: &str) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(
        parts.len(),
        3,
        "accepted a token that is not three segments"
    );
    let sig = URL_SAFE_NO_PAD
        .decode(parts[2])
        .expect("accepted signature segment decodes");
    assert_eq!(sig, SIGNATURE, "accepted a signature the verifier refuses");

    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("header b64"))
            .expect("accepted header is JSON");
    let alg = header["alg"].as_str().expect("accepted alg is a string");
    assert!(
        ["RS256", "PS256", "ES256", "EdDSA"].contains(&alg),
        "accepted alg {alg:?} that no key was published for"
    );
    match header.get("kid") {
        // Without `kid` every fitting key is a candidate; `alg` was checked above.
        None => {}
        Some(kid) => {
            let kid = kid.as_str().expect("accepted kid is a string");
            let ok = matches!(
                (kid, alg),
                ("rsa_RS256", "RS256") | ("rsa_PS256", "PS256") | ("ec", "ES256")
            );
            assert!(ok, "accepted kid {kid:?} with alg {alg:?}");
        }
    }
    assert!(header.get("crit").is_none(), "accepted a token with crit");

    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("payload b64"))
            .expect("accepted payload is JSON");
    let now = i128::from(NOW);
    let exp = seconds(&claims["exp"]).expect("accepted without a numeric exp");
    assert!(exp + LEEWAY > now, "accepted an expired token (exp {exp})");
    if let Some(nbf) = claims.get("nbf") {
        let nbf = seconds(nbf).expect("accepted a non-numeric nbf");
        assert!(
            nbf - LEEWAY <= now,
            "accepted a token not yet valid (nbf {nbf})"
        );
    }
    assert_eq!(
        claims["iss"].as_str(),
        Some(ISSUER),
        "accepted another issuer"
    );
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == AUDIENCE,
        Value::Array(list) => list.iter().any(|a| a.as_str() == Some(AUDIENCE)),
        _ => false,
    };
    assert!(aud_ok, "accepted a token not meant for {AUDIENCE}");
}

fuzz_target!(|data: &[u8]| {
    let Some(token) = token_from(data) else {
        return;
    };
    let v = validator();

    let plain = v.validate(&token).map(|_| ()).map_err(|e| e.code());
    let typed = v
        .validate_as::<serde_json::Value>(&token)
        .map(|_| ())
        .map_err(|e| e.code());
    let mut buf = Vec::new();
    let borrowed = v
        .validate_borrowed::<App<'_>>(&token, &mut buf)
        .map(|_| ())
        .map_err(|e| e.code());

    assert_eq!(
        plain, typed,
        "validate and validate_as disagree on {token:?}"
    );
    // The borrowed type's own deserialization may refuse what `Claims` accepts (its own error
    // comes last); everything before it must agree.
    match (&plain, &borrowed) {
        (Ok(()), Err(code)) => assert_eq!(*code, "invalid_claim", "{token:?}"),
        _ => assert_eq!(
            plain, borrowed,
            "validate and validate_borrowed disagree on {token:?}"
        ),
    }
    if plain.is_ok() {
        recheck(&token);
    }
});
