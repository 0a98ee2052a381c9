//! Allocations per validation, counted by a counting global allocator (`stats_alloc`) in this
//! binary only, so the timed benchmarks in `compare` run on the plain system allocator.
//! Writes `<target>/criterion/summary-2-allocs.md` for `cargo xtask bench`.
//!
//! Run: `cargo bench -p benches --bench allocs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::alloc::System;
use std::fmt::Write as _;

use benches::{AppClaims, AppClaimsBorrowed, Case};
use criterion::black_box;
use shared::{criterion_dir, jsonwebtoken_validation, parse_floor, SimpleKey};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

mod shared;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations (new blocks plus reallocations) of one call of `f`, the least of a few runs
/// after a warm-up (lazy statics and thread-locals are not the validation's).
fn count(mut f: impl FnMut()) -> (usize, usize) {
    f();
    (0..5)
        .map(|_| {
            let region = Region::new(GLOBAL);
            f();
            let s = region.change();
            (s.allocations, s.reallocations)
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let cases = benches::cases();
    let set = benches::jwk_set(&cases);
    let aws = benches::validator(&jws_crypto::aws_lc_rs::PROVIDER, set.clone());
    let ring = benches::validator(&jws_crypto::ring::PROVIDER, set.clone());
    let cached = benches::cached_validator(&jws_crypto::aws_lc_rs::PROVIDER, set);

    let mut out = String::from(
        "Allocations per validation (new blocks + reallocations), counted by a global allocator:\n\n\
         | algorithm | static, owned typed claims (aws-lc-rs) | static, borrowed claims, buffer reused | static, `Claims` only | static (ring) | cache hit | jsonwebtoken 12 | jwt-simple 0.15 | parse floor |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for case in &cases {
        let Case { token, .. } = case;
        let typed = count(|| {
            black_box(aws.validate_as::<AppClaims>(token).unwrap());
        });
        let mut buf = Vec::new();
        let borrowed = count(|| {
            let v = aws
                .validate_borrowed::<AppClaimsBorrowed<'_>>(token, &mut buf)
                .unwrap();
            black_box(v.claims().exp);
        });
        let plain = count(|| {
            black_box(aws.validate(token).unwrap());
        });
        let ring_typed = count(|| {
            black_box(ring.validate_as::<AppClaims>(token).unwrap());
        });
        let hit = count(|| {
            black_box(cached.validate_as::<AppClaims>(token).unwrap());
        });
        let jwt_jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&case.jwk.to_json()).unwrap();
        let jwt_key = jsonwebtoken::DecodingKey::from_jwk(&jwt_jwk).unwrap();
        let validation = jsonwebtoken_validation(case.alg);
        let jwt = count(|| {
            black_box(jsonwebtoken::decode::<AppClaims>(token, &jwt_key, &validation).unwrap());
        });
        let simple_key = SimpleKey::new(case);
        let simple = count(|| {
            black_box(simple_key.verify(token));
        });
        let floor = count(|| {
            black_box(parse_floor(token));
        });
        let cell = |(a, r): (usize, usize)| {
            if r == 0 {
                a.to_string()
            } else {
                format!("{a} + {r}")
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            case.label,
            cell(typed),
            cell(borrowed),
            cell(plain),
            cell(ring_typed),
            cell(hit),
            cell(jwt),
            cell(simple),
            cell(floor)
        );
    }
    print!("{out}");
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("summary-2-allocs.md"), out).unwrap();
}
