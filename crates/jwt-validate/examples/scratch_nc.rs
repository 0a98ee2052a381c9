#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core
)]
use jwk_core::{b64, Algorithm, JwkSet};
use jwt_validate::{FixedClock, Validator};
use std::hint::black_box;
use std::time::Instant;

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

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct AppRef<'a> {
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

fn time(name: &str, n: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let s = Instant::now();
        for _ in 0..n {
            f();
        }
        best = best.min(s.elapsed().as_nanos() as f64 / n as f64);
    }
    println!("{name:30} {best:8.1} ns");
    best
}

fn main() {
    let p = jws_crypto::default_provider();
    let now = 1_700_000_000u64;
    let alg = Algorithm::Hs256;
    let (signer, _) = p.generate(&alg, 0).unwrap();
    let mut jwk = signer.public_jwk();
    jwk.kid = Some("rs256-2048".into());
    let v = Validator::builder()
        .provider(p)
        .jwks(JwkSet::new(vec![jwk.clone()]))
        .algorithms([alg.clone()])
        .issuer("https://idp.example.com/")
        .audience("https://api.example.com")
        .clock(FixedClock::at_secs(now))
        .build()
        .unwrap();
    let header = r#"{"alg":"HS256","typ":"JWT","kid":"rs256-2048"}"#;
    let claims = format!(
        concat!(
            r#"{{"iss":"https://idp.example.com/","sub":"248289761001","aud":"https://api.example.com","exp":{exp},"nbf":{nbf},"#,
            r#""iat":{iat},"jti":"b1a7e4c0-5f2d-4c8e-9a6b-3d2f1e0c9b8a","#,
            r#""scope":"openid profile email orders:read","client_id":"s6BhdRkqt3","#,
            r#""email":"jane.doe@example.com"}}"#
        ),
        exp = now + 3600,
        nbf = now - 10,
        iat = now - 10
    );
    let input = format!(
        "{}.{}",
        b64::encode(header.as_bytes()),
        b64::encode(claims.as_bytes())
    );
    let sig = signer.sign(input.as_bytes()).unwrap();
    let token = format!("{input}.{}", b64::encode(&sig));
    let key = p
        .import(&jwk, &alg, &jws_crypto::KeyPolicy::default())
        .unwrap();
    let n = 200_000;
    let raw = time("hmac verify (trait)", n, || {
        black_box(
            key.verify(black_box(input.as_bytes()), black_box(&sig))
                .is_ok(),
        );
    });
    let a = time("validate_as<AppClaims>", n, || {
        black_box(v.validate_as::<AppClaims>(black_box(&token)).unwrap());
    });
    let mut buf = Vec::new();
    let c = time("validate_borrowed<AppRef>", n, || {
        black_box(
            v.validate_borrowed::<AppRef>(black_box(&token), &mut buf)
                .unwrap()
                .claims()
                .exp,
        );
    });
    println!("non-crypto borrowed {:.0}", c - raw);
    let limits = jwk_core::Limits::default();
    if std::env::var("ONLY").is_err() {
        time("split+header", n, || {
            black_box(jwk_core::UnverifiedJws::parse(black_box(&token), &limits).unwrap());
        });
        let jws = jwk_core::UnverifiedJws::parse(&token, &limits).unwrap();
        let mut hb = [0u8; 512];
        let hdr = jws.compact().header_b64();
        time("header b64 only", n, || {
            black_box(
                b64::decode_to_slice(black_box(hdr), jwk_core::Part::Header, &mut hb).unwrap(),
            );
        });
        let hjson = b64::decode(hdr, jwk_core::Part::Header).unwrap();
        time("Header::parse", n, || {
            black_box(jwk_core::Header::parse(black_box(&hjson)).unwrap());
        });
        time("payload b64 (Vec)", n, || {
            black_box(jws.payload().unwrap());
        });
        let payload = jws.payload().unwrap();
        time("ClaimsRef::parse_into<AppClaims>", n, || {
            black_box(jwk_core::ClaimsRef::parse_into::<AppClaims>(black_box(&payload)).unwrap());
        });
        time("ClaimsRef::parse_into<AppRef>", n, || {
            black_box(jwk_core::ClaimsRef::parse_into::<AppRef>(black_box(&payload)).unwrap());
        });
        time("serde_json AppRef (floor)", n, || {
            black_box(serde_json::from_slice::<AppRef>(black_box(&payload)).unwrap());
        });
        time("serde_json AppClaims", n, || {
            black_box(serde_json::from_slice::<AppClaims>(black_box(&payload)).unwrap());
        });
        time("Claims::parse", n, || {
            black_box(jwk_core::Claims::parse(black_box(&payload)).unwrap());
        });
        let pb = jws.compact().payload_b64();
        let mut pbuf = [0u8; 1024];
        time("payload b64 to slice", n, || {
            black_box(
                b64::decode_to_slice(black_box(pb), jwk_core::Part::Payload, &mut pbuf).unwrap(),
            );
        });
        let sigb = jws.compact().signature_b64();
        let mut sb = [0u8; 1024];
        time("sig b64", n, || {
            black_box(
                b64::decode_to_slice(black_box(sigb), jwk_core::Part::Signature, &mut sb).unwrap(),
            );
        });
    }
    if std::env::var("ONLY").is_ok() {
        for _ in 0..3_000_000 {
            black_box(
                v.validate_borrowed::<AppRef>(black_box(&token), &mut buf)
                    .unwrap()
                    .claims()
                    .exp,
            );
        }
        return;
    }
    let b = time("validate (Claims)", n, || {
        black_box(v.validate(black_box(&token)).unwrap());
    });
    println!(
        "non-crypto: typed {:.0} ns, Claims {:.0} ns",
        a - raw,
        b - raw
    );
}
