//! Validations per second over static keys, one thread, per algorithm.
//!
//! `cargo run --release -p jwt-validate --example throughput`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::std_instead_of_core)]

use std::time::{Duration, Instant};

use jwk_core::{b64, Algorithm, JwkSet};
use jwt_validate::{FixedClock, Validator};

fn main() {
    let p = jws_crypto::default_provider();
    let now = 1_700_000_000u64;
    for alg in [
        Algorithm::Rs256,
        Algorithm::Ps256,
        Algorithm::Es256,
        Algorithm::EdDsa,
        Algorithm::Hs256,
    ] {
        let signer = match p.generate(alg, 2048) {
            Ok((s, _)) => s,
            Err(e) => {
                println!("{alg}: skipped ({e})");
                continue;
            }
        };
        let mut jwk = signer.public_jwk();
        jwk.kid = Some("k".into());
        let v = Validator::builder()
            .provider(p)
            .jwks(JwkSet::new(vec![jwk]))
            .algorithms([alg])
            .issuer("https://issuer.test")
            .audience("api")
            .clock(FixedClock::at_secs(now))
            .build()
            .unwrap();
        let header = format!(r#"{{"alg":"{}","kid":"k","typ":"at+jwt"}}"#, alg.as_str());
        let claims = format!(
            r#"{{"iss":"https://issuer.test","aud":"api","sub":"alice","iat":{},"exp":{},"scope":"read write"}}"#,
            now - 10,
            now + 600
        );
        let input = format!(
            "{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(claims.as_bytes())
        );
        let token = format!(
            "{input}.{}",
            b64::encode(&signer.sign(input.as_bytes()).unwrap())
        );
        v.validate(&token).unwrap();
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_millis(500) {
            for _ in 0..16 {
                v.validate(&token).unwrap();
            }
            n += 16;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:6} {:>9.0} validations/s  ({:.1} us each)",
            alg.as_str(),
            n as f64 / secs,
            secs * 1e6 / n as f64
        );
    }
}
