//! What a co-signer checks before it signs a receipt: that the receipt is for this program and
//! network, that its subject exists as the ledger has it, that its units neither exceed what
//! the job pays for nor go backwards, that the worker signed it, and that the evidence
//! supports the work. A receipt whose work cannot be checked is refused: an attestor vouches
//! only for what it checked.

use crate::wire::Evidence;
use anchor_lang::prelude::Pubkey;
use tessera::state::{Job, Network, Provider};
use tessera_client::receipt::SignedReceipt;
use tessera_client::settles::{self, Unsettled};
use tessera_work::matmul::{self, Matrix};
use tessera_work::spec::{Spec, Workload};

/// Why a receipt is refused, and the HTTP status that says so.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refused {
    pub status: u16,
    pub reason: String,
}

fn refuse(status: u16, reason: impl Into<String>) -> Refused {
    Refused {
        status,
        reason: reason.into(),
    }
}

/// What the ledger holds about a receipt's subject.
pub enum Subject<'a> {
    /// A job, and the provider account that runs it.
    Job {
        job: &'a Job,
        provider: &'a Provider,
    },
    /// A provider's service (the provider account is the subject).
    Service { provider: &'a Provider },
}

/// The network the reviewer attests for.
pub struct Attesting<'a> {
    pub address: Pubkey,
    pub network: &'a Network,
}

/// Checks that `signed` is bound to this program, this network and its current attestor set:
/// what can be refused before its subject is read.
pub fn check_binding(signed: &SignedReceipt, on: &Attesting) -> Result<(), Refused> {
    let r = &signed.receipt;
    if r.program_id != tessera_client::program_id() {
        return Err(refuse(
            422,
            format!(
                "the receipt is for program {}, not {}",
                r.program_id,
                tessera_client::program_id()
            ),
        ));
    }
    if r.network != on.address {
        return Err(refuse(
            422,
            format!(
                "the receipt is for network {}; this service attests network {} ({})",
                r.network, on.network.network_id, on.address
            ),
        ));
    }
    if r.attestor_set_version != on.network.attestors.version {
        return Err(refuse(
            422,
            format!(
                "the receipt names attestor set version {}, the network is at {}: ask the worker \
                 to sign a fresh one",
                r.attestor_set_version, on.network.attestors.version
            ),
        ));
    }
    Ok(())
}

/// Checks `signed` against the ledger; the evidence is checked by [`check_evidence`].
pub fn review(signed: &SignedReceipt, on: &Attesting, subject: &Subject) -> Result<(), Refused> {
    check_binding(signed, on)?;
    let r = &signed.receipt;
    let provider = match subject {
        Subject::Job { provider, .. } | Subject::Service { provider } => provider,
    };
    let worker_signed = signed
        .signatures
        .first()
        .is_some_and(|(key, _)| *key == provider.worker_key);
    if !worker_signed || signed.verify().is_err() {
        return Err(refuse(
            422,
            format!(
                "the receipt is not signed first by the provider's worker key {}, or a \
                 signature does not verify",
                provider.worker_key
            ),
        ));
    }
    let settles = match subject {
        Subject::Job { job, provider } => settles::on_job(r, job, provider),
        Subject::Service { provider } => settles::as_service(r, provider),
    };
    settles.map_err(|unsettled| {
        // Units that add nothing conflict with what the ledger already holds.
        let status = match unsettled {
            Unsettled::AddsNothing { .. } => 409,
            _ => 422,
        };
        refuse(status, unsettled.to_string())
    })
}

/// What a receipt's work is checked against, as the ledger has it.
pub enum Work<'a> {
    /// A job: the spec its client fixed (by hash; the document must be the one that hashes
    /// to it), the job's address and nonce (its rounds' inputs are bound to them,
    /// `matmul::job_seed`) and the units it has already settled.
    Job {
        spec_hash: &'a [u8; 32],
        job: &'a Pubkey,
        nonce: u64,
        settled_units: u64,
    },
    /// A provider's service work: always [`Spec::service`], its inputs bound to the provider
    /// and its registration nonce, from the provider's first service round on; and the
    /// service units the provider has already recorded.
    Service {
        provider: &'a Pubkey,
        registration_nonce: u64,
        recorded_units: u64,
    },
}

/// How many of the rounds a request brings a reviewer checks with Freivalds' test. Every
/// round's digest is chained to the receipt's result hash either way, so the worker is bound
/// to every product before the reviewer draws its sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    /// Every round.
    Every,
    /// This many rounds (or every round, if there are fewer), drawn at random. When `w` of the
    /// `m` new rounds are wrong, a request passes with probability C(m-w, k) / C(m, k) (one
    /// wrong round: 1 - k/m), times a negligible chance that Freivalds misses (at most p^-2
    /// per round checked).
    Rounds(u32),
}

/// The chance that a request whose `m` new rounds include `wrong` wrong ones passes a check
/// of `sampled` rounds drawn at random: C(m - wrong, k) / C(m, k), with k = min(sampled, m),
/// ignoring Freivalds' own error.
pub fn pass_chance(m: u32, wrong: u32, sampled: u32) -> f64 {
    let k = sampled.min(m);
    (0..k)
        .map(|i| (m.saturating_sub(wrong + i)) as f64 / (m - i) as f64)
        .product()
}

/// Checks the evidence of `signed`'s work against `work` and returns the units it supports;
/// refuses evidence that does not check, and a receipt that states more units than the
/// evidence supports, with both figures.
///
/// The built-in workload's evidence is the spec document, the digests of the rounds already
/// paid for (at most the rounds the settled units cover: vouching for them adds nothing) and
/// the products of every round after them. The reviewer chains all of them to the receipt's
/// result hash, checks the products (all, or a sample) with Freivalds' test against the
/// inputs the spec derives, and supports floor(rounds × n³ / 2^29) units. Anything else is
/// refused: a relay's bytes are seen only by the provider, and no evidence is no evidence.
pub fn check_evidence(
    signed: &SignedReceipt,
    evidence: &Evidence,
    work: &Work,
    sampling: Sampling,
    rng: &mut impl rand::Rng,
) -> Result<u64, Refused> {
    let supported = match evidence {
        Evidence::None => {
            return Err(refuse(
                422,
                "no evidence: this service vouches only for work it can check (the built-in \
                 workload's products)",
            ))
        }
        Evidence::Relay { .. } => {
            return Err(refuse(
                422,
                "relay evidence is refused: the bytes a relay carries are counted only by its \
                 provider, and an attestor vouches only for what it saw; a bandwidth job's \
                 client co-signs its bytes (see docs/design.md)",
            ))
        }
        Evidence::Matmul {
            spec,
            digests,
            products,
        } => check_matmul(signed, (spec, digests, products), work, sampling, rng)?,
    };
    let stated = signed.receipt.cumulative_units;
    if stated > supported {
        return Err(refuse(
            422,
            format!(
                "the receipt states {stated} units, but its evidence supports {supported}: sign \
                 one for at most {supported}"
            ),
        ));
    }
    Ok(supported)
}

/// Checks the built-in workload's evidence (see [`check_evidence`]); returns the units the
/// rounds it covers are worth.
fn check_matmul(
    signed: &SignedReceipt,
    (document, digests, products): (&str, &[String], &[String]),
    work: &Work,
    sampling: Sampling,
    rng: &mut impl rand::Rng,
) -> Result<u64, Refused> {
    let (parsed, seed, paid_units) = matmul_terms(document.as_bytes(), work)?;
    let Workload::Matmul { n, rounds } = parsed.workload else {
        return Err(refuse(
            422,
            "the evidence's spec is not the built-in workload",
        ));
    };
    let paid_rounds = matmul::rounds_for(n, paid_units);
    let first = u32::try_from(digests.len()).unwrap_or(u32::MAX);
    if first > paid_rounds {
        return Err(refuse(
            422,
            format!(
                "the evidence gives {first} rounds by their digests alone; only the {paid_rounds} \
                 rounds the {paid_units} units already settled cover may be, the rest need \
                 their products"
            ),
        ));
    }
    let total = first.saturating_add(u32::try_from(products.len()).unwrap_or(u32::MAX));
    if total > rounds {
        return Err(refuse(
            422,
            format!("the evidence has {total} rounds; the spec has {rounds}"),
        ));
    }
    let matrices = chain_to(&signed.receipt.result_hash, digests, products, n)?;
    let checked: Vec<usize> = match sampling {
        Sampling::Rounds(k) if (k as usize) < matrices.len() => {
            rand::seq::index::sample(rng, matrices.len(), k as usize).into_vec()
        }
        _ => (0..matrices.len()).collect(),
    };
    for index in checked {
        let round = first + index as u32;
        if !matmul::check_round(&seed, round, &matrices[index], rng) {
            return Err(refuse(
                422,
                format!(
                    "the evidence does not check: the product of round {round} is not the \
                     product of that round's inputs"
                ),
            ));
        }
    }
    Ok(matmul::units_for(n, total))
}

/// The built-in workload's terms for `work`: the spec the evidence names (`document`, checked
/// against the job's spec hash, or the network's service workload), the seed its rounds'
/// inputs derive from, and the units already paid for.
fn matmul_terms(document: &[u8], work: &Work) -> Result<(Spec, [u8; 32], u64), Refused> {
    match work {
        Work::Job {
            spec_hash,
            job,
            nonce,
            settled_units,
        } => {
            let parsed = Spec::parse_for(document, spec_hash)
                .map_err(|error| refuse(422, format!("the evidence's spec: {error}")))?;
            let seed = matmul::job_seed(spec_hash, &job.to_bytes(), *nonce);
            Ok((parsed, seed, *settled_units))
        }
        Work::Service {
            provider,
            registration_nonce,
            recorded_units,
        } => {
            let service = Spec::service();
            if document != service.to_bytes().as_slice() {
                return Err(refuse(
                    422,
                    format!(
                        "a service receipt's work is the network's service workload, {}; the \
                         evidence names another spec",
                        String::from_utf8_lossy(&service.to_bytes())
                    ),
                ));
            }
            let seed = matmul::service_seed(&provider.to_bytes(), *registration_nonce);
            Ok((service, seed, *recorded_units))
        }
    }
}

/// Chains the rounds given by their `digests`, then those given by their `products` (n x n
/// matrices, hex), and refuses unless the chain ends at `result_hash`. Returns the products.
fn chain_to(
    result_hash: &[u8; 32],
    digests: &[String],
    products: &[String],
    n: u32,
) -> Result<Vec<Matrix>, Refused> {
    let mut link = [0u8; 32];
    for text in digests {
        let digest: [u8; 32] = hex::decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| refuse(400, "a round digest is not 64 hex digits"))?;
        link = matmul::chain_digest(&link, &digest);
    }
    let matrices = products
        .iter()
        .map(|text| {
            hex::decode(text)
                .ok()
                .and_then(|bytes| Matrix::from_bytes(&bytes))
        })
        .collect::<Option<Vec<Matrix>>>()
        .filter(|matrices| matrices.iter().all(|m| m.n() == n as usize))
        .ok_or_else(|| refuse(400, format!("the products are not {n} x {n} matrices")))?;
    for product in &matrices {
        link = matmul::chain(&link, product);
    }
    if link != *result_hash {
        return Err(refuse(
            422,
            "the evidence does not check: its rounds do not chain to the receipt's result hash",
        ));
    }
    Ok(matrices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;
    use tessera_client::codec_checks::sample_receipt;
    use tessera_work::spec;

    /// The job the tests' rounds are bound to.
    const JOB: Pubkey = Pubkey::new_from_array([8; 32]);
    const NONCE: u64 = 5;

    /// A job of `rounds` rounds of side `n`: its spec document and hash, and the products of
    /// its first `done` rounds, `wrong` of them tampered with.
    fn job(n: u32, (rounds, done): (u32, u32), wrong: &[u32]) -> (String, [u8; 32], Vec<Matrix>) {
        let document = Spec::matmul(n, rounds).to_bytes();
        let spec_hash = spec::hash(&document);
        let products = (0..done)
            .map(|round| {
                let seed = matmul::job_seed(&spec_hash, &JOB.to_bytes(), NONCE);
                let product = matmul::run_round(&seed, round, n as usize).product;
                if !wrong.contains(&round) {
                    return product;
                }
                let mut bytes = product.to_bytes();
                bytes[4] ^= 1;
                Matrix::from_bytes(&bytes).unwrap()
            })
            .collect();
        (String::from_utf8(document).unwrap(), spec_hash, products)
    }

    /// A receipt for `units` whose result hash chains `products`, and the evidence giving the
    /// first `by_digest` of them by digest.
    fn receipt_and_evidence(
        document: &str,
        products: &[Matrix],
        units: u64,
        by_digest: usize,
    ) -> (SignedReceipt, Evidence) {
        let mut receipt = sample_receipt(1, units);
        receipt.result_hash = products
            .iter()
            .fold([0; 32], |link, p| matmul::chain(&link, p));
        let (paid, new) = products.split_at(by_digest);
        let evidence = Evidence::Matmul {
            spec: document.to_string(),
            digests: paid.iter().map(|p| hex::encode(p.digest())).collect(),
            products: new.iter().map(|p| hex::encode(p.to_bytes())).collect(),
        };
        (SignedReceipt::new(receipt), evidence)
    }

    #[test]
    fn a_receipt_may_state_only_the_units_its_checked_rounds_are_worth() {
        let (document, spec_hash, products) = job(512, (12, 8), &[]);
        let work = Work::Job {
            spec_hash: &spec_hash,
            job: &JOB,
            nonce: NONCE,
            settled_units: 0,
        };
        let mut rng = StdRng::seed_from_u64(1);
        // 8 rounds of side 512 are two units: two pass, three are refused with both figures.
        let (two, evidence) = receipt_and_evidence(&document, &products, 2, 0);
        assert_eq!(
            check_evidence(&two, &evidence, &work, Sampling::Every, &mut rng),
            Ok(2)
        );
        let (three, evidence) = receipt_and_evidence(&document, &products, 3, 0);
        let refused = check_evidence(&three, &evidence, &work, Sampling::Every, &mut rng);
        assert_eq!(
            refused.unwrap_err().reason,
            "the receipt states 3 units, but its evidence supports 2: sign one for at most 2"
        );
    }

    #[test]
    fn one_jobs_products_are_not_another_jobs_work_even_of_the_same_spec() {
        let (document, spec_hash, products) = job(512, (12, 4), &[]);
        let (signed, evidence) = receipt_and_evidence(&document, &products, 1, 0);
        let mut rng = StdRng::seed_from_u64(6);
        let other = Pubkey::new_from_array([9; 32]);
        for (job, nonce) in [(&other, NONCE), (&JOB, NONCE + 1)] {
            let work = Work::Job {
                spec_hash: &spec_hash,
                job,
                nonce,
                settled_units: 0,
            };
            let refused = check_evidence(&signed, &evidence, &work, Sampling::Every, &mut rng);
            assert!(
                refused.unwrap_err().reason.contains("round 0"),
                "{job} {nonce}"
            );
        }
    }

    #[test]
    fn rounds_already_paid_for_may_come_as_digests_and_no_others() {
        let (document, spec_hash, products) = job(512, (12, 12), &[]);
        let mut rng = StdRng::seed_from_u64(2);
        // One unit settled surely covers 4 rounds (4 x 2^27 = 2^29): they may be digests.
        let paid = Work::Job {
            spec_hash: &spec_hash,
            job: &JOB,
            nonce: NONCE,
            settled_units: 1,
        };
        let (signed, evidence) = receipt_and_evidence(&document, &products, 3, 4);
        assert_eq!(
            check_evidence(&signed, &evidence, &paid, Sampling::Every, &mut rng),
            Ok(3)
        );
        // Five digests are one round too many: its product was never shown.
        let (signed, evidence) = receipt_and_evidence(&document, &products, 3, 5);
        let refused = check_evidence(&signed, &evidence, &paid, Sampling::Every, &mut rng);
        assert!(
            refused
                .unwrap_err()
                .reason
                .contains("5 rounds by their digests alone"),
            "refused for another reason"
        );
        // With nothing settled, no round comes by digest: three made-up digests and one real
        // round are not a unit.
        let unpaid = Work::Job {
            spec_hash: &spec_hash,
            job: &JOB,
            nonce: NONCE,
            settled_units: 0,
        };
        let (signed, evidence) = receipt_and_evidence(&document, &products[..4], 1, 3);
        let refused = check_evidence(&signed, &evidence, &unpaid, Sampling::Every, &mut rng);
        assert!(refused
            .unwrap_err()
            .reason
            .contains("3 rounds by their digests alone"));
        // A digest that is not the round's breaks the chain.
        let (signed, mut evidence) = receipt_and_evidence(&document, &products, 3, 4);
        if let Evidence::Matmul { digests, .. } = &mut evidence {
            digests[3] = hex::encode([7u8; 32]);
        }
        let refused = check_evidence(&signed, &evidence, &paid, Sampling::Every, &mut rng);
        assert!(refused.unwrap_err().reason.contains("do not chain"));
    }

    #[test]
    fn a_service_receipt_is_checked_against_the_networks_workload_bound_to_its_provider() {
        let provider = Pubkey::new_from_array([5; 32]);
        let seed = matmul::service_seed(&provider.to_bytes(), 3);
        let n = matmul::SERVICE_N;
        let products: Vec<Matrix> = (0..4)
            .map(|round| matmul::run_round(&seed, round, n as usize).product)
            .collect();
        let document = String::from_utf8(Spec::service().to_bytes()).unwrap();
        let work = Work::Service {
            provider: &provider,
            registration_nonce: 3,
            recorded_units: 0,
        };
        let mut rng = StdRng::seed_from_u64(3);
        let (signed, evidence) = receipt_and_evidence(&document, &products, 1, 0);
        assert_eq!(
            check_evidence(&signed, &evidence, &work, Sampling::Every, &mut rng),
            Ok(1)
        );
        // The same products for another registration of the provider are not its work.
        let later = Work::Service {
            provider: &provider,
            registration_nonce: 4,
            recorded_units: 0,
        };
        let refused = check_evidence(&signed, &evidence, &later, Sampling::Every, &mut rng);
        assert!(refused.unwrap_err().reason.contains("round 0"));
        // A spec the requester picked is not the service workload.
        let (tiny_document, _, tiny) = job(1, (100, 3), &[]);
        let (signed, evidence) = receipt_and_evidence(&tiny_document, &tiny, 1, 0);
        let refused = check_evidence(&signed, &evidence, &work, Sampling::Every, &mut rng);
        assert!(refused
            .unwrap_err()
            .reason
            .contains("the network's service workload"));
    }

    #[test]
    fn relay_evidence_and_no_evidence_are_refused() {
        let signed = SignedReceipt::new(sample_receipt(2, 1_000_000_000_000));
        let work = Work::Job {
            spec_hash: &[0; 32],
            job: &JOB,
            nonce: NONCE,
            settled_units: 0,
        };
        let mut rng = StdRng::seed_from_u64(4);
        let relay = Evidence::Relay {
            address: "127.0.0.1:9".into(),
        };
        for (evidence, says) in [
            (relay, "relay evidence is refused"),
            (Evidence::None, "no evidence"),
        ] {
            let refused = check_evidence(&signed, &evidence, &work, Sampling::Every, &mut rng);
            assert!(refused.unwrap_err().reason.contains(says), "{says}");
        }
    }

    #[test]
    fn a_sampled_review_lets_a_wrong_round_through_as_often_as_stated() {
        // Ten rounds, one wrong, three checked: it passes with probability 1 - 3/10.
        let (document, spec_hash, products) = job(16, (10, 10), &[4]);
        let (signed, evidence) = receipt_and_evidence(&document, &products, 0, 0);
        let work = Work::Job {
            spec_hash: &spec_hash,
            job: &JOB,
            nonce: NONCE,
            settled_units: 0,
        };
        let stated = pass_chance(10, 1, 3);
        assert!((stated - 0.7).abs() < 1e-12, "{stated}");
        let mut rng = StdRng::seed_from_u64(5);
        let trials = 1_000;
        let passed = (0..trials)
            .filter(|_| {
                check_evidence(&signed, &evidence, &work, Sampling::Rounds(3), &mut rng).is_ok()
            })
            .count();
        let observed = passed as f64 / trials as f64;
        // Binomial(1000, 0.7) has a standard deviation of 0.0145: five of them either side.
        assert!(
            (observed - stated).abs() < 0.075,
            "passed {observed}, stated {stated}"
        );
        // Checking every round, it never passes.
        assert!(check_evidence(&signed, &evidence, &work, Sampling::Every, &mut rng).is_err());
        // The figures the --sample help gives.
        assert!((pass_chance(40, 1, 10) - 0.75).abs() < 1e-12);
        assert_eq!(pass_chance(40, 0, 10), 1.0);
        assert_eq!(pass_chance(5, 5, 1), 0.0);
        assert_eq!(
            pass_chance(3, 1, 8),
            0.0,
            "a sample larger than the rounds checks them all"
        );
    }

    /// An account of type `T` whose every field is zero.
    fn zeroed<T: anchor_lang::AnchorDeserialize + anchor_lang::Space>() -> T {
        T::deserialize(&mut &vec![0u8; T::INIT_SPACE][..]).unwrap()
    }

    #[test]
    fn a_receipt_that_adds_nothing_conflicts_and_one_on_a_job_not_accepted_is_refused() {
        use solana_signer::Signer;
        use tessera::state::JobStatus;
        let worker = solana_keypair::Keypair::new();
        let mut receipt = sample_receipt(7, 30);
        receipt.worker_key = worker.pubkey();
        let mut signed = SignedReceipt::new(receipt);
        signed.sign(&worker).unwrap();
        let mut network: Network = zeroed();
        network.attestors.version = receipt.attestor_set_version;
        let on = Attesting {
            address: receipt.network,
            network: &network,
        };
        let provider = Provider {
            network: receipt.network,
            nonce: receipt.subject_nonce,
            worker_key: worker.pubkey(),
            ..zeroed()
        };
        let job = Job {
            network: receipt.network,
            nonce: receipt.subject_nonce,
            provider: receipt.provider,
            unit_kind: receipt.unit_kind,
            max_units: 30,
            settled_units: 29,
            status: JobStatus::Running,
            ..zeroed()
        };
        let reviewed = |job: &Job| {
            review(
                &signed,
                &on,
                &Subject::Job {
                    job,
                    provider: &provider,
                },
            )
        };
        assert_eq!(reviewed(&job), Ok(()));
        let settled = Job {
            settled_units: 30,
            ..job.clone()
        };
        assert_eq!(reviewed(&settled).unwrap_err().status, 409);
        let open = Job {
            status: JobStatus::Open,
            ..job.clone()
        };
        let refused = reviewed(&open).unwrap_err();
        assert_eq!(refused.status, 422);
        assert!(
            refused.reason.contains("has not been accepted"),
            "{refused:?}"
        );
    }
}
