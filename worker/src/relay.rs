//! The bandwidth workload: a TCP relay from a port of the worker's to the spec's target,
//! metered in bytes relayed (both directions), and closed once the job's max units are
//! carried. Nothing beyond max units passes, so nothing is relayed that cannot be paid.
//!
//! The relay carries only the job client's connections: each must begin with the job's relay
//! token (`tessera_client::relay`), and it holds at most [`MAX_CONNECTIONS`] at once. Its
//! target must be a public address unless the operator allows others ([`check_target`]), so a
//! spec cannot point a provider's relay at the provider's own machine or network.

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context, Result};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use tessera_client::relay::{token_admits, TOKEN_LEN};

/// How often blocked relay threads look whether they should stop.
const TICK: Duration = Duration::from_millis(100);
/// Connections one relay carries at once; more are closed when accepted.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a connection has to send its whole token.
const TOKEN_WAIT: Duration = Duration::from_secs(5);
/// Connections that have not sent their token yet, at most, of [`MAX_CONNECTIONS`]: the rest
/// stay for connections carrying the client's bytes.
pub const MAX_WAITING: usize = 16;

/// Whether a relay may connect to `target`: a public address not of this machine, or any with
/// `allow_private` (the operator's `--relay-allow-private`). Loopback, private, shared (100.64/10),
/// link-local, unspecified, broadcast, multicast, documentation, benchmarking (198.18/15) and
/// reserved (240/4, 192.0.0/24, 0/8) addresses are not public, nor IPv6's unique-local,
/// link-local, site-local, documentation and local NAT64 ones, nor an IPv4 address inside
/// IPv6 (mapped, compatible, translated, NAT64, 6to4) that is not.
pub fn check_target(target: SocketAddr, allow_private: bool) -> Result<()> {
    if allow_private {
        return Ok(());
    }
    if !is_public(target.ip()) {
        bail!(
            "its relay target {target} is not a public address: a relay does not reach the \
             provider's own machine or network unless its operator allows it with \
             --relay-allow-private"
        );
    }
    // A public address of this machine's own (one it can bind) is its own machine too.
    if std::net::UdpSocket::bind((target.ip(), 0)).is_ok() {
        bail!(
            "its relay target {target} is an address of this machine: a relay does not reach \
             the provider's own machine unless its operator allows it with \
             --relay-allow-private"
        );
    }
    Ok(())
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let v4 = |high: u16, low: u16| IpAddr::V4(((high as u32) << 16 | low as u32).into());
            // IPv4 inside IPv6 (mapped, compatible, translated, NAT64's 64:ff9b::/96, 6to4's
            // 2002::/16) is judged as that IPv4 address.
            let trailing_v4 = segments[..4] == [0; 4]
                && matches!(segments[4..6], [0, 0] | [0, 0xffff] | [0xffff, 0])
                || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
            if trailing_v4 && !v6.is_loopback() && !v6.is_unspecified() {
                return is_public(v4(segments[6], segments[7]));
            }
            if segments[0] == 0x2002 {
                return is_public(v4(segments[1], segments[2]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00
                || (segments[0] & 0xffc0) == 0xfe80
                || (segments[0] & 0xffc0) == 0xfec0
                || (segments[0] == 0x2001 && segments[1] == 0x0db8)
                || (segments[0] == 0x64 && segments[1] == 0xff9b))
        }
    }
}

/// Whose connections a relay carries: the job's, by its client's token.
#[derive(Clone, Copy)]
pub struct Admits {
    pub job: Pubkey,
    pub client: Pubkey,
}

/// A running relay; dropping it stops it.
pub struct Relay {
    address: SocketAddr,
    meter: Arc<Meter>,
}

/// Bytes relayed so far, the cap, the stop flag and the connections open, shared by the
/// relay's threads.
struct Meter {
    relayed: AtomicU64,
    max: u64,
    stop: AtomicBool,
    open: AtomicUsize,
    waiting: AtomicUsize,
}

impl Meter {
    /// Takes up to `wanted` bytes from what is left under the cap; returns how many.
    fn take(&self, wanted: u64) -> u64 {
        let mut granted = 0;
        let _ = self
            .relayed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |relayed| {
                granted = wanted.min(self.max.saturating_sub(relayed));
                Some(relayed + granted)
            });
        granted
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.relayed.load(Ordering::SeqCst) >= self.max
    }
}

impl Relay {
    /// Listens on a free port of `ip` and relays each connection that `admits` takes to
    /// `target`, counting from `already` (bytes metered before a restart) up to `max`.
    pub fn start(
        ip: IpAddr,
        target: &str,
        admits: Admits,
        (already, max): (u64, u64),
    ) -> Result<Self> {
        let target: SocketAddr = target
            .parse()
            .with_context(|| format!("the relay target {target:?} is not an address"))?;
        let listener = TcpListener::bind((ip, 0))
            .with_context(|| format!("cannot listen on {ip} for the relay"))?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let meter = Arc::new(Meter {
            relayed: AtomicU64::new(already),
            max,
            stop: AtomicBool::new(false),
            open: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
        });
        let shared = meter.clone();
        thread::spawn(move || accept_loop(listener, target, admits, shared));
        Ok(Self { address, meter })
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Bytes relayed since the job began.
    pub fn relayed(&self) -> u64 {
        self.meter.relayed.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.meter.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, target: SocketAddr, admits: Admits, meter: Arc<Meter>) {
    while !meter.stopped() {
        match listener.accept() {
            Ok((client, _)) => {
                // Over a cap, the connection is closed at once (dropped here).
                if !take_place(&meter.open, MAX_CONNECTIONS) {
                    continue;
                }
                if !take_place(&meter.waiting, MAX_WAITING) {
                    meter.open.fetch_sub(1, Ordering::SeqCst);
                    continue;
                }
                let meter = meter.clone();
                thread::spawn(move || {
                    let _ = relay_connection(client, target, admits, &meter);
                    meter.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => thread::sleep(TICK),
            Err(_) => thread::sleep(TICK),
        }
    }
}

/// Relays one connection both ways, once it sent the job's token, until either side closes
/// or the cap is reached.
fn relay_connection(
    mut client: TcpStream,
    target: SocketAddr,
    admits: Admits,
    meter: &Arc<Meter>,
) -> Result<()> {
    let token = client
        .set_nonblocking(false)
        .ok()
        .and_then(|()| read_token(&mut client));
    meter.waiting.fetch_sub(1, Ordering::SeqCst);
    if !token.is_some_and(|token| token_admits(&admits.client, &admits.job, &token)) {
        bail!("the connection did not begin with the job's relay token");
    }
    let server = TcpStream::connect_timeout(&target, Duration::from_secs(5))?;
    for stream in [&client, &server] {
        stream.set_read_timeout(Some(TICK))?;
    }
    let upstream = {
        let (from, to, meter) = (client.try_clone()?, server.try_clone()?, meter.clone());
        thread::spawn(move || copy(from, to, &meter))
    };
    copy(server.try_clone()?, client.try_clone()?, meter);
    let _ = upstream.join();
    Ok(())
}

/// Takes one of `limit` places in `count`; whether there was one.
fn take_place(count: &AtomicUsize, limit: usize) -> bool {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |taken| {
            (taken < limit).then_some(taken + 1)
        })
        .is_ok()
}

/// The token a connection sends first, if all of it arrives within [`TOKEN_WAIT`] (however it
/// is spread over reads).
fn read_token(client: &mut TcpStream) -> Option<[u8; TOKEN_LEN]> {
    let deadline = std::time::Instant::now() + TOKEN_WAIT;
    let mut token = [0u8; TOKEN_LEN];
    let mut filled = 0;
    while filled < TOKEN_LEN {
        let left = deadline.checked_duration_since(std::time::Instant::now())?;
        client
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        match client.read(&mut token[filled..]) {
            Ok(0) | Err(_) => return None,
            Ok(read) => filled += read,
        }
    }
    Some(token)
}

/// Copies `from` to `to`, metering every byte, until `from` ends, the cap is reached or the
/// relay stops; then closes `to` for writing.
fn copy(mut from: TcpStream, mut to: TcpStream, meter: &Meter) {
    let mut buffer = [0u8; 16 * 1024];
    while !meter.stopped() {
        let read = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                continue
            }
            Err(_) => break,
        };
        let granted = meter.take(read as u64) as usize;
        if to.write_all(&buffer[..granted]).is_err() || granted < read {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    use solana_keypair::Keypair;
    use solana_signer::Signer;

    /// A sink counting what arrives, a job's client, and a relay to the sink for its job.
    fn relay_to_sink(
        (already, max): (u64, u64),
    ) -> (Relay, Keypair, Pubkey, thread::JoinHandle<usize>) {
        let sink = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = sink.local_addr().unwrap().to_string();
        let received = thread::spawn(move || {
            let (mut stream, _) = sink.accept().unwrap();
            let mut all = Vec::new();
            stream.read_to_end(&mut all).unwrap();
            all.len()
        });
        let (client, job) = (Keypair::new(), Pubkey::new_unique());
        let admits = Admits {
            job,
            client: client.pubkey(),
        };
        let ip = "127.0.0.1".parse().unwrap();
        let relay = Relay::start(ip, &target, admits, (already, max)).unwrap();
        (relay, client, job, received)
    }

    fn token(client: &Keypair, job: &Pubkey) -> Vec<u8> {
        let message = tessera_client::relay::token_message(job);
        client.sign_message(&message).as_ref().to_vec()
    }

    #[test]
    fn bytes_are_counted_and_capped_at_max_units() {
        let (relay, client_key, job, received) = relay_to_sink((100, 1_100));
        let mut client = TcpStream::connect(relay.address()).unwrap();
        client.write_all(&token(&client_key, &job)).unwrap();
        // 1,500 bytes offered, 1,000 left under the cap.
        let _ = client.write_all(&[7u8; 1_500]);
        let _ = client.shutdown(Shutdown::Write);
        assert_eq!(received.join().unwrap(), 1_000);
        assert_eq!(relay.relayed(), 1_100);
    }

    #[test]
    fn a_connection_without_the_jobs_token_is_carried_nowhere() {
        let (relay, _, job, received) = relay_to_sink((0, 10_000));
        // Another key's token for the job: closed, nothing relayed, nothing counted.
        let mut stranger = TcpStream::connect(relay.address()).unwrap();
        let _ = stranger.write_all(&token(&Keypair::new(), &job));
        let _ = stranger.write_all(&[1u8; 500]);
        stranger
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut answer = Vec::new();
        let closed = stranger.read_to_end(&mut answer);
        assert!(
            matches!(closed, Ok(0))
                || closed.is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
            "the relay closes the connection"
        );
        assert_eq!(relay.relayed(), 0);
        drop(relay);
        // The sink saw no connection: its thread is still waiting, so it is not joined.
        assert!(!received.is_finished());
    }

    #[test]
    fn connections_without_a_token_hold_few_places_and_briefly() {
        let (relay, _, _, _) = relay_to_sink((0, 10_000));
        // These send no token: each holds one of the waiting places until the token wait ends.
        let held: Vec<TcpStream> = (0..MAX_WAITING)
            .map(|_| TcpStream::connect(relay.address()).unwrap())
            .collect();
        thread::sleep(Duration::from_millis(500));
        let mut over = TcpStream::connect(relay.address()).unwrap();
        // Well within the token wait: only the cap closes it this soon.
        over.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut answer = Vec::new();
        assert!(
            matches!(over.read_to_end(&mut answer), Ok(0)),
            "the connection over the cap is closed at once"
        );
        drop(held);
        // A token sent a byte a second does not arrive within the wait: closed.
        thread::sleep(Duration::from_millis(300));
        let mut trickle = TcpStream::connect(relay.address()).unwrap();
        for _ in 0..7 {
            let _ = trickle.write_all(&[0]);
            thread::sleep(Duration::from_secs(1));
        }
        trickle
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let closed = trickle.read_to_end(&mut answer);
        assert!(
            matches!(closed, Ok(0))
                || closed.is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
            "the relay closes a connection whose token takes longer than the wait"
        );
    }

    #[test]
    fn a_relay_carries_at_most_its_cap_of_connections_at_once() {
        let sink = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = sink.local_addr().unwrap().to_string();
        // The sink keeps every connection open.
        thread::spawn(move || sink.incoming().collect::<Vec<_>>());
        let (client, job) = (Keypair::new(), Pubkey::new_unique());
        let admits = Admits {
            job,
            client: client.pubkey(),
        };
        let ip = "127.0.0.1".parse().unwrap();
        let relay = Relay::start(ip, &target, admits, (0, 1_000_000)).unwrap();
        let token = token(&client, &job);
        let carried: Vec<TcpStream> = (0..MAX_CONNECTIONS)
            .map(|_| {
                let mut stream = TcpStream::connect(relay.address()).unwrap();
                stream.write_all(&token).unwrap();
                thread::sleep(Duration::from_millis(20));
                stream
            })
            .collect();
        thread::sleep(Duration::from_millis(500));
        let mut over = TcpStream::connect(relay.address()).unwrap();
        over.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let _ = over.write_all(&token);
        let mut answer = Vec::new();
        let closed = over.read_to_end(&mut answer);
        assert!(
            matches!(closed, Ok(0))
                || closed.is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
            "the connection over the cap is closed at once"
        );
        drop(carried);
    }

    #[test]
    fn targets_on_the_providers_side_need_the_operators_word() {
        for private in [
            "127.0.0.1:22",
            "10.0.0.5:80",
            "172.16.0.1:80",
            "192.168.1.1:80",
            "169.254.169.254:80",
            "100.64.0.1:80",
            "0.0.0.0:80",
            "[::1]:22",
            "[fd00::1]:80",
            "[fe80::1]:80",
            "[::ffff:127.0.0.1]:22",
            "[::ffff:10.0.0.1]:22",
            "[64:ff9b::a9fe:a9fe]:80",
            "198.18.0.1:80",
            "240.0.0.1:80",
            "[2001:db8::1]:80",
            "[::127.0.0.1]:22",
            "[::ffff:0:10.0.0.1]:22",
            "[2002:0a00:0001::1]:80",
            "[fec0::1]:80",
            "[64:ff9b:1::1]:80",
        ] {
            let target: SocketAddr = private.parse().unwrap();
            let why = check_target(target, false).unwrap_err().to_string();
            assert!(why.contains("--relay-allow-private"), "{private}: {why}");
            assert!(check_target(target, true).is_ok());
        }
        for public in [
            "93.184.216.34:443",
            "[2606:4700::1111]:443",
            "[::ffff:93.184.216.34]:443",
        ] {
            assert!(
                check_target(public.parse().unwrap(), false).is_ok(),
                "{public}"
            );
        }
    }
}
