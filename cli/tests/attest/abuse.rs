//! A co-signing service facing strangers, on loopback: connections that stall in their
//! headers or their bodies, bodies too large or malformed, the worker's own request signed by
//! a stranger, and a flood from many source addresses (127.0.0.x), all while the job's worker
//! keeps asking for its receipt to be co-signed. Bounded in count and time.
//!
//! [`run`] checks what must hold and returns the figures: the honest requests' latency and
//! the service's peak memory. The test prints them; `cargo bench -p tessera-cli --bench abuse`
//! checks them against their targets (docs/benchmarks.md, "The co-signing service under
//! abuse").

use super::{header_lines, post, Ledger, Process};
use socket2::{Domain, SockAddr, Socket, Type};
use solana_keypair::Keypair;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// Connections that stall: half in their headers, half in their bodies.
const STALLED: usize = 200;
/// Of the stalled bodies, those that send 8 MiB less a byte before they stall.
const FULL_BODIES: usize = 20;
/// Source addresses of the flood, and requests from each.
const FLOOD_ADDRESSES: u32 = 50;
const FLOOD_EACH: usize = 40;
/// The worker's requests, one every [`HONEST_EVERY`].
const HONEST: usize = 60;
const HONEST_EVERY: Duration = Duration::from_millis(100);
/// Requests announcing a body of 100 MiB.
const OVERSIZED: usize = 5;
/// The service's header and request timeouts in this suite, in seconds.
const HEADER_TIMEOUT: &str = "2";
const REQUEST_TIMEOUT: &str = "4";

/// A connection to `service` from `source` (any address of 127/8).
fn connect_from(source: Ipv4Addr, service: SocketAddr) -> Option<TcpStream> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    socket
        .bind(&SockAddr::from(SocketAddr::from((source, 0))))
        .ok()?;
    socket
        .connect_timeout(&SockAddr::from(service), Duration::from_secs(5))
        .ok()?;
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    Some(stream)
}

/// 127.0.0.`n`.
fn loopback(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x7f00_0000 + n)
}

/// The service's peak resident memory, in KiB (`VmHWM`).
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Whether the service closed `stream` (an end of file or a reset) rather than leaving it
/// open past the read timeout.
fn closed_by_service(mut stream: TcpStream) -> bool {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => true,
        Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// A worker's receipt for a command job of the client's, which the client's service signs on
/// its word: the request body, and the worker's key.
fn honest_request(ledger: &Ledger) -> (Vec<u8>, Keypair, String, Process) {
    let (owner, _) = ledger.key("owner");
    let (worker, worker_key) = ledger.key("worker");
    let (client, _) = ledger.key("client");
    let provider = ledger.network_with_provider(&worker_key, &owner);
    let (service, url) = ledger.service(&[
        "--key",
        client.to_str().unwrap(),
        "--client",
        "--header-timeout",
        HEADER_TIMEOUT,
        "--request-timeout",
        REQUEST_TIMEOUT,
    ]);
    let spec = ledger.folder.join("abuse.json");
    std::fs::write(
        &spec,
        r#"{"format":"tessera-spec/v1","workload":{"kind":"command","program":"/bin/true","devices":4}}"#,
    )
    .unwrap();
    let job = ledger.job(
        &client,
        &provider,
        ("1", "50"),
        ["--spec", spec.to_str().unwrap()],
    );
    ledger.json(&["job", "accept", &job, "--keypair", owner.to_str().unwrap()]);
    let receipt = ledger.job_receipt("honest", &job, "1", &worker);
    let body = serde_json::json!({ "receipt": receipt, "evidence": { "kind": "none" } });
    let worker = ledger.keypair_of(&worker_key);
    (body.to_string().into_bytes(), worker, url, service)
}

/// Connections that send part of a request and stall (half in their headers, half in bodies
/// under a stranger's signature headers); whether the service closed each.
fn stall(service: SocketAddr) -> thread::JoinHandle<Vec<bool>> {
    thread::spawn(move || {
        // A stranger's signature headers, well formed and fresh: its bodies are read (and the
        // signature found wrong only once one is whole).
        let signed = header_lines(&tessera_attest::wire::signed_headers(
            &Keypair::new(),
            "/v1/cosign",
            b"",
        ));
        let streams: Vec<TcpStream> = (0..STALLED)
            .filter_map(|i| {
                let mut stream = connect_from(loopback(2 + (i % 10) as u32), service)?;
                let head = "POST /v1/cosign HTTP/1.1\r\nHost: tessera\r\n";
                let _ = if i % 2 == 0 {
                    stream.write_all(head.as_bytes())
                } else {
                    let length = 8 * 1024 * 1024;
                    let _ = write!(stream, "{head}{signed}Content-Length: {length}\r\n\r\n");
                    let sent = if i / 2 < FULL_BODIES {
                        length - 1
                    } else {
                        1024
                    };
                    stream.write_all(&vec![b'{'; sent])
                };
                Some(stream)
            })
            .collect();
        assert_eq!(
            streams.len(),
            STALLED,
            "every stalled connection was opened"
        );
        streams.into_iter().map(closed_by_service).collect()
    })
}

/// A flood of requests from many addresses: malformed and unsigned, or the worker's own
/// request signed by a stranger.
fn flood(url: &str, worker_request: &[u8]) -> thread::JoinHandle<Vec<String>> {
    let (url, worker_request) = (url.to_string(), worker_request.to_vec());
    thread::spawn(move || {
        let service: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
        let stranger = Keypair::new();
        let mut statuses = Vec::new();
        for round in 0..FLOOD_EACH {
            for n in 0..FLOOD_ADDRESSES {
                let Some(mut stream) = connect_from(loopback(20 + n), service) else {
                    statuses.push("refused".into());
                    continue;
                };
                let body: &[u8] = match round % 3 {
                    0 => &worker_request,
                    1 => b"{\"receipt\":",
                    _ => b"[]",
                };
                let signed = match round % 3 {
                    0 => header_lines(&tessera_attest::wire::signed_headers(
                        &stranger,
                        "/v1/cosign",
                        body,
                    )),
                    _ => String::new(),
                };
                let _ = write!(
                    stream,
                    "POST /v1/cosign HTTP/1.1\r\nHost: tessera\r\nContent-Type: \
                     application/json\r\n{signed}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                statuses.push(answer.split(' ').nth(1).unwrap_or("closed").to_string());
            }
        }
        statuses
    })
}

/// Requests announcing bodies far over the limit: each status line and how long it took.
fn oversized(service: SocketAddr) -> Vec<(String, Duration)> {
    (0..OVERSIZED as u32)
        .map(|n| {
            let mut stream = connect_from(loopback(100 + n), service).unwrap();
            let started = Instant::now();
            let _ = write!(
                stream,
                "POST /v1/cosign HTTP/1.1\r\nHost: tessera\r\nContent-Length: {}\r\n\r\n",
                100 * 1024 * 1024
            );
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
            let answer = String::from_utf8_lossy(&answer).into_owned();
            let status = answer.lines().next().unwrap_or_default().to_string();
            (status, started.elapsed())
        })
        .collect()
}

/// What the suite measured.
pub(crate) struct Figures {
    /// The honest requests' latencies, shortest first.
    pub latencies: Vec<Duration>,
    /// The service's peak memory before the abuse began and at its end, in KiB.
    pub before_kib: u64,
    pub peak_kib: u64,
    /// The longest an oversized request waited for its refusal.
    pub oversized: Duration,
    /// The flood's answers by status.
    pub flood: Vec<String>,
}

impl Figures {
    pub fn percentile(&self, percent: usize) -> Duration {
        let sorted = &self.latencies;
        sorted[(sorted.len() * percent / 100).min(sorted.len() - 1)]
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut others: Vec<&String> = self.flood.iter().filter(|s| *s != "429").collect();
        others.sort();
        others.dedup();
        write!(
            f,
            "{} honest requests signed: p50 {} ms, p99 {} ms, most {} ms\n\
             service memory: {} MiB before the abuse, {} MiB at its peak\n\
             {STALLED} stalled connections closed; {} oversized refused in at most {} ms\n\
             flood of {} requests from {FLOOD_ADDRESSES} addresses: {} refused 429, the rest \
             {others:?}",
            self.latencies.len(),
            self.percentile(50).as_millis(),
            self.percentile(99).as_millis(),
            self.latencies.last().map_or(0, Duration::as_millis),
            self.before_kib / 1024,
            self.peak_kib / 1024,
            OVERSIZED,
            self.oversized.as_millis(),
            self.flood.len(),
            self.flood.iter().filter(|status| *status == "429").count(),
        )
    }
}

/// Runs the suite on a ledger of its own; panics if a stranger's request is signed, an honest
/// one is not, an oversized one is not refused, or a stalled connection is left open.
pub(crate) fn run() -> Figures {
    let ledger = Ledger::start("abuse");
    let (body, worker, url, service) = honest_request(&ledger);
    let address: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let honest = || {
        let started = Instant::now();
        let (status, answer) = post(&url, "/v1/cosign", &body, Some(&worker));
        assert!(status.starts_with("HTTP/1.1 200"), "{status} {answer}");
        assert!(answer.contains("\"signature\""), "{answer}");
        started.elapsed()
    };
    // The worker's first request makes it known to the service.
    honest();
    let before_kib = peak_kib(service.0.id());

    let stalled = stall(address);
    let flooded = flood(&url, &body);
    let too_large = oversized(address);
    let mut latencies: Vec<Duration> = (0..HONEST)
        .map(|_| {
            let took = honest();
            thread::sleep(HONEST_EVERY);
            took
        })
        .collect();
    for (status, _) in &too_large {
        assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    }
    let flood = flooded.join().unwrap();
    assert!(
        flood.iter().all(|status| status != "200"),
        "a stranger's request was signed: {flood:?}"
    );
    assert!(
        flood.iter().any(|status| status == "403"),
        "the worker's request signed by a stranger was not refused as such: {flood:?}"
    );
    let closed = stalled.join().unwrap();
    assert!(
        closed.iter().all(|closed| *closed),
        "{} of {STALLED} stalled connections were left open",
        closed.iter().filter(|closed| !**closed).count()
    );
    latencies.sort();
    Figures {
        latencies,
        before_kib,
        peak_kib: peak_kib(service.0.id()),
        oversized: too_large.iter().map(|(_, took)| *took).max().unwrap(),
        flood,
    }
}

#[test]
fn strangers_cannot_stall_the_service_while_its_worker_is_answered() {
    println!("{}", run());
}
