//! Would a receipt settle? The checks the program makes of a receipt against the accounts it
//! names, made before anything is sent: by `tessera receipt submit` and the worker before they
//! send, and by co-signers before they sign. One copy, so the two cannot drift apart.
//!
//! What needs the ledger's clock (a receipt's expiry, an ended job's settlement window) and the
//! signatures are checked by their callers.

use crate::receipt::unit_kind_name;
use anchor_lang::prelude::Pubkey;
use tessera::receipt::Receipt;
use tessera::state::{Job, JobStatus, Provider, UnitKind};

/// Why a receipt would not settle on the accounts it names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unsettled {
    #[error(
        "job {subject} is not the job this receipt was signed for (job number {job_nonce} on \
         network {job_network}, the receipt names number {receipt_nonce} on \
         {receipt_network}): a closed job's address was reused"
    )]
    OtherJob {
        subject: Pubkey,
        job_nonce: u64,
        job_network: Pubkey,
        receipt_nonce: u64,
        receipt_network: Pubkey,
    },
    #[error(
        "provider {provider} is not the registration this receipt was signed for (it \
         deregistered and registered again)"
    )]
    OtherRegistration { provider: Pubkey },
    #[error("job {subject} is run by provider {runs}, not by the receipt's provider {named}")]
    OtherProvider {
        subject: Pubkey,
        runs: Pubkey,
        named: Pubkey,
    },
    #[error(
        "the receipt was signed by worker key {signed}, but provider {provider} now takes \
         {takes}: ask the worker to sign a fresh one"
    )]
    WorkerKeyRotated {
        signed: Pubkey,
        provider: Pubkey,
        takes: Pubkey,
    },
    #[error("the receipt counts {} but job {subject} counts {}", unit_kind_name(*.receipt), unit_kind_name(*.job))]
    OtherUnit {
        subject: Pubkey,
        receipt: UnitKind,
        job: UnitKind,
    },
    #[error(
        "the receipt's {units} units are past job {subject}'s {max_units} max units: its client \
         tops it up first (`tessera job top-up`)"
    )]
    PastMaxUnits {
        subject: Pubkey,
        units: u64,
        max_units: u64,
    },
    #[error("job {subject} has not been accepted: nothing settles on it")]
    NotAccepted { subject: Pubkey },
    #[error("job {subject} was cancelled as a no-show: nothing settles on it any more")]
    NoShow { subject: Pubkey },
    #[error(
        "the receipt was issued at {issued_at}, after job {subject} ended at {ended_at}: only \
         work done before the end settles"
    )]
    IssuedAfterEnd {
        subject: Pubkey,
        issued_at: i64,
        ended_at: i64,
    },
    #[error("{done}: this receipt's {units} add nothing")]
    AddsNothing {
        /// What is already settled, in words.
        done: String,
        units: u64,
    },
}

/// Refuses a receipt the program would not settle on `job`, run by `provider`: another job at
/// the same address, another provider or worker key, another unit, a job not accepted or
/// cancelled as a no-show, work after the job ended, units past the job's max, or units that
/// add nothing to what it settled. An ended job's settlement window needs the clock: the
/// caller checks it.
pub fn on_job(r: &Receipt, job: &Job, provider: &Provider) -> Result<(), Unsettled> {
    let subject = r.subject;
    if job.network != r.network || job.nonce != r.subject_nonce {
        return Err(Unsettled::OtherJob {
            subject,
            job_nonce: job.nonce,
            job_network: job.network,
            receipt_nonce: r.subject_nonce,
            receipt_network: r.network,
        });
    }
    if job.provider != r.provider {
        return Err(Unsettled::OtherProvider {
            subject,
            runs: job.provider,
            named: r.provider,
        });
    }
    worker_key(r, provider)?;
    if r.unit_kind != job.unit_kind {
        return Err(Unsettled::OtherUnit {
            subject,
            receipt: r.unit_kind,
            job: job.unit_kind,
        });
    }
    in_status(r, job)?;
    if r.cumulative_units > job.max_units {
        return Err(Unsettled::PastMaxUnits {
            subject,
            units: r.cumulative_units,
            max_units: job.max_units,
        });
    }
    adds(
        format!(
            "job {subject} has already settled {} units",
            job.settled_units
        ),
        job.settled_units,
        r.cumulative_units,
    )
}

/// Refuses a receipt on a job nobody accepted, on a no-show, or issued after the job ended.
fn in_status(r: &Receipt, job: &Job) -> Result<(), Unsettled> {
    let subject = r.subject;
    match job.status {
        JobStatus::Running => Ok(()),
        JobStatus::Open => Err(Unsettled::NotAccepted { subject }),
        JobStatus::Completed | JobStatus::Cancelled if job.no_show => {
            Err(Unsettled::NoShow { subject })
        }
        JobStatus::Completed | JobStatus::Cancelled if r.issued_at > job.ended_at => {
            Err(Unsettled::IssuedAfterEnd {
                subject,
                issued_at: r.issued_at,
                ended_at: job.ended_at,
            })
        }
        JobStatus::Completed | JobStatus::Cancelled => Ok(()),
    }
}

/// Refuses a service receipt (no job) the program would not record for `provider`: another
/// registration, another worker key, or units that add nothing to its service units. Whether
/// the provider's class measures the unit is [`tessera::state::ProviderClass::measures`].
pub fn as_service(r: &Receipt, provider: &Provider) -> Result<(), Unsettled> {
    if provider.nonce != r.subject_nonce || provider.network != r.network {
        return Err(Unsettled::OtherRegistration {
            provider: r.provider,
        });
    }
    worker_key(r, provider)?;
    adds(
        format!(
            "provider {} has already recorded {} service units",
            r.provider, provider.service_units
        ),
        provider.service_units,
        r.cumulative_units,
    )
}

fn worker_key(r: &Receipt, provider: &Provider) -> Result<(), Unsettled> {
    if provider.worker_key == r.worker_key {
        return Ok(());
    }
    Err(Unsettled::WorkerKeyRotated {
        signed: r.worker_key,
        provider: r.provider,
        takes: provider.worker_key,
    })
}

fn adds(done: String, settled: u64, units: u64) -> Result<(), Unsettled> {
    if units > settled {
        return Ok(());
    }
    Err(Unsettled::AddsNothing { done, units })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec_checks::sample_receipt;
    use anchor_lang::{AnchorDeserialize, Space};

    /// An account of type `T` whose every field is zero.
    fn zeroed<T: AnchorDeserialize + Space>() -> T {
        T::deserialize(&mut &vec![0u8; T::INIT_SPACE][..]).unwrap()
    }

    fn job_of(r: &Receipt) -> Job {
        Job {
            network: r.network,
            nonce: r.subject_nonce,
            provider: r.provider,
            unit_kind: r.unit_kind,
            max_units: r.cumulative_units,
            settled_units: r.cumulative_units - 1,
            status: JobStatus::Running,
            ..zeroed()
        }
    }

    fn provider_of(r: &Receipt) -> Provider {
        Provider {
            network: r.network,
            nonce: r.subject_nonce,
            worker_key: r.worker_key,
            service_units: r.cumulative_units - 1,
            ..zeroed()
        }
    }

    #[test]
    fn each_mismatch_is_named_and_a_matching_receipt_settles() {
        let r = sample_receipt(7, 30);
        let (job, provider) = (job_of(&r), provider_of(&r));
        assert_eq!(on_job(&r, &job, &provider), Ok(()));
        assert_eq!(as_service(&r, &provider), Ok(()));

        let other_nonce = Job {
            nonce: job.nonce + 1,
            ..job.clone()
        };
        assert!(matches!(
            on_job(&r, &other_nonce, &provider),
            Err(Unsettled::OtherJob { .. })
        ));
        let other_provider = Job {
            provider: Pubkey::new_unique(),
            ..job.clone()
        };
        assert!(matches!(
            on_job(&r, &other_provider, &provider),
            Err(Unsettled::OtherProvider { .. })
        ));
        let rotated = Provider {
            worker_key: Pubkey::new_unique(),
            ..provider.clone()
        };
        assert!(matches!(
            on_job(&r, &job, &rotated),
            Err(Unsettled::WorkerKeyRotated { .. })
        ));
        assert!(matches!(
            as_service(&r, &rotated),
            Err(Unsettled::WorkerKeyRotated { .. })
        ));
        let bytes = Job {
            unit_kind: UnitKind::Bytes,
            ..job.clone()
        };
        let counted = on_job(&r, &bytes, &provider).unwrap_err().to_string();
        assert!(counted.contains("but job"), "{counted}");
        let smaller = Job {
            max_units: r.cumulative_units - 1,
            ..job.clone()
        };
        let past = on_job(&r, &smaller, &provider).unwrap_err().to_string();
        assert!(past.contains("past job"), "{past}");
        let settled = Job {
            settled_units: r.cumulative_units,
            ..job.clone()
        };
        assert!(matches!(
            on_job(&r, &settled, &provider),
            Err(Unsettled::AddsNothing { .. })
        ));
    }

    #[test]
    fn a_job_settles_only_while_running_or_for_work_before_its_end() {
        let r = sample_receipt(7, 30);
        let (job, provider) = (job_of(&r), provider_of(&r));
        let open = Job {
            status: JobStatus::Open,
            ..job.clone()
        };
        assert!(matches!(
            on_job(&r, &open, &provider),
            Err(Unsettled::NotAccepted { .. })
        ));
        let no_show = Job {
            status: JobStatus::Cancelled,
            no_show: true,
            ..job.clone()
        };
        assert!(matches!(
            on_job(&r, &no_show, &provider),
            Err(Unsettled::NoShow { .. })
        ));
        let ended = |ended_at| Job {
            status: JobStatus::Completed,
            ended_at,
            ..job.clone()
        };
        assert!(matches!(
            on_job(&r, &ended(r.issued_at - 1), &provider),
            Err(Unsettled::IssuedAfterEnd { .. })
        ));
        assert_eq!(on_job(&r, &ended(r.issued_at), &provider), Ok(()));
    }

    #[test]
    fn a_service_receipt_is_refused_for_another_registration_or_nothing_new() {
        let r = sample_receipt(7, 30);
        let provider = provider_of(&r);
        assert_eq!(as_service(&r, &provider), Ok(()));
        let reregistered = Provider {
            nonce: provider.nonce + 1,
            ..provider.clone()
        };
        assert!(matches!(
            as_service(&r, &reregistered),
            Err(Unsettled::OtherRegistration { .. })
        ));
        let recorded = Provider {
            service_units: r.cumulative_units,
            ..provider
        };
        assert!(matches!(
            as_service(&r, &recorded),
            Err(Unsettled::AddsNothing { .. })
        ));
    }
}
