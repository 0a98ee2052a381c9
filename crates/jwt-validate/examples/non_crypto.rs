//! The cost of validation outside the signature check, isolated: an HS256 token carrying the
//! benchmarks' ten claims, validated through each entry point, minus the HMAC verify alone;
//! then each step of the path on its own. Figures quoted in `benches/RESULTS.md`.
//!
//! `cargo run --release -p jwt-validate --features sign --example non_crypto`
//!
//! Best of seven rounds of 200 000 calls each; a quick look, not a benchmark (for those,
//! `cargo xtask bench`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::std_instead_of_core)]

use std::hint::black_box;
use std::time::Instant;

use jwk_core::{b64, Algorithm, Claims, Header, JwkSet, Limits, Part, UnverifiedJws};
use jwt_validate::{FixedClock, Validator};

/// The claims every benchmark contender reads, owned.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct AppClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: String,
    scope: String,
    client_id: String,
    email: String,
}

/// The same, borrowed from the decoded payload.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct AppClaimsBorrowed<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
    nbf: u64,
    iat: u64,
    jti: &'a str,
    scope: &'a str,
    client_id: &'a str,
    email: &'a str,
}

const ROUNDS: u32 = 200_000;

fn time(name: &str, mut f: impl FnMut()) -> f64 {
    for _ in 0..ROUNDS / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..ROUNDS {
            f();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(ROUNDS));
    }
    println!("{name:48} {best:8.1} ns");
    best
}

fn main() {
    let provider = jws_crypto::default_provider();
    let now = 1_700_000_000u64;
    let alg = Algorithm::Hs256;
    let (signer, _) = provider.generate(alg, 0).unwrap();
    let mut jwk = signer.public_jwk();
    jwk.kid = Some("rs256-2048".into());
    let validator = Validator::builder()
        .provider(provider)
        .jwks(JwkSet::new(vec![jwk.clone()]))
        .algorithms([alg])
        .issuer("https://idp.example.com/")
        .audience("https://api.example.com")
        .clock(FixedClock::at_secs(now))
        .build()
        .unwrap();
    let header = r#"{"alg":"HS256","typ":"JWT","kid":"rs256-2048"}"#;
    let claims = format!(
        concat!(
            r#"{{"iss":"https://idp.example.com/","sub":"248289761001","#,
            r#""aud":"https://api.example.com","exp":{exp},"nbf":{nbf},"iat":{iat},"#,
            r#""jti":"b1a7e4c0-5f2d-4c8e-9a6b-3d2f1e0c9b8a","#,
            r#""scope":"openid profile email orders:read","client_id":"s6BhdRkqt3","#,
            r#""email":"jane.doe@example.com"}}"#
        ),
        exp = now + 3600,
        nbf = now - 10,
        iat = now - 10,
    );
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(claims.as_bytes())
    );
    let signature = signer.sign(input.as_bytes()).unwrap();
    let token = format!("{input}.{}", b64::encode(&signature));
    let key = provider
        .import(&jwk, alg, &jws_crypto::KeyPolicy::default())
        .unwrap();

    println!("Whole validations, and the HMAC verify alone:");
    let hmac = time("HMAC-SHA256 verify (jws-crypto)", || {
        black_box(key.verify(black_box(input.as_bytes()), black_box(&signature))).unwrap();
    });
    let owned = time("validate_as::<AppClaims>", || {
        black_box(validator.validate_as::<AppClaims>(black_box(&token))).unwrap();
    });
    let mut buf = Vec::new();
    let borrowed = time(
        "validate_borrowed::<AppClaimsBorrowed> (buffer reused)",
        || {
            let v = validator
                .validate_borrowed::<AppClaimsBorrowed<'_>>(black_box(&token), &mut buf)
                .unwrap();
            black_box(v.claims().exp);
        },
    );
    let plain = time("validate (Claims)", || {
        black_box(validator.validate(black_box(&token))).unwrap();
    });
    println!(
        "\nOutside the signature: owned {:.0} ns, borrowed {:.0} ns, Claims {:.0} ns\n",
        owned - hmac,
        borrowed - hmac,
        plain - hmac
    );

    println!("Each step alone:");
    let limits = Limits::default();
    time("split and header (no per-thread memory)", || {
        black_box(UnverifiedJws::parse(black_box(&token), &limits)).unwrap();
    });
    let jws = UnverifiedJws::parse(&token, &limits).unwrap();
    let header_json = b64::decode(jws.compact().header_b64(), Part::Header).unwrap();
    time("Header::parse (flat fast path)", || {
        black_box(Header::parse(black_box(&header_json))).unwrap();
    });
    time("Header::parse_general", || {
        black_box(jwk_core::test_util::header_parse_general(black_box(
            &header_json,
        )))
        .unwrap();
    });
    let payload_b64 = jws.compact().payload_b64();
    let mut out = [0u8; 1024];
    time("payload base64url, into a stack buffer", || {
        black_box(b64::decode_to_slice(
            black_box(payload_b64),
            Part::Payload,
            &mut out,
        ))
        .unwrap();
    });
    let payload = jws.payload().unwrap();
    time("Claims::parse_into::<AppClaims>", || {
        black_box(Claims::parse_into::<AppClaims>(black_box(&payload))).unwrap();
    });
    time("Claims::parse_into::<AppClaimsBorrowed>", || {
        black_box(Claims::parse_into::<AppClaimsBorrowed<'_>>(black_box(
            &payload,
        )))
        .unwrap();
    });
    time("serde_json into AppClaimsBorrowed (no strictness)", || {
        black_box(serde_json::from_slice::<AppClaimsBorrowed<'_>>(black_box(
            &payload,
        )))
        .unwrap();
    });
    time("Claims::parse (flat fast path)", || {
        black_box(Claims::parse(black_box(&payload))).unwrap();
    });
    time("Claims::parse_general", || {
        black_box(jwk_core::test_util::claims_parse_general(black_box(
            &payload,
        )))
        .unwrap();
    });
}
