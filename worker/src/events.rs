//! What the worker tells its operator: one event for each thing it did, as a log line on
//! stderr, or with `--output json` one JSON object per line on stdout, for machines. On a
//! terminal, each job also keeps one live line: units done, settled and paid, and what it
//! waits for.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::io::Write;

/// One thing the worker did or saw. In JSON, `"event"` names the kind.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The worker checked its keys and opened its store.
    Started {
        provider: String,
        worker_key: String,
        network: u64,
        store: String,
        /// Where the built-in workload's products run (`--device`), and why there.
        device: String,
    },
    /// A job named for this provider (or open to it) that the worker will not take.
    Skipped { job: String, reason: String },
    /// The worker accepted an open job.
    Accepted { job: String },
    /// A round of the built-in workload, done and published.
    Round {
        job: String,
        round: u32,
        rounds: u32,
        units: u64,
        /// Milliseconds the round took on its device: on the CPU its CPU time (its wall time on
        /// a GPU-second job), on a GPU the product's upload, run and read-back.
        cpu_ms: u64,
        /// The device the product was computed on: "cpu", or "gpu: <adapter>".
        device: String,
    },
    /// An external command started for a job.
    CommandStarted { job: String, program: String },
    /// An external command ended and its work was metered.
    CommandFinished {
        job: String,
        units: u64,
        wall_ms: u64,
        result_hash: String,
        /// How the units were metered: GPU time from NVML, or wall time times the spec's
        /// devices, and why.
        metered_by: String,
    },
    /// Bytes relayed on a bandwidth job since it began.
    Relayed { job: String, units: u64 },
    /// A bandwidth job's relay listens here.
    Listening { job: String, address: String },
    /// A cumulative receipt was signed and stored.
    Signed {
        job: String,
        units: u64,
        expires_at: i64,
    },
    /// The receipt waits for co-signatures at `path`.
    Awaiting {
        job: String,
        units: u64,
        path: String,
    },
    /// The ledger settled a receipt; `paid` is what the job has paid the provider in all.
    Settled {
        job: String,
        units: u64,
        paid: String,
    },
    /// A submission failed for a reason that may pass; it is tried again.
    Retrying {
        job: String,
        error: String,
        in_secs: u64,
    },
    /// The job is set aside and not worked on again.
    SetAside { job: String, reason: String },
    /// The job was marked done on the ledger.
    Completed {
        job: String,
        units: u64,
        result_hash: String,
    },
    /// Emissions claimed for finished epochs.
    Claimed { epochs: Vec<u64>, amount: String },
    /// Claims are paused on the network; the worker claims again later.
    ClaimsWaiting { reason: String, in_secs: u64 },
    /// A pass failed (the ledger could not be reached); the worker tries again.
    PassFailed { error: String },
    /// The GPU the built-in workload ran on failed; it runs on the CPU from now on.
    DeviceFailed { device: String, error: String },
    /// A test hook paused the worker (tests only: `TESSERA_WORKER_TEST_PAUSE`).
    Paused { at: String },
    /// The worker serves its counters and health here.
    Serving { metrics: String, health: String },
    /// The worker stopped.
    Stopped { reason: String },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Started {
                provider,
                worker_key,
                network,
                store,
                device,
            } => write!(
                f,
                "worker for provider {provider} on network {network}: receipts signed by \
                 {worker_key}, store {store}; built-in workload on {device}"
            ),
            Event::Claimed { epochs, amount } => {
                write!(f, "claimed {amount} for epochs {epochs:?}")
            }
            Event::ClaimsWaiting { reason, in_secs } => {
                write!(f, "claims wait, again in {in_secs} s: {reason}")
            }
            Event::PassFailed { error } => write!(f, "pass failed, trying again: {error}"),
            Event::DeviceFailed { device, error } => write!(
                f,
                "{device} failed ({error}): the built-in workload runs on the CPU from now on; \
                 restart the worker to use the GPU again"
            ),
            Event::Paused { at } => write!(f, "test hook: paused {at}"),
            Event::Serving { metrics, health } => {
                write!(f, "metrics at {metrics}, health at {health}")
            }
            Event::Stopped { reason } => write!(f, "stopped: {reason}"),
            job_event => job_event.fmt_job(f),
        }
    }
}

impl Event {
    /// The line of an event about one job.
    fn fmt_job(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Skipped { job, reason } => write!(f, "job {job}: not taken: {reason}"),
            Event::Accepted { job } => write!(f, "job {job}: accepted"),
            Event::Round {
                job,
                round,
                rounds,
                units,
                cpu_ms,
                device,
            } => write!(
                f,
                "job {job}: round {} of {rounds} done on {device} in {cpu_ms} ms; {units} units \
                 metered",
                round + 1
            ),
            Event::CommandStarted { job, program } => write!(f, "job {job}: running {program}"),
            Event::CommandFinished {
                job,
                units,
                wall_ms,
                result_hash,
                metered_by,
            } => write!(
                f,
                "job {job}: command done in {wall_ms} ms; {units} units metered ({metered_by}), \
                 output {result_hash}"
            ),
            Event::Relayed { job, units } => write!(f, "job {job}: {units} bytes relayed"),
            Event::Listening { job, address } => {
                write!(f, "job {job}: relay listening on {address}")
            }
            Event::Signed {
                job,
                units,
                expires_at,
            } => write!(
                f,
                "job {job}: receipt for {units} units signed (expires at {expires_at})"
            ),
            Event::Awaiting { job, units, path } => write!(
                f,
                "job {job}: receipt for {units} units awaits co-signatures: `tessera receipt \
                 cosign {path}`"
            ),
            Event::Settled { job, units, paid } => {
                write!(f, "job {job}: {units} units settled, {paid} paid in all")
            }
            Event::Retrying {
                job,
                error,
                in_secs,
            } => {
                write!(
                    f,
                    "job {job}: submission failed, again in {in_secs} s: {error}"
                )
            }
            Event::SetAside { job, reason } => write!(f, "job {job}: set aside: {reason}"),
            Event::Completed {
                job,
                units,
                result_hash,
            } => write!(
                f,
                "job {job}: completed, {units} units, result {result_hash}"
            ),
            // The worker's own events, written by `fmt`.
            Event::Started { .. }
            | Event::Claimed { .. }
            | Event::ClaimsWaiting { .. }
            | Event::PassFailed { .. }
            | Event::DeviceFailed { .. }
            | Event::Paused { .. }
            | Event::Serving { .. }
            | Event::Stopped { .. } => Ok(()),
        }
    }
}

/// Where events go.
pub enum Events {
    /// Log lines on stderr.
    Text,
    /// Log lines above one live line per job, on a terminal.
    Live(Live),
    /// JSON lines on this writer (the real stdout).
    Json(Box<dyn Write>),
    /// Log events (`tracing`), for a service's log (`tessera-worker`).
    Log,
}

/// The live lines of a terminal.
pub struct Live {
    lines: MultiProgress,
    jobs: HashMap<String, (ProgressBar, JobLine)>,
}

/// What a job's live line shows.
#[derive(Default)]
struct JobLine {
    units: u64,
    settled: u64,
    paid: String,
    doing: String,
}

impl Live {
    pub fn new() -> Self {
        Self {
            lines: MultiProgress::new(),
            jobs: HashMap::new(),
        }
    }

    fn show(&mut self, event: &Event) {
        let _ = self.lines.println(event.to_string());
        let Some(job) = event.job() else {
            return;
        };
        let (bar, line) = self.jobs.entry(job.to_string()).or_insert_with(|| {
            let bar = self.lines.add(ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            (bar, JobLine::default())
        });
        line.update(event);
        let text = format!(
            "job {}…: {} units done, {} settled, {} paid; {}",
            &job[..job.len().min(8)],
            line.units,
            line.settled,
            if line.paid.is_empty() {
                "nothing"
            } else {
                &line.paid
            },
            line.doing
        );
        match event {
            Event::Completed { .. } | Event::SetAside { .. } => bar.finish_with_message(text),
            _ => bar.set_message(text),
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl JobLine {
    fn update(&mut self, event: &Event) {
        match event {
            Event::Accepted { .. } => self.doing = "accepted".into(),
            Event::Round {
                round,
                rounds,
                units,
                ..
            } => {
                self.units = *units;
                self.doing = format!("round {} of {rounds} done", round + 1);
            }
            Event::Relayed { units, .. } | Event::CommandFinished { units, .. } => {
                self.units = *units
            }
            Event::Listening { address, .. } => self.doing = format!("relaying on {address}"),
            Event::CommandStarted { program, .. } => self.doing = format!("running {program}"),
            Event::Signed { units, .. } => self.doing = format!("receipt for {units} signed"),
            Event::Awaiting { units, .. } => {
                self.doing = format!("receipt for {units} awaits co-signatures")
            }
            Event::Settled { units, paid, .. } => {
                self.settled = *units;
                self.paid = paid.clone();
                self.doing = "settled".into();
            }
            Event::Retrying { in_secs, .. } => {
                self.doing = format!("submission failed, again in {in_secs} s")
            }
            Event::Completed { .. } => self.doing = "completed".into(),
            Event::SetAside { .. } => self.doing = "set aside".into(),
            _ => {}
        }
    }
}

impl Event {
    /// The event's name, as its JSON's `"event"` gives it (`settled`, `set-aside`, ...).
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|json| json["event"].as_str().map(String::from))
            .unwrap_or_default()
    }

    /// The job the event is about, if any.
    fn job(&self) -> Option<&str> {
        match self {
            Event::Accepted { job }
            | Event::Round { job, .. }
            | Event::Relayed { job, .. }
            | Event::Listening { job, .. }
            | Event::CommandStarted { job, .. }
            | Event::CommandFinished { job, .. }
            | Event::Signed { job, .. }
            | Event::Awaiting { job, .. }
            | Event::Settled { job, .. }
            | Event::Retrying { job, .. }
            | Event::SetAside { job, .. }
            | Event::Completed { job, .. } => Some(job),
            _ => None,
        }
    }
}

impl Events {
    /// Reports `event`. A closed output does not stop the worker.
    pub fn emit(&mut self, event: Event) {
        match self {
            Events::Text => eprintln!("{event}"),
            Events::Live(live) => live.show(&event),
            Events::Log => {
                let job = event.job().unwrap_or_default();
                tracing::info!(event = %event.kind(), job, "{event}");
            }
            Events::Json(out) => {
                if let Ok(line) = serde_json::to_string(&event) {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
        }
    }
}
