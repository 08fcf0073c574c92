//! Starting and stopping surfpool in this process.

use super::index::Indexes;
use anyhow::{anyhow, bail, Context, Result};
use crossbeam_channel::{Receiver, Sender};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use surfpool_core::runloops::start_local_surfnet_runloop;
use surfpool_core::storage::{StorageFifoMap, StorageHashMap};
use surfpool_core::surfnet::locker::SurfnetSvmLocker;
use surfpool_core::surfnet::svm::{SurfnetSvm, SurfnetSvmConfig};
use surfpool_core::surfnet::GeyserEvent;
use surfpool_types::{
    KeyedProfileResult, RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig,
    UuidOrSignature, VersionedIdl,
};

/// Name of the sqlite file the ledger keeps in its data folder.
pub const DATABASE_FILE: &str = "ledger.sqlite";
/// Bytes of the ledger's store in `data_dir` on disk: the sqlite file and its write-ahead log.
pub fn store_bytes(data_dir: &Path) -> u64 {
    let log = format!("{DATABASE_FILE}-wal");
    [DATABASE_FILE, log.as_str()]
        .iter()
        .filter_map(|name| std::fs::metadata(data_dir.join(name)).ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// Name of the file that keeps the ledger's clock (milliseconds) across restarts: surfpool
/// stores accounts and slots but restarts its clock from the wall clock, which would move time
/// backwards after a `tessera ledger warp`.
pub const CLOCK_FILE: &str = "clock";
/// Name of the file in which a running `tessera localnet` publishes its RPC URL, so that
/// commands on its data folder go through it instead of opening the store beside it.
pub const SERVED_FILE: &str = "localnet-url";
/// The surfnet id under which surfpool keys the store's rows.
pub const SURFNET_ID: &str = "tessera";
/// Slot length of the embedded ledger, in milliseconds.
pub const SLOT_MILLIS: u64 = 400;
/// Longest wait for the ledger to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running embedded ledger. Dropping it without [`EmbeddedLedger::stop`] stops it too.
pub struct EmbeddedLedger {
    /// JSON-RPC endpoint, `http://127.0.0.1:<port>`.
    pub rpc_url: String,
    /// WebSocket endpoint, `ws://127.0.0.1:<port>`.
    pub ws_url: String,
    /// Where its state lives.
    pub data_dir: PathBuf,
    commands: Sender<SimnetCommand>,
    runloop: Option<JoinHandle<Result<(), String>>>,
    svm: Arc<tokio::sync::RwLock<SurfnetSvm>>,
    indexes: Indexes,
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("no free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

impl EmbeddedLedger {
    /// Starts the ledger on free 127.0.0.1 ports with its state in `data_dir` (created if
    /// missing), with the Tessera program registered natively. `ports` fixes the RPC and
    /// WebSocket ports instead (for `tessera localnet`).
    pub fn start(data_dir: &Path, ports: Option<(u16, u16)>) -> Result<Self> {
        // Surfpool periodically rebuilds its SVM from scratch, which would drop the natively
        // registered program; never do that. Read once by surfpool, so set before it starts.
        if std::env::var_os("SURFPOOL_GARBAGE_COLLECTION_INTERVAL_SLOTS").is_none() {
            std::env::set_var(
                "SURFPOOL_GARBAGE_COLLECTION_INTERVAL_SLOTS",
                u64::MAX.to_string(),
            );
        }
        let Some((rpc_port, ws_port)) = ports else {
            // Free ports can be taken by another process between the check and the bind.
            let mut attempt = 1;
            loop {
                match Self::start_on(data_dir, free_port()?, free_port()?) {
                    Err(error) if attempt < 3 && error.to_string().contains("already in use") => {
                        attempt += 1
                    }
                    started => return started,
                }
            }
        };
        Self::start_on(data_dir, rpc_port, ws_port)
    }

    fn start_on(data_dir: &Path, rpc_port: u16, ws_port: u16) -> Result<Self> {
        let (svm, indexes, events, geyser_events) = open_svm(data_dir)?;
        let locker = SurfnetSvmLocker::new(svm);
        let shared = locker.0.clone();
        let (commands, commands_rx) = crossbeam_channel::unbounded();
        let runloop_commands = commands.clone();
        let config = surfpool_config(rpc_port, ws_port);
        let runloop = std::thread::Builder::new()
            .name("tessera-ledger".into())
            .spawn(move || {
                run_surfnet(locker, config, runloop_commands, commands_rx, geyser_events)
            })
            .context("cannot start the embedded ledger's thread")?;

        if let Err(error) = wait_until_started(&events, &runloop) {
            if runloop.is_finished() {
                if let Ok(Err(reason)) = runloop.join() {
                    bail!("the embedded ledger did not start: {reason}");
                }
            }
            return Err(error);
        }
        // Keep draining events so that the ledger never blocks on a full channel.
        std::thread::Builder::new()
            .name("tessera-ledger-events".into())
            .spawn(move || while events.recv().is_ok() {})
            .context("cannot start the embedded ledger's event thread")?;

        Ok(Self {
            rpc_url: format!("http://127.0.0.1:{rpc_port}"),
            ws_url: format!("ws://127.0.0.1:{ws_port}"),
            data_dir: data_dir.to_path_buf(),
            commands,
            runloop: Some(runloop),
            svm: shared,
            indexes,
        })
    }

    /// Saves the clock to the data folder (never moving the saved time backwards), so that a
    /// restart resumes from it.
    pub fn save_clock(&self) -> Result<()> {
        let now = self.svm.blocking_read().updated_at;
        let path = self.data_dir.join(CLOCK_FILE);
        let saved = read_clock(&self.data_dir).unwrap_or(0);
        let temporary = path.with_extension("partial");
        std::fs::write(&temporary, now.max(saved).to_string())
            .and_then(|()| std::fs::rename(&temporary, &path))
            .with_context(|| format!("cannot save the ledger clock to {}", path.display()))
    }

    /// Stops the ledger, flushing its state to disk.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        let Some(runloop) = self.runloop.take() else {
            return Ok(());
        };
        // The indexes go to the store while it is open; surfpool's stop closes its log.
        let saved = self.save_clock().and(self.indexes.save());
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        runloop
            .join()
            .map_err(|_| anyhow!("the embedded ledger's thread panicked while stopping"))?
            .map_err(|reason| anyhow!("the embedded ledger stopped with an error: {reason}"))?;
        saved?;
        self.indexes.finish()
    }
}

impl Drop for EmbeddedLedger {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// What [`open_svm`] opens: the SVM, its account indexes and its event channels.
type Opened = (
    SurfnetSvm,
    Indexes,
    Receiver<SimnetEvent>,
    Receiver<GeyserEvent>,
);

/// Opens the store in `data_dir` (created if missing) as surfpool's SVM, with the Tessera
/// program registered natively, the store kept from growing with starts, its account indexes
/// in memory, and the saved clock.
fn open_svm(data_dir: &Path) -> Result<Opened> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data folder {}", data_dir.display()))?;
    let database = data_dir.join(DATABASE_FILE);
    let database = database
        .to_str()
        .ok_or_else(|| anyhow!("the data folder path {} is not UTF-8", data_dir.display()))?
        .to_string();
    let svm_config = SurfnetSvmConfig {
        surfnet_id: SURFNET_ID.to_string(),
        slot_time: SLOT_MILLIS,
        instruction_profiling_enabled: false,
        ..SurfnetSvmConfig::default()
    };
    let (mut svm, events, geyser_events) = SurfnetSvm::new_with_db(Some(&database), svm_config)
        .map_err(|error| anyhow!("cannot open the ledger in {}: {error}", data_dir.display()))?;
    keep_no_history_but_transactions(&mut svm);
    let indexes = Indexes::install(&mut svm, data_dir)?;
    svm.inner
        .svm
        .add_builtin(tessera::ID, super::builtin::registerer());
    restore_clock(&mut svm, data_dir);
    Ok((svm, indexes, events, geyser_events))
}

/// Surfpool's settings: offline, our slot time, JSON-RPC and WebSocket on 127.0.0.1.
fn surfpool_config(rpc_port: u16, ws_port: u16) -> SurfpoolConfig {
    SurfpoolConfig {
        simnets: vec![SimnetConfig {
            offline_mode: true,
            remote_rpc_url: None,
            slot_time: SLOT_MILLIS,
            instruction_profiling_enabled: false,
            surfnet_id: SURFNET_ID.to_string(),
            ..SimnetConfig::default()
        }],
        rpc: RpcConfig {
            bind_host: "127.0.0.1".to_string(),
            bind_port: rpc_port,
            ws_port,
            ..RpcConfig::default()
        },
        ..SurfpoolConfig::default()
    }
}

/// The ledger's thread: surfpool's run loop on a runtime of its own, until it is told to stop.
fn run_surfnet(
    locker: SurfnetSvmLocker,
    config: SurfpoolConfig,
    commands: Sender<SimnetCommand>,
    commands_rx: Receiver<SimnetCommand>,
    geyser_events: Receiver<GeyserEvent>,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the embedded ledger's runtime: {error}"))?;
    runtime
        .block_on(start_local_surfnet_runloop(
            locker,
            config,
            commands,
            commands_rx,
            geyser_events,
        ))
        .map_err(|error| error.to_string())
}

/// Waits for the ledger's start, or for its thread to end with the reason it could not start.
fn wait_until_started(
    events: &Receiver<SimnetEvent>,
    runloop: &JoinHandle<Result<(), String>>,
) -> Result<()> {
    let deadline = std::time::Instant::now() + START_TIMEOUT;
    while std::time::Instant::now() < deadline {
        match events.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(SimnetEvent::CoreStarted(_)) => return Ok(()),
            Ok(SimnetEvent::Aborted(reason)) => {
                bail!("the embedded ledger did not start: {reason}")
            }
            Ok(SimnetEvent::Shutdown) => bail!("the embedded ledger shut down while starting"),
            Ok(_) => continue,
            Err(_) if runloop.is_finished() => bail!("the embedded ledger stopped while starting"),
            Err(_) => continue,
        }
    }
    bail!(
        "the embedded ledger did not start within {} s",
        START_TIMEOUT.as_secs()
    )
}

/// The clock saved in `data_dir` (milliseconds), if any.
pub fn read_clock(data_dir: &Path) -> Option<u64> {
    std::fs::read_to_string(data_dir.join(CLOCK_FILE))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Sets a freshly opened ledger's clock: the wall clock surfpool started from, or the saved one
/// when a warp moved it later ([`ledger_clock_millis`], the clock [`super::store::Store`]
/// predicts for reads). The clock sysvar is set too: surfpool sets it at each slot, not at
/// start, so until the first slot the program would read the clock of the last run, an epoch
/// or more behind the one a command computed.
fn restore_clock(svm: &mut SurfnetSvm, data_dir: &Path) {
    svm.updated_at = ledger_clock_millis(svm.updated_at, read_clock(data_dir));
    let mut clock: solana_clock::Clock = svm.inner.svm.get_sysvar();
    clock.unix_timestamp = (svm.updated_at / 1_000) as i64;
    svm.inner.set_sysvar(&clock);
}

/// The clock a ledger starting at wall time `wall` (milliseconds) runs on: `wall`, or just
/// after the `saved` clock when a warp moved that later.
pub fn ledger_clock_millis(wall: u64, saved: Option<u64>) -> u64 {
    match saved {
        Some(saved) if saved >= wall => saved + SLOT_MILLIS,
        _ => wall,
    }
}

/// Keeps the store from growing with every start and every transaction. Surfpool 1.6.1 writes,
/// into its sqlite store, the IDLs of 17 mainnet programs again at every start (appending to
/// the same rows, which it also reads back at every start) and a profile of every executed
/// transaction (about 320 KB each, with copies of every account it touched), with no setting
/// to turn either off. Tessera reads neither: the IDL rows and profiles are dropped from the
/// store and kept in memory for the life of the process. Transactions and blocks stay, for
/// `getTransaction` and `getSignaturesForAddress`.
fn keep_no_history_but_transactions(svm: &mut SurfnetSvm) {
    // A failed clear leaves rows that cost time, not correctness: nothing reads them.
    let _ = svm.registered_idls.clear();
    let _ = svm.executed_transaction_profiles.clear();
    let _ = svm.simulated_transaction_profiles.clear();
    let _ = svm.profile_tag_map.clear();
    svm.registered_idls = Box::new(StorageHashMap::<String, Vec<VersionedIdl>>::new());
    svm.executed_transaction_profiles =
        Box::new(StorageFifoMap::<String, KeyedProfileResult>::new(1));
    svm.simulated_transaction_profiles =
        Box::new(StorageFifoMap::<String, KeyedProfileResult>::new(1));
    svm.profile_tag_map = Box::new(StorageFifoMap::<String, Vec<UuidOrSignature>>::new(1));
}
