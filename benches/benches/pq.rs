//! ML-DSA-44/65/87 (RFC 9964) on aws-lc-rs, the only backend that has them: the raw verify
//! (the limit: aws-lc-rs `ParsedPublicKey`, parsed once), `jws-crypto`'s imported-key verify,
//! and a full validation (static keys, owned and borrowed claims) of the same ten-claim token
//! as `compare`, with paired ratios to the limit. Writes `<target>/criterion/summary-3-pq.md`
//! for `cargo xtask bench`.
//!
//! Run alone: `cargo bench -p benches --bench pq` (add `-- --quick` for a short run).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;

use benches::{AppClaims, AppClaimsBorrowed, AUD};
use criterion::black_box;
use jwk_core::{Algorithm, JwkSet, KeyParams};
use shared::{criterion_dir, median_ns, paired};

mod shared;

/// Row ids in table order, with their labels; every ratio is to `aws-lc-rs_limit`.
const ROWS: &[(&str, &str)] = &[
    ("aws-lc-rs_limit", "limit: aws-lc-rs raw verify"),
    ("jws-crypto_verify", "jws-crypto imported-key verify"),
    (
        "aws-lc-rs_static",
        "this workspace, static keys (aws-lc-rs)",
    ),
    (
        "aws-lc-rs_borrowed",
        "this workspace, static keys, borrowed claims (aws-lc-rs)",
    ),
    (
        "signature_base64url",
        "part of it: the signature's base64url decode alone",
    ),
];

const SETS: &[(&str, &str, Algorithm)] = &[
    ("ML-DSA-44", "ml-dsa-44", Algorithm::MlDsa44),
    ("ML-DSA-65", "ml-dsa-65", Algorithm::MlDsa65),
    ("ML-DSA-87", "ml-dsa-87", Algorithm::MlDsa87),
];

struct Case {
    label: &'static str,
    id: &'static str,
    alg: Algorithm,
    pub_key: Vec<u8>,
    jwk: jwk_core::Jwk,
    token: String,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut c = shared::criterion(quick);
    let pair_budget = shared::pair_budget(quick);

    let provider = &jws_crypto::aws_lc_rs::PROVIDER;
    let claims = benches::claims_json(benches::now_secs());
    let cases: Vec<Case> = SETS
        .iter()
        .map(|(label, id, alg)| {
            let (signer, _) = provider.generate(*alg, 0).unwrap();
            let mut jwk = signer.public_jwk();
            jwk.kid = Some((*id).to_owned());
            let KeyParams::Akp(akp) = &jwk.params else {
                panic!("ML-DSA key is not AKP")
            };
            let pub_key = akp.pub_key.clone();
            let (token, signing_input, signature) = benches::sign(&*signer, id, &claims);
            Case {
                label,
                id,
                alg: *alg,
                pub_key,
                jwk,
                token,
                signing_input,
                signature,
            }
        })
        .collect();
    // The three keys in one set: selection by `kid`, as in `compare`.
    let set = JwkSet::new(cases.iter().map(|c| c.jwk.clone()).collect());
    let aws = benches::validator(provider, set);

    let partial = std::env::args()
        .skip(1)
        .any(|a| a == "--profile-time" || a.contains('/'));
    let mut paired_ratios: HashMap<(&str, &str), f64> = HashMap::new();
    for case in &cases {
        let limit_key =
            raw_aws_lc::signature::ParsedPublicKey::new(raw_algorithm(case.alg), &case.pub_key)
                .unwrap();
        let limit = || {
            assert!(limit_key
                .verify_sig(black_box(&case.signing_input), black_box(&case.signature))
                .is_ok());
        };
        let imported = provider
            .import(&case.jwk, case.alg, &jws_crypto::KeyPolicy::default())
            .unwrap();
        let verify = || {
            assert!(imported
                .verify(black_box(&case.signing_input), black_box(&case.signature))
                .is_ok());
        };
        let owned = || {
            let v = aws
                .validate_as::<AppClaims>(black_box(&case.token))
                .unwrap();
            assert_eq!(v.claims().aud, AUD);
        };
        let buf = RefCell::new(Vec::new());
        let borrowed = || {
            let mut buf = buf.borrow_mut();
            let v = aws
                .validate_borrowed::<AppClaimsBorrowed<'_>>(black_box(&case.token), &mut buf)
                .unwrap();
            assert_eq!(v.claims().aud, AUD);
        };
        limit();
        verify();
        owned();
        borrowed();

        let mut g = c.benchmark_group(case.id);
        g.bench_function("aws-lc-rs_limit", |b| b.iter(limit));
        g.bench_function("jws-crypto_verify", |b| b.iter(verify));
        g.bench_function("aws-lc-rs_static", |b| b.iter(owned));
        g.bench_function("aws-lc-rs_borrowed", |b| b.iter(borrowed));
        let sig_b64 = case.token.rsplit('.').next().unwrap();
        g.bench_function("signature_base64url", |b| {
            b.iter(|| jwk_core::b64::decode(black_box(sig_b64), jwk_core::Part::Signature).unwrap())
        });
        g.finish();

        if !partial {
            let rows: [(&str, &dyn Fn()); 3] = [
                ("jws-crypto_verify", &verify),
                ("aws-lc-rs_static", &owned),
                ("aws-lc-rs_borrowed", &borrowed),
            ];
            for (id, row) in rows {
                paired_ratios.insert((case.id, id), paired(&limit, row, pair_budget));
            }
        }
    }
    c.final_summary();
    if partial {
        return;
    }
    let table = summary(&cases, &paired_ratios);
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary-3-pq.md"), table).unwrap();
}

fn raw_algorithm(alg: Algorithm) -> &'static raw_aws_lc::signature::PqdsaVerificationAlgorithm {
    use raw_aws_lc::signature as s;
    match alg {
        Algorithm::MlDsa44 => &s::ML_DSA_44,
        Algorithm::MlDsa65 => &s::ML_DSA_65,
        _ => &s::ML_DSA_87,
    }
}

fn summary(cases: &[Case], paired: &HashMap<(&str, &str), f64>) -> String {
    let mut out = String::from("## ML-DSA (RFC 9964), aws-lc-rs\n\n");
    out.push_str(
        "| algorithm | contender | token bytes | ns/op (median) | ratio to its limit | paired ratio |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|\n");
    for case in cases {
        for &(id, label) in ROWS {
            let Some(ns) = median_ns(case.id, id) else {
                continue;
            };
            let ratio = median_ns(case.id, "aws-lc-rs_limit")
                .map_or(String::from("-"), |l| format!("{:.2}x", ns / l));
            let pair = paired
                .get(&(case.id, id))
                .map_or(String::new(), |r| format!("{r:.3}x"));
            let _ = writeln!(
                out,
                "| {} | {label} | {} | {ns:.0} | {ratio} | {pair} |",
                case.label,
                case.token.len()
            );
        }
    }
    out.push_str(
        "\nEvery ratio is to the aws-lc-rs limit (ring has no ML-DSA). Same token shape and \
         claims as the `compare` table; the three keys share one static set.\n",
    );
    out
}
