//! Every contender in one interleaved run, as a server sees them: caches are not kept warm for
//! any one of them.
//!
//! Criterion times each contender in its own tight loop, so branch predictors, caches and the
//! allocator's free lists are all warm for that one code path; a server validating tokens
//! between other work sees colder caches. Here each round runs one short batch of every
//! contender in a newly shuffled order, and each contender's time is divided by the raw
//! verify's time in the same round. The figures are medians of those per-round ratios (with
//! the 25th and 75th percentiles), so a load spike from another process hits one round, not
//! one contender.
//!
//! Contenders per algorithm: the aws-lc-rs raw verify with the key parsed once (the limit);
//! this workspace into the owned claims struct (`validate_as`) and into the borrowed one
//! (`validate_borrowed`, buffer reused); `jsonwebtoken` 12 with its `DecodingKey` built once;
//! and a `serde_json` floor (split, base64url, borrowed serde parse of header and claims, then
//! the same raw verify): what any validator must at least do.
//!
//! Writes `<target>/criterion/summary-3-interleaved.md`, which `cargo xtask bench` copies into
//! `benches/RESULTS.md`. Run alone: `cargo bench -p benches --bench interleaved [-- --quick]`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::cell::RefCell;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

use benches::{AppClaims, AppClaimsBorrowed, Case, AUD};
use shared::{aws_limit, criterion_dir, jsonwebtoken_validation, parse_floor};

mod shared;

/// The contenders, in table order; the first is the limit every ratio divides by.
const CONTENDERS: &[&str] = &[
    "limit: aws-lc-rs raw verify",
    "this workspace, owned claims",
    "this workspace, borrowed claims",
    "jsonwebtoken 12 (DecodingKey built once)",
    "serde_json floor + raw verify",
];

/// The algorithms measured interleaved (the bars name these).
const IDS: &[&str] = &["rs256-2048", "ps256-2048", "es256", "eddsa"];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().skip(1).any(|a| a.contains('/')) {
        // A filtered criterion run of another bench binary: nothing of ours is selected.
        return;
    }
    let rounds = if quick { 60 } else { 400 };
    let cases = benches::cases();
    let set = benches::jwk_set(&cases);
    let ours = benches::validator(&jws_crypto::aws_lc_rs::PROVIDER, set);

    let mut out = String::new();
    out.push_str(&format!(
        "## Interleaved run ({rounds} rounds; contenders shuffled each round; medians of per-round ratios)\n\n"
    ));
    out.push_str(
        "| algorithm | contender | ns/op (median) | ratio to the limit (median) | p25-p75 |\n",
    );
    out.push_str("|---|---|---:|---:|---:|\n");
    let mut speedups = Vec::new();
    for case in cases.iter().filter(|c| IDS.contains(&c.id)) {
        let rows = measure(case, &ours, rounds);
        for (i, name) in CONTENDERS.iter().enumerate() {
            let ns = median(rows.iter().map(|r| r[i]).collect());
            let ratios: Vec<f64> = rows.iter().map(|r| r[i] / r[0]).collect();
            let (p25, p50, p75) = quartiles(ratios);
            let _ = writeln!(
                out,
                "| {} | {name} | {ns:.0} | {p50:.3}x | {p25:.3}-{p75:.3} |",
                case.label
            );
        }
        // jsonwebtoken's time over ours, per round: how much faster this workspace is.
        let owned = quartiles(rows.iter().map(|r| r[3] / r[1]).collect());
        let borrowed = quartiles(rows.iter().map(|r| r[3] / r[2]).collect());
        speedups.push((case.label, owned, borrowed));
    }
    out.push_str("\n| algorithm | jsonwebtoken / ours, owned (median, p25-p75) | jsonwebtoken / ours, borrowed |\n");
    out.push_str("|---|---:|---:|\n");
    for (label, (o25, o50, o75), (b25, b50, b75)) in speedups {
        let _ = writeln!(
            out,
            "| {label} | {o50:.3}x ({o25:.3}-{o75:.3}) | {b50:.3}x ({b25:.3}-{b75:.3}) |"
        );
    }
    println!("{out}");
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary-3-interleaved.md"), out).unwrap();
}

/// Per round, the nanoseconds per operation of every contender (in [`CONTENDERS`] order).
fn measure(case: &Case, ours: &jwt_validate::Validator, rounds: usize) -> Vec<Vec<f64>> {
    let limit = aws_limit(case);
    let jwt_jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&case.jwk.to_json()).unwrap();
    let jwt_key = jsonwebtoken::DecodingKey::from_jwk(&jwt_jwk).unwrap();
    let jwt_validation = jsonwebtoken_validation(case.alg);
    let buf = RefCell::new(Vec::new());

    let run_limit = || assert!(limit());
    let run_owned = || {
        let v = ours
            .validate_as::<AppClaims>(black_box(&case.token))
            .unwrap();
        assert_eq!(v.claims().aud, AUD);
    };
    let run_borrowed = || {
        let mut buf = buf.borrow_mut();
        let v = ours
            .validate_borrowed::<AppClaimsBorrowed<'_>>(black_box(&case.token), &mut buf)
            .unwrap();
        assert_eq!(v.claims().aud, AUD);
    };
    let run_jwt = || {
        let v =
            jsonwebtoken::decode::<AppClaims>(black_box(&case.token), &jwt_key, &jwt_validation)
                .unwrap();
        assert_eq!(v.claims.aud, AUD);
    };
    let run_floor = || {
        black_box(parse_floor(black_box(&case.token)));
        assert!(limit());
    };
    let contenders: [&dyn Fn(); 5] = [&run_limit, &run_owned, &run_borrowed, &run_jwt, &run_floor];
    // Every contender accepts the token before anything is timed.
    for f in contenders {
        f();
    }
    // About 0.2 ms per batch: a few RSA verifications, more of the faster curves.
    let batch = match case.id {
        "rs256-2048" | "ps256-2048" => 6,
        _ => 4,
    };
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ case.id.len() as u64;
    let mut order: Vec<usize> = (0..contenders.len()).collect();
    let mut rows = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        shuffle(&mut order, &mut rng);
        let mut row = vec![0.0; contenders.len()];
        for &i in &order {
            let start = Instant::now();
            for _ in 0..batch {
                contenders[i]();
            }
            row[i] = start.elapsed().as_nanos() as f64 / f64::from(batch);
        }
        rows.push(row);
    }
    rows
}

/// Fisher-Yates with xorshift64: enough randomness for an order, no dependency.
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        let j = (*state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

fn median(values: Vec<f64>) -> f64 {
    quartiles(values).1
}

fn quartiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}
