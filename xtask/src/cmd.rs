//! Running commands (printed first, stdin closed) and reading `cargo metadata`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// A command to run: printed before it runs, with stdin closed so nothing can wait for a
/// person (CI has no terminal).
pub(crate) struct Cmd {
    program: String,
    args: Vec<String>,
    dir: Option<PathBuf>,
    env: Vec<(String, String)>,
    env_remove: Vec<String>,
}

impl Cmd {
    pub(crate) fn new(program: &str, args: &[&str]) -> Self {
        Cmd {
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            dir: None,
            env: Vec::new(),
            env_remove: Vec::new(),
        }
    }

    /// `cargo <args>` in the workspace root.
    pub(crate) fn cargo(root: &Path, args: &[&str]) -> Self {
        Cmd::new("cargo", args).dir(root)
    }

    pub(crate) fn dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Runs without `key` in the environment.
    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.env_remove.push(key.to_owned());
        self
    }

    fn display(&self) -> String {
        let mut s = String::new();
        if let Some(dir) = &self.dir {
            s.push_str(&format!("(cd {}) ", dir.display()));
        }
        for (k, v) in &self.env {
            s.push_str(&format!("{k}={v} "));
        }
        s.push_str(&self.program);
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args).stdin(Stdio::null());
        if let Some(dir) = &self.dir {
            c.current_dir(dir);
        }
        for k in &self.env_remove {
            c.env_remove(k);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs with inherited stdout and stderr; an error says how it ended.
    pub(crate) fn status(&self) -> Result<(), String> {
        println!("$ {}", self.display());
        let status = self
            .command()
            .status()
            .map_err(|e| format!("cannot start {}: {e}", self.program))?;
        if status.success() {
            Ok(())
        } else {
            Err(match status.code() {
                Some(code) => format!("exit code {code}"),
                None => "killed by a signal".to_owned(),
            })
        }
    }

    /// Runs quietly and returns stdout; an error when it cannot start or fails.
    pub(crate) fn output(&self) -> Result<String, String> {
        let out = self
            .command()
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot start {}: {e}", self.program))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`{}` failed: {}",
                self.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// The parts of `cargo metadata --no-deps` the tasks use.
pub(crate) struct Metadata {
    packages: Vec<Value>,
}

/// One dependency edge between two workspace packages.
pub(crate) struct Dep {
    pub(crate) from: String,
    pub(crate) to: String,
    /// `None` for a normal dependency, else `dev` or `build`.
    pub(crate) kind: Option<String>,
}

impl Metadata {
    pub(crate) fn load(root: &Path) -> Result<Self, String> {
        let out = Cmd::cargo(root, &["metadata", "--no-deps", "--format-version", "1"]).output()?;
        let v: Value =
            serde_json::from_str(&out).map_err(|e| format!("cargo metadata output: {e}"))?;
        let packages = v
            .get("packages")
            .and_then(Value::as_array)
            .cloned()
            .ok_or("cargo metadata output has no packages")?;
        Ok(Metadata { packages })
    }

    fn package(&self, name: &str) -> Option<&Value> {
        self.packages
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.packages
            .iter()
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn has_package(&self, name: &str) -> bool {
        self.package(name).is_some()
    }

    pub(crate) fn has_feature(&self, package: &str, feature: &str) -> bool {
        self.package(package)
            .and_then(|p| p.get("features"))
            .and_then(Value::as_object)
            .is_some_and(|f| f.contains_key(feature))
    }

    /// True when `package` has a target of `kind` (`bench`, `test`, `lib`, ...).
    pub(crate) fn has_target_kind(&self, package: &str, kind: &str) -> bool {
        self.package(package)
            .and_then(|p| p.get("targets"))
            .and_then(Value::as_array)
            .is_some_and(|targets| {
                targets.iter().any(|t| {
                    t.get("kind")
                        .and_then(Value::as_array)
                        .is_some_and(|k| k.iter().any(|k| k.as_str() == Some(kind)))
                })
            })
    }

    /// Manifest path of each package, by name.
    pub(crate) fn manifests(&self) -> Vec<(String, PathBuf)> {
        self.packages
            .iter()
            .filter_map(|p| {
                let name = p.get("name")?.as_str()?;
                let path = p.get("manifest_path")?.as_str()?;
                Some((name.to_owned(), PathBuf::from(path)))
            })
            .collect()
    }

    /// Every dependency of a workspace package (on anything, ours or not).
    pub(crate) fn deps(&self) -> Vec<Dep> {
        let mut out = Vec::new();
        for p in &self.packages {
            let Some(from) = p.get("name").and_then(Value::as_str) else {
                continue;
            };
            for d in p
                .get("dependencies")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(to) = d.get("name").and_then(Value::as_str) else {
                    continue;
                };
                out.push(Dep {
                    from: from.to_owned(),
                    to: to.to_owned(),
                    kind: d.get("kind").and_then(Value::as_str).map(str::to_owned),
                });
            }
        }
        out
    }
}
