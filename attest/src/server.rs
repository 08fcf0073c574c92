//! `tessera attest serve`: an attestor's (or a client's) co-signing service over HTTP. It
//! reviews each receipt against the ledger and its evidence before it signs, with its own key
//! (per-key sets, clients) or as a member of a FROST group (two rounds). It also takes part in
//! a distributed key generation, which writes its share to disk (mode 0600). The key never
//! leaves the process. Requests are limited in size, in rate per caller and in time.

use crate::far_end::FarEnd;
use crate::group::{self, DkgMember, ShareFile, SigningNonces};
use crate::metrics::{Metrics, Route, OPENMETRICS};
use crate::review::{self, Attesting, Refused, Sampling, Subject, Work};
use crate::wire::*;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{Context, Result};
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header;
use axum::http::StatusCode;
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
use tessera_client::receipt::SignedReceipt;
use tessera_work::spec::Workload;

/// Largest request body: a receipt and its evidence.
pub const MAX_BODY_BYTES: usize = MAX_REQUEST_BYTES;
/// Longest a request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the ledger when asked for `/health`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests a caller may burst, and how many it regains each second.
const BURST: f64 = 40.0;
const PER_SECOND: f64 = 4.0;
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
    callers: Mutex<HashMap<IpAddr, (f64, Instant)>>,
    metrics: Metrics,
}

/// A group signature this service committed to: its nonces (used once), the receipt bytes it
/// reviewed, and when.
struct Signing {
    nonces: SigningNonces,
    message: Vec<u8>,
    at: Instant,
}

/// A key generation in progress.
struct Dkg {
    session: String,
    index: u16,
    peers: BTreeMap<u16, String>,
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
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()?,
            sessions: Mutex::new(HashMap::new()),
            dkg: Mutex::new(None),
            callers: Mutex::new(HashMap::new()),
            metrics: Metrics::default(),
        });
        if let Some(listener) = metrics_listener {
            let app = watch_routes(service.clone());
            tokio::spawn(async move { axum::serve(listener, app).await });
        }
        let app = routes(service);
        let stop = async {
            while !tessera_ledger::signals::stop_requested() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await?;
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

    /// Whether a caller is within its rate (a token bucket per address).
    fn admit(&self, caller: IpAddr) -> bool {
        let mut callers = self.callers.lock().expect("callers");
        let (tokens, at) = callers.entry(caller).or_insert((BURST, Instant::now()));
        *tokens = (*tokens + at.elapsed().as_secs_f64() * PER_SECOND).min(BURST);
        *at = Instant::now();
        if *tokens < 1.0 {
            return false;
        }
        *tokens -= 1.0;
        true
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

    /// Reviews a co-signing request (see [`Service::review`]) and logs the outcome.
    async fn reviewed(&self, request: &CosignRequest) -> Result<SignedReceipt, Refused> {
        let outcome = self.review(request).await;
        match &outcome {
            Ok(signed) => tracing::info!(
                subject = %signed.receipt.subject,
                units = signed.receipt.cumulative_units,
                "receipt reviewed: signing"
            ),
            Err(refusal) => tracing::info!(
                status = refusal.status,
                reason = %refusal.reason,
                "receipt refused"
            ),
        }
        outcome
    }

    /// Reviews a co-signing request: the receipt against the ledger, then its evidence.
    async fn review(&self, request: &CosignRequest) -> Result<SignedReceipt, Refused> {
        let signed = request.receipt.to_signed().map_err(|error| Refused {
            status: 400,
            reason: format!("not a receipt: {error}"),
        })?;
        let (provider, job) = self.review_on_ledger(&signed).await?;
        if let (Some(job), Some(_)) = (&job, self.client) {
            if self.trust_provider {
                // The client said it trusts its providers: the review above is all.
                return Ok(signed);
            }
            if job.unit_kind == UnitKind::Bytes {
                self.bytes_received(&signed, job).await?;
                return Ok(signed);
            }
            if let Evidence::None = request.evidence {
                self.on_clients_word(&signed, job)?;
                return Ok(signed);
            }
        }
        self.check_evidence(&signed, &request.evidence, &provider, job.as_ref())
            .await?;
        Ok(signed)
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
        tokio::task::spawn_blocking(move || {
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

/// Runs `body` under the service's rate and time limits.
async fn limited<T, F>(service: &Service, caller: SocketAddr, body: F) -> Answer<T>
where
    F: std::future::Future<Output = Answer<T>>,
{
    if !service.admit(caller.ip()) {
        return refused(429, "too many requests from this address: slow down");
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, body).await {
        Ok(answer) => answer,
        Err(_) => refused(503, "the request took too long"),
    }
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
    Ok(Json(Info {
        mode: mode.into(),
        key,
        network: service.network.to_string(),
        public_key_package,
    }))
}

async fn cosign(
    State(service): State<Arc<Service>>,
    ConnectInfo(caller): ConnectInfo<SocketAddr>,
    Json(request): Json<CosignRequest>,
) -> Answer<Cosigned> {
    let answer = limited(&service, caller, async {
        let signed = service.reviewed(&request).await?;
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
    })
    .await;
    service
        .metrics
        .answered(answer.as_ref().err().map(|reject| reject.0));
    answer
}

async fn commit(
    State(service): State<Arc<Service>>,
    ConnectInfo(caller): ConnectInfo<SocketAddr>,
    Json(request): Json<CosignRequest>,
) -> Answer<Committed> {
    let answer = limited(&service, caller, async {
        let signed = service.reviewed(&request).await?;
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
                at: Instant::now(),
            },
        );
        Ok(Json(Committed {
            session,
            identifier,
            commitments,
        }))
    })
    .await;
    service
        .metrics
        .answered(answer.as_ref().err().map(|reject| reject.0));
    answer
}

async fn sign(
    State(service): State<Arc<Service>>,
    ConnectInfo(caller): ConnectInfo<SocketAddr>,
    Json(request): Json<SignRequest>,
) -> Answer<Shared> {
    limited(&service, caller, async {
        // Nonces are used once: taken out whatever happens next.
        let Some(Signing {
            nonces, message, ..
        }) = service
            .sessions
            .lock()
            .expect("sessions")
            .remove(&request.session)
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
    })
    .await
}

async fn dkg_start(
    State(service): State<Arc<Service>>,
    ConnectInfo(caller): ConnectInfo<SocketAddr>,
    Json(request): Json<DkgStart>,
) -> Answer<DkgStarted> {
    limited(&service, caller, async {
        if let Identity::Group {
            share: Some(_),
            path,
        } = &*service.identity.lock().expect("id")
        {
            return refused(
                409,
                format!("this service already holds a share ({})", path.display()),
            );
        }
        let members = request.peers.len() as u16;
        let started = group::identifier(request.index)
            .and_then(|id| DkgMember::start(id, members, request.threshold));
        let (member, package) = match started {
            Ok(started) => started,
            Err(error) => return refused(422, error.to_string()),
        };
        *service.dkg.lock().expect("dkg") = Some(Dkg {
            session: request.session,
            index: request.index,
            peers: request.peers,
            member,
            received: BTreeMap::new(),
        });
        Ok(Json(DkgStarted { package }))
    })
    .await
}

async fn dkg_round1(
    State(service): State<Arc<Service>>,
    ConnectInfo(caller): ConnectInfo<SocketAddr>,
    Json(request): Json<DkgRound1>,
) -> Answer<serde_json::Value> {
    limited(&service, caller, async {
        let (outgoing, index, session) = {
            let mut dkg = service.dkg.lock().expect("dkg");
            let Some(dkg) = dkg.as_mut().filter(|dkg| dkg.session == request.session) else {
                return refused(404, "no such key generation");
            };
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
                .filter_map(|(index, url)| {
                    let id = group::identifier(*index).ok()?;
                    Some((url.clone(), outgoing.get(&id)?.clone()))
                })
                .collect();
            (by_index, dkg.index, dkg.session.clone())
        };
        // Each secret package goes straight to its member, never through the coordinator.
        for (url, package) in outgoing {
            let body = DkgRound2 {
                session: session.clone(),
                from: index,
                package,
            };
            let sent = service
                .http
                .post(format!("{url}/v1/dkg/round2"))
                .json(&body)
                .send()
                .await
                .and_then(|response| response.error_for_status());
            if let Err(error) = sent {
                return refused(502, format!("cannot send round two to {url}: {error}"));
            }
        }
        Ok(Json(serde_json::json!({})))
    })
    .await
}

async fn dkg_round2(
    State(service): State<Arc<Service>>,
    ConnectInfo(caller): ConnectInfo<SocketAddr>,
    Json(request): Json<DkgRound2>,
) -> Answer<serde_json::Value> {
    limited(&service, caller, async {
        let mut dkg = service.dkg.lock().expect("dkg");
        let Some(dkg) = dkg.as_mut().filter(|dkg| dkg.session == request.session) else {
            return refused(404, "no such key generation");
        };
        dkg.received.insert(request.from, request.package);
        Ok(Json(serde_json::json!({})))
    })
    .await
}

async fn dkg_finish(
    State(service): State<Arc<Service>>,
    ConnectInfo(caller): ConnectInfo<SocketAddr>,
    Json(request): Json<DkgFinish>,
) -> Answer<DkgFinished> {
    limited(&service, caller, async {
        let mut dkg = service.dkg.lock().expect("dkg");
        let Some(current) = dkg.as_ref().filter(|dkg| dkg.session == request.session) else {
            return refused(404, "no such key generation");
        };
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
    })
    .await
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
