//! The bandwidth workload: a TCP relay from a port of the worker's to the spec's target,
//! metered in bytes relayed (both directions), and closed once the job's max units are
//! carried. Nothing beyond max units passes, so nothing is relayed that cannot be paid.

use anyhow::{Context, Result};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How often blocked relay threads look whether they should stop.
const TICK: Duration = Duration::from_millis(100);

/// A running relay; dropping it stops it.
pub struct Relay {
    address: SocketAddr,
    meter: Arc<Meter>,
}

/// Bytes relayed so far, the cap, and the stop flag, shared by the relay's threads.
struct Meter {
    relayed: AtomicU64,
    max: u64,
    stop: AtomicBool,
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
    /// Listens on a free port of `ip` and relays each connection to `target`, counting from
    /// `already` (bytes metered before a restart) up to `max`.
    pub fn start(ip: IpAddr, target: &str, already: u64, max: u64) -> Result<Self> {
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
        });
        let shared = meter.clone();
        thread::spawn(move || accept_loop(listener, target, shared));
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

fn accept_loop(listener: TcpListener, target: SocketAddr, meter: Arc<Meter>) {
    while !meter.stopped() {
        match listener.accept() {
            Ok((client, _)) => {
                let meter = meter.clone();
                thread::spawn(move || {
                    let _ = relay_connection(client, target, meter);
                });
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => thread::sleep(TICK),
            Err(_) => thread::sleep(TICK),
        }
    }
}

/// Relays one connection both ways until either side closes or the cap is reached.
fn relay_connection(client: TcpStream, target: SocketAddr, meter: Arc<Meter>) -> Result<()> {
    client.set_nonblocking(false)?;
    let server = TcpStream::connect_timeout(&target, Duration::from_secs(5))?;
    for stream in [&client, &server] {
        stream.set_read_timeout(Some(TICK))?;
    }
    let upstream = {
        let (from, to, meter) = (client.try_clone()?, server.try_clone()?, meter.clone());
        thread::spawn(move || copy(from, to, &meter))
    };
    copy(server.try_clone()?, client.try_clone()?, &meter);
    let _ = upstream.join();
    Ok(())
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

    #[test]
    fn bytes_are_counted_and_capped_at_max_units() {
        let sink = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = sink.local_addr().unwrap().to_string();
        let received = thread::spawn(move || {
            let (mut stream, _) = sink.accept().unwrap();
            let mut all = Vec::new();
            stream.read_to_end(&mut all).unwrap();
            all.len()
        });
        let relay = Relay::start("127.0.0.1".parse().unwrap(), &target, 100, 1_100).unwrap();
        let mut client = TcpStream::connect(relay.address()).unwrap();
        // 1,500 bytes offered, 1,000 left under the cap.
        let _ = client.write_all(&[7u8; 1_500]);
        let _ = client.shutdown(Shutdown::Write);
        assert_eq!(received.join().unwrap(), 1_000);
        assert_eq!(relay.relayed(), 1_100);
    }
}
