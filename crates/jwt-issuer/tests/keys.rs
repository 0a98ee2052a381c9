//! The key manager against real directories and an injected clock.

use core::time::Duration;
use std::sync::Arc;

use jwk_core::{Algorithm, JwkSet};
use jwt_issuer::{KeyManager, KeyState, ManualClock, Schedule};

use crate::support::TempDir;

const T0: u64 = 1_800_000_000;

fn schedule() -> Schedule {
    // Rotate every 1000 s, pre-publish 100 s, retire for 300 s.
    Schedule::new(
        Duration::from_secs(1000),
        Duration::from_secs(100),
        Duration::from_secs(300),
    )
}

fn open(dir: &TempDir, clock: &Arc<ManualClock>, algs: &[Algorithm]) -> KeyManager {
    KeyManager::builder(dir.path())
        .algorithms(algs.iter().cloned())
        .schedule(schedule())
        .clock(clock.clone())
        .open()
        .unwrap()
}

fn kids(m: &KeyManager) -> Vec<String> {
    let doc = m.jwks().unwrap();
    let set = JwkSet::parse(&doc.body).unwrap();
    assert!(set.rejected.is_empty(), "{:?}", set.rejected);
    set.keys.iter().map(|k| k.kid.clone().unwrap()).collect()
}

#[test]
fn one_rsa_key_published_once_per_algorithm() {
    let dir = TempDir::new("rsa");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let m = open(
        &dir,
        &clock,
        &[
            Algorithm::Rs256,
            Algorithm::Ps256,
            Algorithm::Es256,
            Algorithm::EdDsa,
        ],
    );
    let doc = m.jwks().unwrap();
    let set = JwkSet::parse(&doc.body).unwrap();
    assert_eq!(set.keys.len(), 4);
    let rs = &set.keys[0];
    let ps = &set.keys[1];
    assert_eq!(rs.params, ps.params, "same modulus for RS256 and PS256");
    let thumb = rs.thumbprint();
    assert_eq!(rs.kid.as_deref(), Some(format!("{thumb}_RS256").as_str()));
    assert_eq!(ps.kid.as_deref(), Some(format!("{thumb}_PS256").as_str()));
    for k in &set.keys {
        assert_eq!(k.key_use, Some(jwk_core::KeyUse::Sig));
        assert!(k.alg.is_some());
    }
    assert_eq!(doc.max_age, 100);
    assert!(doc.etag.starts_with('"') && doc.etag.ends_with('"'));
    // Four files? No: one RSA, one P-256, one Ed25519 file (and the rotation lock file).
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".rotate.lock")
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            format!("ed25519-{T0}.pem"),
            format!("p256-{T0}.pem"),
            format!("rsa-{T0}.pem")
        ]
    );
    #[cfg(unix)]
    for f in &files {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
}

#[test]
fn rollover_across_time() {
    let dir = TempDir::new("roll");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let m = open(&dir, &clock, &[Algorithm::Es256]);
    let first = m.signing_key(None).unwrap().kid;
    assert_eq!(kids(&m), [first.as_str()]);

    // Rotation falls due: the new key is published but does not sign yet.
    clock.set_secs(T0 + 1000);
    m.maintain().unwrap();
    let published = kids(&m);
    assert_eq!(published.len(), 2);
    let second = published[0].clone();
    assert_ne!(second, first);
    assert_eq!(m.signing_key(None).unwrap().kid, first);

    // After the pre-publish period it signs; the old key is retired but still published.
    clock.set_secs(T0 + 1100);
    assert_eq!(m.signing_key(None).unwrap().kid, second);
    assert_eq!(kids(&m), [second.clone(), first.clone()]);
    let states: Vec<KeyState> = m.status().unwrap().iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [
            KeyState::Active,
            KeyState::Retired {
                remove_at: T0 as i64 + 1400
            }
        ]
    );

    // Once every token it signed has expired it leaves the set, and its file goes.
    clock.set_secs(T0 + 1400);
    assert_eq!(kids(&m), [second.as_str()]);
    m.maintain().unwrap();
    assert!(!dir.path().join(format!("p256-{T0}.pem")).exists());
}

#[test]
fn on_demand_rotation_prepublishes() {
    let dir = TempDir::new("demand");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let m = open(&dir, &clock, &[Algorithm::EdDsa]);
    let first = m.signing_key(None).unwrap().kid;
    let etag1 = m.jwks().unwrap().etag.clone();
    m.rotate().unwrap();
    assert_eq!(kids(&m).len(), 2);
    assert_ne!(m.jwks().unwrap().etag, etag1);
    assert_eq!(m.signing_key(None).unwrap().kid, first);
    // Stamped one second after the bootstrap key (same second): 101 s of pre-publish.
    clock.advance(Duration::from_secs(100));
    assert_eq!(m.signing_key(None).unwrap().kid, first);
    clock.advance(Duration::from_secs(1));
    assert_ne!(m.signing_key(None).unwrap().kid, first);
}

#[test]
fn restart_and_second_instance_publish_the_same_set() {
    let dir = TempDir::new("restart");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let algs = [Algorithm::Rs256, Algorithm::Es256];
    let a = open(&dir, &clock, &algs);
    let doc_a = a.jwks().unwrap();
    drop(a);
    let b = open(&dir, &clock, &algs);
    let c = open(&dir, &clock, &algs);
    assert_eq!(b.jwks().unwrap().body, doc_a.body);
    assert_eq!(c.jwks().unwrap().etag, doc_a.etag);
    // A rotation by one instance is seen by the other at its next maintenance.
    b.rotate().unwrap();
    c.maintain().unwrap();
    assert_eq!(b.jwks().unwrap().body, c.jwks().unwrap().body);
    assert_eq!(kids(&c).len(), 4);
}

#[test]
fn corrupt_and_foreign_files_are_reported_and_kept() {
    let dir = TempDir::new("foreign");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    };
    write("README.txt", "hello");
    write(
        "p256-1700000000.pem",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    let m = open(&dir, &clock, &[Algorithm::Es256]);
    let problems = m.problems();
    let files: Vec<&str> = problems.iter().map(|p| p.file.as_str()).collect();
    assert!(files.contains(&"README.txt"), "{problems:?}");
    assert!(files.contains(&"p256-1700000000.pem"), "{problems:?}");
    // A usable key was created anyway, and nothing was deleted.
    assert_eq!(kids(&m).len(), 1);
    assert!(dir.path().join("README.txt").exists());
    assert!(dir.path().join("p256-1700000000.pem").exists());
}

#[cfg(unix)]
#[test]
fn group_readable_key_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new("perm");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let m = open(&dir, &clock, &[Algorithm::EdDsa]);
    let file = dir.path().join(format!("ed25519-{T0}.pem"));
    drop(m);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let m = open(&dir, &clock, &[Algorithm::EdDsa]);
    let problems = m.problems();
    assert_eq!(problems.len(), 1);
    assert!(problems[0].reason.contains("0644"), "{problems:?}");
    assert!(file.exists());
    // A new key took over under another name.
    assert!(m.signing_key(None).is_ok());
    assert!(dir.path().join(format!("ed25519-{}.pem", T0 + 1)).exists());
}

#[test]
fn rsa_keys_carry_a_matching_deterministic_x5c() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let dir = TempDir::new("x5c");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let open_x5c = || {
        KeyManager::builder(dir.path())
            .algorithms([Algorithm::Rs256, Algorithm::Ps256])
            .schedule(schedule())
            .clock(clock.clone())
            .x5c(true)
            .open()
            .unwrap()
    };
    let a = open_x5c();
    let set = JwkSet::parse(&a.jwks().unwrap().body).unwrap();
    assert_eq!(set.keys.len(), 2);
    let x5c = set.keys[0].x5c.as_ref().unwrap();
    assert_eq!(x5c.len(), 1);
    assert_eq!(set.keys[1].x5c.as_ref(), Some(x5c));
    let der = base64::engine::general_purpose::STANDARD
        .decode(&x5c[0])
        .unwrap();
    let x5t = jwk_core::b64::encode(&sha2::Sha256::digest(&der));
    assert_eq!(set.keys[0].x5t_s256.as_deref(), Some(x5t.as_str()));
    // The certificate holds the published modulus.
    let jwk_core::KeyParams::Rsa(rsa) = &set.keys[0].params else {
        panic!("not RSA")
    };
    assert!(der.windows(rsa.n.len()).any(|w| w == rsa.n.as_slice()));
    // Another instance makes the very same certificate.
    let b = open_x5c();
    assert_eq!(a.jwks().unwrap().body, b.jwks().unwrap().body);
}

#[test]
fn our_jwks_has_the_shape_of_the_guides() {
    let guide: serde_json::Value =
        serde_json::from_str(include_str!("vectors/asgardeo-jwks.json")).unwrap();
    let names = |k: &serde_json::Value| {
        let mut n: Vec<String> = k.as_object().unwrap().keys().cloned().collect();
        n.sort();
        n
    };
    let guide_keys = guide["keys"].as_array().unwrap();
    let dir = TempDir::new("shape");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let m = KeyManager::builder(dir.path())
        .algorithms([Algorithm::Rs256, Algorithm::Ps256])
        .schedule(schedule())
        .clock(clock)
        .x5c(true)
        .open()
        .unwrap();
    let ours: serde_json::Value = serde_json::from_slice(&m.jwks().unwrap().body).unwrap();
    let ours = ours["keys"].as_array().unwrap();
    assert_eq!(ours.len(), guide_keys.len());
    for (o, g) in ours.iter().zip(guide_keys) {
        assert_eq!(names(o), names(g));
        assert_eq!(o["alg"], g["alg"]);
        assert_eq!(o["use"], "sig");
        let suffix = format!("_{}", g["alg"].as_str().unwrap());
        assert!(g["kid"].as_str().unwrap().ends_with(&suffix));
        assert!(o["kid"].as_str().unwrap().ends_with(&suffix));
    }
    // As in the guide: the two entries differ only in kid and alg.
    for member in ["n", "e", "x5c", "x5t#S256", "kty"] {
        assert_eq!(ours[0][member], ours[1][member], "{member}");
        assert_eq!(guide_keys[0][member], guide_keys[1][member], "{member}");
    }
}

/// Holds the key directory's rotation lock as another instance would.
fn hold_lock(dir: &TempDir) -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.path().join(".rotate.lock"))
        .unwrap();
    f.lock().unwrap();
    f
}

#[test]
fn on_demand_rotation_refuses_while_another_instance_rotates() {
    let dir = TempDir::new("lock");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let m = open(&dir, &clock, &[Algorithm::EdDsa]);
    let held = hold_lock(&dir);
    assert_eq!(m.rotate().unwrap_err().code(), "key_dir");
    // The lock file is not a problem file.
    m.maintain().unwrap();
    assert!(m.problems().is_empty());
    assert_eq!(kids(&m).len(), 1);
    // A scheduled rotation waits for the holder, then decides (and creates one key).
    clock.advance(Duration::from_secs(1000));
    let waiting = {
        let m = m.clone();
        std::thread::spawn(move || m.maintain())
    };
    std::thread::sleep(Duration::from_millis(100));
    drop(held);
    waiting.join().unwrap().unwrap();
    assert_eq!(kids(&m).len(), 2);
    m.rotate().unwrap();
    assert_eq!(kids(&m).len(), 3);
}

#[test]
fn instances_at_a_rotation_boundary_create_one_key_and_agree() {
    let dir = TempDir::new("boundary");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let algs = [Algorithm::Es256, Algorithm::EdDsa];
    let managers: Vec<KeyManager> = (0..4).map(|_| open(&dir, &clock, &algs)).collect();
    let files = || {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".pem"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(files().len(), 2);
    for round in 1..=3u64 {
        // Every instance reaches the boundary at the same moment.
        clock.set_secs(T0 + round * 1000);
        let barrier = Arc::new(std::sync::Barrier::new(managers.len()));
        let threads: Vec<_> = managers
            .iter()
            .map(|m| {
                let (m, barrier) = (m.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    m.maintain()
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        // One new key per kind, whatever the number of instances (older ones are removed on
        // schedule: 1000 s rotation, 100 s pre-publish, 700 s retirement).
        let names = files();
        for prefix in ["p256-", "ed25519-"] {
            let newest = format!("{prefix}{}.pem", T0 + round * 1000);
            assert!(names.contains(&newest), "round {round}: {names:?}");
            assert_eq!(
                names.iter().filter(|n| n.starts_with(prefix)).count(),
                2,
                "round {round}: {names:?}"
            );
        }
        // The same set, byte for byte, and the same ETag on every instance.
        let first = managers[0].jwks().unwrap();
        for m in &managers {
            let doc = m.jwks().unwrap();
            assert_eq!(doc.body, first.body);
            assert_eq!(doc.etag, first.etag);
        }
        assert_eq!(JwkSet::parse(&first.body).unwrap().keys.len(), 4);
    }
}

#[test]
fn instances_starting_together_share_the_first_keys() {
    let dir = TempDir::new("together");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (path, clock) = (dir.path().to_owned(), clock.clone());
            std::thread::spawn(move || {
                KeyManager::builder(path)
                    .algorithms([Algorithm::Es256, Algorithm::EdDsa])
                    .schedule(schedule())
                    .clock(clock)
                    .open()
                    .unwrap()
            })
        })
        .collect();
    let managers: Vec<KeyManager> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for m in &managers {
        m.maintain().unwrap();
    }
    let first = managers[0].jwks().unwrap();
    assert_eq!(JwkSet::parse(&first.body).unwrap().keys.len(), 2);
    for m in &managers {
        assert_eq!(m.jwks().unwrap().body, first.body);
        assert!(m.signing_key(None).is_ok());
    }
}

/// Key directory trust (issue 13, item 3): the bad setups an attacker would use.
#[cfg(unix)]
mod trust {
    use std::os::unix::fs::PermissionsExt as _;
    use std::sync::Arc;

    use jwk_core::Algorithm;
    use jwt_issuer::{KeyManager, ManualClock};

    use super::{schedule, T0};
    use crate::support::TempDir;

    fn try_open(dir: &std::path::Path) -> Result<KeyManager, jwt_issuer::Error> {
        KeyManager::builder(dir)
            .algorithms([Algorithm::EdDsa])
            .schedule(schedule())
            .clock(Arc::new(ManualClock::at_secs(T0)))
            .open()
    }

    fn chmod(p: &std::path::Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A PKCS#8 Ed25519 key made elsewhere: what an attacker would plant (back-dated name).
    fn planted_pem() -> String {
        let other = TempDir::new("attacker");
        try_open(other.path()).unwrap();
        let f = std::fs::read_dir(other.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "pem"))
            .unwrap();
        std::fs::read_to_string(f).unwrap()
    }

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let dir = TempDir::new("trust-dir");
        try_open(dir.path()).unwrap();
        for mode in [0o777, 0o770, 0o1777] {
            chmod(dir.path(), mode);
            let e = try_open(dir.path()).unwrap_err();
            assert_eq!(e.code(), "key_dir", "{mode:o}");
            assert!(e.to_string().contains("chmod"), "{e}");
        }
        chmod(dir.path(), 0o755);
        try_open(dir.path()).unwrap();
    }

    #[test]
    fn a_key_file_others_can_write_is_refused() {
        let dir = TempDir::new("trust-file");
        try_open(dir.path()).unwrap();
        let file = dir.path().join(format!("ed25519-{T0}.pem"));
        chmod(&file, 0o620);
        assert_eq!(try_open(dir.path()).unwrap_err().code(), "key_dir");
        chmod(&file, 0o602);
        assert_eq!(try_open(dir.path()).unwrap_err().code(), "key_dir");
        chmod(&file, 0o600);
        try_open(dir.path()).unwrap();
    }

    #[test]
    fn a_symlinked_key_file_is_refused_and_never_followed() {
        let dir = TempDir::new("trust-link");
        let target_dir = TempDir::new("trust-link-target");
        let target = target_dir.path().join("k.pem");
        std::fs::write(&target, planted_pem()).unwrap();
        chmod(&target, 0o600);
        // Back-dated, so it would be the active key.
        let link = dir.path().join("ed25519-1000000000.pem");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = try_open(dir.path()).unwrap_err();
        assert_eq!(e.code(), "key_dir");
        assert!(e.to_string().contains("symbolic link"), "{e}");

        // Planted after start: the running manager skips it (reported), keeps its own key.
        std::fs::remove_file(&link).unwrap();
        let m = try_open(dir.path()).unwrap();
        let kid = m.signing_key(None).unwrap().kid;
        std::os::unix::fs::symlink(&target, &link).unwrap();
        m.maintain().unwrap();
        assert_eq!(m.signing_key(None).unwrap().kid, kid);
        let problems = m.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.file == "ed25519-1000000000.pem" && p.reason.contains("symbolic link")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_key_planted_by_another_user_is_refused() {
        if euid() != 0 {
            println!("skipped: making a file owned by another uid needs root (CI runs as root)");
            return;
        }
        let dir = TempDir::new("trust-owner");
        let m = try_open(dir.path()).unwrap();
        let kid = m.signing_key(None).unwrap().kid;
        // Another user's key, back-dated so it would sign at once, with owner-only mode.
        let planted = dir.path().join("ed25519-1000000000.pem");
        std::fs::write(&planted, planted_pem()).unwrap();
        chmod(&planted, 0o600);
        std::os::unix::fs::chown(&planted, Some(4242), Some(4242)).unwrap();
        // The running manager does not load it ...
        m.maintain().unwrap();
        assert_eq!(m.signing_key(None).unwrap().kid, kid);
        assert!(m
            .problems()
            .iter()
            .any(|p| p.file == "ed25519-1000000000.pem" && p.reason.contains("4242")));
        // ... and a restart refuses the directory.
        let e = try_open(dir.path()).unwrap_err();
        assert_eq!(e.code(), "key_dir");
        assert!(e.to_string().contains("uid 4242"), "{e}");
        // The directory itself owned by another user: refused too.
        std::fs::remove_file(&planted).unwrap();
        std::os::unix::fs::chown(dir.path(), Some(4242), None).unwrap();
        assert_eq!(try_open(dir.path()).unwrap_err().code(), "key_dir");
        std::os::unix::fs::chown(dir.path(), Some(0), None).unwrap();
        try_open(dir.path()).unwrap();
    }

    /// The effective uid, read from a file this process creates (no unsafe, no extra crate).
    fn euid() -> u32 {
        use std::os::unix::fs::MetadataExt as _;
        let d = TempDir::new("euid");
        let p = d.path().join("f");
        std::fs::write(&p, "").unwrap();
        std::fs::metadata(&p).unwrap().uid()
    }
}

/// `algorithms = ["ML-DSA-65", "RS256"]`: an `AKP` key published beside the RSA one, signing
/// access tokens (the first algorithm); on ring, which has no ML-DSA, `open` refuses the
/// configuration with a message naming the backend.
#[test]
fn ml_dsa_65_beside_rsa() {
    let algs = [Algorithm::MlDsa65, Algorithm::Rs256];
    for provider in jws_crypto::ALL {
        let dir = TempDir::new("mldsa");
        let clock = Arc::new(ManualClock::at_secs(T0));
        let opened = KeyManager::builder(dir.path())
            .algorithms(algs.iter().cloned())
            .schedule(schedule())
            .clock(clock.clone())
            .provider(provider)
            .open();
        if !provider.supports(Algorithm::MlDsa65) {
            let e = opened.unwrap_err();
            assert_eq!(e.code(), "invalid_config", "{}", provider.name);
            assert!(e.to_string().contains("aws-lc-rs"), "{e}");
            continue;
        }
        let m = opened.unwrap();
        let doc = m.jwks().unwrap();
        let set = JwkSet::parse(&doc.body).unwrap();
        assert!(set.rejected.is_empty(), "{:?}", set.rejected);
        assert_eq!(set.keys.len(), 2);
        let akp = &set.keys[0];
        assert_eq!(akp.params.kty(), "AKP");
        assert_eq!(akp.alg, Some(Algorithm::MlDsa65));
        assert_eq!(akp.key_use, Some(jwk_core::KeyUse::Sig));
        let thumb = akp.thumbprint();
        assert_eq!(
            akp.kid.as_deref(),
            Some(format!("{thumb}_ML-DSA-65").as_str())
        );
        assert_eq!(set.keys[1].params.kty(), "RSA");
        let mut files: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".rotate.lock")
            .collect();
        files.sort();
        assert_eq!(
            files,
            [format!("mldsa65-{T0}.pem"), format!("rsa-{T0}.pem")]
        );

        // The first algorithm signs access tokens; the published set verifies them.
        let key = m.signing_key(None).unwrap();
        assert_eq!(key.kid, akp.kid.clone().unwrap());
        let claims = serde_json::json!({"iss": "https://sts.test", "sub": "svc", "exp": T0 + 60});
        let token = key.sign_jwt("at+jwt", &claims).unwrap();
        let v = jwt_validate::Validator::builder()
            .provider(provider)
            .jwks(set.clone())
            .issuer("https://sts.test")
            .typ("at+jwt")
            .clock(jwt_validate::FixedClock::at_secs(T0))
            .build()
            .unwrap();
        let verified = v.validate(&token).unwrap();
        assert_eq!(verified.header().alg, Algorithm::MlDsa65);
        // The RSA key signs too, when asked for.
        let rs = m.signing_key(Some(Algorithm::Rs256)).unwrap();
        assert!(v.validate(&rs.sign_jwt("at+jwt", &claims).unwrap()).is_ok());

        // Another instance on the same directory loads the same ML-DSA key.
        let again = KeyManager::builder(dir.path())
            .algorithms(algs.iter().cloned())
            .schedule(schedule())
            .clock(clock.clone())
            .provider(provider)
            .open()
            .unwrap();
        assert!(again.problems().is_empty(), "{:?}", again.problems());
        assert_eq!(kids(&again), kids(&m));
    }
}

/// Issue 11 item 1: an Ed25519 key file whose PKCS#8 v2 public key is of small order (here
/// the identity) is never used or published; the manager reports it and makes its own key.
#[test]
fn ed25519_key_with_small_order_public_key_is_refused() {
    let dir = TempDir::new("small-order");
    let clock = Arc::new(ManualClock::at_secs(T0));
    let (_, v1) = jws_crypto::default_provider()
        .generate(Algorithm::EdDsa, 2048)
        .unwrap();
    // PKCS#8 v1 or v2, the seed sits at the same place: 04 22 04 20 <seed> at offset 12.
    assert_eq!(v1[12..16], [0x04, 0x22, 0x04, 0x20]);
    let seed = &v1[16..48];
    let mut der = vec![0x30, 0x51, 0x02, 0x01, 0x01];
    der.extend_from_slice(&[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70]);
    der.extend_from_slice(&[0x04, 0x22, 0x04, 0x20]);
    der.extend_from_slice(seed);
    der.extend_from_slice(&[0x81, 0x21, 0x00, 0x01]);
    der.extend_from_slice(&[0; 31]);
    let name = jwt_issuer::KeyKind::Ed25519.file_name(T0 as i64 - 10);
    jwt_issuer::write_private_file(
        &dir.path().join(&name),
        jwt_issuer::pkcs8_pem(&der).as_bytes(),
    )
    .unwrap();
    let m = open(&dir, &clock, &[Algorithm::EdDsa]);
    let problems = m.problems();
    assert!(problems.iter().any(|p| p.file == name), "{problems:?}");
    let published = kids(&m);
    assert_eq!(published.len(), 1);
    let doc = m.jwks().unwrap();
    let set = JwkSet::parse(&doc.body).unwrap();
    let jwk_core::KeyParams::Okp(okp) = &set.keys[0].params else {
        panic!("{:?}", set.keys[0]);
    };
    assert_ne!(okp.x[0], 1);
    assert!(dir.path().join(&name).exists());
}
