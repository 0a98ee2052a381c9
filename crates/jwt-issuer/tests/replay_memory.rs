//! Memory per replay-store entry, measured: a counting global allocator (`stats_alloc`, in
//! this binary only) around filling stores of several sizes. Checks
//! `MemoryReplayStore::BYTES_PER_ENTRY`, the figure `jwkctl serve --check` prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core::task::{Context, Poll, Waker};
use std::alloc::System;

use jwt_issuer::{AssertionKind, MemoryReplayStore, ReplayEntry, ReplayStore as _, Seen};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes held by a store after recording `n` entries from a few issuers and clients (the
/// longest allowed `jti`s: entries are hashed, so the length must not matter).
fn held_after(n: usize) -> f64 {
    let issuers: Vec<String> = (0..4).map(|i| format!("https://idp{i}.example")).collect();
    let clients: Vec<String> = (0..8).map(|i| format!("client-{i}")).collect();
    let region = Region::new(GLOBAL);
    let store = MemoryReplayStore::new(n);
    let mut cx = Context::from_waker(Waker::noop());
    for i in 0..n {
        let jti = format!("{i:0>256}");
        let entry = ReplayEntry {
            kind: AssertionKind::Grant,
            issuer: &issuers[i % issuers.len()],
            client: Some(&clients[i % clients.len()]),
            jti: &jti,
        };
        let mut f = store.check_and_record(entry, 2_000_000_000 + (i % 600) as i64, 1);
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(r) => assert_eq!(r.unwrap(), Seen::Fresh),
            Poll::Pending => panic!("the memory store answers at once"),
        }
    }
    assert_eq!(store.len(), n);
    let s = region.change();
    let held = s.bytes_allocated as f64 - s.bytes_deallocated as f64;
    drop(store);
    held / n as f64
}

#[test]
fn bytes_per_entry_is_measured_and_documented() {
    // Sizes just after and just before the hash table grows: the high and the low figure.
    let figures: Vec<(usize, f64)> = [3_600, 7_000, 7_400, 14_000, 14_500]
        .into_iter()
        .map(|n| (n, held_after(n)))
        .collect();
    println!("bytes per entry (entries, bytes): {figures:?}");
    let max = figures.iter().map(|f| f.1).fold(0.0, f64::max);
    let documented = MemoryReplayStore::BYTES_PER_ENTRY as f64;
    // The documented figure is an upper bound, and a tight one.
    assert!(
        max <= documented,
        "measured {max:.0} > documented {documented}"
    );
    assert!(
        max >= documented * 0.75,
        "measured {max:.0}, documented {documented}: lower it"
    );
}
