//! Table 8: a long-running `tessera localnet`. `cargo bench -p tessera-bench --bench localnet`
//! starts the localnet's own code ([`tessera_ledger::localnet::serve`], what `tessera localnet`
//! runs) in a child process on a fresh folder and drives it over JSON-RPC:
//!
//! - a network with [`LIVE_JOBS`] open jobs, then 20,000 settlements of one job (worker +
//!   client receipts) in blocks of 1,000, each block timed, with the localnet's memory and its
//!   store's size after it; then `getTransaction` for the last block's transactions and the
//!   first block's. The figure that matters: the last block's time over the first's (the goal
//!   is 1.25x at most).
//! - then the network grows by [`JOBS_PER_STEP`] jobs at a time, and [`SETTLEMENTS_PER_STEP`]
//!   settlements are timed after each step: what a settlement costs as the program's accounts
//!   grow.

use crate::ledger::{Ledger, RpcLedger, Unsigned};
use crate::network::{BenchJob, BenchNetwork};
use crate::throughput::Run;
use anyhow::{bail, Context, Result};
use solana_rpc_client::api::request::RpcRequest;
use solana_signature::Signature;
use std::io::BufRead;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tessera_ledger::embedded::ledger::store_bytes;
use tessera_ledger::Target;

/// Open jobs on the network before the timed settlements.
pub const LIVE_JOBS: usize = 1_000;
/// Blocks of settlements sent.
pub const BLOCKS: usize = 20;
/// Settlements in a block.
pub const BLOCK: usize = 1_000;
/// Steps by which the network then grows.
pub const GROWTH_STEPS: usize = 3;
/// Jobs each step creates.
pub const JOBS_PER_STEP: usize = 1_000;
/// Settlements timed after each step.
pub const SETTLEMENTS_PER_STEP: usize = 500;
/// Transactions of the first and the last block whose `getTransaction` is asked for.
pub const LOOKED_UP: usize = 100;
/// The argument that makes the bench binary the localnet's process.
const SERVE: &str = "--serve-localnet";
/// The network the run creates (the localnet's folder is fresh, so any id would do).
const NETWORK_ID: u64 = 1;

/// The localnet process's memory, from /proc: anonymous (its heap) and file-backed (mostly
/// the sqlite store it maps), in KiB.
#[derive(Clone, Copy, Default)]
pub struct Memory {
    pub anonymous_kib: u64,
    pub file_kib: u64,
}

/// One block of settlements.
pub struct Block {
    /// Transactions the localnet had run before this block (the bench's own).
    pub before: usize,
    pub settle: Run,
    /// The localnet's memory after the block, when /proc tells it.
    pub memory: Option<Memory>,
    /// Its store's size on disk after the block (the sqlite file and its write-ahead log).
    pub store_bytes: u64,
}

/// One step of growth: the jobs it created, then settlements timed.
pub struct Step {
    /// Open jobs on the network after the step.
    pub live_jobs: usize,
    pub create_job: Run,
    pub settle: Run,
}

/// What `getTransaction` answered for some signatures: how many were asked, how many found.
pub struct Lookups {
    pub asked: usize,
    pub found: usize,
}

/// The run: every block, every step, and the lookups.
pub struct LongRun {
    pub blocks: Vec<Block>,
    pub steps: Vec<Step>,
    pub recent: Lookups,
    pub first_block: Lookups,
}

impl LongRun {
    /// The last block's time over the first's.
    pub fn slowdown(&self) -> f64 {
        match (self.blocks.first(), self.blocks.last()) {
            (Some(first), Some(last)) => {
                last.settle.elapsed.as_secs_f64() / first.settle.elapsed.as_secs_f64()
            }
            _ => 1.0,
        }
    }
}

/// When the bench binary was started as the localnet's process (by [`LocalnetProcess::start`]),
/// serves until killed and returns what the localnet returned; otherwise `None`.
pub fn serve_if_asked() -> Option<Result<()>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [flag, data_dir, rpc_port, ws_port] = args.as_slice() else {
        return None;
    };
    if flag != SERVE {
        return None;
    }
    let ports = rpc_port
        .parse::<u16>()
        .and_then(|rpc| Ok((rpc, ws_port.parse::<u16>()?)));
    Some(match ports {
        Ok((rpc, ws)) => tessera_ledger::localnet::serve(
            &Target::Embedded(PathBuf::from(data_dir)),
            rpc,
            ws,
            true,
        ),
        Err(error) => Err(error).context("the localnet's ports are not numbers"),
    })
}

/// The localnet in a child process, on a folder of its own; killed and its folder removed when
/// dropped.
pub struct LocalnetProcess {
    child: Child,
    /// Its JSON-RPC URL, from its ready line.
    pub rpc_url: String,
    /// The localnet's data folder.
    pub data_dir: PathBuf,
    /// Where its stderr (the natively run program's logs) goes.
    log: PathBuf,
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

impl LocalnetProcess {
    /// Starts this binary as a localnet on a fresh folder and waits for its ready line.
    pub fn start() -> Result<Self> {
        let base =
            std::env::temp_dir().join(format!("tessera-localnet-bench-{}", std::process::id()));
        let data_dir = base.join("data");
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base)
            .with_context(|| format!("cannot create {}", base.display()))?;
        let log = base.join("localnet.log");
        let mut child = Command::new(std::env::current_exe()?)
            .arg(SERVE)
            .arg(&data_dir)
            .arg(free_port()?.to_string())
            .arg(free_port()?.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("cannot start the localnet's process")?;
        let stdout = child.stdout.take().context("the localnet has no stdout")?;
        let mut ready = String::new();
        std::io::BufReader::new(stdout).read_line(&mut ready)?;
        let serving: serde_json::Value = match serde_json::from_str(&ready) {
            Ok(serving) => serving,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let reason = std::fs::read_to_string(&log).unwrap_or_default();
                bail!("the localnet did not start: {reason}")
            }
        };
        let rpc_url = serving["rpc_url"]
            .as_str()
            .context("the localnet's ready line names no rpc_url")?
            .to_string();
        Ok(Self {
            child,
            rpc_url,
            data_dir,
            log,
        })
    }

    /// The process's memory, if /proc tells it.
    pub fn memory(&self) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(name))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        Some(Memory {
            anonymous_kib: field("RssAnon:")?,
            file_kib: field("RssFile:")?,
        })
    }

    /// The store's size on disk.
    pub fn store_bytes(&self) -> u64 {
        store_bytes(&self.data_dir)
    }
}

impl Drop for LocalnetProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(base) = self.log.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

/// Asks `getTransaction` for each of `signatures` and counts the answers that hold one.
fn look_up(ledger: &RpcLedger, signatures: &[Signature]) -> Result<Lookups> {
    let mut found = 0;
    for signature in signatures {
        let answer: serde_json::Value = ledger
            .rpc()
            .send(
                RpcRequest::GetTransaction,
                serde_json::json!([
                    signature.to_string(),
                    { "encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0 }
                ]),
            )
            .context("getTransaction failed")?;
        if !answer.is_null() {
            found += 1;
        }
    }
    Ok(Lookups {
        asked: signatures.len(),
        found,
    })
}

/// Sends `transactions` and returns their timed run and signatures.
fn timed(ledger: &mut RpcLedger, transactions: &[Unsigned]) -> Result<(Run, Vec<Signature>)> {
    let (elapsed, signatures) = ledger.send_timed_signatures(transactions)?;
    Ok((
        Run {
            count: transactions.len(),
            elapsed,
        },
        signatures,
    ))
}

/// `count` settlements of `job`, after the `units` already settled; receipts are made just
/// before they are sent, as each is bound to the clock.
fn settlements(
    ledger: &mut RpcLedger,
    network: &BenchNetwork,
    job: &BenchJob,
    units: &mut u64,
    count: usize,
) -> Result<Vec<Unsigned>> {
    let now = ledger.now()?;
    (0..count)
        .map(|_| {
            *units += 1;
            job.settlement(ledger, network, *units, now)
        })
        .collect()
}

/// `count` new jobs of the bench's client (open, for any provider of the class).
fn new_jobs(
    ledger: &mut RpcLedger,
    network: &BenchNetwork,
    job: &mut BenchJob,
    count: usize,
) -> Result<Vec<Unsigned>> {
    let now = ledger.now()?;
    Ok((0..count)
        .map(|_| job.create_job(network, None, 100, now))
        .collect())
}

/// Runs the blocks and the steps against `localnet` (reached through `ledger`). `progress` is
/// told what was just measured.
pub fn measure(
    ledger: &mut RpcLedger,
    localnet: &LocalnetProcess,
    mut progress: impl FnMut(&str),
) -> Result<LongRun> {
    let network = BenchNetwork::create(ledger, NETWORK_ID)?;
    let mut job = BenchJob::start(ledger, &network)?;
    let mut sent = 0;
    for chunk in 0..LIVE_JOBS.div_ceil(BLOCK) {
        let count = BLOCK.min(LIVE_JOBS - chunk * BLOCK);
        let jobs = new_jobs(ledger, &network, &mut job, count)?;
        sent += timed(ledger, &jobs)?.0.count;
    }
    progress(&format!("{LIVE_JOBS} open jobs created"));

    let mut units = 0;
    let mut blocks = Vec::with_capacity(BLOCKS);
    let mut first_signatures = Vec::new();
    let mut last_signatures = Vec::new();
    for number in 1..=BLOCKS {
        let block = settlements(ledger, &network, &job, &mut units, BLOCK)?;
        let (settle, signatures) = timed(ledger, &block)?;
        if first_signatures.is_empty() {
            first_signatures = signatures.clone();
        }
        last_signatures = signatures;
        let block = Block {
            before: sent,
            settle,
            memory: localnet.memory(),
            store_bytes: localnet.store_bytes(),
        };
        sent += settle.count;
        progress(&format!(
            "block {number}/{BLOCKS}: {:.2} s, {:.0} settlements/s",
            settle.elapsed.as_secs_f64(),
            settle.per_second()
        ));
        blocks.push(block);
    }
    let recent = look_up(ledger, &last_signatures[BLOCK - LOOKED_UP..])?;
    let first_block = look_up(ledger, &first_signatures[..LOOKED_UP])?;

    let mut steps = Vec::with_capacity(GROWTH_STEPS);
    let mut live_jobs = LIVE_JOBS;
    for _ in 0..GROWTH_STEPS {
        let jobs = new_jobs(ledger, &network, &mut job, JOBS_PER_STEP)?;
        let (create_job, _) = timed(ledger, &jobs)?;
        live_jobs += JOBS_PER_STEP;
        let step = settlements(ledger, &network, &job, &mut units, SETTLEMENTS_PER_STEP)?;
        let (settle, _) = timed(ledger, &step)?;
        progress(&format!(
            "{live_jobs} open jobs: {:.0} settlements/s",
            settle.per_second()
        ));
        steps.push(Step {
            live_jobs,
            create_job,
            settle,
        });
    }
    Ok(LongRun {
        blocks,
        steps,
        recent,
        first_block,
    })
}
