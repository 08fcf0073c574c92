//! The program's events as a transaction's log carries them: one `Program data: <base64>` line
//! per event, its bytes the event's discriminator and then its fields in borsh, as Anchor's
//! event parser reads them on any ledger.

use anchor_lang::{AnchorDeserialize, Discriminator, Event};
use base64::Engine as _;

/// A `Program data:` line that is not an event as the program writes one.
#[derive(Debug, thiserror::Error)]
pub enum EventLogError {
    #[error("a Program data line is not base64: {0}")]
    NotBase64(#[from] base64::DecodeError),
    #[error("an event with the expected discriminator does not decode: {0}")]
    Malformed(#[from] std::io::Error),
}

/// The events of type `E` in a transaction's log lines, in order: the `Program data:` lines
/// whose bytes start with `E`'s discriminator.
pub fn decode<E: Event + AnchorDeserialize + Discriminator>(
    logs: &[String],
) -> Result<Vec<E>, EventLogError> {
    let mut events = Vec::new();
    for data in logs
        .iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
    {
        let bytes = base64::engine::general_purpose::STANDARD.decode(data)?;
        if let Some(fields) = bytes.strip_prefix(E::DISCRIMINATOR) {
            events.push(E::deserialize(&mut &fields[..])?);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use tessera::events::{JobCancelled, ProviderDeregistered};

    #[test]
    fn only_the_asked_events_are_read_and_a_bad_line_is_an_error() {
        let cancelled = JobCancelled {
            job: Pubkey::new_unique(),
            was_running: true,
            no_show: false,
            ended_at: 7,
        };
        let encode = |bytes: Vec<u8>| {
            format!(
                "Program data: {}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        };
        let logs = vec![
            "Program log: Instruction: CancelJob".to_string(),
            encode(cancelled.data()),
            encode(b"not an event".to_vec()),
        ];
        let read: Vec<JobCancelled> = decode(&logs).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!((read[0].job, read[0].ended_at), (cancelled.job, 7));
        assert!(decode::<ProviderDeregistered>(&logs).unwrap().is_empty());

        let mut truncated = cancelled.data();
        truncated.truncate(12);
        let malformed = decode::<JobCancelled>(&[encode(truncated)]);
        assert!(matches!(malformed, Err(EventLogError::Malformed(_))));
        let not_base64 = decode::<JobCancelled>(&["Program data: ***".into()]);
        assert!(matches!(not_base64, Err(EventLogError::NotBase64(_))));
    }
}
