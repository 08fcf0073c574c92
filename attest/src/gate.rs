//! What the co-signing service lets in, before it reads or reviews anything: connections (in
//! all and per address), requests (a rate per address, and a rate for all callers it does not
//! know yet together), and the memory request bodies take while they are read.
//!
//! A caller is *known* once a request it sent was signed by a key the service had reason to
//! trust (a receipt's registered worker key, a key generation's coordinator or member) and
//! reviewed; it stays known for [`KNOWN_FOR`]. Known callers are not held to the strangers'
//! total, have a quarter of the connections and half of the bodies' memory kept for them, so
//! a flood from many addresses slows strangers only. Callers are told apart by address, an
//! IPv6 one by its /64 (what one host is usually given).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// Requests one address may burst, and how many it regains each second.
const BURST: f64 = 40.0;
const PER_SECOND: f64 = 4.0;
/// How long a caller stays known after its last reviewed request.
pub const KNOWN_FOR: Duration = Duration::from_secs(15 * 60);
/// Most addresses whose rate is tracked, and most known ones: past these, a new address is
/// held to the strangers' total alone, and is not remembered as known.
const MAX_TRACKED: usize = 65_536;
/// Bodies' memory is counted in blocks of this size.
const BLOCK: usize = 1024;
/// How often, at most, the rate table is swept for addresses that filled up again.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// Most request signatures remembered (each is taken once, within a minute of its time).
const MAX_SIGNATURES: usize = 1 << 17;

/// The service's limits (flags of `attest serve`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections open at once; more are closed as soon as they are accepted. Callers the
    /// service does not know may hold three quarters of them.
    pub max_connections: usize,
    /// Connections one address may hold open at once.
    pub connections_per_address: usize,
    /// Longest wait for a request's headers, the first one's and each next one's on a kept
    /// connection (so also the longest idle time).
    pub header_timeout: Duration,
    /// Longest a request may take once its headers arrived: its body, the review, the answer.
    pub request_timeout: Duration,
    /// Memory for request bodies being read, in bytes: half for callers the service knows,
    /// half for everyone (known callers use both).
    pub body_memory: usize,
    /// Requests per second that callers the service does not know may make together.
    pub strangers_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            connections_per_address: 64,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            body_memory: 64 * 1024 * 1024,
            strangers_per_second: 100,
        }
    }
}

/// A refusal at the gate: an HTTP status and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Turned(pub u16, pub String);

/// A token bucket.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: f64) -> Self {
        Self {
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Refills for the time since it was last looked at; whether it is full again.
    fn refill(&mut self, burst: f64, per_second: f64) -> bool {
        self.tokens = (self.tokens + self.at.elapsed().as_secs_f64() * per_second).min(burst);
        self.at = Instant::now();
        self.tokens >= burst
    }

    fn take(&mut self) -> bool {
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

/// The service's admission state.
pub struct Gate {
    pub limits: Limits,
    connections: Mutex<Connections>,
    callers: Mutex<Callers>,
    strangers: Mutex<Bucket>,
    known: Mutex<HashMap<IpAddr, Instant>>,
    /// Request signatures taken, and the Unix second after which each is too old anyway.
    signatures: Mutex<HashMap<[u8; 64], u64>>,
    /// Bodies' memory for everyone, and the known callers' own, in blocks.
    shared_memory: Arc<Semaphore>,
    known_memory: Arc<Semaphore>,
}

#[derive(Default)]
struct Connections {
    open: usize,
    strangers: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Each address's rate, and when the table was last swept.
struct Callers {
    buckets: HashMap<IpAddr, Bucket>,
    swept: Instant,
}

/// An open connection's place; freed when dropped.
pub struct Slot {
    gate: Arc<Gate>,
    address: IpAddr,
    stranger: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut connections = self.gate.connections.lock().expect("connections");
        connections.open -= 1;
        connections.strangers -= usize::from(self.stranger);
        if let Some(count) = connections.by_address.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                connections.by_address.remove(&self.address);
            }
        }
    }
}

/// Memory a body being read holds, and whether its caller was known when reading began (so
/// it may take from the known callers' memory); given back when dropped.
pub struct Held {
    known: bool,
    permits: Vec<OwnedSemaphorePermit>,
}

impl Gate {
    pub fn new(limits: Limits) -> Arc<Self> {
        let blocks = (limits.body_memory / BLOCK / 2).max(1);
        Arc::new(Self {
            limits,
            connections: Mutex::default(),
            callers: Mutex::new(Callers {
                buckets: HashMap::new(),
                swept: Instant::now(),
            }),
            strangers: Mutex::new(Bucket::full(Self::strangers_burst(&limits))),
            known: Mutex::default(),
            signatures: Mutex::default(),
            shared_memory: Arc::new(Semaphore::new(blocks)),
            known_memory: Arc::new(Semaphore::new(blocks)),
        })
    }

    fn strangers_burst(limits: &Limits) -> f64 {
        2.0 * limits.strangers_per_second.max(1) as f64
    }

    /// A place for a new connection from `address`, or `None` when the service or the address
    /// holds as many as it may (a caller it does not know: as many as strangers may).
    pub fn connection(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        let address = caller(address);
        let stranger = !self.is_known(address);
        let mut connections = self.connections.lock().expect("connections");
        let from_address = connections.by_address.get(&address).copied().unwrap_or(0);
        let strangers_may = self.limits.max_connections - self.limits.max_connections / 4;
        if connections.open >= self.limits.max_connections
            || from_address >= self.limits.connections_per_address
            || (stranger && connections.strangers >= strangers_may)
        {
            return None;
        }
        connections.open += 1;
        connections.strangers += usize::from(stranger);
        *connections.by_address.entry(address).or_insert(0) += 1;
        Some(Slot {
            gate: self.clone(),
            address,
            stranger,
        })
    }

    /// Whether a request from `address` is within its rates: its own, and unless the service
    /// knows it, the strangers' total.
    pub fn admit(&self, address: IpAddr) -> Result<(), Turned> {
        let address = caller(address);
        let own = self.own_rate(address);
        if own == Some(false) {
            return Err(Turned(
                429,
                "too many requests from this address: slow down".into(),
            ));
        }
        // An address the full table could not track is held to the strangers' total, known
        // or not.
        if own.is_some() && self.is_known(address) {
            return Ok(());
        }
        let mut strangers = self.strangers.lock().expect("strangers");
        strangers.refill(
            Self::strangers_burst(&self.limits),
            self.limits.strangers_per_second as f64,
        );
        if !strangers.take() {
            return Err(Turned(
                429,
                "the service is taking as many requests from new callers as it can: retry in a \
                 few seconds"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Whether `address` is within its own rate; `None` when the table is full and it is not
    /// in it. Buckets that filled up again are dropped (a full bucket is what a new address
    /// gets) at most once a second, so the table holds only addresses that asked lately.
    fn own_rate(&self, address: IpAddr) -> Option<bool> {
        let mut callers = self.callers.lock().expect("callers");
        let Callers { buckets, swept } = &mut *callers;
        if buckets.len() >= MAX_TRACKED / 2 && swept.elapsed() >= SWEEP_EVERY {
            buckets.retain(|_, bucket| !bucket.refill(BURST, PER_SECOND));
            *swept = Instant::now();
        }
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&address) {
            return None;
        }
        let bucket = buckets.entry(address).or_insert(Bucket::full(BURST));
        bucket.refill(BURST, PER_SECOND);
        Some(bucket.take())
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.connections.lock().expect("connections").open
    }

    /// Addresses whose rate is tracked now.
    pub fn tracked(&self) -> usize {
        self.callers.lock().expect("callers").buckets.len()
    }

    /// Takes a request's signature, made at Unix second `secs`, once: a signature seen before
    /// (a replayed request) is refused, whatever became of the request that brought it. A
    /// signature is remembered until it is too old to be taken anyway.
    pub fn first_use(&self, signature: &[u8; 64], secs: u64) -> Result<(), Turned> {
        let now = crate::wire::unix_now();
        let mut seen = self.signatures.lock().expect("signatures");
        if seen.len() >= MAX_SIGNATURES {
            seen.retain(|_, too_old_after| *too_old_after >= now);
            if seen.len() >= MAX_SIGNATURES {
                return Err(Turned(
                    503,
                    "the service is taking as many signed requests as it can: retry in a minute"
                        .into(),
                ));
            }
        }
        let too_old_after = secs + crate::wire::SIGNED_FOR_SECS + 1;
        if seen.insert(*signature, too_old_after).is_some() {
            return Err(Turned(
                401,
                "this signed request was taken before: a request is signed anew each time".into(),
            ));
        }
        Ok(())
    }

    /// Remembers `address` as a known caller.
    pub fn know(&self, address: IpAddr) {
        let address = caller(address);
        let mut known = self.known.lock().expect("known");
        if known.len() >= MAX_TRACKED && !known.contains_key(&address) {
            known.retain(|_, at| at.elapsed() < KNOWN_FOR);
            if known.len() >= MAX_TRACKED {
                return;
            }
        }
        known.insert(address, Instant::now());
    }

    pub fn is_known(&self, address: IpAddr) -> bool {
        let address = caller(address);
        let known = self.known.lock().expect("known");
        known
            .get(&address)
            .is_some_and(|at| at.elapsed() < KNOWN_FOR)
    }

    /// Memory for a body from `address`, none taken yet.
    pub fn holding(&self, address: IpAddr) -> Held {
        Held {
            known: self.is_known(address),
            permits: Vec::new(),
        }
    }

    /// Takes memory for `bytes` more of a body into `held`: from the memory everyone shares,
    /// and for a known caller from its own when that is gone.
    pub fn hold(&self, held: &mut Held, bytes: usize) -> Result<(), Turned> {
        let blocks = u32::try_from(bytes.div_ceil(BLOCK).max(1)).unwrap_or(u32::MAX);
        let pools = if held.known {
            vec![&self.known_memory, &self.shared_memory]
        } else {
            vec![&self.shared_memory]
        };
        for pool in pools {
            match pool.clone().try_acquire_many_owned(blocks) {
                Ok(permit) => {
                    held.permits.push(permit);
                    return Ok(());
                }
                Err(TryAcquireError::NoPermits) => continue,
                Err(TryAcquireError::Closed) => break,
            }
        }
        Err(Turned(
            503,
            "the service is reading as many request bodies as its memory allows: retry in a few \
             seconds"
                .into(),
        ))
    }
}

/// Who `address` is, as the gate counts callers: an IPv4 address (mapped into IPv6 or not),
/// or an IPv6 address's /64.
fn caller(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(i: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x7f00_0000 + i))
    }

    #[test]
    fn an_address_is_held_to_its_burst_and_a_known_one_passes_a_strangers_flood() {
        let gate = Gate::new(Limits {
            strangers_per_second: 10,
            ..Limits::default()
        });
        let (stranger, known) = (address(2), address(1));
        gate.know(known);
        let first: Vec<bool> = (0..50).map(|_| gate.admit(stranger).is_ok()).collect();
        assert_eq!(first.iter().filter(|passed| **passed).count(), 20);
        // The strangers' total is spent: a fresh address is turned away too…
        let turned = gate.admit(address(3)).unwrap_err();
        assert_eq!(turned.0, 429);
        assert!(turned.1.contains("new callers"), "{turned:?}");
        // …but not a known caller, up to its own burst.
        let passed = (0..50).filter(|_| gate.admit(known).is_ok()).count();
        assert_eq!(passed, BURST as usize);
    }

    #[test]
    fn addresses_that_asked_long_ago_are_not_kept() {
        let gate = Gate::new(Limits {
            strangers_per_second: 1_000_000,
            ..Limits::default()
        });
        for i in 0..(MAX_TRACKED as u32 / 2) {
            let _ = gate.admit(address(i));
        }
        assert_eq!(gate.tracked(), MAX_TRACKED / 2);
        // Each of them has one token less than its burst: 0.25 s refills it, and the table is
        // swept once a second.
        std::thread::sleep(SWEEP_EVERY + Duration::from_millis(100));
        let _ = gate.admit(address(u32::MAX / 2));
        assert_eq!(gate.tracked(), 1, "the refilled buckets are dropped");
    }

    #[test]
    fn connections_are_capped_in_all_and_per_address_and_freed_on_drop() {
        let gate = Gate::new(Limits {
            max_connections: 4,
            connections_per_address: 2,
            ..Limits::default()
        });
        let known = address(9);
        gate.know(known);
        let a = [gate.connection(address(1)), gate.connection(address(1))];
        assert!(a.iter().all(Option::is_some));
        assert!(gate.connection(address(1)).is_none(), "per address");
        let b = gate.connection(address(2));
        assert!(b.is_some());
        // Strangers hold three of the four: the last is kept for a known caller.
        assert!(gate.connection(address(3)).is_none(), "strangers' share");
        let kept = gate.connection(known);
        assert!(kept.is_some());
        assert!(gate.connection(address(9)).is_none(), "in all");
        drop(b);
        assert!(gate.connection(address(3)).is_some());
    }

    #[test]
    fn an_ipv6_caller_is_its_slash_64_and_a_mapped_ipv4_is_itself() {
        let gate = Gate::new(Limits {
            connections_per_address: 1,
            ..Limits::default()
        });
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let _held = gate.connection(one).unwrap();
        assert!(gate.connection(same_64).is_none());
        assert!(gate.connection(other_64).is_some());
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(caller(mapped), address(1));
    }

    #[test]
    fn a_request_signature_is_taken_once() {
        let gate = Gate::new(Limits::default());
        let now = crate::wire::unix_now();
        gate.first_use(&[7; 64], now).unwrap();
        assert_eq!(gate.first_use(&[7; 64], now).unwrap_err().0, 401);
        gate.first_use(&[8; 64], now).unwrap();
    }

    #[test]
    fn bodies_share_their_memory_and_known_callers_have_their_own() {
        let gate = Gate::new(Limits {
            body_memory: 8 * BLOCK,
            ..Limits::default()
        });
        let (stranger, known) = (address(2), address(1));
        gate.know(known);
        let mut held = gate.holding(stranger);
        gate.hold(&mut held, 3 * BLOCK).unwrap();
        let turned = gate.hold(&mut gate.holding(stranger), 2 * BLOCK);
        assert_eq!(turned.unwrap_err().0, 503);
        // The known caller reads from its own memory while the shared one is taken.
        let mut own = gate.holding(known);
        gate.hold(&mut own, 4 * BLOCK).unwrap();
        drop(held);
        gate.hold(&mut gate.holding(stranger), 4 * BLOCK).unwrap();
    }
}
