//! `tessera worker …`: the provider's worker, running (`run`) and as its store records it
//! (`status`).

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
pub use tessera_worker::args::RunArgs;
use tessera_worker::store::{self, JobState};

#[derive(Subcommand)]
pub enum WorkerCommand {
    /// Runs --keypair's provider's worker: accepts the jobs named for it (and with
    /// --accept-open, open ones the policy allows), runs the work their spec documents
    /// describe, meters it, signs cumulative receipts, gets them co-signed, settles them,
    /// completes each job, and claims finished epochs' emissions. Ctrl-C or SIGTERM stops it
    /// with its store consistent; run it again and it resumes.
    Run(Box<RunArgs>),
    /// Prints each job's state from the worker's store (no ledger needed; works beside a
    /// running worker).
    Status {
        /// The worker's store (default: worker.redb in --data-dir).
        #[arg(long, env = "TESSERA_WORKER_STORE")]
        store: Option<PathBuf>,
    },
    /// Lists the devices the worker can run the built-in workload on: every GPU adapter wgpu
    /// finds (Vulkan, Metal, DX12), best first, and the CPU; says which `--device auto` takes.
    Devices,
    /// Takes a set-aside job back: the next `worker run` works on it again from where its
    /// record stands. `worker status` says for each set-aside job whether that can help.
    /// Needs the store to itself (stop a running worker first).
    Retry {
        /// The job account.
        job: Pubkey,
        /// The worker's store (default: worker.redb in --data-dir).
        #[arg(long, env = "TESSERA_WORKER_STORE")]
        store: Option<PathBuf>,
    },
}

/// `worker status`: every job in the store at `path`.
pub fn status(path: &Path) -> Result<WorkerStatus> {
    let jobs = store::read_jobs(path)?
        .into_iter()
        .map(|(key, record)| JobStatusView {
            job: Pubkey::new_from_array(key).to_string(),
            state: match &record.state {
                JobState::Running => "running".into(),
                JobState::Completed => "completed".into(),
                JobState::SetAside { .. } => "set-aside".into(),
            },
            retry_helps: match &record.state {
                JobState::SetAside { retry_helps, .. } => Some(*retry_helps),
                _ => None,
            },
            reason: match record.state {
                JobState::SetAside { reason, .. } => Some(reason),
                _ => None,
            },
            rounds_done: record.rounds_done,
            units_metered: record.units_metered,
            measured_ms: record.measured_ms,
            units_settled: record.units_settled,
            pending_units: record.pending.map(|pending| pending.cumulative_units),
            result_hash: hex::encode(record.result_hash),
            device: record.device,
        })
        .collect();
    Ok(WorkerStatus(jobs))
}

/// `worker status`: one line per job.
#[derive(Serialize)]
#[serde(transparent)]
pub struct WorkerStatus(pub Vec<JobStatusView>);

/// A job as the worker's store has it.
#[derive(Serialize)]
pub struct JobStatusView {
    pub job: String,
    /// running, completed or set-aside.
    pub state: String,
    /// Why a job was set aside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a set-aside job: whether `worker retry` can help as things stand (a check that
    /// failed for a while), or only once what refused it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_helps: Option<bool>,
    /// Rounds of the built-in workload done and published.
    pub rounds_done: u32,
    /// Units of the work done: what receipts state.
    pub units_metered: u64,
    /// Milliseconds the work took on this machine, as information.
    pub measured_ms: u64,
    pub units_settled: u64,
    /// Units of the receipt signed and not yet seen settled.
    pub pending_units: Option<u64>,
    pub result_hash: String,
    /// The device the built-in workload's last round ran on ("cpu", or "gpu: <adapter>").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

impl fmt::Display for WorkerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "the worker has taken no job yet");
        }
        let lines: Vec<String> = self
            .0
            .iter()
            .map(|job| {
                let pending = job.pending_units.map_or(String::new(), |units| {
                    format!(", receipt for {units} pending")
                });
                let reason = match (&job.reason, job.retry_helps) {
                    (Some(reason), Some(true)) => {
                        format!(": {reason} (`tessera worker retry {}` may help)", job.job)
                    }
                    (Some(reason), _) => format!(
                        ": {reason} (retrying helps only once that changes: `tessera worker \
                         retry {}`)",
                        job.job
                    ),
                    (None, _) => String::new(),
                };
                let device = job
                    .device
                    .as_ref()
                    .map_or(String::new(), |device| format!(" on {device}"));
                format!(
                    "{} {}{reason}: {} units metered ({} rounds{device}, {} ms here), {} \
                     settled{pending}",
                    job.job,
                    job.state,
                    job.units_metered,
                    job.rounds_done,
                    job.measured_ms,
                    job.units_settled
                )
            })
            .collect();
        write!(f, "{}", lines.join("\n"))
    }
}

/// `worker retry JOB`: the set-aside job is running again in the store.
pub fn retry(store_path: &Path, job: &Pubkey) -> Result<Retried> {
    let store = store::Store::open(store_path)?;
    let record = store.job(&job.to_bytes())?.with_context(|| {
        format!(
            "the worker's store {} has no job {job}: `tessera worker status` lists its jobs",
            store_path.display()
        )
    })?;
    let JobState::SetAside { reason, .. } = record.state else {
        bail!("job {job} is not set aside: nothing to retry");
    };
    store.update::<anyhow::Error>(&job.to_bytes(), |stored| {
        let mut stored = stored.context("the job's record vanished")?;
        stored.state = JobState::Running;
        Ok(stored)
    })?;
    Ok(Retried {
        job: *job,
        was: reason,
    })
}

/// `worker retry`: the job taken back, and why it had been set aside.
#[derive(Serialize)]
pub struct Retried {
    #[serde(serialize_with = "crate::view::as_text")]
    pub job: Pubkey,
    /// Why it had been set aside.
    pub was: String,
}

impl fmt::Display for Retried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "job {} is running again for the next `tessera worker run` (it had been set aside: {})",
            self.job, self.was
        )
    }
}

/// `worker devices`: what the built-in workload can run on.
pub fn devices() -> Devices {
    let adapters = tessera_gpu::adapters();
    let auto = adapters
        .iter()
        .find(|adapter| adapter.kind != tessera_gpu::DeviceKind::Cpu)
        .map_or("cpu".to_string(), |adapter| {
            format!("gpu: {}", adapter.name)
        });
    Devices {
        gpus: adapters
            .into_iter()
            .map(|adapter| DeviceView {
                name: adapter.name,
                kind: adapter.kind.name().into(),
                backend: adapter.backend,
                driver: adapter.driver,
            })
            .collect(),
        cpu_threads: std::thread::available_parallelism().map_or(1, |threads| threads.get()),
        auto,
    }
}

/// `worker devices`: the GPU adapters, the CPU, and `--device auto`'s choice.
#[derive(Serialize)]
pub struct Devices {
    /// Every adapter wgpu finds, best first.
    pub gpus: Vec<DeviceView>,
    /// Threads the CPU offers this process (the built-in workload uses one).
    pub cpu_threads: usize,
    /// What `--device auto` runs on: the first hardware adapter, else the CPU.
    pub auto: String,
}

/// One GPU adapter.
#[derive(Serialize)]
pub struct DeviceView {
    pub name: String,
    /// discrete GPU, integrated GPU, virtual GPU, CPU (software Vulkan) or other.
    pub kind: String,
    /// vulkan, metal or dx12.
    pub backend: String,
    pub driver: String,
}

impl fmt::Display for Devices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.gpus.is_empty() {
            writeln!(
                f,
                "no GPU adapter (Vulkan, Metal or DX12); for Vulkan on the CPU install Mesa's \
                 lavapipe (scripts/lavapipe on Debian)"
            )?;
        }
        for gpu in &self.gpus {
            writeln!(
                f,
                "gpu: {} ({}, {}, driver {})",
                gpu.name, gpu.kind, gpu.backend, gpu.driver
            )?;
        }
        writeln!(f, "cpu: {} threads", self.cpu_threads)?;
        write!(f, "--device auto runs on: {}", self.auto)
    }
}
