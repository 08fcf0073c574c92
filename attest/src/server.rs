//! `tessera attest serve`: an attestor's (or a client's) co-signing service over HTTP. It
//! reviews each receipt against the ledger and its evidence before it signs, with its own key
//! (per-key sets, clients) or as a member of a FROST group (two rounds). It also takes part in
//! a distributed key generation, which writes its share to disk (mode 0600). The key never
//! leaves the process.
//!
//! Before a request reaches its route it passes the [`Gate`] and [`guard`]: connections are
//! capped, headers and bodies must arrive in time, a body is read within its size limit and
//! the memory the gate allows, the caller is held to its rates, and the request's signature
//! (`tessera-key`, `tessera-signature`) names who sent it. Co-signing requests must be sent
//! by the receipt's worker key; key generations by the coordinator the service was started
//! with and the members that coordinator named.

use crate::far_end::FarEnd;
use crate::gate::{Gate, Limits, Turned};
use crate::group::{self, DkgMember, ShareFile, SigningNonces};
use crate::http;
use crate::metrics::{Metrics, Route, OPENMETRICS};
use crate::review::{self, Attesting, Refused, Sampling, Subject, Work};
use crate::wire::*;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tessera::state::{Job, Network, Provider, UnitKind};
use tessera_client::receipt::{ReceiptFile, SignedReceipt};
use tessera_work::spec::Workload;

/// Largest request body: a receipt and its evidence.
pub const MAX_BODY_BYTES: usize = MAX_REQUEST_BYTES;
/// Longest the service waits for another service it sends a key generation's package to.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Evidence checks that run at once (one per core of the runtime's two).
const EVIDENCE_CHECKS: usize = 2;
/// Longest wait for the ledger when asked for `/health`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long round-one nonces wait for round two.
const SESSION_LIFETIME: Duration = Duration::from_secs(120);

/// Who the service signs as.
pub enum Identity {
    /// Its own ed25519 key.
    Key(Keypair),
    /// A member of a group; `None` until a DKG writes the share to `path`.
    Group {
        share: Option<Box<ShareFile>>,
        path: PathBuf,
    },
}

/// What `serve` needs.
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub identity: Identity,
    /// The network the service attests for.
    pub network: Pubkey,
    /// JSON-RPC of the ledger it reads.
    pub rpc_url: String,
    /// Run by a client for its own jobs: it co-signs only jobs this key funded, and on the
    /// client's own word, within its clock, where a workload has no evidence to check.
    pub client: Option<Pubkey>,
    /// The client trusts its providers: signs without evidence, past the clock's bound.
    pub trust_provider: bool,
    /// How many of a request's new rounds it checks with Freivalds' test.
    pub sampling: Sampling,
    /// Where the client's jobs' spec documents are (to read an external command's devices and
    /// a bandwidth job's relay target).
    pub specs: PathBuf,
    /// A client's far end for its bandwidth jobs: the relay target it listens on and counts
    /// bytes at.
    pub far_end: Option<SocketAddr>,
    /// Where to serve `/metrics` and `/health`, apart from the service's own port.
    pub metrics: Option<SocketAddr>,
    /// Who may start a key generation that this (group-mode) service takes part in.
    pub dkg_coordinator: Option<Pubkey>,
    /// Connections, rates, timeouts and bodies' memory.
    pub limits: Limits,
    /// `--tls-cert` and `--tls-key`: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// Where a started service listens.
pub struct Listening {
    pub service: SocketAddr,
    /// Its bandwidth far end's address.
    pub far_end: Option<SocketAddr>,
    /// Its `/metrics` and `/health`.
    pub metrics: Option<SocketAddr>,
}

struct Service {
    identity: Mutex<Identity>,
    network: Pubkey,
    client: Option<Pubkey>,
    trust_provider: bool,
    sampling: Sampling,
    specs: PathBuf,
    far_end: Option<FarEnd>,
    /// Bytes this service has signed for, per bandwidth job: the far end's count is shared by
    /// the client's jobs to it, and what one was signed for is no other's.
    bytes_signed: Mutex<HashMap<Pubkey, u64>>,
    /// With sampling, subjects whose evidence once held a wrong product: nothing more of theirs
    /// is signed, so a sampled review cannot be beaten by asking again for a new draw.
    caught: Mutex<std::collections::HashSet<Pubkey>>,
    rpc: RpcClient,
    http: reqwest::Client,
    sessions: Mutex<HashMap<String, Signing>>,
    dkg: Mutex<Option<Dkg>>,
    /// Who may start a key generation, and the key this service signs its round-two
    /// packages with (made when it starts; its peers learn it from the coordinator).
    dkg_coordinator: Option<Pubkey>,
    dkg_key: Keypair,
    gate: Arc<Gate>,
    /// Places for evidence checks running at once.
    checks: Arc<tokio::sync::Semaphore>,
    metrics: Metrics,
}

/// Who sent a request: its address, and the key that signed it (checked by [`guard`]).
#[derive(Clone, Copy, Debug)]
struct Caller {
    address: IpAddr,
    signer: Option<Pubkey>,
}

/// A group signature this service committed to: its nonces (used once), the receipt bytes it
/// reviewed, who asked, and when.
struct Signing {
    nonces: SigningNonces,
    message: Vec<u8>,
    worker: Pubkey,
    at: Instant,
}

/// A key generation in progress.
struct Dkg {
    session: String,
    index: u16,
    peers: BTreeMap<u16, Peer>,
    member: DkgMember,
    received: BTreeMap<u16, group::dkg_round2::Package>,
}

type Answer<T> = Result<Json<T>, Reject>;

/// A refusal as an HTTP answer: its status, and a [`Refusal`] body saying why.
struct Reject(StatusCode, String);

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        (self.0, Json(Refusal { reason: self.1 })).into_response()
    }
}

impl From<Refused> for Reject {
    fn from(refusal: Refused) -> Self {
        Reject(
            StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            refusal.reason,
        )
    }
}

fn refused<T>(status: u16, reason: impl Into<String>) -> Answer<T> {
    Err(Refused {
        status,
        reason: reason.into(),
    }
    .into())
}

/// Serves until the process is stopped; `ready` is told where it listens.
pub fn serve(config: ServeConfig, ready: impl FnOnce(Listening)) -> Result<()> {
    let tls = match &config.tls {
        Some((cert, key)) => Some(http::tls(cert, key)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let far_end = match config.far_end {
            Some(address) => Some(
                FarEnd::start(address)
                    .await
                    .with_context(|| format!("cannot listen on {address} as the far end"))?,
            ),
            None => None,
        };
        let metrics_listener = match config.metrics {
            Some(address) => Some(
                tokio::net::TcpListener::bind(address)
                    .await
                    .with_context(|| format!("cannot listen on --metrics {address}"))?,
            ),
            None => None,
        };
        ready(Listening {
            service: listener.local_addr()?,
            far_end: far_end.as_ref().map(|far_end| far_end.address),
            metrics: match &metrics_listener {
                Some(listener) => Some(listener.local_addr()?),
                None => None,
            },
        });
        let service = Arc::new(Service {
            identity: Mutex::new(config.identity),
            network: config.network,
            client: config.client,
            trust_provider: config.trust_provider,
            sampling: config.sampling,
            specs: config.specs,
            far_end,
            bytes_signed: Mutex::new(HashMap::new()),
            caught: Mutex::new(std::collections::HashSet::new()),
            rpc: RpcClient::new(config.rpc_url),
            http: reqwest::Client::builder().timeout(SEND_TIMEOUT).build()?,
            sessions: Mutex::new(HashMap::new()),
            dkg: Mutex::new(None),
            dkg_coordinator: config.dkg_coordinator,
            dkg_key: Keypair::new(),
            gate: Gate::new(config.limits),
            checks: Arc::new(tokio::sync::Semaphore::new(EVIDENCE_CHECKS)),
            metrics: Metrics::default(),
        });
        if let Some(listener) = metrics_listener {
            let app = watch_routes(service.clone());
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        let gate = service.gate.clone();
        let app = routes(service);
        let stop = async {
            while !tessera_ledger::signals::stop_requested() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        http::serve(listener, app, gate, tls, stop).await;
        Ok(())
    })
}

/// The service's routes: what workers, coordinators and key generation ask, each timed.
fn routes(service: Arc<Service>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/cosign", post(cosign))
        .route("/v1/group/commit", post(commit))
        .route("/v1/group/sign", post(sign))
        .route("/v1/dkg/start", post(dkg_start))
        .route("/v1/dkg/round1", post(dkg_round1))
        .route("/v1/dkg/round2", post(dkg_round2))
        .route("/v1/dkg/finish", post(dkg_finish))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(service.clone(), guard))
        .layer(middleware::from_fn_with_state(service.clone(), timed))
        .with_state(service)
}

/// What an operator watches, on `--metrics`: `/metrics` and `/health`.
fn watch_routes(service: Arc<Service>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/health", get(health))
        .with_state(service)
}

impl Service {
    /// Runs `use_share` with the service's group share; refuses when it holds none.
    fn with_share<T>(
        &self,
        use_share: impl FnOnce(&ShareFile) -> Result<T, Reject>,
    ) -> Result<T, Reject> {
        let identity = self.identity.lock().expect("identity");
        let Identity::Group {
            share: Some(share), ..
        } = &*identity
        else {
            return Err(Reject(
                StatusCode::CONFLICT,
                "this service holds no group share".into(),
            ));
        };
        use_share(share)
    }

    async fn account<T: AccountDeserialize + Discriminator>(
        &self,
        address: &Pubkey,
        what: &str,
    ) -> Result<T, Refused> {
        let unreachable = |error: String| Refused {
            status: 503,
            reason: format!("cannot read the ledger: {error}"),
        };
        let missing = || Refused {
            status: 404,
            reason: format!("no {what} at {address} on the ledger"),
        };
        let account = self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .await
            .map_err(|error| {
                self.metrics.ledger_errors.inc();
                tracing::warn!(%error, "cannot read the ledger");
                unreachable(error.to_string())
            })?
            .value
            .ok_or_else(missing)?;
        if account.owner != tessera_client::program_id() {
            return Err(missing());
        }
        T::try_deserialize(&mut account.data.as_slice()).map_err(|_| missing())
    }

    /// Reviews the co-signing request `body` from `caller` (see [`Service::review`]) and logs
    /// the outcome; the receipt and its worker key.
    async fn reviewed(
        &self,
        caller: &Caller,
        body: &[u8],
    ) -> Result<(SignedReceipt, Pubkey), Reject> {
        let outcome = self.review(caller, body).await;
        match &outcome {
            Ok((signed, _)) => tracing::info!(
                subject = %signed.receipt.subject,
                units = signed.receipt.cumulative_units,
                "receipt reviewed: signing"
            ),
            Err(Reject(status, reason)) => tracing::info!(
                status = status.as_u16(),
                reason = %reason,
                "receipt refused"
            ),
        }
        outcome
    }

    /// Reviews a co-signing request in the order that costs a stranger most and the service
    /// least: the receipt alone is read first (its evidence skipped), the request must be
    /// signed by its worker key, and the receipt must hold on the ledger (its provider's
    /// registered worker key among it); only then is the evidence read and checked.
    async fn review(
        &self,
        caller: &Caller,
        body: &[u8],
    ) -> Result<(SignedReceipt, Pubkey), Reject> {
        let not_a_request = |error: serde_json::Error| {
            Reject(
                StatusCode::BAD_REQUEST,
                format!("not a co-signing request: {error}"),
            )
        };
        let head: Head = serde_json::from_slice(body).map_err(not_a_request)?;
        let (signed, worker) = sent_by_worker(caller, &head.receipt)?;
        let (provider, job) = self.review_on_ledger(&signed).await?;
        let request: CosignRequest = serde_json::from_slice(body).map_err(not_a_request)?;
        self.review_work(&signed, &request, &provider, job.as_ref())
            .await?;
        Ok((signed, worker))
    }

    /// The work of a receipt that held on the ledger: its evidence, or for a client's service
    /// what the client's own word, clock or far end allow.
    async fn review_work(
        &self,
        signed: &SignedReceipt,
        request: &CosignRequest,
        provider: &Provider,
        job: Option<&Job>,
    ) -> Result<(), Refused> {
        if let (Some(job), Some(_)) = (job, self.client) {
            if self.trust_provider {
                // The client said it trusts its providers: the review on the ledger is all.
                return Ok(());
            }
            if job.unit_kind == UnitKind::Bytes {
                return self.bytes_received(signed, job).await;
            }
            if let Evidence::None = request.evidence {
                return self.on_clients_word(signed, job);
            }
        }
        self.check_evidence(signed, &request.evidence, provider, job)
            .await
    }

    /// The receipt against the ledger: the network it binds, its provider, and its job (or,
    /// for a service receipt, the provider's service). Returns the provider and the job.
    async fn review_on_ledger(
        &self,
        signed: &SignedReceipt,
    ) -> Result<(Provider, Option<Job>), Refused> {
        let r = &signed.receipt;
        let network: Network = self.account(&self.network, "network").await?;
        let on = Attesting {
            address: self.network,
            network: &network,
        };
        review::check_binding(signed, &on)?;
        let provider: Provider = self.account(&r.provider, "provider").await?;
        if r.subject == r.provider {
            if self.client.is_some() {
                return Err(Refused {
                    status: 403,
                    reason: "a client's service co-signs its jobs, not service receipts".into(),
                });
            }
            let subject = Subject::Service {
                provider: &provider,
            };
            review::review(signed, &on, &subject)?;
            return Ok((provider, None));
        }
        let job: Job = self.account(&r.subject, "job").await?;
        if let Some(me) = self.client.filter(|me| *me != job.client) {
            return Err(Refused {
                status: 403,
                reason: format!(
                    "job {} is client {}'s; this service co-signs only client {me}'s jobs",
                    r.subject, job.client
                ),
            });
        }
        let subject = Subject::Job {
            job: &job,
            provider: &provider,
        };
        review::review(signed, &on, &subject)?;
        Ok((provider, Some(job)))
    }

    /// The receipt's evidence (the rounds of the built-in workload), checked on a blocking
    /// thread. A subject whose evidence held a wrong product, found by sampling, is refused
    /// from then on.
    async fn check_evidence(
        &self,
        signed: &SignedReceipt,
        evidence: &Evidence,
        provider: &Provider,
        job: Option<&Job>,
    ) -> Result<(), Refused> {
        let r = &signed.receipt;
        let subject = r.subject;
        if self.caught.lock().expect("caught").contains(&subject) {
            return Err(Refused {
                status: 422,
                reason: format!(
                    "{subject}'s evidence held a wrong product before: this service vouches for \
                     nothing more of it"
                ),
            });
        }
        let checked = signed.clone();
        let evidence = evidence.clone();
        let sampling = self.sampling;
        let (provider_key, registration_nonce, recorded_units) =
            (r.provider, provider.nonce, provider.service_units);
        let job_terms = job.map(|job| (job.spec_hash, r.subject, job.nonce, job.settled_units));
        // Checks run one per core: a check outlives a request that timed out, and holds its
        // evidence while it runs.
        let Ok(place) = self.checks.clone().acquire_owned().await else {
            return Err(Refused {
                status: 503,
                reason: "the service is stopping".into(),
            });
        };
        tokio::task::spawn_blocking(move || {
            let _place = place;
            let work = match &job_terms {
                Some((spec_hash, address, nonce, settled_units)) => Work::Job {
                    spec_hash,
                    job: address,
                    nonce: *nonce,
                    settled_units: *settled_units,
                },
                None => Work::Service {
                    provider: &provider_key,
                    registration_nonce,
                    recorded_units,
                },
            };
            review::check_evidence(
                &checked,
                &evidence,
                &work,
                sampling,
                &mut rand::thread_rng(),
            )
        })
        .await
        .map_err(|_| Refused {
            status: 500,
            reason: "the evidence check failed".into(),
        })?
        .inspect_err(|refusal| {
            // Checking every round, asking again cannot pass a wrong one; sampling, it could.
            if sampling != Sampling::Every && refusal.reason.contains("is not the product") {
                self.caught.lock().expect("caught").insert(subject);
            }
        })?;
        Ok(())
    }

    /// A client's service, asked to sign a bandwidth receipt of its job: only when it runs the
    /// job's far end (its relay target), and for at most the bytes that arrived there, less
    /// what the client's other jobs with the same far end have settled.
    async fn bytes_received(&self, signed: &SignedReceipt, job: &Job) -> Result<(), Refused> {
        let refuse = |reason: String| Refused {
            status: 422,
            reason,
        };
        let Some(far_end) = &self.far_end else {
            return Err(refuse(
                "a bandwidth job's bytes are signed only by its client's service running the \
                 job's far end (--far-end, the relay target), which counts what arrives, or \
                 trusting its provider (--trust-provider)"
                    .into(),
            ));
        };
        let target = self.relay_target(job).map_err(refuse)?;
        if target != far_end.address {
            return Err(refuse(format!(
                "the job relays to {target}; this service's far end is {}",
                far_end.address
            )));
        }
        let subject = signed.receipt.subject;
        let listed = self.jobs_of(job.client).await?;
        let received = far_end.received();
        // Under the lock from here to the record, so two requests cannot both take the bytes.
        let mut bytes_signed = self.bytes_signed.lock().expect("bytes signed");
        let mut claimed: HashMap<Pubkey, u64> = bytes_signed.clone();
        for (address, other) in listed {
            let same_end = self.relay_target(&other).ok() == Some(far_end.address);
            if other.unit_kind == UnitKind::Bytes && same_end {
                let taken = claimed.entry(address).or_insert(0);
                *taken = (*taken).max(other.settled_units);
            }
        }
        let others = claimed
            .iter()
            .filter(|(address, _)| **address != subject)
            .fold(0u64, |sum, (_, bytes)| sum.saturating_add(*bytes));
        let allowed = received.saturating_sub(others);
        let stated = signed.receipt.cumulative_units;
        if stated > allowed {
            return Err(refuse(format!(
                "the receipt states {stated} bytes, but {received} arrived at the far end {} \
                 since this service started ({others} of them signed for or settled by other \
                 jobs): at most {allowed}",
                far_end.address
            )));
        }
        let signed_for = bytes_signed.entry(subject).or_insert(0);
        *signed_for = (*signed_for).max(stated);
        Ok(())
    }

    /// The relay target of a bandwidth job, from its spec document in --specs.
    fn relay_target(&self, job: &Job) -> Result<SocketAddr, String> {
        let spec = tessera_work::publish::load_spec(&self.specs, &job.spec_hash)
            .map_err(|error| format!("cannot read the job's spec: {error}"))?;
        let Workload::Relay { target } = spec.workload else {
            return Err("the job's spec is not a relay".into());
        };
        target
            .parse()
            .map_err(|_| format!("the job's relay target {target:?} is not an address"))
    }

    /// Every job `client` funded on this service's network, as the ledger has them.
    async fn jobs_of(&self, client: Pubkey) -> Result<Vec<(Pubkey, Job)>, Refused> {
        let fields = tessera_client::filters::jobs_of_client(self.network, client);
        let config = tessera_ledger::program_accounts_config(
            tessera_ledger::type_filters::<Job>(&fields),
            self.rpc.commitment(),
        );
        let accounts = self
            .rpc
            .get_program_ui_accounts_with_config(&tessera_client::program_id(), config)
            .await
            .map_err(|error| Refused {
                status: 503,
                reason: format!("cannot read the ledger: {error}"),
            })?;
        Ok(accounts
            .into_iter()
            .filter_map(|(address, account)| {
                let data = account.data.decode()?;
                Some((address, Job::try_deserialize(&mut data.as_slice()).ok()?))
            })
            .collect())
    }

    /// A client's service, asked to sign a receipt of its job without evidence: only for an
    /// external command (a workload with no evidence to give), and at most the device-time its
    /// own clock has seen since the job was accepted.
    fn on_clients_word(&self, signed: &SignedReceipt, job: &Job) -> Result<(), Refused> {
        let refuse = |reason: String| Refused {
            status: 422,
            reason,
        };
        let spec =
            tessera_work::publish::load_spec(&self.specs, &job.spec_hash).map_err(|error| {
                refuse(format!(
                    "no evidence, and this service cannot read the job's spec to know its \
                     workload ({error}): pass --specs, or --trust-provider to sign on the \
                     provider's word"
                ))
            })?;
        let Workload::Command { devices, .. } = spec.workload else {
            return Err(refuse(
                "no evidence: the job's workload has some to give (the built-in workload's \
                 products); a bandwidth job's bytes are signed only with --trust-provider"
                    .into(),
            ));
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() as i64);
        // Ledger times are whole seconds: the second in progress counts, as the worker rounds
        // a run's device-time up once.
        let elapsed = now.saturating_sub(job.accepted_at).max(0) as u64 + 1;
        let allowed = elapsed.saturating_mul(devices as u64);
        let stated = signed.receipt.cumulative_units;
        if stated > allowed {
            return Err(refuse(format!(
                "the receipt states {stated} units, but the job was accepted {elapsed} s ago \
                 (counting the second in progress), on {devices} devices: at most {allowed} \
                 (--trust-provider signs past this bound)"
            )));
        }
        Ok(())
    }
}

/// The FROST identifier of member `index`.
fn member(index: u16) -> Result<group::Identifier, Reject> {
    group::identifier(index)
        .map_err(|error| Reject(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()))
}

/// Everything a request passes before its route ([`admitted`]), then the route, all within
/// the request timeout; the caller rides along as a [`Caller`].
async fn guard(
    State(service): State<Arc<Service>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let timeout = service.gate.limits.request_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let post = parts.method == axum::http::Method::POST;
    let (bytes, held, signer) = match admitted(
        &service,
        peer.ip(),
        (&parts.headers, &path, post),
        body,
        deadline,
    )
    .await
    {
        Ok(admitted) => admitted,
        Err(Turned(status, reason)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            if matches!(path.as_str(), "/v1/cosign" | "/v1/group/commit") {
                service.metrics.answered(Some(status));
            }
            return Reject(status, reason).into_response();
        }
    };
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(Caller {
        address: peer.ip(),
        signer,
    });
    let response = match tokio::time::timeout_at(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Reject(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} s", timeout.as_secs()),
        )
        .into_response(),
    };
    drop(held);
    response
}

/// Largest body of a request other than a co-signing one (round two of a group signature, a
/// key generation's messages).
const SMALL_BODY_BYTES: usize = 1024 * 1024;

/// What a request must pass before its route, cheapest first: its size (a too-large
/// `Content-Length` is refused before anything is read), its signature headers (a `POST`
/// without them, signed too long ago, or by a key its route does not take, is refused before
/// its body is read), its caller's rates, its body (read by `deadline` within the gate's
/// memory), and then its signature, taken once. The body, the memory it holds, and its signer.
async fn admitted(
    service: &Service,
    address: IpAddr,
    (headers, path, post): (&HeaderMap, &str, bool),
    body: Body,
    deadline: tokio::time::Instant,
) -> Result<(Vec<u8>, crate::gate::Held, Option<Pubkey>), Turned> {
    let limit = match path {
        "/v1/cosign" | "/v1/group/commit" => MAX_BODY_BYTES,
        _ => SMALL_BODY_BYTES,
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(http::too_large(limit));
    }
    let signature = signature_headers(headers, post)?;
    if let Some(signature) = &signature {
        service.takes_signer(path, &signature.signer)?;
    }
    service.gate.admit(address)?;
    let read = http::read_body(body, &service.gate, address, limit);
    let (bytes, held) = tokio::time::timeout_at(deadline, read)
        .await
        .map_err(|_| {
            Turned(
                408,
                format!(
                    "the request's body did not arrive within {} s",
                    service.gate.limits.request_timeout.as_secs()
                ),
            )
        })??;
    let Some(signature) = signature else {
        return Ok((bytes, held, None));
    };
    signature
        .verify(path, &bytes)
        .map_err(|reason| Turned(401, reason))?;
    service.gate.first_use(&signature.bytes, signature.secs)?;
    Ok((bytes, held, Some(signature.signer)))
}

/// A request's signature headers, read and within their time; `None` for a request other than
/// a `POST` that carries none.
fn signature_headers(headers: &HeaderMap, post: bool) -> Result<Option<RequestSignature>, Turned> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    match (
        header(KEY_HEADER),
        header(TIME_HEADER),
        header(SIGNATURE_HEADER),
    ) {
        (None, None, None) if !post => Ok(None),
        (Some(key), Some(time), Some(signature)) => {
            let signed = Signed {
                key,
                time,
                signature,
            };
            RequestSignature::read(signed, unix_now())
                .map(Some)
                .map_err(|reason| Turned(401, reason))
        }
        _ => Err(Turned(401, SIGN_THE_REQUEST.into())),
    }
}

/// What an unsigned request is told.
const SIGN_THE_REQUEST: &str = "sign the request: headers tessera-key, tessera-time and \
                                tessera-signature (tessera_attest::wire::signed_headers)";

impl Service {
    /// Refuses, before its body is read, a key generation's request signed by a key other than
    /// the one its route takes: the coordinator's, or for round two a member's of the
    /// generation in progress. (Co-signing requests name their worker in their body.)
    fn takes_signer(&self, path: &str, signer: &Pubkey) -> Result<(), Turned> {
        let turned = |Reject(status, reason)| Turned(status.as_u16(), reason);
        match path {
            "/v1/dkg/start" | "/v1/dkg/round1" | "/v1/dkg/finish" => {
                let coordinator = self.coordinator().map_err(turned)?;
                let who = "the key generation's coordinator";
                signed_by(Some(*signer), &coordinator, who).map_err(turned)
            }
            "/v1/dkg/round2" => {
                let dkg = self.dkg.lock().expect("dkg");
                let signer_text = signer.to_string();
                let member = dkg
                    .as_ref()
                    .is_some_and(|dkg| dkg.peers.values().any(|peer| peer.key == signer_text));
                if member {
                    return Ok(());
                }
                Err(Turned(
                    403,
                    format!("{signer} is no member of a key generation this service takes part in"),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Refuses a request not signed by `expected`, saying who should sign it.
fn signed_by(signer: Option<Pubkey>, expected: &Pubkey, who: &str) -> Result<(), Reject> {
    match signer {
        Some(signer) if signer == *expected => Ok(()),
        Some(signer) => Err(Reject(
            StatusCode::FORBIDDEN,
            format!("the request is signed by {signer}; this takes {who}'s ({expected}) only"),
        )),
        None => Err(Reject(
            StatusCode::UNAUTHORIZED,
            format!("as {who} ({expected}), {SIGN_THE_REQUEST}"),
        )),
    }
}

/// The receipt a co-signing request carries, and the worker key that signed it, when the
/// request is signed by that key too: a request stands for its worker, so no one else can send
/// the worker's receipt with evidence of their own.
fn sent_by_worker(
    caller: &Caller,
    receipt: &ReceiptFile,
) -> Result<(SignedReceipt, Pubkey), Reject> {
    let signed = receipt
        .to_signed()
        .map_err(|error| Reject(StatusCode::BAD_REQUEST, format!("not a receipt: {error}")))?;
    let Some((worker, _)) = signed.signatures.first() else {
        return Err(Reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the receipt carries no worker signature".into(),
        ));
    };
    let worker = *worker;
    signed_by(caller.signer, &worker, "the receipt's worker key")?;
    // Its signatures hold before the ledger is read for it.
    signed.verify().map_err(|error| {
        Reject(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the receipt's signatures do not verify: {error}"),
        )
    })?;
    Ok((signed, worker))
}

/// A co-signing request's receipt, its evidence skipped (not kept, whatever its size).
#[derive(serde::Deserialize)]
struct Head {
    receipt: ReceiptFile,
    #[serde(default, rename = "evidence")]
    _evidence: serde::de::IgnoredAny,
}

async fn info(State(service): State<Arc<Service>>) -> Answer<Info> {
    let identity = service.identity.lock().expect("identity");
    let (mode, key, public_key_package) = match &*identity {
        Identity::Key(keypair) => ("key", keypair.pubkey().to_string(), None),
        Identity::Group { share, .. } => (
            "group",
            share
                .as_ref()
                .map(|share| share.group_key.clone())
                .unwrap_or_default(),
            share.as_ref().map(|share| share.public_key_package.clone()),
        ),
    };
    let dkg_key = (mode == "group" && service.dkg_coordinator.is_some())
        .then(|| service.dkg_key.pubkey().to_string());
    Ok(Json(Info {
        mode: mode.into(),
        key,
        network: service.network.to_string(),
        public_key_package,
        dkg_key,
    }))
}

async fn cosign(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    body: axum::body::Bytes,
) -> Answer<Cosigned> {
    let answer: Answer<Cosigned> = async {
        let (signed, _) = service.reviewed(&caller, &body).await?;
        service.gate.know(caller.address);
        let identity = service.identity.lock().expect("identity");
        let Identity::Key(keypair) = &*identity else {
            return refused(
                409,
                "this service signs as a group member: use /v1/group/commit",
            );
        };
        let signature = keypair.sign_message(&signed.receipt.to_bytes());
        Ok(Json(Cosigned {
            key: keypair.pubkey().to_string(),
            signature: hex::encode(signature.as_ref()),
        }))
    }
    .await;
    service
        .metrics
        .answered(answer.as_ref().err().map(|reject| reject.0));
    answer
}

async fn commit(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    body: axum::body::Bytes,
) -> Answer<Committed> {
    let answer: Answer<Committed> = async {
        let (signed, worker) = service.reviewed(&caller, &body).await?;
        service.gate.know(caller.address);
        let (nonces, commitments, identifier) = service.with_share(|share| {
            let (nonces, commitments) = group::commit(share);
            Ok((nonces, commitments, share.identifier()))
        })?;
        let session = crate::wire::new_session();
        let mut sessions = service.sessions.lock().expect("sessions");
        sessions.retain(|_, signing| signing.at.elapsed() < SESSION_LIFETIME);
        sessions.insert(
            session.clone(),
            Signing {
                nonces,
                message: signed.receipt.to_bytes().to_vec(),
                worker,
                at: Instant::now(),
            },
        );
        Ok(Json(Committed {
            session,
            identifier,
            commitments,
        }))
    }
    .await;
    service
        .metrics
        .answered(answer.as_ref().err().map(|reject| reject.0));
    answer
}

async fn sign(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<SignRequest>,
) -> Answer<Shared> {
    {
        // Nonces are used once: taken out whatever happens next, by the worker that asked for
        // them (a stranger's request leaves them where they are).
        let taken = {
            let mut sessions = service.sessions.lock().expect("sessions");
            match sessions.get(&request.session) {
                None => None,
                Some(signing) => {
                    signed_by(
                        caller.signer,
                        &signing.worker,
                        "the worker that asked for round one",
                    )?;
                    sessions.remove(&request.session)
                }
            }
        };
        let Some(Signing {
            nonces, message, ..
        }) = taken
        else {
            return refused(404, "no such signing session (expired, or already signed)");
        };
        if request.package.message() != message.as_slice() {
            return refused(
                422,
                "the package is not for the receipt this service reviewed",
            );
        }
        let shared =
            service.with_share(
                |share| match group::sign(share, &nonces, &request.package) {
                    Ok(partial) => Ok(Shared {
                        identifier: share.identifier(),
                        share: partial,
                    }),
                    Err(error) => Err(Reject(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())),
                },
            )?;
        Ok(Json(shared))
    }
}

impl Service {
    /// The key generations' coordinator, when the operator named one.
    fn coordinator(&self) -> Result<Pubkey, Reject> {
        self.dkg_coordinator.ok_or_else(|| {
            Reject(
                StatusCode::FORBIDDEN,
                "this service takes part in no key generation: its operator names the \
                 coordinator with --dkg-coordinator KEY"
                    .into(),
            )
        })
    }

    /// Refuses `caller` unless it signed as the coordinator; remembers it as known if so.
    fn sent_by_coordinator(&self, caller: &Caller) -> Result<(), Reject> {
        let coordinator = self.coordinator()?;
        signed_by(
            caller.signer,
            &coordinator,
            "the key generation's coordinator",
        )?;
        self.gate.know(caller.address);
        Ok(())
    }
}

/// The key generation `session` in progress in `dkg`, or a 404.
fn generation<'a>(dkg: &'a mut Option<Dkg>, session: &str) -> Result<&'a mut Dkg, Reject> {
    dkg.as_mut()
        .filter(|dkg| dkg.session == session)
        .ok_or_else(|| Reject(StatusCode::NOT_FOUND, "no such key generation".into()))
}

async fn dkg_start(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<DkgStart>,
) -> Answer<DkgStarted> {
    service.sent_by_coordinator(&caller)?;
    match &*service.identity.lock().expect("identity") {
        Identity::Group {
            share: Some(_),
            path,
        } => {
            return refused(
                409,
                format!(
                    "this service already holds a share ({}): to join another group, its \
                     operator starts it with another --share file",
                    path.display()
                ),
            )
        }
        Identity::Key(_) => {
            return refused(
                409,
                "this service signs with its own key, not as a group member",
            )
        }
        Identity::Group { share: None, .. } => {}
    }
    let me = service.dkg_key.pubkey().to_string();
    if request.peers.get(&request.index).map(|peer| &peer.key) != Some(&me) {
        return refused(
            422,
            format!(
                "the start names this service member {} under another key: its key for key \
                 generations is {me} (its /v1/info says so)",
                request.index
            ),
        );
    }
    let members = request.peers.len() as u16;
    let started = group::identifier(request.index)
        .and_then(|id| DkgMember::start(id, members, request.threshold));
    let (member, package) = match started {
        Ok(started) => started,
        Err(error) => return refused(422, error.to_string()),
    };
    // The coordinator alone may start one, so it alone replaces one in progress.
    *service.dkg.lock().expect("dkg") = Some(Dkg {
        session: request.session,
        index: request.index,
        peers: request.peers,
        member,
        received: BTreeMap::new(),
    });
    Ok(Json(DkgStarted { package }))
}

async fn dkg_round1(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<DkgRound1>,
) -> Answer<serde_json::Value> {
    service.sent_by_coordinator(&caller)?;
    let (outgoing, index, session) = {
        let mut dkg = service.dkg.lock().expect("dkg");
        let dkg = generation(&mut dkg, &request.session)?;
        let mut others = BTreeMap::new();
        for (index, package) in request.packages {
            if index != dkg.index {
                others.insert(member(index)?, package);
            }
        }
        let outgoing = match dkg.member.round2(others) {
            Ok(outgoing) => outgoing,
            Err(error) => return refused(422, error.to_string()),
        };
        let by_index: Vec<(String, group::dkg_round2::Package)> = dkg
            .peers
            .iter()
            .filter_map(|(index, peer)| {
                let id = group::identifier(*index).ok()?;
                Some((peer.url.clone(), outgoing.get(&id)?.clone()))
            })
            .collect();
        (by_index, dkg.index, dkg.session.clone())
    };
    // Each secret package goes straight to its member, never through the coordinator, signed
    // with this service's key for key generations.
    for (url, package) in outgoing {
        let body = DkgRound2 {
            session: session.clone(),
            from: index,
            package,
        };
        if let Err(error) = service.send_signed(&url, "/v1/dkg/round2", &body).await {
            return refused(502, format!("cannot send round two to {url}: {error}"));
        }
    }
    Ok(Json(serde_json::json!({})))
}

impl Service {
    /// Posts `body` to `url` + `path`, signed with the service's key for key generations.
    async fn send_signed(
        &self,
        url: &str,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<(), String> {
        let bytes = serde_json::to_vec(body).map_err(|error| error.to_string())?;
        let mut request = self
            .http
            .post(format!("{url}{path}"))
            .header(header::CONTENT_TYPE, "application/json");
        for (name, value) in signed_headers(&self.dkg_key, path, &bytes) {
            request = request.header(name, value);
        }
        request
            .body(bytes)
            .send()
            .await
            .and_then(|response| response.error_for_status())
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
}

async fn dkg_round2(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<DkgRound2>,
) -> Answer<serde_json::Value> {
    let mut dkg = service.dkg.lock().expect("dkg");
    let dkg = generation(&mut dkg, &request.session)?;
    let Some(key) = dkg
        .peers
        .get(&request.from)
        .filter(|_| request.from != dkg.index)
        .and_then(|peer| peer.key.parse::<Pubkey>().ok())
    else {
        return refused(
            422,
            format!(
                "member {} is not a peer of this key generation",
                request.from
            ),
        );
    };
    signed_by(caller.signer, &key, &format!("member {}", request.from))?;
    service.gate.know(caller.address);
    dkg.received.insert(request.from, request.package);
    Ok(Json(serde_json::json!({})))
}

async fn dkg_finish(
    State(service): State<Arc<Service>>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<DkgFinish>,
) -> Answer<DkgFinished> {
    service.sent_by_coordinator(&caller)?;
    let mut dkg = service.dkg.lock().expect("dkg");
    let current = generation(&mut dkg, &request.session)?;
    let mut received = BTreeMap::new();
    for (index, package) in &current.received {
        received.insert(member(*index)?, package.clone());
    }
    let share = match current.member.finish(&received) {
        Ok(share) => share,
        Err(error) => return refused(422, error.to_string()),
    };
    let index = current.index;
    let mut identity = service.identity.lock().expect("identity");
    let Identity::Group { path, .. } = &*identity else {
        return refused(
            409,
            "this service signs with its own key, not as a group member",
        );
    };
    let path = path.clone();
    if let Err(error) = share.save(&path) {
        return refused(500, error.to_string());
    }
    let group_key = share.group_key.clone();
    *identity = Identity::Group {
        share: Some(Box::new(share)),
        path,
    };
    *dkg = None;
    Ok(Json(DkgFinished { group_key, index }))
}

/// Times each request, by the route it matched.
async fn timed(State(service): State<Arc<Service>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    service
        .metrics
        .latency
        .get_or_create(&Route { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the service's counters for Prometheus.
async fn scrape(State(service): State<Arc<Service>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, OPENMETRICS)],
        service.metrics.text(),
    )
}

/// `GET /health`: 200 while the ledger answers, 503 when it does not.
async fn health(State(service): State<Arc<Service>>) -> impl IntoResponse {
    match tokio::time::timeout(HEALTH_TIMEOUT, service.rpc.get_slot()).await {
        Ok(Ok(slot)) => (
            StatusCode::OK,
            format!("ok: the ledger is at slot {slot}\n"),
        ),
        Ok(Err(error)) => {
            service.metrics.ledger_errors.inc();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot read the ledger: {error}\n"),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the ledger did not answer within 5 s\n".to_string(),
        ),
    }
}
