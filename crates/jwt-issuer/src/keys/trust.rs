//! Key directory trust, as ssh treats `~/.ssh`: the directory and every key file must be
//! owned by the user the process runs as and writable by no one else, and key files are
//! opened without following symbolic links. Otherwise anyone who can write there can plant
//! the signing key.

use std::fs;
use std::path::Path;

use crate::error::Error;

/// Checks `dir` and every key file in it (names that `is_key_name` accepts). One error
/// listing every problem, with the command that fixes it.
pub(crate) fn check_key_dir(dir: &Path, is_key_name: impl Fn(&str) -> bool) -> Result<(), Error> {
    let mut problems = Vec::new();
    match fs::metadata(dir) {
        Ok(m) if !m.is_dir() => problems.push("is not a directory".to_owned()),
        Ok(m) => {
            if let Err(p) = owned_and_not_writable(&m) {
                problems.push(format!("the directory {p}"));
            }
        }
        Err(e) => return Err(Error::key_dir(dir, e)),
    }
    let entries = fs::read_dir(dir).map_err(|e| Error::key_dir(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::key_dir(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_key_name(&name) {
            continue;
        }
        match fs::symlink_metadata(entry.path()) {
            Ok(m) if m.file_type().is_symlink() => problems.push(format!(
                "{name} is a symbolic link (key files are never followed)"
            )),
            Ok(m) => {
                if let Err(p) = owned_and_not_writable(&m) {
                    problems.push(format!("{name} {p}"));
                }
            }
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::key_dir(
        dir,
        format!(
            "not trusted: {}. The key directory and its key files must belong to the user the \
             service runs as and be writable by no one else (chown that user; chmod 700 the \
             directory, 600 the files); remove files you did not create",
            problems.join("; ")
        ),
    ))
}

/// Opens a key file without following a symbolic link and checks the opened file itself
/// (regular, owner, not writable by others): the checks and the read are on the same inode.
pub(crate) fn open_key_file(path: &Path) -> Result<(fs::File, fs::Metadata), String> {
    let file = open_nofollow(path)?;
    let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    owned_and_not_writable(&meta)?;
    Ok((file, meta))
}

#[cfg(unix)]
fn open_nofollow(path: &Path) -> Result<fs::File, String> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
    .map(fs::File::from)
    .map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            "is a symbolic link (key files are never followed)".to_owned()
        } else {
            format!("cannot open: {e}")
        }
    })
}

#[cfg(not(unix))]
fn open_nofollow(path: &Path) -> Result<fs::File, String> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err("is a symbolic link (key files are never followed)".into());
    }
    fs::File::open(path).map_err(|e| format!("cannot open: {e}"))
}

/// Owned by the effective user, no write bit for group or others.
#[cfg(unix)]
pub(crate) fn owned_and_not_writable(meta: &fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "is owned by uid {}, not by this process's user (uid {me})",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "is writable by {} (mode {mode:04o})",
            if mode & 0o002 != 0 {
                "others"
            } else {
                "its group"
            }
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn owned_and_not_writable(_meta: &fs::Metadata) -> Result<(), String> {
    Ok(())
}
