//! The key directory's rotation lock: an advisory lock (`flock` on Unix, `LockFileEx` on
//! Windows, through `std::fs::File::try_lock`) on `<key_dir>/.rotate.lock`.
//!
//! Several instances sharing a key directory take it before deciding to create a key, and
//! decide again after a rescan while holding it, so a rotation creates exactly one key however
//! many instances reach the boundary at the same moment. The operating system releases the lock
//! when its holder exits or crashes: no stale lock to guess about, no timing involved. The lock
//! file itself stays in the directory (deleting a locked file would let the next instance lock
//! a new file while an old holder still holds the unlinked one).

use core::time::Duration;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::Instant;

use crate::error::Error;

/// The lock file's name in the key directory (never taken for a key file).
pub(crate) const LOCK_FILE: &str = ".rotate.lock";

/// The held lock; released on drop (when the file is closed).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock if it is free now; `None` while another holder (another process, or
    /// another key manager in this one) has it.
    pub(crate) fn try_acquire(dir: &Path) -> Result<Option<DirLock>, Error> {
        let path = dir.join(LOCK_FILE);
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let file = opts.open(&path).map_err(|e| Error::key_dir(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DirLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(Error::key_dir(&path, e)),
        }
    }

    /// Takes the lock, waiting up to `wait` for another holder to finish (a rotation takes
    /// a key generation: milliseconds, at most seconds for RSA); `None` if it still holds it
    /// then. Blocking.
    pub(crate) fn acquire_within(dir: &Path, wait: Duration) -> Result<Option<DirLock>, Error> {
        let until = Instant::now() + wait;
        loop {
            if let Some(l) = DirLock::try_acquire(dir)? {
                return Ok(Some(l));
            }
            if Instant::now() >= until {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = std::env::temp_dir().join(format!(
            "jwt-issuer-dirlock-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let first = DirLock::try_acquire(&dir).unwrap();
        assert!(first.is_some());
        // A second open file description conflicts, even in the same process.
        assert!(DirLock::try_acquire(&dir).unwrap().is_none());
        assert!(DirLock::acquire_within(&dir, Duration::from_millis(50))
            .unwrap()
            .is_none());
        drop(first);
        assert!(DirLock::try_acquire(&dir).unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
