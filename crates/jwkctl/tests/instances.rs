//! Several `jwkctl serve` processes on one key directory and one Redis, black-box, through the
//! multi-instance load run (`jwkctl load --instances 2 --replay redis`) kept short: every
//! assertion sent to both instances at once yields exactly one token, none while Redis is
//! down, and both instances publish the same JWK Set.
//!
//! Needs `redis-server` (Debian package); without it this says so and returns, except under
//! `CI=true`, where it fails (`cargo xtask ci` installs the package first).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::process::{Command, Stdio};

use serde_json::Value;

#[test]
fn two_instances_one_redis_one_token_per_assertion() {
    let installed = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "redis-server is not installed (apt-get install -y redis-server); under CI=true \
             this is a failure"
        );
        eprintln!("SKIPPED: redis-server is not installed (apt-get install -y redis-server)");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_jwkctl"))
        .args(["load", "--instances", "2", "--replay", "redis", "--json"])
        .args([
            "--seconds",
            "2",
            "--outage-seconds",
            "1",
            "--concurrency",
            "4",
        ])
        .args(["--max-requests", "2000", "--token-alg", "ES256"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status
    );
    let r: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    // The shared store: no assertion got two tokens, every one got one (503s sent again).
    assert_eq!(r["assertions_with_two_or_more_tokens"], 0, "{r}");
    assert_eq!(r["assertions_without_a_token"], 0, "{r}");
    assert!(r["fan_out_successes"].as_u64().unwrap() > 0, "{r}");
    assert!(r["fan_out_replays_refused"].as_u64().unwrap() > 0, "{r}");
    // Redis was stopped: refused with 503, no token meanwhile.
    assert!(r["fan_out_503"].as_u64().unwrap() > 0, "{r}");
    assert_eq!(r["tokens_while_redis_down"], 0, "{r}");
    assert_eq!(r["fan_out_other_errors"], 0, "{r}");
    // The memory store, for contrast, accepts the same assertion at each instance.
    assert_eq!(
        r["memory_replays_accepted"], r["memory_fan_out_assertions"],
        "{r}"
    );
    assert_eq!(r["identical_jwks"], true, "{r}");
    assert_eq!(r["pass"], true, "{r}");
}
