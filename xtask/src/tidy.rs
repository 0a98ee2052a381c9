//! Repository rules that a compiler does not check (rust-analyzer's `tidy.rs`). Runs as
//! `cargo xtask tidy`, as a step of `cargo xtask ci`, and as this crate's test, so
//! `cargo test --workspace` enforces it too.
//!
//! - every crate's `lib.rs` / `main.rs` starts with `//!` docs;
//! - every workspace member has `[lints] workspace = true`;
//! - no `ring::` or `aws_lc_rs::` path, and no direct `ring` / `aws-lc-rs` dependency of a
//!   library crate, outside `crates/jws-crypto` (protocol code never names a backend);
//! - dependency directions: `jwk-core` depends on none of our crates, `jwt-validate` never
//!   (even indirectly) on `jwks-fetch`, and nothing depends on the `jwkctl` binary.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::cmd::Metadata;

/// The only crate allowed to name a crypto backend.
const BACKEND_CRATE: &str = "jws-crypto";

/// Checks every rule; the error lists each problem found.
pub(crate) fn run(root: &Path) -> Result<(), Vec<String>> {
    let meta = Metadata::load(root).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    crate_docs_and_lints(&meta, &mut problems);
    backend_paths(root, &mut problems);
    dependency_directions(&meta, &mut problems);
    if problems.is_empty() {
        println!("tidy: {} packages checked, no problems", meta.names().len());
        Ok(())
    } else {
        Err(problems)
    }
}

fn crate_docs_and_lints(meta: &Metadata, problems: &mut Vec<String>) {
    for (name, manifest) in meta.manifests() {
        let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
        for root_file in ["src/lib.rs", "src/main.rs"] {
            let path = dir.join(root_file);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if !text.starts_with("//!") {
                problems.push(format!(
                    "{}: must start with `//!` crate docs (what it is for, what not, example)",
                    path.display()
                ));
            }
        }
        match std::fs::read_to_string(&manifest) {
            Ok(text) if has_workspace_lints(&text) => {}
            Ok(_) => problems.push(format!(
                "{} ({name}): needs `[lints]` with `workspace = true`",
                manifest.display()
            )),
            Err(e) => problems.push(format!("{}: {e}", manifest.display())),
        }
    }
}

/// True when the manifest has a `[lints]` table whose entries include `workspace = true`.
fn has_workspace_lints(manifest: &str) -> bool {
    let mut in_lints = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_lints = line == "[lints]";
        } else if in_lints && line.replace(' ', "") == "workspace=true" {
            return true;
        }
    }
    false
}

fn backend_paths(root: &Path, problems: &mut Vec<String>) {
    let allowed = root.join("crates").join(BACKEND_CRATE);
    let mut files = Vec::new();
    for dir in ["crates", "benches", "xtask", "fuzz/fuzz_targets"] {
        rust_files(&root.join(dir), &mut files);
    }
    for file in files.iter().filter(|f| !f.starts_with(&allowed)) {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            if let Some(backend) = names_backend(line) {
                problems.push(format!(
                    "{}:{}: names the `{backend}` backend; only crates/{BACKEND_CRATE} may",
                    file.display(),
                    i + 1
                ));
            }
        }
    }
}

/// `.rs` files under `dir`, skipping build output.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "target" {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The backend a line of code names by path (`ring::x`, `::aws_lc_rs::y`, `use ring;`), if
/// any. A module of ours that happens to share the name (`jws_crypto::ring::PROVIDER`),
/// identifiers that end in it (`string::`) and comments are not paths to the backend.
fn names_backend(line: &str) -> Option<&'static str> {
    let code = line.split("//").next().unwrap_or("");
    for backend in ["ring", "aws_lc_rs"] {
        let path = [backend, "::"].concat();
        let mut from = 0;
        while let Some(pos) = code[from..].find(&path) {
            let at = from + pos;
            from = at + path.len();
            let before = &code[..at];
            if before.ends_with(is_ident) {
                continue;
            }
            if let Some(outer) = before.strip_suffix("::") {
                if outer.ends_with(is_ident) {
                    continue;
                }
            }
            return Some(backend);
        }
        let trimmed = code.trim();
        if trimmed == ["use ", backend, ";"].concat()
            || trimmed == ["extern crate ", backend, ";"].concat()
        {
            return Some(backend);
        }
    }
    None
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn dependency_directions(meta: &Metadata, problems: &mut Vec<String>) {
    let ours: BTreeSet<String> = meta.names().into_iter().collect();
    let deps = meta.deps();
    let builds = |kind: &Option<String>| kind.as_deref() != Some("dev");

    for d in &deps {
        // (Its dev-dependency on itself only turns `test-util` on for its own tests.)
        if d.from == "jwk-core" && d.to != d.from && ours.contains(&d.to) {
            problems.push(format!(
                "jwk-core depends on {}: it must depend on none of our crates",
                d.to
            ));
        }
        if d.to == "jwkctl" && builds(&d.kind) {
            problems.push(format!("{} depends on the jwkctl binary", d.from));
        }
        let is_library = d.from != "jwkctl" && d.from != "benches" && d.from != "xtask";
        if is_library
            && d.from != BACKEND_CRATE
            && builds(&d.kind)
            && (d.to == "ring" || d.to == "aws-lc-rs")
        {
            problems.push(format!(
                "{} depends on {} directly; only {BACKEND_CRATE} may",
                d.from, d.to
            ));
        }
    }

    // jwt-validate must not reach jwks-fetch through any chain of our crates.
    let mut reached = BTreeSet::new();
    let mut todo = vec!["jwt-validate".to_owned()];
    while let Some(from) = todo.pop() {
        for d in deps
            .iter()
            .filter(|d| d.from == from && builds(&d.kind) && ours.contains(&d.to))
        {
            if reached.insert(d.to.clone()) {
                todo.push(d.to.clone());
            }
        }
    }
    if reached.contains("jwks-fetch") {
        problems.push(
            "jwt-validate depends on jwks-fetch: fetching implements jwt-validate's key-source \
             trait, never the other way"
                .to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_is_tidy() {
        if let Err(problems) = run(&crate::workspace_root()) {
            panic!("tidy problems:\n{}", problems.join("\n"));
        }
    }

    #[test]
    fn backend_path_detection() {
        let ring = ["ring", "::"].concat();
        let aws = ["aws_lc_rs", "::"].concat();
        for line in [
            format!("use {ring}signature;"),
            format!("let k = {ring}rand::SystemRandom::new();"),
            format!("    ::{aws}digest"),
            format!("fn f(x: &{aws}Key) {{}}"),
            "use ring;".to_owned(),
        ] {
            assert!(names_backend(&line).is_some(), "{line}");
        }
        for line in [
            format!("let p = &jws_crypto::{ring}PROVIDER;"),
            "use alloc::string::String;".to_owned(),
            format!("// {ring}signature in a comment"),
            format!("rustls::crypto::{aws}default_provider()"),
            "let wiring = 1;".to_owned(),
        ] {
            assert!(names_backend(&line).is_none(), "{line}");
        }
    }

    #[test]
    fn lints_table_detection() {
        assert!(has_workspace_lints(
            "[package]\nname = \"a\"\n\n[lints]\nworkspace = true\n"
        ));
        assert!(!has_workspace_lints(
            "[package]\nworkspace = true\n[lints]\n"
        ));
        assert!(!has_workspace_lints(
            "[lints.rust]\nunsafe_code = \"forbid\"\n"
        ));
    }
}
