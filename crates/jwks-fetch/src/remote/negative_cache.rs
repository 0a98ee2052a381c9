//! The negative cache: `kid`s a fresh fetch did not contain, remembered (bounded, with a
//! deadline each) so a flood of tokens with unknown `kid`s does not refetch.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Bounded set of `kid`s known to be absent, each until a deadline.
#[derive(Default)]
pub(super) struct Negative {
    until: HashMap<String, Instant>,
    order: VecDeque<String>,
}

impl Negative {
    pub(super) fn contains(&mut self, kid: &str, now: Instant) -> bool {
        match self.until.get(kid) {
            Some(t) if *t > now => true,
            Some(_) => {
                self.until.remove(kid);
                false
            }
            None => false,
        }
    }

    pub(super) fn insert(&mut self, kid: &str, until: Instant, capacity: usize) {
        if capacity == 0 {
            return;
        }
        if self.until.insert(kid.to_owned(), until).is_none() {
            self.order.push_back(kid.to_owned());
        }
        while self.until.len() > capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.until.remove(&old);
                }
                None => break,
            }
        }
        // Drop queue entries whose kid was already removed (expired), keeping both bounded.
        if self.order.len() > capacity.saturating_mul(2) {
            let until = &self.until;
            self.order.retain(|k| until.contains_key(k));
        }
    }

    pub(super) fn remove_all(&mut self, kids: &[String]) {
        for k in kids {
            self.until.remove(k);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.until.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn negative_cache_is_bounded_and_expires() {
        let mut n = Negative::default();
        let t0 = Instant::now();
        for i in 0..10_000 {
            n.insert(&format!("k{i}"), t0 + Duration::from_secs(10), 100);
        }
        assert_eq!(n.len(), 100);
        assert!(n.order.len() <= 200);
        assert!(n.contains("k9999", t0));
        assert!(!n.contains("k0", t0));
        assert!(!n.contains("k9999", t0 + Duration::from_secs(11)));
    }
}
