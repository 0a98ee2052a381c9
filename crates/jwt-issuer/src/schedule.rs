//! The rollover schedule: which key is pending, active, retired or gone at a given time.
//!
//! Pure functions over `(kind, created)` pairs, so the rules are tested without keys or files.
//!
//! For the keys of one kind, ordered by creation time:
//! - a key is **published** from its creation;
//! - it becomes **active** (signs) once it has been published for the pre-publish period, which
//!   is at least the JWKS cache lifetime, so every cache has seen it before a token names it;
//!   the newest such key is the active one;
//! - when its successor becomes active it is **retired**: still published, so tokens it signed
//!   keep verifying, until the longest token lifetime (plus leeway) has passed;
//! - then it is **removed** from the set.
//!
//! Bootstrap: when no key of a kind has finished its pre-publish period (a fresh key
//! directory), the oldest key signs at once: no cache can hold an older set to break.

use core::time::Duration;

/// Timing of the rollover. Defaults: rotate every 7 days, pre-publish 1 hour, retire for
/// 1 hour plus 5 minutes after the last token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schedule {
    /// How long each key signs before its successor takes over.
    pub rotation_period: Duration,
    /// How long a new key is published before it signs; also the JWKS `max-age`.
    pub prepublish: Duration,
    /// How long a key stays published after it stopped signing: the longest lifetime of a
    /// token it signed, plus clock-skew leeway.
    pub retire_for: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            rotation_period: Duration::from_secs(7 * 24 * 3600),
            prepublish: Duration::from_secs(3600),
            retire_for: Duration::from_secs(3600 + 300),
        }
    }
}

/// Where one key stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published, not signing yet; signs from `active_at`.
    Pending {
        /// When it starts signing (seconds since the epoch).
        active_at: i64,
    },
    /// The key that signs now.
    Active,
    /// No longer signing; published until `remove_at` so its tokens still verify.
    Retired {
        /// When it leaves the set.
        remove_at: i64,
    },
    /// Past its retirement: not published; its file may be deleted.
    Removed,
}

impl KeyState {
    /// True while the key belongs in the JWKS document.
    pub fn is_published(self) -> bool {
        !matches!(self, KeyState::Removed)
    }

    /// A short lowercase name (`pending`, `active`, `retired`, `removed`).
    pub fn name(self) -> &'static str {
        match self {
            KeyState::Pending { .. } => "pending",
            KeyState::Active => "active",
            KeyState::Retired { .. } => "retired",
            KeyState::Removed => "removed",
        }
    }
}

impl Schedule {
    /// A schedule with the three periods given.
    pub fn new(rotation_period: Duration, prepublish: Duration, retire_for: Duration) -> Self {
        Schedule {
            rotation_period,
            prepublish,
            retire_for,
        }
    }

    /// The state of each key of one kind at `now`. `created` holds creation times (seconds),
    /// in any order; the result is in the same order.
    pub fn states(&self, created: &[i64], now: i64) -> Vec<KeyState> {
        let pre = secs(self.prepublish);
        let retire = secs(self.retire_for);
        let mut order: Vec<usize> = (0..created.len()).collect();
        order.sort_by_key(|&i| (created.get(i).copied().unwrap_or(0), i));
        let sorted: Vec<i64> = order
            .iter()
            .map(|&i| created.get(i).copied().unwrap_or(0))
            .collect();
        // The active key: the newest whose pre-publish period is over, else (bootstrap) the
        // oldest key.
        let active = sorted
            .iter()
            .rposition(|&c| c.saturating_add(pre) <= now)
            .or(if sorted.is_empty() { None } else { Some(0) });
        let mut out = vec![KeyState::Removed; created.len()];
        for (pos, &i) in order.iter().enumerate() {
            let c = sorted.get(pos).copied().unwrap_or(0);
            let state = match active {
                Some(a) if pos == a => KeyState::Active,
                Some(a) if pos > a => KeyState::Pending {
                    active_at: c.saturating_add(pre),
                },
                _ => {
                    // Older than the active key: retired when its successor became active.
                    let next = sorted.get(pos + 1).copied().unwrap_or(c);
                    let retired_at = next.saturating_add(pre);
                    let remove_at = retired_at.saturating_add(retire);
                    if now >= remove_at {
                        KeyState::Removed
                    } else {
                        KeyState::Retired { remove_at }
                    }
                }
            };
            if let Some(slot) = out.get_mut(i) {
                *slot = state;
            }
        }
        out
    }

    /// True when a new key should be created now: no key at all, or the newest key has been
    /// around for a whole rotation period.
    pub fn rotation_due(&self, created: &[i64], now: i64) -> bool {
        match created.iter().max() {
            None => true,
            Some(&newest) => newest.saturating_add(secs(self.rotation_period)) <= now,
        }
    }

    /// The next time (after `now`) any key of this kind changes state or a rotation falls
    /// due; `None` when nothing is scheduled.
    pub fn next_change(&self, created: &[i64], now: i64) -> Option<i64> {
        let mut next: Option<i64> = None;
        let mut consider = |t: i64| {
            if t > now {
                next = Some(next.map_or(t, |n: i64| n.min(t)));
            }
        };
        for state in self.states(created, now) {
            match state {
                KeyState::Pending { active_at } => consider(active_at),
                KeyState::Retired { remove_at } => consider(remove_at),
                KeyState::Active | KeyState::Removed => {}
            }
        }
        if let Some(&newest) = created.iter().max() {
            consider(newest.saturating_add(secs(self.rotation_period)));
        }
        next
    }
}

pub(crate) fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched() -> Schedule {
        // Rotate every 100 s, pre-publish 10 s, retire for 30 s.
        Schedule::new(
            Duration::from_secs(100),
            Duration::from_secs(10),
            Duration::from_secs(30),
        )
    }

    fn names(created: &[i64], now: i64) -> Vec<&'static str> {
        sched()
            .states(created, now)
            .iter()
            .map(|s| s.name())
            .collect()
    }

    #[test]
    fn bootstrap_key_signs_at_once() {
        assert_eq!(names(&[1000], 1000), ["active"]);
        assert!(sched().rotation_due(&[], 0));
        assert!(!sched().rotation_due(&[1000], 1099));
        assert!(sched().rotation_due(&[1000], 1100));
    }

    #[test]
    fn full_life_of_a_key() {
        let keys = [1000, 1100];
        // The successor is published before it signs.
        assert_eq!(names(&keys, 1100), ["active", "pending"]);
        assert_eq!(names(&keys, 1109), ["active", "pending"]);
        // Then it signs and the old key is retired, still published.
        assert_eq!(names(&keys, 1110), ["retired", "active"]);
        assert_eq!(names(&keys, 1139), ["retired", "active"]);
        // Then the old key leaves the set.
        assert_eq!(names(&keys, 1140), ["removed", "active"]);
        assert_eq!(
            sched().states(&keys, 1100)[1],
            KeyState::Pending { active_at: 1110 }
        );
        assert_eq!(
            sched().states(&keys, 1120)[0],
            KeyState::Retired { remove_at: 1140 }
        );
    }

    #[test]
    fn order_of_input_does_not_matter() {
        assert_eq!(names(&[1100, 1000], 1110), ["active", "retired"]);
        assert_eq!(
            names(&[1200, 1000, 1100], 1215),
            ["active", "removed", "retired"]
        );
    }

    #[test]
    fn next_change_points_at_the_next_transition() {
        assert_eq!(sched().next_change(&[1000], 1000), Some(1100));
        assert_eq!(sched().next_change(&[1000, 1100], 1100), Some(1110));
        assert_eq!(sched().next_change(&[1000, 1100], 1110), Some(1140));
        assert_eq!(sched().next_change(&[], 0), None);
    }

    #[test]
    fn published_before_signing_for_the_whole_prepublish_period() {
        // Law: for every key and every time, if the key is active at t, it was published at
        // every time in [t - prepublish, t] unless it was the bootstrap key.
        let s = sched();
        let keys = [1000, 1100, 1200, 1300];
        for t in 1000..1400 {
            for (i, st) in s.states(&keys, t).iter().enumerate() {
                if *st == KeyState::Active && i > 0 {
                    assert!(t - keys[i] >= 10, "key {i} active at {t}");
                }
            }
        }
    }
}
