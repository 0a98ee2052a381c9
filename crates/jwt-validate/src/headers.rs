//! Parsed headers remembered per thread, keyed by their exact base64url text.
//!
//! Every token an issuer signs with one key carries the same header bytes
//! (`{"alg":"RS256","typ":"JWT","kid":"..."}`), so the same text is decoded and parsed again on
//! every validation, and its `kid` and `typ` copied into fresh strings. A few recent headers are
//! kept here instead, shared as `Arc<Header>`: a repeat costs one comparison of the segment
//! text. The parse is a pure function of the text (the policy checks run on every validation,
//! after this), so a remembered header is exactly what parsing again would give; failures are
//! not remembered.
//!
//! Per thread, so that threads never share a lock or a reference count on the hot path.
//! Bounded: [`SLOTS`] entries per thread, and only headers of at most [`MAX_TEXT`] base64url
//! characters are kept (longer ones, with `x5c` chains say, are parsed every time).

use core::cell::RefCell;
use std::sync::Arc;

use jwk_core::{Compact, Header};

/// Headers remembered per thread.
const SLOTS: usize = 8;
/// The longest header segment remembered, in base64url characters.
const MAX_TEXT: usize = 512;

#[derive(Default)]
struct Recent {
    slots: Vec<(Box<str>, Arc<Header>)>,
    /// The slot the next new header replaces once all are used.
    next: usize,
}

thread_local! {
    static RECENT: RefCell<Recent> = RefCell::new(Recent::default());
}

/// The header of `compact`, from this thread's recent headers or parsed (and remembered).
pub(crate) fn parse(compact: &Compact<'_>) -> Result<Arc<Header>, jwk_core::Error> {
    let text = compact.header_b64();
    if text.len() > MAX_TEXT {
        return compact.header().map(Arc::new);
    }
    let remembered = RECENT
        .try_with(|recent| {
            let recent = recent.try_borrow().ok()?;
            recent
                .slots
                .iter()
                .find(|(t, _)| **t == *text)
                .map(|(_, h)| Arc::clone(h))
        })
        .ok()
        .flatten();
    if let Some(header) = remembered {
        return Ok(header);
    }
    let header = Arc::new(compact.header()?);
    // Thread-local storage being torn down, or a re-entrant call: just not remembered.
    let _ = RECENT.try_with(|recent| {
        if let Ok(mut recent) = recent.try_borrow_mut() {
            remember(&mut recent, text, &header);
        }
    });
    Ok(header)
}

fn remember(recent: &mut Recent, text: &str, header: &Arc<Header>) {
    let entry = (Box::from(text), Arc::clone(header));
    if recent.slots.len() < SLOTS {
        recent.slots.push(entry);
    } else if let Some(slot) = recent.slots.get_mut(recent.next) {
        *slot = entry;
        recent.next = (recent.next + 1) % SLOTS;
    }
}

/// Headers this thread remembers now (tests).
#[cfg(test)]
pub(crate) fn remembered() -> usize {
    RECENT.with(|r| r.borrow().slots.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwk_core::{b64, Algorithm, Limits};

    fn token(header: &str) -> String {
        format!("{}.e30.c2ln", b64::encode(header.as_bytes()))
    }

    #[test]
    fn a_repeated_header_is_shared_and_the_same_as_a_fresh_parse() {
        let t = token(r#"{"alg":"ES256","kid":"a","typ":"JWT"}"#);
        let c = Compact::split(&t, &Limits::default()).unwrap();
        let first = parse(&c).unwrap();
        let again = parse(&c).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(*first, c.header().unwrap());
        // Another thread parses its own copy.
        let other = std::thread::scope(|s| s.spawn(|| parse(&c).unwrap()).join().unwrap());
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(first, other);
    }

    #[test]
    fn bounded_and_failures_not_remembered() {
        std::thread::spawn(|| {
            for i in 0..3 * SLOTS {
                let t = token(&format!(r#"{{"alg":"ES256","kid":"k{i}"}}"#));
                let c = Compact::split(&t, &Limits::default()).unwrap();
                assert_eq!(parse(&c).unwrap().kid.as_deref(), Some(&*format!("k{i}")));
                assert!(remembered() <= SLOTS);
            }
            let bad = token(r#"{"alg":"ES256","alg":"none"}"#);
            let c = Compact::split(&bad, &Limits::default()).unwrap();
            for _ in 0..2 {
                assert_eq!(parse(&c).unwrap_err().code(), "malformed");
            }
            // Long headers are parsed every time.
            let long = token(&format!(
                r#"{{"alg":"ES256","kid":"{}"}}"#,
                "x".repeat(MAX_TEXT)
            ));
            let c = Compact::split(&long, &Limits::default()).unwrap();
            let a = parse(&c).unwrap();
            assert!(!Arc::ptr_eq(&a, &parse(&c).unwrap()));
            assert_eq!(a.alg, Algorithm::Es256);
        })
        .join()
        .unwrap();
    }
}
