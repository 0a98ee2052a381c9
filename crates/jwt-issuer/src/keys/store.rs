//! The on-disk key directory: key file names, reading a key file (never through a link,
//! owner-only), and writing new key files without ever replacing one.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use super::kind::KeyKind;
use crate::error::Error;

/// Largest key file read (an RSA 4096 PKCS#8 PEM is about 3.3 KB).
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Reads a key file's PEM: opened without following links, owner and mode checked on the
/// opened file, bounded size.
pub(super) fn read_key_file(path: &Path) -> Result<String, String> {
    // Never through a symbolic link; owner and mode checked on the opened file.
    let (file, meta) = super::trust::open_key_file(path)?;
    if meta.len() > MAX_KEY_FILE {
        return Err(format!("{} bytes, more than a key file holds", meta.len()));
    }
    check_private(&meta)?;
    let mut pem = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, MAX_KEY_FILE), &mut pem)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(pem)
}

/// `<kind>-<created>.pem` with `created` a plausible Unix time.
pub(super) fn parse_name(name: &str) -> Option<(KeyKind, i64)> {
    let stem = name.strip_suffix(".pem")?;
    let (prefix, created) = stem.split_once('-')?;
    let kind = KeyKind::from_prefix(prefix)?;
    if created.is_empty() || !created.bytes().all(|b| b.is_ascii_digit()) || created.len() > 12 {
        return None;
    }
    let created: i64 = created.parse().ok()?;
    Some((kind, created))
}

/// PKCS#8 DER as a PEM `PRIVATE KEY` block (RFC 7468 section 10), 64 columns.
pub fn pkcs8_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

pub(super) fn create_dir(dir: &Path) -> Result<(), Error> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| Error::key_dir(dir, e))
}

#[cfg(unix)]
fn check_private(meta: &fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "permissions {mode:04o} let others read a private key; expected owner-only (0600)"
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_meta: &fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// Writes a private key file with owner-only permissions. Fails (`key_dir`) when `path`
/// exists: a key file is never replaced.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::key_dir(path, "not a file name"))?;
    if path.exists() {
        return Err(Error::key_dir(path, "exists; not replaced"));
    }
    write_new_private(dir, name, bytes)
}

/// Writes `bytes` to `dir/name` with owner-only permissions, never replacing an existing file:
/// written to a temporary file, synced, then hard-linked into place (which fails if the name
/// exists, so two instances racing cannot overwrite each other's key).
pub(crate) fn write_new_private(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    let tmp = dir.join(format!(".{name}.{}.tmp", rand::random::<u64>()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::hard_link(&tmp, dir.join(name))
    })();
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::key_dir(&dir.join(name), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_names() {
        assert_eq!(
            parse_name("rsa-1700000000.pem"),
            Some((KeyKind::Rsa, 1_700_000_000))
        );
        assert_eq!(parse_name("ed25519-5.pem"), Some((KeyKind::Ed25519, 5)));
        for bad in [
            "rsa-.pem",
            "rsa-17x.pem",
            "rsa-+1.pem",
            "rsa-1700000000.key",
            "dsa-1.pem",
            "rsa-1-2.pem",
            "rsa-9999999999999.pem",
            "README",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn pem_wraps_at_64_columns() {
        let pem = pkcs8_pem(&[7u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines[0], "-----BEGIN PRIVATE KEY-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines.last().copied(), Some("-----END PRIVATE KEY-----"));
    }
}
