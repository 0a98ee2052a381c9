//! Reading tokens and files with bounds.

use std::io::Read;

/// Longest token read from stdin; far above the validator's own limit, which then reports
/// `too_large` precisely.
const MAX_STDIN: u64 = 1024 * 1024;
/// Largest key file read.
pub(crate) const MAX_FILE: u64 = 4 * 1024 * 1024;

/// The token argument, or stdin when it is absent or `-`; whitespace trimmed.
pub(crate) fn token(arg: Option<String>) -> Result<String, String> {
    let raw = match arg.as_deref() {
        None | Some("-") => {
            let mut buf = String::new();
            std::io::stdin()
                .take(MAX_STDIN)
                .read_to_string(&mut buf)
                .map_err(|e| format!("cannot read the token from stdin: {e}"))?;
            buf
        }
        Some(t) => t.to_owned(),
    };
    Ok(raw.trim().to_owned())
}

/// A whole file, at most [`MAX_FILE`] bytes.
pub(crate) fn file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut buf = Vec::new();
    f.take(MAX_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if buf.len() as u64 > MAX_FILE {
        return Err(format!(
            "{} is larger than {MAX_FILE} bytes",
            path.display()
        ));
    }
    Ok(buf)
}
