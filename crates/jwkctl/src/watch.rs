//! `jwkctl jwks watch URL`: follow a JWK Set on the client's own refresh schedule and print
//! each fetch's outcome (key-set diff, 304, failure) with the source's stats, one line each, as
//! it happens. What an operator runs during a key rotation.
//!
//! It is a `jwks-fetch` [`RemoteJwks`] with background refresh on, read through its event
//! channel: the schedule, backoff, staleness and diffs shown are exactly what a validator using
//! the same settings would get. Exit 0 on ctrl-c or after `--count` events; exit 2 when the
//! first load fails (`jwks_unavailable`), like `verify`.

use core::time::Duration;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::UNIX_EPOCH;

use jwks_fetch::{CacheConfig, Event, FetchConfig, KeySetDiff, RemoteJwks, Stats};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::output;

/// `jwkctl jwks watch URL [--ca-file PEM] [--allow-http] [--min-ttl S] [--max-ttl S]
/// [--count N] [--json]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The JWK Set URL (HTTPS; http only with --allow-http and a loopback host).
    #[arg(value_name = "URL")]
    url: String,
    /// Extra trust anchors (PEM) for HTTPS.
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Allow plain http, for loopback hosts only (local identity providers, tests).
    #[arg(long)]
    allow_http: bool,
    /// Lower clamp of the refresh interval (the TTL from the response's caching headers).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    min_ttl: u64,
    /// Upper clamp of the refresh interval.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    max_ttl: u64,
    /// Exit 0 after this many fetch events (the initial load not counted).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> ExitCode {
    if args.min_ttl > args.max_ttl {
        return output::undecided(
            None,
            &format!(
                "--min-ttl ({}) is greater than --max-ttl ({})",
                args.min_ttl, args.max_ttl
            ),
        );
    }
    // One thread is plenty, and it makes the start deterministic: nothing runs on the
    // runtime before we subscribe (see `watch`).
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return unavailable(&args, &format!("cannot start the I/O runtime: {e}"));
        }
    };
    rt.block_on(watch(&args))
}

async fn watch(args: &Args) -> ExitCode {
    let mut fetch = FetchConfig::default().with_allow_http_loopback(args.allow_http);
    if let Some(path) = &args.ca_file {
        fetch = fetch.with_ca_file(path);
    }
    let min = Duration::from_secs(args.min_ttl);
    let max = Duration::from_secs(args.max_ttl);
    let defaults = CacheConfig::default();
    let cache = defaults
        .clone()
        .with_ttl(defaults.default_ttl.clamp(min, max), min, max);
    let src = match RemoteJwks::builder(args.url.as_str())
        .fetch_config(fetch)
        .cache_config(cache)
        .build()
    {
        Ok(s) => s,
        Err(e) => {
            return unavailable(
                args,
                &format!(
                    "cannot watch {}: {}",
                    args.url,
                    crate::keys::fetch_error(&e)
                ),
            )
        }
    };
    // Subscribed before the first await: on this current-thread runtime the background
    // refresher has not run yet, so no event is missed.
    let mut rx = src.subscribe();
    if let Err(e) = src.load().await {
        return unavailable(
            args,
            &format!(
                "cannot fetch the JWK Set at {}: {}",
                args.url,
                crate::keys::fetch_error(&e)
            ),
        );
    }
    let initial = src.stats();
    let kids = src.jwks().map(|set| names(&set)).unwrap_or_default();
    if args.json {
        println!(
            "{}",
            json!({"event": "loaded", "kids": kids, "stats": stats_json(&initial)})
        );
    } else {
        println!("loaded kids [{}] | {initial}", kids.join(", "));
    }

    let mut seen = 0u64;
    while args.count.is_none_or(|n| seen < n) {
        let event = tokio::select! {
            event = rx.recv() => event,
            _ = tokio::signal::ctrl_c() => return ExitCode::from(output::OK),
        };
        let event = match event {
            Ok(e) => e,
            Err(RecvError::Lagged(n)) => {
                eprintln!("jwkctl: {n} events were missed (output too slow)");
                continue;
            }
            Err(RecvError::Closed) => {
                return output::undecided(None, "the key source stopped");
            }
        };
        // Fetches the initial line already covers (the first load, reported above).
        if stats_of(&event).is_some_and(|s| s.fetches <= initial.fetches) {
            continue;
        }
        seen += 1;
        if args.json {
            println!("{}", event_json(&event));
        } else {
            println!("{event}");
        }
    }
    ExitCode::from(output::OK)
}

fn unavailable(args: &Args, message: &str) -> ExitCode {
    output::undecided(args.json.then_some("jwks_unavailable"), message)
}

/// The names `KeySetDiff` uses: the `kid`, or `thumbprint:<RFC 7638>` without one.
fn names(set: &jwk_core::JwkSet) -> Vec<String> {
    let mut names: Vec<String> = set
        .keys
        .iter()
        .map(|k| match &k.kid {
            Some(kid) => kid.clone(),
            None => format!("thumbprint:{}", k.thumbprint()),
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn stats_of(event: &Event) -> Option<&Stats> {
    match event {
        Event::Updated { stats, .. }
        | Event::NotModified { stats }
        | Event::Failed { stats, .. } => Some(stats),
        _ => None,
    }
}

fn event_json(event: &Event) -> Value {
    match event {
        Event::Updated { diff, stats } => json!({
            "event": if diff.is_empty() { "unchanged" } else { "updated" },
            "diff": diff_json(diff),
            "stats": stats_json(stats),
        }),
        Event::NotModified { stats } => json!({
            "event": "not_modified",
            "stats": stats_json(stats),
        }),
        Event::Failed { error, stats } => json!({
            "event": "failed",
            "error": {"code": error.code(), "message": error.to_string()},
            "stats": stats_json(stats),
        }),
        // A kind of event this build does not know: its one-line text.
        other => json!({"event": "other", "line": other.to_string()}),
    }
}

fn diff_json(diff: &KeySetDiff) -> Value {
    json!({"added": diff.added, "removed": diff.removed, "changed": diff.changed})
}

fn stats_json(s: &Stats) -> Value {
    let unix = |t: Option<std::time::SystemTime>| {
        t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    };
    json!({
        "source": s.source,
        "health": s.health.as_str(),
        "key_count": s.key_count,
        "requests": s.requests,
        "fetches": s.fetches,
        "updates": s.updates,
        "not_modified": s.not_modified,
        "failures": s.failures,
        "consecutive_failures": s.consecutive_failures,
        "staleness_s": s.staleness.map(|d| d.as_secs()),
        "expires_in_s": s.expires_in.map(|d| d.as_secs()),
        "retry_in_s": s.retry_in.map(|d| d.as_secs()),
        "last_success": unix(s.last_success),
        "last_error": s.last_error.as_ref().map(|e| json!({"code": e.code(), "message": e.to_string()})),
    })
}
