//! Backoff after failed fetches, and deadline arithmetic that cannot overflow.

use core::time::Duration;
use std::time::Instant;

/// Exponential backoff with "equal jitter": `initial` doubled per failure after the first,
/// capped at `max`, then a delay in [d/2, d] drawn from `rng` (xorshift64, advanced).
pub(super) fn delay(
    consecutive_failures: u32,
    initial: Duration,
    max: Duration,
    rng: &mut u64,
) -> Duration {
    let exp = consecutive_failures.saturating_sub(1).min(30);
    let d = initial.saturating_mul(1u32 << exp).min(max);
    // xorshift64
    let mut x = *rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *rng = x;
    let half = d / 2;
    let nanos = half.as_nanos().min(u128::from(u64::MAX)) as u64;
    let jitter = match nanos.checked_add(1) {
        Some(span) => x % span,
        None => x,
    };
    half.saturating_add(Duration::from_nanos(jitter))
}

/// `t + d`, saturating at about a century (a configured `Duration::MAX` means "never").
pub(super) fn later(t: Instant, d: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    t.checked_add(d.min(CENTURY))
        .or_else(|| t.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_with_jitter_and_is_capped() {
        let s = Duration::from_secs;
        let mut rng = 0x9E37_79B9_7F4A_7C15;
        for failures in 1..=40u32 {
            let d = delay(failures, s(1), s(300), &mut rng);
            let full = s(1)
                .saturating_mul(1 << failures.saturating_sub(1).min(30))
                .min(s(300));
            assert!(d >= full / 2 && d <= full, "{failures}: {d:?} vs {full:?}");
        }
        let t = Instant::now();
        assert!(later(t, Duration::MAX) > t);
        assert_eq!(later(t, s(5)), t + s(5));
    }
}
