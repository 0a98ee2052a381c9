//! `jwkctl jwks watch` run as a process against a plain-http server on 127.0.0.1 whose key
//! set is switched while the watcher runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::std_instead_of_core,
    missing_docs
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jwk_core::{Algorithm, Jwk, JwkSet};
use serde_json::Value;

/// Long enough for a slow, loaded machine; only a hang reaches it.
const PATIENCE: Duration = Duration::from_secs(60);

/// A loopback http server answering every request with the current body; counts requests.
struct Server {
    url: String,
    body: Arc<Mutex<String>>,
    requests: Arc<AtomicUsize>,
}

fn server(body: String) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/jwks",
        listener.local_addr().unwrap().port()
    );
    let body = Arc::new(Mutex::new(body));
    let requests = Arc::new(AtomicUsize::new(0));
    let (b, r) = (body.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut tcp) = stream else { return };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let mut head = Vec::new();
            let mut chunk = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                match tcp.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            if !head.starts_with(b"GET /jwks ") {
                continue;
            }
            r.fetch_add(1, Ordering::SeqCst);
            let body = b.lock().unwrap().clone();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age=0\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tcp.write_all(reply.as_bytes());
        }
    });
    Server {
        url,
        body,
        requests,
    }
}

fn es256(kid: &str) -> Jwk {
    let (signer, _) = jws_crypto::default_provider()
        .generate(Algorithm::Es256, 0)
        .unwrap();
    let mut k = signer.public_jwk();
    k.kid = Some(kid.into());
    k
}

/// Kills the child when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `jwkctl jwks watch URL` over plain HTTP with the TTL clamped to 1 s (refresh every 0.5 s),
/// stopping after `count` events, plus `extra` arguments.
fn watch(url: &str, count: &str, extra: &[&str]) -> (Guard, mpsc::Receiver<String>) {
    let mut args = vec![
        "jwks",
        "watch",
        url,
        "--allow-http",
        "--min-ttl",
        "1",
        "--max-ttl",
        "1",
        "--count",
        count,
    ];
    args.extend_from_slice(extra);
    spawn(&args)
}

fn spawn(args: &[&str]) -> (Guard, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwkctl"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (Guard(child), rx)
}

fn next_line(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(PATIENCE)
        .expect("jwkctl jwks watch printed nothing within 60 s")
}

fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn watch_prints_rotation_diff_and_stats() {
    // Refreshes every 0.5 s (TTL clamped to 1 s, refreshed at half of it); 20 events give the
    // test about 10 s to switch the set after the first one, on the slowest machine.
    const EVENTS: usize = 20;
    let set_a = JwkSet::new(vec![es256("k1"), es256("k2")]).to_json();
    // B: k2 removed, k3 added, and k1 republished with new key material ("changed").
    let set_b = JwkSet::new(vec![es256("k1"), es256("k3")]).to_json();
    let srv = server(set_a);

    let count = EVENTS.to_string();
    let (mut child, rx) = watch(&srv.url, &count, &["--json"]);
    let first: Value = serde_json::from_str(&next_line(&rx)).unwrap();
    assert_eq!(first["event"], "loaded", "{first}");
    assert_eq!(sorted(&first["kids"]), ["k1", "k2"]);
    assert_eq!(first["stats"]["key_count"], 2);
    assert_eq!(first["stats"]["fetches"], 1);

    // One scheduled refresh of the same set: unchanged, stats counting.
    let second: Value = serde_json::from_str(&next_line(&rx)).unwrap();
    assert_eq!(second["event"], "unchanged", "{second}");
    assert_eq!(second["stats"]["fetches"], 2, "{second}");
    assert_eq!(second["stats"]["key_count"], 2);

    *srv.body.lock().unwrap() = set_b;
    let mut events = vec![second];
    for _ in 1..EVENTS {
        events.push(serde_json::from_str(&next_line(&rx)).unwrap());
    }
    // --count: it exits 0 by itself, having printed nothing more.
    assert_eq!(wait_exit(&mut child.0), Some(0));
    assert!(rx.recv_timeout(PATIENCE).is_err(), "output after --count");

    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    let updated: Vec<&Value> = events.iter().filter(|e| e["event"] == "updated").collect();
    assert_eq!(updated.len(), 1, "exactly one change: {kinds:?}");
    assert!(
        kinds.iter().all(|k| *k == "updated" || *k == "unchanged"),
        "{kinds:?}"
    );
    let diff = &updated[0]["diff"];
    assert_eq!(sorted(&diff["added"]), ["k3"]);
    assert_eq!(sorted(&diff["removed"]), ["k2"]);
    assert_eq!(sorted(&diff["changed"]), ["k1"]);
    assert_eq!(updated[0]["stats"]["key_count"], 2);
    // Every event is one more fetch of one request (no redirects, no discovery).
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["stats"]["fetches"], i as u64 + 2, "{e}");
        assert_eq!(e["stats"]["requests"], i as u64 + 2, "{e}");
        assert_eq!(e["stats"]["failures"], 0, "{e}");
    }
    // The server saw the initial fetch and one request per event; the process may have
    // sent one more scheduled request before it exited, never more.
    let requests = srv.requests.load(Ordering::SeqCst);
    assert!(
        (EVENTS + 1..=EVENTS + 2).contains(&requests),
        "server saw {requests} requests for {} fetches",
        EVENTS + 1
    );
}

#[test]
fn watch_text_output_and_count_exit() {
    let srv = server(JwkSet::new(vec![es256("a1"), es256("a2")]).to_json());
    let (mut child, rx) = watch(&srv.url, "1", &[]);
    let first = next_line(&rx);
    assert!(first.starts_with("loaded kids [a1, a2] | "), "{first}");
    assert!(
        first.contains("keys=2") && first.contains("fetches=1"),
        "{first}"
    );
    *srv.body.lock().unwrap() = JwkSet::new(vec![es256("a3")]).to_json();
    let second = next_line(&rx);
    // Either the refresh raced the switch (unchanged) or saw it; both are one stats line.
    assert!(
        second.starts_with("unchanged | ") || second.starts_with("updated added [a3] "),
        "{second}"
    );
    assert!(second.contains("fetches=2"), "{second}");
    // --count 1: the process exits 0 by itself after that one event.
    let status = wait_exit(&mut child.0);
    assert_eq!(status, Some(0));
    assert!(srv.requests.load(Ordering::SeqCst) >= 2);
}

/// Waits (up to 60 s) for the child to exit; its exit code.
fn wait_exit(child: &mut Child) -> Option<i32> {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("jwkctl did not exit within 60 s");
}

#[test]
fn watch_exits_2_when_the_first_load_fails() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/jwks");
    for json in [false, true] {
        let mut args = vec!["jwks", "watch", url.as_str(), "--allow-http"];
        if json {
            args.push("--json");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_jwkctl"))
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("cannot fetch the JWK Set at") && stderr.contains("connect_failed"),
            "{stderr}"
        );
        if json {
            let v: Value = serde_json::from_str(stdout.trim()).unwrap();
            assert_eq!(v["error"]["code"], "jwks_unavailable", "{stdout}");
        } else {
            assert_eq!(stdout, "");
        }
    }
    // Plain http to a loopback host still needs --allow-http.
    let out = Command::new(env!("CARGO_BIN_EXE_jwkctl"))
        .args(["jwks", "watch", url.as_str()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("insecure_url"));
}
