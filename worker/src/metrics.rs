//! What the worker counts, for Prometheus: with `--metrics ADDR`, `GET /metrics` (the
//! OpenMetrics text format Prometheus scrapes) and `GET /health` on that address. The
//! counters follow the worker's events, so a scrape says what the log said; the jobs by state
//! are the store's, as of the last pass. `/health` is 200 while the ledger answers the worker.

use crate::events::Event;
use crate::store::{JobRecord, JobState};
use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The content type of the OpenMetrics text format.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// The worker's counters, shared with the thread that serves them.
pub struct Metrics {
    registry: Registry,
    events: Family<EventLabel, Counter>,
    units_metered: Counter,
    units_settled: Counter,
    ledger_errors: Counter,
    jobs: Family<StateLabel, Gauge>,
    /// Each job's units metered and settled as last seen (its record, then its events), so
    /// that the counters grow by what is new in this process.
    seen: Mutex<HashMap<String, (u64, u64)>>,
    /// When the ledger last answered the worker.
    last_pass: Mutex<Option<Instant>>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("tessera_worker");
        let events = Family::<EventLabel, Counter>::default();
        registry.register(
            "events",
            "What the worker did, by event (accepted, round, signed, settled, completed, set-aside, claimed, pass-failed, ...)",
            events.clone(),
        );
        let units_metered = Counter::default();
        registry.register(
            "units_metered",
            "Units of work metered by this process (what receipts state)",
            units_metered.clone(),
        );
        let units_settled = Counter::default();
        registry.register(
            "units_settled",
            "Units seen settled on the ledger by this process",
            units_settled.clone(),
        );
        let ledger_errors = Counter::default();
        registry.register(
            "ledger_errors",
            "Passes over the ledger that failed (submissions tried again are events{event=\"retrying\"})",
            ledger_errors.clone(),
        );
        let jobs = Family::<StateLabel, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs in the worker's store, by state (running, completed, set-aside)",
            jobs.clone(),
        );
        Arc::new(Self {
            registry,
            events,
            units_metered,
            units_settled,
            ledger_errors,
            jobs,
            seen: Mutex::new(HashMap::new()),
            last_pass: Mutex::new(None),
        })
    }

    /// Counts `event`.
    pub fn observe(&self, event: &Event) {
        self.events
            .get_or_create(&EventLabel {
                event: event.kind(),
            })
            .inc();
        match event {
            Event::Round { job, units, .. }
            | Event::Relayed { job, units }
            | Event::CommandFinished { job, units, .. } => {
                let new = self.grow(job, *units, |seen| &mut seen.0);
                self.units_metered.inc_by(new);
            }
            Event::Settled { job, units, .. } => {
                let new = self.grow(job, *units, |seen| &mut seen.1);
                self.units_settled.inc_by(new);
            }
            Event::PassFailed { .. } => {
                self.ledger_errors.inc();
            }
            _ => {}
        }
    }

    /// Sets `which` of `job`'s units to `cumulative`; returns by how much it grew.
    fn grow(&self, job: &str, cumulative: u64, which: fn(&mut (u64, u64)) -> &mut u64) -> u64 {
        let mut seen = self.seen.lock().expect("metrics");
        let units = which(seen.entry(job.to_string()).or_default());
        let new = cumulative.saturating_sub(*units);
        *units = (*units).max(cumulative);
        new
    }

    /// The jobs the store held when the worker started: their units so far were metered and
    /// settled before this process, and are not counted again.
    pub fn baseline(&self, jobs: &[([u8; 32], JobRecord)]) {
        let mut seen = self.seen.lock().expect("metrics");
        for (key, record) in jobs {
            let job = anchor_lang::prelude::Pubkey::new_from_array(*key).to_string();
            seen.entry(job)
                .or_insert((record.units_metered, record.units_settled));
        }
    }

    /// Counts the store's jobs by state.
    pub fn count_jobs(&self, jobs: &[([u8; 32], JobRecord)]) {
        let mut by_state: HashMap<&str, i64> =
            [("running", 0), ("completed", 0), ("set-aside", 0)].into();
        for (_, record) in jobs {
            let state = match record.state {
                JobState::Running => "running",
                JobState::Completed => "completed",
                JobState::SetAside { .. } => "set-aside",
            };
            *by_state.entry(state).or_default() += 1;
        }
        for (state, count) in by_state {
            self.jobs
                .get_or_create(&StateLabel {
                    state: state.into(),
                })
                .set(count);
        }
    }

    /// The ledger answered the worker.
    pub fn heard_from_ledger(&self) {
        *self.last_pass.lock().expect("metrics") = Some(Instant::now());
    }

    /// The counters in the OpenMetrics text format.
    pub fn text(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }

    /// Whether the ledger answered the worker recently (within `stale`), and when.
    fn health(&self, stale: Duration) -> (bool, String) {
        match *self.last_pass.lock().expect("metrics") {
            Some(at) if at.elapsed() <= stale => (
                true,
                format!("ok: the ledger answered {} s ago\n", at.elapsed().as_secs()),
            ),
            Some(at) => (
                false,
                format!(
                    "the ledger has not answered for {} s (see the worker's log)\n",
                    at.elapsed().as_secs()
                ),
            ),
            None => (false, "starting: the ledger has not answered yet\n".into()),
        }
    }
}

/// Serves `metrics` on `listen` from a thread of its own until the process ends: `/metrics`,
/// and `/health` (200 while the ledger answered the worker at most `stale` ago, else 503).
/// Returns the address it listens on.
pub fn serve(metrics: Arc<Metrics>, listen: SocketAddr, stale: Duration) -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(listen)
        .with_context(|| format!("cannot listen on --metrics {listen}"))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(scrape))
        .route("/health", get(health))
        .with_state((metrics, stale));
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async move {
                    if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                        let _ = axum::serve(listener, app).await;
                    }
                });
            }
        })?;
    Ok(address)
}

type Shared = (Arc<Metrics>, Duration);

async fn scrape(State((metrics, _)): State<Shared>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, OPENMETRICS)], metrics.text())
}

async fn health(State((metrics, stale)): State<Shared>) -> impl IntoResponse {
    let (healthy, text) = metrics.health(stale);
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, text)
}
