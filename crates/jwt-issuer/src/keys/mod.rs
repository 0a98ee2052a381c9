//! The key manager: signing keys per algorithm, persisted as PKCS#8 PEM files, rolled over on
//! a [`Schedule`], published as a JWKS document.
//!
//! - this file: [`KeyManager`] and its builder: loading, rotation and deletion by the
//!   schedule, the view (published set, signing keys, status) for now;
//! - `kind`: [`KeyKind`], which algorithms one key file serves;
//! - `signing`: [`SigningKey`], the key that signs now, and [`sign_compact`];
//! - `document`: [`JwksDocument`], the published body and its `ETag`;
//! - `store`: the key directory on disk: file names, reads, owner-only writes that never
//!   replace a file;
//! - `trust`: the ssh-style ownership and mode checks, opening without following links;
//! - `dirlock`: the advisory rotation lock several instances share.

mod dirlock;
mod document;
mod kind;
mod signing;
mod store;
mod trust;

use core::time::Duration;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use jwk_core::{Algorithm, Jwk, KeyUse};
use jws_crypto::Provider;

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::schedule::{KeyState, Schedule};
use dirlock::{DirLock, LOCK_FILE};
pub use document::JwksDocument;
pub use kind::KeyKind;
pub use signing::{sign_compact, SigningKey};
use store::{create_dir, parse_name, read_key_file, write_new_private};
pub use store::{pkcs8_pem, write_private_file};

/// Longest wait for another instance's rotation before a scheduled rotation is skipped (it is
/// retried at the next maintenance).
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// A file in the key directory that was not used, and why. Such files are never deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileProblem {
    /// The file name.
    pub file: String,
    /// Why it was skipped.
    pub reason: String,
}

/// One published key (per algorithm), as [`KeyManager::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStatus {
    /// The `kid`.
    pub kid: String,
    /// The algorithm.
    pub alg: Algorithm,
    /// Creation time of the key (seconds since the epoch).
    pub created: i64,
    /// Where it stands now.
    pub state: KeyState,
    /// The key file name.
    pub file: String,
}

/// Builds a [`KeyManager`]. Defaults in each method's doc.
#[derive(Debug, Clone)]
pub struct KeyManagerBuilder {
    dir: PathBuf,
    algorithms: Vec<Algorithm>,
    rsa_bits: usize,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    provider: &'static Provider,
    x5c: bool,
}

impl KeyManagerBuilder {
    /// Publish RSA keys with `x5c` (a deterministic self-signed certificate) and the matching
    /// `x5t#S256`, as the guide's JWKS does. Default: off.
    pub fn x5c(mut self, on: bool) -> Self {
        self.x5c = on;
        self
    }

    /// Algorithms to publish and sign with, in order; the first is the default signing
    /// algorithm. Default: `[RS256]`.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algs.into_iter().collect();
        self
    }

    /// RSA modulus size for generated keys. Default: 2048.
    pub fn rsa_bits(mut self, bits: usize) -> Self {
        self.rsa_bits = bits;
        self
    }

    /// The rollover schedule. Default: [`Schedule::default`].
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Where "now" comes from. Default: the system clock.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The signing backend. Default: `jws_crypto::default_provider()`.
    pub fn provider(mut self, provider: &'static Provider) -> Self {
        self.provider = provider;
        self
    }

    /// Creates the directory (owner-only) when missing, loads every key file, creates a key
    /// for each kind that has none, and computes the first JWKS. Blocking: file I/O, key
    /// generation, and (when another instance holds the directory's rotation lock while
    /// creating the first keys) up to 10 s of waiting for its keys.
    pub fn open(self) -> Result<KeyManager, Error> {
        if self.algorithms.is_empty() {
            return Err(Error::config("no signing algorithm configured"));
        }
        let mut seen = BTreeSet::new();
        for &alg in &self.algorithms {
            if KeyKind::of(alg).is_none() {
                return Err(Error::config(format!(
                    "{alg} cannot be published: use RS*, PS*, ES256, ES384, EdDSA or ML-DSA-*"
                )));
            }
            if !self.provider.supports(alg) {
                return Err(Error::config(format!(
                    "{alg} is not available with the {} backend (ML-DSA needs aws-lc-rs)",
                    self.provider.name
                )));
            }
            if !seen.insert(alg) {
                return Err(Error::config(format!("{alg} is listed twice")));
            }
        }
        if !(2048..=8192).contains(&self.rsa_bits) {
            return Err(Error::config(format!(
                "rsa_bits {} is outside 2048..=8192",
                self.rsa_bits
            )));
        }
        create_dir(&self.dir)?;
        // Refuse to start on a directory others could plant a key in (ssh's rule for ~/.ssh).
        trust::check_key_dir(&self.dir, |n| parse_name(n).is_some())?;
        let manager = KeyManager {
            inner: Arc::new(Inner {
                settings: self,
                keys: RwLock::new(Vec::new()),
                view: RwLock::new(Arc::new(View::empty())),
                problems: Mutex::new(Vec::new()),
                maintain: Mutex::new(()),
            }),
        };
        manager.maintain()?;
        // Another instance starting at the same moment may hold the rotation lock while it
        // creates the first keys: wait for them (bounded) rather than start without a key.
        for _ in 0..100 {
            if manager.has_every_kind()? {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            manager.maintain()?;
        }
        Ok(manager)
    }
}

/// Signing keys with rollover, persisted in a key directory. Cheap to clone (shared state).
///
/// Several instances may share one directory (behind a load balancer): each loads every key
/// file, rotations take an advisory lock on `.rotate.lock` in the directory and decide again
/// under it (one new key per rotation however many instances), and the JWKS document is a function of
/// the files and the time, so every instance publishes the same set (and the same `ETag`).
#[derive(Debug, Clone)]
pub struct KeyManager {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// What the builder was given (checked by `open`).
    settings: KeyManagerBuilder,
    keys: RwLock<Vec<Arc<LoadedKey>>>,
    view: RwLock<Arc<View>>,
    problems: Mutex<Vec<FileProblem>>,
    /// Serializes directory scans and rotations within this process.
    maintain: Mutex<()>,
}

/// A key file loaded for every configured algorithm of its kind.
#[derive(Debug)]
struct LoadedKey {
    kind: KeyKind,
    created: i64,
    file: String,
    per_alg: Vec<(Jwk, SigningKey)>,
}

/// What the keys look like at one time; valid until `valid_until`.
#[derive(Debug)]
struct View {
    valid_from: i64,
    valid_until: i64,
    document: Arc<JwksDocument>,
    active: Vec<(Algorithm, SigningKey)>,
    status: Vec<KeyStatus>,
}

impl View {
    fn empty() -> View {
        View {
            valid_from: i64::MAX,
            valid_until: i64::MIN,
            document: Arc::new(JwksDocument::empty()),
            active: Vec::new(),
            status: Vec::new(),
        }
    }
}

impl KeyManager {
    /// Starts building a manager over the key directory `dir`.
    pub fn builder(dir: impl Into<PathBuf>) -> KeyManagerBuilder {
        KeyManagerBuilder {
            dir: dir.into(),
            algorithms: vec![Algorithm::Rs256],
            rsa_bits: 2048,
            schedule: Schedule::default(),
            clock: Arc::new(SystemClock),
            provider: jws_crypto::default_provider(),
            x5c: false,
        }
    }

    /// The configured algorithms; the first is the default for tokens.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.inner.settings.algorithms
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.inner.settings.schedule
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.settings.clock
    }

    /// Seconds since the epoch by the manager's clock.
    pub fn now(&self) -> i64 {
        i64::try_from(self.inner.settings.clock.now().as_secs()).unwrap_or(i64::MAX)
    }

    /// Rescans the directory (keys another instance added), creates keys whose rotation is
    /// due, deletes this manager's own key files once their keys are removed from the set, and
    /// recomputes the JWKS. Blocking (file I/O, RSA generation): call it from a blocking
    /// context; a running server ([`crate::Listener::serve`]) runs it on a timer.
    pub fn maintain(&self) -> Result<(), Error> {
        let _guard = self.inner.maintain.lock().map_err(|_| poisoned())?;
        self.rescan()?;
        let now = self.now();
        for kind in self.kinds() {
            let created = self.created_of(kind)?;
            if self.inner.settings.schedule.rotation_due(&created, now) {
                self.create_key(kind, now, true)?;
            }
        }
        self.delete_removed(now)?;
        self.recompute(now)?;
        Ok(())
    }

    /// Rotates now, on demand: creates a new key of every kind. It is published at once and
    /// signs after the pre-publish period; the current key keeps signing until then. Fails
    /// (`key_dir`) while another instance holds the directory's rotation lock. (Writing a key
    /// file into the directory, e.g. with `jwkctl keygen --key-dir`, has the same effect on
    /// every instance at its next [`KeyManager::maintain`].)
    pub fn rotate(&self) -> Result<(), Error> {
        let _guard = self.inner.maintain.lock().map_err(|_| poisoned())?;
        self.rescan()?;
        let now = self.now();
        for kind in self.kinds() {
            self.create_key(kind, now, false)?;
        }
        self.recompute(now)?;
        Ok(())
    }

    /// The JWKS document for now.
    pub fn jwks(&self) -> Result<Arc<JwksDocument>, Error> {
        Ok(self.view()?.document.clone())
    }

    /// The key signing `alg` now (`None`: the first configured algorithm).
    pub fn signing_key(&self, alg: Option<Algorithm>) -> Result<SigningKey, Error> {
        // `open` refuses an empty algorithm list, so index 0 exists.
        let alg = alg.unwrap_or_else(|| self.inner.settings.algorithms[0]);
        self.view()?
            .active
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, k)| k.clone())
            .ok_or_else(|| Error::NoSigningKey {
                alg: alg.as_str().into(),
            })
    }

    /// Every key of the directory that is configured, with its state now.
    pub fn status(&self) -> Result<Vec<KeyStatus>, Error> {
        Ok(self.view()?.status.clone())
    }

    /// Files in the key directory skipped at the last scan, with why.
    pub fn problems(&self) -> Vec<FileProblem> {
        self.inner
            .problems
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// The next time the published set or the signing key changes (or a rotation falls due),
    /// seconds since the epoch.
    pub fn next_change(&self) -> Result<i64, Error> {
        Ok(self.view()?.valid_until)
    }

    fn has_every_kind(&self) -> Result<bool, Error> {
        let keys = self.inner.keys.read().map_err(|_| poisoned())?;
        Ok(self
            .kinds()
            .iter()
            .all(|kind| keys.iter().any(|k| k.kind == *kind)))
    }

    fn kinds(&self) -> Vec<KeyKind> {
        let mut kinds: Vec<KeyKind> = Vec::new();
        for &alg in &self.inner.settings.algorithms {
            if let Some(k) = KeyKind::of(alg) {
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
        }
        kinds
    }

    fn algorithms_of(&self, kind: KeyKind) -> Vec<Algorithm> {
        self.inner
            .settings
            .algorithms
            .iter()
            .copied()
            .filter(|a| KeyKind::of(*a) == Some(kind))
            .collect()
    }

    fn created_of(&self, kind: KeyKind) -> Result<Vec<i64>, Error> {
        let keys = self.inner.keys.read().map_err(|_| poisoned())?;
        Ok(keys
            .iter()
            .filter(|k| k.kind == kind)
            .map(|k| k.created)
            .collect())
    }

    /// The view for now, recomputed when the schedule moved on since it was made.
    fn view(&self) -> Result<Arc<View>, Error> {
        let now = self.now();
        {
            let v = self.inner.view.read().map_err(|_| poisoned())?;
            if now >= v.valid_from && now < v.valid_until {
                return Ok(v.clone());
            }
        }
        self.recompute(now)
    }

    fn recompute(&self, now: i64) -> Result<Arc<View>, Error> {
        let keys = self.inner.keys.read().map_err(|_| poisoned())?.clone();
        let mut valid_until = i64::MAX;
        let mut published: Vec<(usize, i64, usize, Jwk)> = Vec::new();
        let mut active = Vec::new();
        let mut status = Vec::new();
        for (kind_pos, kind) in self.kinds().into_iter().enumerate() {
            let of_kind: Vec<&Arc<LoadedKey>> = keys.iter().filter(|k| k.kind == kind).collect();
            let created: Vec<i64> = of_kind.iter().map(|k| k.created).collect();
            let states = self.inner.settings.schedule.states(&created, now);
            if let Some(t) = self.inner.settings.schedule.next_change(&created, now) {
                valid_until = valid_until.min(t);
            }
            for (key, state) in of_kind.iter().zip(states) {
                for (alg_pos, (jwk, signing)) in key.per_alg.iter().enumerate() {
                    status.push(KeyStatus {
                        kid: signing.kid.clone(),
                        alg: signing.signer.algorithm(),
                        created: key.created,
                        state,
                        file: key.file.clone(),
                    });
                    if state.is_published() {
                        published.push((kind_pos, key.created, alg_pos, jwk.clone()));
                    }
                    if state == KeyState::Active {
                        active.push((signing.signer.algorithm(), signing.clone()));
                    }
                }
            }
        }
        // A fixed order (kind as configured, newest key first, algorithm as configured) makes
        // the document, and its ETag, the same on every instance.
        published.sort_by_key(|p| (p.0, core::cmp::Reverse(p.1), p.2));
        status.sort_by(|a, b| (b.created, &a.kid).cmp(&(a.created, &b.kid)));
        let document = JwksDocument::publish(
            published.into_iter().map(|p| p.3).collect(),
            self.inner.settings.schedule.prepublish.as_secs(),
        );
        let view = Arc::new(View {
            valid_from: now,
            valid_until,
            document: Arc::new(document),
            active,
            status,
        });
        *self.inner.view.write().map_err(|_| poisoned())? = view.clone();
        Ok(view)
    }

    /// Reads the directory: loads key files not loaded yet, forgets keys whose file is gone,
    /// and records every file it skipped.
    fn rescan(&self) -> Result<(), Error> {
        let dir = &self.inner.settings.dir;
        let entries = fs::read_dir(dir).map_err(|e| Error::key_dir(dir, e))?;
        let old: Vec<Arc<LoadedKey>> = self.inner.keys.read().map_err(|_| poisoned())?.clone();
        let mut loaded = Vec::new();
        let mut problems = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::key_dir(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == LOCK_FILE || (name.starts_with('.') && name.ends_with(".tmp")) {
                continue;
            }
            let Some((kind, created)) = parse_name(&name) else {
                problems.push(FileProblem {
                    file: name,
                    reason: "not a key file name (<kind>-<created>.pem)".into(),
                });
                continue;
            };
            if let Some(k) = old.iter().find(|k| k.file == name) {
                loaded.push(k.clone());
                continue;
            }
            let algs = self.algorithms_of(kind);
            if algs.is_empty() {
                // A key of a kind not configured (any more): kept, not published.
                continue;
            }
            match self.load(&entry.path(), &name, kind, created, &algs) {
                Ok(k) => loaded.push(Arc::new(k)),
                Err(reason) => problems.push(FileProblem { file: name, reason }),
            }
        }
        loaded.sort_by_key(|k| (k.kind, k.created));
        let mut last = self.inner.problems.lock().map_err(|_| poisoned())?;
        for p in &problems {
            if !last.contains(p) {
                tracing::warn!(file = %p.file, reason = %p.reason, dir = %dir.display(), "key file skipped (left in place)");
            }
        }
        *last = problems;
        *self.inner.keys.write().map_err(|_| poisoned())? = loaded;
        Ok(())
    }

    fn load(
        &self,
        path: &Path,
        name: &str,
        kind: KeyKind,
        created: i64,
        algs: &[Algorithm],
    ) -> Result<LoadedKey, String> {
        let pem = read_key_file(path)?;
        let cert = if self.inner.settings.x5c && kind == KeyKind::Rsa {
            let rs256 = self
                .inner
                .settings
                .provider
                .signer_from_pkcs8_pem(&pem, Algorithm::Rs256)
                .map_err(|e| format!("not a usable RSA key: {e}"))?;
            let public = rs256.public_jwk();
            match crate::x5c::self_signed(rs256, &public, created) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(file = name, error = %e, "no x5c certificate; published without");
                    None
                }
            }
        } else {
            None
        };
        let mut per_alg = Vec::new();
        for &alg in algs {
            let signer = self
                .inner
                .settings
                .provider
                .signer_from_pkcs8_pem(&pem, alg)
                .map_err(|e| format!("not a usable {} key for {alg}: {e}", kind.prefix()))?;
            let mut jwk = signer.public_jwk();
            let thumb = jwk.thumbprint();
            let kid = format!("{thumb}_{}", alg.as_str());
            jwk.kid = Some(kid.clone());
            jwk.alg = Some(alg);
            jwk.key_use = Some(KeyUse::Sig);
            if let Some((x5c, x5t)) = &cert {
                jwk.x5c = Some(vec![x5c.clone()]);
                jwk.x5t_s256 = Some(x5t.clone());
            }
            per_alg.push((jwk, SigningKey { kid, signer }));
        }
        tracing::info!(file = name, kind = kind.prefix(), created, "key loaded");
        Ok(LoadedKey {
            kind,
            created,
            file: name.to_owned(),
            per_alg,
        })
    }

    /// Creates a key of `kind`. `scheduled`: only when still due after taking the directory
    /// lock (another instance may have just rotated); on demand: always.
    fn create_key(&self, kind: KeyKind, now: i64, scheduled: bool) -> Result<(), Error> {
        let dir = &self.inner.settings.dir;
        // Scheduled: wait for an instance that is rotating now, then decide again with its
        // key in view. On demand: refuse at once rather than block the caller.
        let lock = if scheduled {
            DirLock::acquire_within(dir, LOCK_WAIT)?
        } else {
            DirLock::try_acquire(dir)?
        };
        let Some(_lock) = lock else {
            if !scheduled {
                return Err(Error::key_dir(
                    &dir.join(LOCK_FILE),
                    "another instance holds the rotation lock; retry shortly",
                ));
            }
            tracing::info!(
                kind = kind.prefix(),
                "another instance is rotating; skipped"
            );
            return Ok(());
        };
        self.rescan()?;
        let created = self.created_of(kind)?;
        if scheduled && !self.inner.settings.schedule.rotation_due(&created, now) {
            return Ok(());
        }
        // Names are unique per second; a second rotation within the same second takes the
        // next second (a slightly longer pre-publish).
        let mut stamp = created
            .iter()
            .max()
            .map_or(now, |&newest| now.max(newest.saturating_add(1)));
        // A skipped file (corrupt, foreign, unreadable) may hold the name: never reuse it.
        while dir.join(kind.file_name(stamp)).exists() {
            stamp = stamp.saturating_add(1);
        }
        let gen_alg = self
            .algorithms_of(kind)
            .into_iter()
            .next()
            .ok_or_else(|| Error::config("no algorithm for this key kind"))?;
        let (_, der) = self
            .inner
            .settings
            .provider
            .generate(gen_alg, self.inner.settings.rsa_bits)?;
        let name = kind.file_name(stamp);
        let pem = pkcs8_pem(&der);
        write_new_private(dir, &name, pem.as_bytes())?;
        tracing::info!(file = %name, kind = kind.prefix(), created = stamp, "key created");
        self.rescan()
    }

    fn delete_removed(&self, now: i64) -> Result<(), Error> {
        let keys = self.inner.keys.read().map_err(|_| poisoned())?.clone();
        let mut deleted = false;
        for kind in self.kinds() {
            let of_kind: Vec<&Arc<LoadedKey>> = keys.iter().filter(|k| k.kind == kind).collect();
            let created: Vec<i64> = of_kind.iter().map(|k| k.created).collect();
            for (key, state) in of_kind
                .iter()
                .zip(self.inner.settings.schedule.states(&created, now))
            {
                if state == KeyState::Removed {
                    let path = self.inner.settings.dir.join(&key.file);
                    match fs::remove_file(&path) {
                        Ok(()) => {
                            tracing::info!(file = %key.file, "retired key removed");
                            deleted = true;
                        }
                        // Another instance deleted it first.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => deleted = true,
                        Err(e) => {
                            tracing::warn!(file = %key.file, error = %e, "cannot delete retired key")
                        }
                    }
                }
            }
        }
        if deleted {
            self.rescan()?;
        }
        Ok(())
    }
}

fn poisoned() -> Error {
    Error::config("key manager lock poisoned by a panic")
}
