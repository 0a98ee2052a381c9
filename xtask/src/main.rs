//! `cargo xtask`: the workspace's developer and CI tasks, in Rust so they run the same on every
//! machine (the rust-analyzer pattern). Not a library and not shipped.
//!
//! Tasks:
//! - `ci`: every check CI runs. Each step prints its command; every step runs even after a
//!   failure, and the task fails at the end listing the failed steps.
//! - `fuzz [--seconds N] [TARGET]`: runs the cargo-fuzz targets (all, or one), installing
//!   cargo-fuzz when missing; `cargo +nightly` when a nightly toolchain is installed, else
//!   `RUSTC_BOOTSTRAP=1` on the current toolchain.
//! - `bench [--quick]`: `cargo bench -p benches`, then prints the tables the bench binaries
//!   left in `target/criterion/summary-*.md` and writes them to `benches/RESULTS.md` with the
//!   machine, date and command (hand-written notes between its markers are kept).
//! - `fuzz-seeds`: rewrites the committed seed corpora from `jwk-core`'s test vectors.
//! - `tidy`: the repository rules (also run as a test of this crate, see `tidy.rs`).
//! - `load [ARGS]`: the bounded loopback load run of the token exchange:
//!   `cargo run --release -p jwkctl -- load ARGS` (default `--seconds 10`); prints exchanges per
//!   second, p50 / p99 latency and the share of the crypto-bound limit. `load --instances 2
//!   --replay redis`: two `jwkctl serve` processes on one key directory and one Redis (started
//!   here; `redis-server` must be installed), memory vs Redis store, Redis stopped mid-run.
//!
//! `ci` installs `redis-server` (Debian package) when it is missing and this runs as root, and
//! otherwise fails saying what to run: the Redis replay store's tests need a real one.
//!
//! Dependencies: `serde_json`, to read `cargo metadata`. Everything else is `std::process`.

mod cmd;
mod seeds;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use cmd::{Cmd, Metadata};

/// Seconds each fuzz target runs inside `cargo xtask ci`.
const CI_FUZZ_SECONDS: u64 = 30;
/// The bare-metal target that proves `jwk-core` needs no `std`.
const BARE_METAL: &str = "thumbv7em-none-eabi";
/// The crypto backends, as feature names of `jws-crypto` and `jwt-validate`.
const BACKENDS: &[&str] = &["ring", "aws-lc-rs"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&root),
        Some("fuzz") => fuzz_task(&root, &args[1..]),
        Some("bench") => bench(&root, &args[1..]),
        Some("tidy") => tidy::run(&root).map_err(|problems| {
            for p in &problems {
                eprintln!("tidy: {p}");
            }
            format!("{} tidy problem(s)", problems.len())
        }),
        Some("fuzz-seeds") => seeds::run(&root),
        Some("load") => load(&root, &args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <task>
  ci                          every CI check (fmt, clippy, no_std, per-backend tests, workspace tests, tidy, fuzz 30 s/target)
  fuzz [--seconds N] [TARGET] run fuzz targets (default: all, 60 s each)
  bench [--quick]             run the benchmarks
  fuzz-seeds                  rewrite fuzz/corpus/*/seed-* from crates/jwk-core/tests/vectors
  tidy                        repository rules (crate docs, lints, dependency directions)
  load [ARGS]                 loopback load run of the token exchange (jwkctl load ARGS;
                              --instances 2 --replay redis: two serve processes, one Redis)";

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// What happened to one CI step.
enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

struct Report {
    steps: Vec<(String, Outcome, f64)>,
}

impl Report {
    fn record(&mut self, name: &str, started: Instant, outcome: Outcome) {
        match &outcome {
            Outcome::Passed => println!("==> {name}: ok"),
            Outcome::Failed(why) => println!("==> {name}: FAILED ({why})"),
            Outcome::Skipped(why) => println!("==> {name}: skipped: {why}"),
        }
        self.steps
            .push((name.to_owned(), outcome, started.elapsed().as_secs_f64()));
    }

    fn run(&mut self, name: &str, cmd: Cmd) {
        println!("\n==> {name}");
        let started = Instant::now();
        let outcome = match cmd.status() {
            Ok(()) => Outcome::Passed,
            Err(e) => Outcome::Failed(e),
        };
        self.record(name, started, outcome);
    }

    fn skip(&mut self, name: &str, why: String) {
        println!("\n==> {name}");
        self.record(name, Instant::now(), Outcome::Skipped(why));
    }

    fn finish(self) -> Result<(), String> {
        println!("\n==> summary");
        let mut failed = Vec::new();
        for (name, outcome, secs) in &self.steps {
            let status = match outcome {
                Outcome::Passed => "ok".to_owned(),
                Outcome::Failed(why) => {
                    failed.push(name.clone());
                    format!("FAILED: {why}")
                }
                Outcome::Skipped(why) => format!("skipped: {why}"),
            };
            println!("  {secs:7.1}s  {name:<28} {status}");
        }
        if failed.is_empty() {
            println!("all steps passed");
            Ok(())
        } else {
            Err(format!("failed steps: {}", failed.join(", ")))
        }
    }
}

fn ci(root: &Path) -> Result<(), String> {
    let mut report = Report { steps: Vec::new() };
    let cargo = |args: &[&str]| Cmd::cargo(root, args);

    report.run("fmt", cargo(&["fmt", "--all", "--check"]));
    report.run(
        "clippy",
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    );
    report.run(
        "core no_std",
        cargo(&["build", "-p", "jwk-core", "--no-default-features"]),
    );
    match bare_metal_target() {
        Ok(()) => report.run(
            "core no_std bare metal",
            cargo(&[
                "build",
                "-p",
                "jwk-core",
                "--no-default-features",
                "--target",
                BARE_METAL,
            ]),
        ),
        Err(why) => report.skip("core no_std bare metal", why),
    }

    let started = Instant::now();
    match Metadata::load(root) {
        Ok(meta) => {
            report.record("cargo metadata", started, Outcome::Passed);
            backend_steps(root, &meta, &mut report);
        }
        Err(e) => report.record("cargo metadata", started, Outcome::Failed(e)),
    }

    // The Redis replay store's tests start a real redis-server (the workspace tests run with
    // every feature, `jwt-issuer/redis` included); under CI=true a missing one fails them.
    let started = Instant::now();
    let outcome = match ensure_redis_server() {
        Ok(()) => Outcome::Passed,
        Err(e) => Outcome::Failed(e),
    };
    report.record("redis-server", started, outcome);

    report.run(
        "workspace tests",
        cargo(&["test", "--workspace", "--all-features"]),
    );

    println!("\n==> tidy");
    let started = Instant::now();
    let outcome = match tidy::run(root) {
        Ok(()) => Outcome::Passed,
        Err(problems) => {
            for p in &problems {
                println!("tidy: {p}");
            }
            Outcome::Failed(format!("{} problem(s)", problems.len()))
        }
    };
    report.record("tidy", started, outcome);

    match fuzz_targets(root) {
        Ok(targets) if !targets.is_empty() => match fuzz_setup(root) {
            Ok(toolchain) => {
                for target in &targets {
                    report.run(
                        &format!("fuzz {target} {CI_FUZZ_SECONDS}s"),
                        fuzz_cmd(root, &toolchain, target, CI_FUZZ_SECONDS),
                    );
                }
            }
            Err(e) => {
                let started = Instant::now();
                report.record("fuzz setup", started, Outcome::Failed(e));
            }
        },
        Ok(_) => report.skip("fuzz", "no targets in fuzz/fuzz_targets".to_owned()),
        Err(e) => {
            let started = Instant::now();
            report.record("fuzz", started, Outcome::Failed(e));
        }
    }

    report.finish()
}

/// Makes sure `redis-server` (Debian package `redis-server`) is on the PATH: installs it with
/// apt-get when running as root, otherwise says exactly what to run.
fn ensure_redis_server() -> Result<(), String> {
    let present = || Cmd::new("redis-server", &["--version"]).output().is_ok();
    if present() {
        return Ok(());
    }
    let root = Cmd::new("id", &["-u"])
        .output()
        .is_ok_and(|uid| uid.trim() == "0");
    if !root {
        return Err("redis-server is missing and this is not root: run \
                    `sudo apt-get update && sudo apt-get install -y redis-server`"
            .into());
    }
    Cmd::new("apt-get", &["update"]).status()?;
    Cmd::new("apt-get", &["install", "-y", "redis-server"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()?;
    if present() {
        Ok(())
    } else {
        Err("apt-get install redis-server ran, but redis-server is still not on the PATH".into())
    }
}

/// One test run per backend for the packages that have that backend as a feature now: a
/// workspace-wide run unifies features and would hide a backend that does not build alone.
fn backend_steps(root: &Path, meta: &Metadata, report: &mut Report) {
    for backend in BACKENDS {
        let crypto = "jws-crypto";
        let name = format!("{crypto} {backend}");
        if !meta.has_package(crypto) {
            report.skip(&name, format!("package {crypto} does not exist"));
        } else if !meta.has_feature(crypto, backend) {
            report.skip(&name, format!("{crypto} has no feature {backend:?}"));
        } else {
            let mut features = (*backend).to_owned();
            if meta.has_feature(crypto, "sign") {
                features.push_str(",sign");
            }
            let args = [
                "test",
                "-p",
                crypto,
                "--no-default-features",
                "--features",
                &features,
            ];
            report.run(&format!("{crypto} {features}"), Cmd::cargo(root, &args));
        }

        let validate = "jwt-validate";
        let name = format!("{validate} {backend}");
        if !meta.has_package(validate) {
            report.skip(&name, format!("package {validate} does not exist"));
        } else if !meta.has_feature(validate, backend) {
            report.skip(&name, format!("{validate} has no feature {backend:?}"));
        } else {
            let args = [
                "test",
                "-p",
                validate,
                "--no-default-features",
                "--features",
                backend,
            ];
            report.run(&name, Cmd::cargo(root, &args));
        }
    }
}

/// Makes sure the bare-metal target is installed, trying `rustup target add` once. An offline
/// machine skips the step with a note instead of failing.
fn bare_metal_target() -> Result<(), String> {
    let installed = |out: &str| out.lines().any(|l| l.trim() == BARE_METAL);
    let list = Cmd::new("rustup", &["target", "list", "--installed"]).output();
    match list {
        Ok(out) if installed(&out) => return Ok(()),
        Ok(_) => {}
        Err(e) => return Err(format!("rustup unavailable ({e})")),
    }
    match Cmd::new("rustup", &["target", "add", BARE_METAL]).status() {
        Ok(()) => Ok(()),
        Err(e) => Err(format!(
            "target {BARE_METAL} is not installed and `rustup target add` failed ({e}); \
             the host no_std build still ran"
        )),
    }
}

fn fuzz_task(root: &Path, args: &[String]) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut only = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a value")?;
                seconds = value
                    .parse()
                    .map_err(|_| format!("--seconds {value:?} is not a whole number"))?;
            }
            flag if flag.starts_with('-') => return Err(format!("unknown flag {flag:?}")),
            target => only = Some(target.to_owned()),
        }
    }
    let mut targets = fuzz_targets(root)?;
    if let Some(only) = only {
        if !targets.contains(&only) {
            return Err(format!(
                "no fuzz target {only:?}; targets: {}",
                targets.join(", ")
            ));
        }
        targets = vec![only];
    }
    let toolchain = fuzz_setup(root)?;
    let mut report = Report { steps: Vec::new() };
    for target in &targets {
        report.run(
            &format!("fuzz {target} {seconds}s"),
            fuzz_cmd(root, &toolchain, target, seconds),
        );
    }
    report.finish()
}

/// The fuzz targets: `fuzz/fuzz_targets/*.rs`, sorted.
fn fuzz_targets(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("fuzz").join("fuzz_targets");
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut targets: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    targets.sort();
    Ok(targets)
}

/// How `cargo fuzz` gets its nightly features.
enum Toolchain {
    /// `cargo +nightly fuzz`.
    Nightly,
    /// The current toolchain with `RUSTC_BOOTSTRAP=1`.
    Bootstrap,
}

/// Installs cargo-fuzz when missing and picks the toolchain.
fn fuzz_setup(root: &Path) -> Result<Toolchain, String> {
    if Cmd::new("cargo", &["fuzz", "--version"]).output().is_err() {
        println!("cargo-fuzz is missing; installing it");
        Cmd::new("cargo", &["install", "cargo-fuzz", "--locked"])
            .dir(root)
            .status()
            .map_err(|e| format!("installing cargo-fuzz: {e}"))?;
    }
    let toolchains = Cmd::new("rustup", &["toolchain", "list"])
        .output()
        .unwrap_or_default();
    if toolchains.lines().any(|l| l.starts_with("nightly")) {
        Ok(Toolchain::Nightly)
    } else {
        println!("no nightly toolchain: using RUSTC_BOOTSTRAP=1");
        Ok(Toolchain::Bootstrap)
    }
}

fn fuzz_cmd(root: &Path, toolchain: &Toolchain, target: &str, seconds: u64) -> Cmd {
    let max_time = format!("-max_total_time={seconds}");
    let fuzz_args = ["fuzz", "run", target, "--", &max_time];
    let fuzz_dir = root.join("fuzz");
    match toolchain {
        Toolchain::Nightly => {
            let mut args = vec!["+nightly"];
            args.extend(fuzz_args);
            // The rustup proxy that started xtask may export the outer toolchain; the
            // nightly child must not inherit it.
            Cmd::new("cargo", &args)
                .dir(&fuzz_dir)
                .env_remove("RUSTUP_TOOLCHAIN")
        }
        Toolchain::Bootstrap => Cmd::new("cargo", &fuzz_args)
            .dir(&fuzz_dir)
            .env("RUSTC_BOOTSTRAP", "1"),
    }
}

fn load(root: &Path, args: &[String]) -> Result<(), String> {
    let mut cargo_args = vec!["run", "--release", "-p", "jwkctl", "--", "load"];
    if args.is_empty() {
        cargo_args.extend(["--seconds", "10"]);
    }
    cargo_args.extend(args.iter().map(String::as_str));
    Cmd::cargo(root, &cargo_args).status()
}

fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let mut quick = false;
    for arg in args {
        match arg.as_str() {
            "--quick" => quick = true,
            other => return Err(format!("unknown argument {other:?} (expected --quick)")),
        }
    }
    let meta = Metadata::load(root)?;
    if !meta.has_target_kind("benches", "bench") {
        println!("the `benches` package has no benchmarks yet: nothing to run");
        return Ok(());
    }
    let mut cargo_args = vec!["bench", "-p", "benches"];
    if quick {
        // criterion's quick mode: fewer samples, stops once the estimate is stable.
        cargo_args.extend(["--", "--quick"]);
    }
    // Each bench binary leaves its table in <target>/criterion/summary-*.md; old ones go
    // first so a failed binary cannot leave a stale table behind.
    let summaries = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("criterion");
    let previous = std::fs::read_dir(&summaries).into_iter().flatten();
    for entry in previous.filter_map(Result::ok) {
        if entry.file_name().to_string_lossy().starts_with("summary-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Cmd::cargo(root, &cargo_args).status()?;
    let mut tables: Vec<PathBuf> = std::fs::read_dir(&summaries)
        .map_err(|e| format!("{}: {e}", summaries.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("summary-"))
        })
        .collect();
    tables.sort();
    let mut body = String::new();
    for table in &tables {
        let text =
            std::fs::read_to_string(table).map_err(|e| format!("{}: {e}", table.display()))?;
        body.push_str(&text);
        body.push('\n');
    }
    println!("\n{body}");
    let command = format!("cargo xtask bench{}", if quick { " --quick" } else { "" });
    let results =
        format!(
        "# Benchmark results\n\nWritten by `{command}` ({}). Machine: {}. Date: {}.\n\n{}{body}",
        if quick { "quick mode: short samples, rough figures" } else { "full run" },
        machine(),
        shell_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        NOTES_MARKER,
    );
    let path = root.join("benches").join("RESULTS.md");
    let notes = std::fs::read_to_string(&path)
        .ok()
        .and_then(|old| old.split_once(NOTES_MARKER).map(|(_, n)| n.to_owned()));
    let results = match notes.and_then(|n| n.split_once(END_MARKER).map(|(n, _)| n.to_owned())) {
        // Hand-written notes between the markers survive a rerun.
        Some(n) => results.replacen(
            NOTES_MARKER,
            &format!("{NOTES_MARKER}{n}{END_MARKER}\n\n"),
            1,
        ),
        None => results.replacen(
            NOTES_MARKER,
            &format!("{NOTES_MARKER}\n{END_MARKER}\n\n"),
            1,
        ),
    };
    std::fs::write(&path, results).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Where `benches/RESULTS.md` keeps hand-written notes across reruns.
const NOTES_MARKER: &str = "<!-- notes: kept by cargo xtask bench -->";
const END_MARKER: &str = "<!-- end of notes -->";

/// `nproc` and the CPU model from /proc/cpuinfo.
fn machine() -> String {
    let cpus = shell_line("nproc", &[]);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} CPUs, {model}")
}

/// The first line a command prints, or `?`.
fn shell_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
