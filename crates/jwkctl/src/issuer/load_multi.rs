//! `jwkctl load --instances N --replay memory|redis` (what `cargo xtask load --instances 2
//! --replay redis` runs): N `jwkctl serve` processes on one key directory, black-box.
//!
//! 1. Throughput, memory store vs Redis store, same run and same load: N instances with
//!    `replay_store = "memory"` and N with the Redis store run side by side; slices of load
//!    alternate between the two groups (so machine noise hits both alike); each assertion
//!    goes to one instance, round robin, as a load balancer would send it. Reported: exchanges
//!    per second and per CPU-second of the servers (plus `redis-server`'s CPU for Redis).
//! 2. The memory store across instances: each assertion sent to every memory instance at
//!    once; the replays it accepts show why a shared store is needed.
//! 3. The Redis store across instances: each assertion sent to every instance at once;
//!    exchanges/s, p50/p99, successes, replays refused. A few seconds into it Redis is killed
//!    and, after `--outage-seconds`, started again: the 503 count, tokens issued while it was
//!    down (must be 0) and the time from Redis answering again to the first token.
//!    Assertions refused with 503 are sent again afterwards (as a client honouring
//!    `Retry-After` would): every assertion must end with exactly one token.
//! 4. Every instance serves the same JWK Set (body and `ETag`).

use core::net::SocketAddr;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::time::Duration;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use jwk_core::Algorithm;
use jwt_issuer::{
    KeyManager, Listener, LoopbackClient, Reply, ServerOptions, TokenService, HEALTH_PATH,
    JWKS_PATH, JWT_BEARER, TOKEN_PATH,
};
use serde_json::json;

use super::load::{crypto_times, mint_all, Args};
use super::TempDir;

/// The issuer identifier every instance shares (they stand behind one load balancer).
const ISSUER: &str = "https://sts.load.invalid";
/// The registered public client (`auth_method = "none"`) the load is sent as: one replay-store
/// entry per exchange, the grant's (a `private_key_jwt` client adds its own assertion's).
const CLIENT: &str = "load-multi";

/// One `jwkctl serve` child process.
struct Instance {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `redis-server` child on 127.0.0.1 with persistence off.
pub(crate) struct RedisChild {
    port: u16,
    child: Option<Child>,
}

impl RedisChild {
    /// Starts one on a free port.
    pub(crate) fn start() -> Result<RedisChild, String> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            return Err(
                "redis-server is not installed: run `apt-get install -y redis-server` \
                        (as root), or pass --redis-url"
                    .into(),
            );
        }
        let mut r = RedisChild {
            port: free_port()?,
            child: None,
        };
        r.restart()?;
        Ok(r)
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts it (again, on the same port) and waits until it answers `PING`.
    pub(crate) fn restart(&mut self) -> Result<(), String> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        self.child = Some(child);
        for _ in 0..400 {
            if redis_answers(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err(format!("redis-server on port {} did not answer", self.port))
    }

    /// Kills it (as a crash would).
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisChild {
    fn drop(&mut self) {
        self.stop();
    }
}

fn redis_answers(port: u16) -> bool {
    use std::io::{Read as _, Write as _};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 7];
    c.write_all(b"PING\r\n").is_ok() && c.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// CPU time (user + system) a process has used, from `/proc/<pid>/stat` (Linux).
fn cpu_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn cpu_sum(pids: &[u32]) -> Duration {
    pids.iter().filter_map(|p| cpu_of(*p)).sum()
}

/// Starts one `jwkctl serve` with `replay_store` on the shared key directory.
async fn start_instance(
    work: &Path,
    name: &str,
    key_dir: &Path,
    idp_url: &str,
    args: &Args,
    replay_store: &str,
) -> Result<Instance, String> {
    let port = free_port()?;
    let config = format!(
        "listen = \"127.0.0.1:{port}\"\n\
         issuer = \"{ISSUER}\"\n\
         algorithms = [\"{token_alg}\"]\n\
         key_dir = \"{key_dir}\"\n\
         replay_store = \"{replay_store}\"\n\
         [[trusted_issuers]]\n\
         issuer = \"{idp_url}\"\n\
         jwks_uri = \"{idp_url}{JWKS_PATH}\"\n\
         allow_http_loopback = true\n\
         algorithms = [\"{assertion_alg}\"]\n\
         [[clients]]\n\
         client_id = \"{CLIENT}\"\n\
         auth_method = \"none\"\n\
         trusted_issuers = [\"{idp_url}\"]\n",
        token_alg = args.token_alg,
        key_dir = key_dir.display(),
        assertion_alg = args.assertion_alg,
    );
    let path = work.join(format!("{name}.toml"));
    std::fs::write(&path, config).map_err(|e| format!("{}: {e}", path.display()))?;
    let log = std::fs::File::create(work.join(format!("{name}.log")))
        .map_err(|e| format!("{name}.log: {e}"))?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find jwkctl itself: {e}"))?;
    let child = Command::new(exe)
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start jwkctl serve: {e}"))?;
    let mut inst = Instance {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    for _ in 0..600 {
        if let Ok(Some(status)) = inst.child.try_wait() {
            return Err(format!(
                "{name} exited ({status}); see {}",
                work.join(format!("{name}.log")).display()
            ));
        }
        if let Ok(mut c) = LoopbackClient::connect(inst.addr).await {
            if c.get(HEALTH_PATH, &[]).await.is_ok_and(|r| r.status == 200) {
                return Ok(inst);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{name} did not become healthy within 30 s"))
}

/// What one driven phase saw.
#[derive(Debug, Default)]
struct Stats {
    requests: usize,
    ok: usize,
    replays_refused: usize,
    unavailable: usize,
    other: usize,
    latencies: Vec<Duration>,
    busy: Duration,
    /// Tokens per assertion index.
    tokens: Vec<(usize, Instant, Instant)>,
    /// Assertions every instance answered 503 (to send again).
    all_unavailable: Vec<usize>,
    /// Assertions sent.
    sent: Vec<usize>,
}

impl Stats {
    fn absorb(&mut self, other: Stats) {
        self.requests += other.requests;
        self.ok += other.ok;
        self.replays_refused += other.replays_refused;
        self.unavailable += other.unavailable;
        self.other += other.other;
        self.latencies.extend(other.latencies);
        self.tokens.extend(other.tokens);
        self.all_unavailable.extend(other.all_unavailable);
        self.sent.extend(other.sent);
    }

    /// A latency percentile (after [`Stats::sort`]).
    fn pct(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
        self.latencies.get(i).copied().unwrap_or_default()
    }

    fn sort(&mut self) {
        self.latencies.sort_unstable();
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / self.busy.as_secs_f64().max(1e-9)
    }
}

fn classify(stats: &mut Stats, r: &Reply) {
    stats.requests += 1;
    match (r.status, r.json()["error"].as_str()) {
        (200, _) => stats.ok += 1,
        (400, Some("invalid_grant")) => stats.replays_refused += 1,
        (503, Some("temporarily_unavailable")) => stats.unavailable += 1,
        _ => stats.other += 1,
    }
}

/// Drives `assertions[range]` for at most `seconds`: each assertion to every address in
/// `targets` at once (`fan_out`), or to one of them in turn.
async fn drive(
    targets: &[SocketAddr],
    assertions: Arc<Vec<String>>,
    next: Arc<AtomicUsize>,
    end: usize,
    seconds: f64,
    concurrency: usize,
    fan_out: bool,
) -> Stats {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency.max(1) {
        let (targets, assertions, next) = (targets.to_vec(), assertions.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut s = Stats::default();
            let mut conns: Vec<Option<LoopbackClient>> = targets.iter().map(|_| None).collect();
            let mut turn = w;
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let Some(a) = assertions.get(i) else { break };
                let picked: Vec<usize> = if fan_out {
                    (0..targets.len()).collect()
                } else {
                    turn += 1;
                    vec![turn % targets.len()]
                };
                s.sent.push(i);
                let t = Instant::now();
                // One task per instance: the copies travel at the same moment.
                let sends: Vec<_> = picked
                    .iter()
                    .map(|&k| {
                        let conn = conns[k].take();
                        let (addr, a) = (targets[k], a.clone());
                        tokio::spawn(async move {
                            let mut c = match conn {
                                Some(c) => c,
                                None => LoopbackClient::connect(addr).await.ok()?,
                            };
                            let r = c
                                .post_form(
                                    TOKEN_PATH,
                                    &[
                                        ("grant_type", JWT_BEARER),
                                        ("assertion", &a),
                                        ("client_id", CLIENT),
                                    ],
                                )
                                .await
                                .ok()?;
                            Some((c, r, Instant::now()))
                        })
                    })
                    .collect();
                let mut all_503 = true;
                for (&k, send) in picked.iter().zip(sends) {
                    match send.await.ok().flatten() {
                        Some((c, r, done)) => {
                            conns[k] = Some(c);
                            classify(&mut s, &r);
                            if r.status != 503 {
                                all_503 = false;
                            }
                            if r.status == 200 {
                                s.latencies.push(done - t);
                                s.tokens.push((i, t, done));
                            }
                        }
                        None => {
                            s.requests += 1;
                            s.other += 1;
                            all_503 = false;
                        }
                    }
                }
                if all_503 {
                    s.all_unavailable.push(i);
                }
            }
            s
        }));
    }
    let mut total = Stats::default();
    for w in workers {
        if let Ok(s) = w.await {
            total.absorb(s);
        }
    }
    total.busy = started.elapsed();
    total
}

/// The multi-instance run. `Ok(false)`: a required outcome was not met.
pub(crate) async fn run(args: &Args) -> Result<bool, String> {
    let instances = args.instances.max(1);
    let assertion_alg = Algorithm::parse(&args.assertion_alg);
    let work = TempDir::new("load-multi")?;
    let key_dir = work.path().join("keys");

    // The identity provider (in this process): it only publishes its JWKS.
    let idp_keys = {
        let b = KeyManager::builder(work.path().join("idp")).algorithms([assertion_alg]);
        tokio::task::spawn_blocking(move || b.open())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
    };
    let idp_listener = Listener::bind(([127, 0, 0, 1], 0).into())
        .await
        .map_err(|e| e.to_string())?;
    let idp_url = format!("http://{}", idp_listener.local_addr());
    let idp_service = TokenService::builder(idp_url.clone(), idp_keys.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let idp = idp_listener.serve(idp_service, ServerOptions::default());
    let idp_key = idp_keys.signing_key(None).map_err(|e| e.to_string())?;

    let mut redis = match &args.redis_url {
        Some(_) => None,
        None => Some(RedisChild::start()?),
    };
    let redis_url = match (&args.redis_url, &redis) {
        (Some(u), _) => u.clone(),
        (None, Some(r)) => r.url(),
        (None, None) => return Err("no Redis".into()),
    };
    let redis_pid = redis.as_ref().and_then(RedisChild::pid);

    // The first instance creates the keys; the others start together on the same directory.
    let mut mem = Vec::new();
    let mut red = Vec::new();
    for i in 0..instances {
        mem.push(
            start_instance(
                work.path(),
                &format!("memory{i}"),
                &key_dir,
                &idp_url,
                args,
                "memory",
            )
            .await?,
        );
        red.push(
            start_instance(
                work.path(),
                &format!("redis{i}"),
                &key_dir,
                &idp_url,
                args,
                &redis_url,
            )
            .await?,
        );
    }
    let mem_addrs: Vec<SocketAddr> = mem.iter().map(|i| i.addr).collect();
    let red_addrs: Vec<SocketAddr> = red.iter().map(|i| i.addr).collect();
    let mem_pids: Vec<u32> = mem.iter().map(|i| i.child.id()).collect();
    let red_pids: Vec<u32> = red.iter().map(|i| i.child.id()).collect();

    // Assertions, minted up front: enough for every phase at the crypto-bound rate (one
    // verify of an assertion + one access-token signature, with a throwaway key of the
    // instances' algorithm).
    let svc_key = {
        let b = KeyManager::builder(work.path().join("probe"))
            .algorithms([Algorithm::parse(&args.token_alg)]);
        tokio::task::spawn_blocking(move || b.open())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
            .signing_key(None)
            .map_err(|e| e.to_string())?
    };
    let (verify, sign) = {
        let i = idp_key.clone();
        tokio::task::spawn_blocking(move || crypto_times(&i, &svc_key))
            .await
            .map_err(|e| e.to_string())??
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limit = cores as f64 / (verify + sign).as_secs_f64();
    let secs = args.seconds.max(2) as f64;
    let per_phase = ((limit * secs * 1.2) as usize).clamp(200, args.max_requests);
    let aud = format!("{ISSUER}/oauth2/token");
    let total = per_phase * 4 + 400;
    let assertions = Arc::new(mint_all(&idp_key, &idp_url, &aud, total, cores).await?);
    let cursor = Arc::new(AtomicUsize::new(0));
    let mut fence = 0usize;
    // Hands out the next `n` assertions: sets the shared cursor, returns the end.
    let take = |fence: &mut usize, n: usize| {
        cursor.store(*fence, Ordering::SeqCst);
        *fence += n;
        *fence
    };

    // Warm-up: every instance fetches the identity provider's JWKS once.
    let warm_end = take(&mut fence, instances * 4);
    let all: Vec<SocketAddr> = mem_addrs.iter().chain(&red_addrs).copied().collect();
    let warm = drive(
        &all,
        assertions.clone(),
        cursor.clone(),
        warm_end,
        30.0,
        1,
        false,
    )
    .await;
    if warm.ok != warm.requests {
        return Err(format!(
            "warm-up: {} of {} exchanges failed; see the logs in {}",
            warm.requests - warm.ok,
            warm.requests,
            work.keep().display()
        ));
    }

    // 1. Throughput, memory vs Redis: alternating slices, each assertion to one instance.
    let c = args.concurrency;
    // Ten slices, alternating, half a phase's assertions budget each: short slices pair the
    // two stores closely in time, so load from other processes hits both alike.
    const SLICES: usize = 10;
    let slice = secs * 2.0 / SLICES as f64;
    let mut by_store = [Stats::default(), Stats::default()];
    let mut cpu = [Duration::ZERO, Duration::ZERO];
    let mut busy = [Duration::ZERO, Duration::ZERO];
    for round in 0..SLICES {
        let which = round % 2;
        let (addrs, pids) = if which == 0 {
            (&mem_addrs, mem_pids.clone())
        } else {
            let mut p = red_pids.clone();
            p.extend(redis_pid);
            (&red_addrs, p)
        };
        let end = take(&mut fence, per_phase * 2 / SLICES);
        let before = cpu_sum(&pids);
        let s = drive(
            addrs,
            assertions.clone(),
            cursor.clone(),
            end,
            slice,
            c,
            false,
        )
        .await;
        cpu[which] += cpu_sum(&pids).saturating_sub(before);
        busy[which] += s.busy;
        by_store[which].absorb(s);
    }
    for (s, b) in by_store.iter_mut().zip(busy) {
        s.busy = b;
    }
    let [mut mem_stats, mut red_stats] = by_store;
    let per_cpu = |s: &Stats, cpu: Duration| s.requests as f64 / cpu.as_secs_f64().max(1e-9);
    let ratio = red_stats.rate() / mem_stats.rate().max(1e-9);
    let cpu_ratio = per_cpu(&red_stats, cpu[1]) / per_cpu(&mem_stats, cpu[0]).max(1e-9);

    // 2. The memory store across instances: each assertion to every memory instance.
    let end = take(&mut fence, 200);
    let mem_fan = drive(
        &mem_addrs,
        assertions.clone(),
        cursor.clone(),
        end,
        30.0,
        c,
        true,
    )
    .await;
    let mem_replays_accepted = mem_fan.ok.saturating_sub(per_assertion_count(&mem_fan));

    // 3. The Redis store across instances, with Redis stopped for a while mid-run.
    let fan_end = take(&mut fence, per_phase);
    let outage = Duration::from_secs(args.outage_seconds);
    // (killed, restart begun, answering PING again)
    type Window = Option<(Instant, Instant, Instant)>;
    let window: Arc<Mutex<Window>> = Arc::new(Mutex::new(None));
    let chaos = {
        let window = window.clone();
        // Redis dies a third of the way in (by time, or by assertions used when they would
        // run out sooner), so there is load before, during and after the outage.
        let lead = Duration::from_secs_f64(secs / 3.0);
        let trigger = fan_end - per_phase * 3 / 4;
        let cursor = cursor.clone();
        let mut r = redis.take();
        tokio::task::spawn_blocking(move || -> Result<Option<RedisChild>, String> {
            let Some(redis) = r.as_mut() else {
                return Ok(r);
            };
            let begun = Instant::now();
            while begun.elapsed() < lead && cursor.load(Ordering::Relaxed) < trigger {
                std::thread::sleep(Duration::from_millis(5));
            }
            redis.stop();
            let down = Instant::now();
            std::thread::sleep(outage);
            let restart_begun = Instant::now();
            redis.restart()?;
            let answering = Instant::now();
            if let Ok(mut w) = window.lock() {
                *w = Some((down, restart_begun, answering));
            }
            Ok(r)
        })
    };
    let mut fan = drive(
        &red_addrs,
        assertions.clone(),
        cursor.clone(),
        fan_end,
        secs + outage.as_secs_f64(),
        c,
        true,
    )
    .await;
    redis = chaos.await.map_err(|e| e.to_string())??;
    let outage_window = window.lock().ok().and_then(|w| *w);
    let (tokens_while_down, recovery) = match outage_window {
        Some((down, restart, answering)) => {
            // A token whose request was sent after Redis died and answered before it was
            // started again was issued without the shared store: must never happen.
            let during = fan
                .tokens
                .iter()
                .filter(|(_, sent, done)| *sent >= down && *done <= restart)
                .count();
            // Recovery: from Redis answering PING again to the first token answered for a
            // request sent after the restart began.
            let first_after = fan
                .tokens
                .iter()
                .filter(|(_, sent, _)| *sent >= restart)
                .map(|(_, _, done)| *done)
                .min();
            (
                during,
                first_after.map(|t| t.saturating_duration_since(answering)),
            )
        }
        None => (0, None),
    };

    // Assertions refused with 503 by every instance are sent again (Retry-After honoured).
    let retry_list = fan.all_unavailable.clone();
    let mut retried = Stats::default();
    if !retry_list.is_empty() {
        let again: Arc<Vec<String>> = Arc::new(
            retry_list
                .iter()
                .filter_map(|&i| assertions.get(i).cloned())
                .collect(),
        );
        let n = again.len();
        retried = drive(
            &red_addrs,
            again,
            Arc::new(AtomicUsize::new(0)),
            n,
            60.0,
            c,
            true,
        )
        .await;
        // Index the retried tokens back to the assertions they belong to.
        for t in &mut retried.tokens {
            t.0 = retry_list.get(t.0).copied().unwrap_or(usize::MAX);
        }
    }
    let mut per_assertion = std::collections::HashMap::<usize, usize>::new();
    for (i, _, _) in fan.tokens.iter().chain(&retried.tokens) {
        *per_assertion.entry(*i).or_default() += 1;
    }
    let more_than_one = per_assertion.values().filter(|&&n| n > 1).count();
    let none = fan
        .sent
        .iter()
        .filter(|i| !per_assertion.contains_key(i))
        .count();

    // 4. The same JWK Set everywhere.
    let mut sets = Vec::new();
    for addr in mem_addrs.iter().chain(&red_addrs) {
        let mut cl = LoopbackClient::connect(*addr)
            .await
            .map_err(|e| e.to_string())?;
        let r = cl.get(JWKS_PATH, &[]).await.map_err(|e| e.to_string())?;
        sets.push((
            r.body.clone(),
            r.header("etag").unwrap_or_default().to_owned(),
        ));
    }
    let same_jwks = sets.windows(2).all(|w| w[0] == w[1]);

    drop(mem);
    drop(red);
    drop(redis);
    idp.shutdown().await;

    for s in [&mut mem_stats, &mut red_stats, &mut fan] {
        s.sort();
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pass_one = more_than_one == 0 && none == 0;
    let pass_down = tokens_while_down == 0;
    let pass = pass_one && pass_down && same_jwks && fan.other == 0;
    let recovery_ms = recovery.map(ms);
    if args.json {
        super::say!(
            "{}",
            json!({
                "instances": instances,
                "concurrency": c,
                "memory_exchanges_per_second": mem_stats.rate(),
                "redis_exchanges_per_second": red_stats.rate(),
                "redis_over_memory": ratio,
                "memory_exchanges_per_server_cpu_second": per_cpu(&mem_stats, cpu[0]),
                "redis_exchanges_per_server_cpu_second": per_cpu(&red_stats, cpu[1]),
                "redis_over_memory_per_cpu": cpu_ratio,
                "memory_p50_ms": ms(mem_stats.pct(0.5)),
                "memory_p99_ms": ms(mem_stats.pct(0.99)),
                "redis_p50_ms": ms(red_stats.pct(0.5)),
                "redis_p99_ms": ms(red_stats.pct(0.99)),
                "memory_fan_out_assertions": mem_fan.requests / mem_addrs.len().max(1),
                "memory_replays_accepted": mem_replays_accepted,
                "fan_out_requests": fan.requests,
                "fan_out_exchanges_per_second": fan.rate(),
                "fan_out_p50_ms": ms(fan.pct(0.5)),
                "fan_out_p99_ms": ms(fan.pct(0.99)),
                "fan_out_successes": fan.ok,
                "fan_out_replays_refused": fan.replays_refused,
                "fan_out_503": fan.unavailable,
                "fan_out_other_errors": fan.other,
                "retried_after_503": retry_list.len(),
                "retried_successes": retried.ok,
                "assertions_with_two_or_more_tokens": more_than_one,
                "assertions_without_a_token": none,
                "tokens_while_redis_down": tokens_while_down,
                "recovery_ms": recovery_ms,
                "outage_seconds": args.outage_seconds,
                "identical_jwks": same_jwks,
                "pass": pass,
            })
        );
    } else {
        super::say!(
            "{instances} jwkctl serve instances per store on one key_dir; {c} connections; {} cores",
            cores
        );
        super::say!(
            "throughput (each assertion to one instance, alternating slices, {secs:.0} s per store):"
        );
        super::say!(
            "  memory store: {:.0} exchanges/s, p50 {:.2} ms, p99 {:.2} ms, {:.0} exchanges per server CPU-second",
            mem_stats.rate(),
            ms(mem_stats.pct(0.5)),
            ms(mem_stats.pct(0.99)),
            per_cpu(&mem_stats, cpu[0])
        );
        super::say!(
            "  redis store:  {:.0} exchanges/s, p50 {:.2} ms, p99 {:.2} ms, {:.0} exchanges per server CPU-second (redis-server included)",
            red_stats.rate(),
            ms(red_stats.pct(0.5)),
            ms(red_stats.pct(0.99)),
            per_cpu(&red_stats, cpu[1])
        );
        super::say!(
            "  redis / memory: {:.0} % of the exchanges/s, {:.0} % per CPU-second (goal >= 90 %)",
            ratio * 100.0,
            cpu_ratio * 100.0
        );
        super::say!(
            "memory store, each assertion to all {} instances: {} replays accepted of {} assertions",
            mem_addrs.len(),
            mem_replays_accepted,
            mem_fan.requests / mem_addrs.len().max(1)
        );
        super::say!(
            "redis store, each assertion to all {} instances at once: {} requests, {:.0} exchanges/s, p50 {:.2} ms, p99 {:.2} ms",
            red_addrs.len(),
            fan.requests,
            fan.rate(),
            ms(fan.pct(0.5)),
            ms(fan.pct(0.99))
        );
        super::say!(
            "  successes {}, replays refused {}, 503 while Redis was down {}, other errors {}",
            fan.ok,
            fan.replays_refused,
            fan.unavailable,
            fan.other
        );
        super::say!(
            "  Redis stopped for {} s: tokens issued while down {}, first token {} after Redis answered again",
            args.outage_seconds,
            tokens_while_down,
            recovery_ms.map_or("(none)".to_owned(), |m| format!("{m:.0} ms"))
        );
        super::say!(
            "  {} assertions refused 503 everywhere sent again: {} tokens; assertions with more than one token {}, with none {}",
            retry_list.len(),
            retried.ok,
            more_than_one,
            none
        );
        super::say!(
            "JWK Sets: {} on all {} instances",
            if same_jwks {
                "identical (body and ETag)"
            } else {
                "DIFFERENT"
            },
            sets.len()
        );
        super::say!("{}", if pass { "PASS" } else { "FAIL" });
    }
    Ok(pass)
}

/// Assertions that got at least one token.
fn per_assertion_count(s: &Stats) -> usize {
    let mut seen: Vec<usize> = s.tokens.iter().map(|t| t.0).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}
