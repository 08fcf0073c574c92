//! What commands and services do on the ledger, with the checks they make first. Each action
//! takes plain inputs, refuses what the program would refuse with a message that says what to
//! fix (a [`crate::session::Foreseen`] where the program's error is known), sends one
//! transaction and returns what it did. `tessera`'s commands and the worker call the same
//! functions.

pub mod claim;
pub mod job;
pub mod receipt;

use anyhow::{bail, Result};
use tessera::state::{ProviderClass, UnitKind};
use tessera_client::receipt::unit_kind_name;

/// Every class, in the order of `NetworkParams::classes`.
pub const CLASSES: [ProviderClass; ProviderClass::COUNT] = [
    ProviderClass::Training,
    ProviderClass::Inference,
    ProviderClass::Edge,
    ProviderClass::Bandwidth,
];

const UNIT_KINDS: [UnitKind; 3] = [UnitKind::GpuSeconds, UnitKind::CpuSeconds, UnitKind::Bytes];

/// The unit a class counts when the command line does not say: GPU-seconds for Training and
/// Inference, CPU-seconds for Edge (which may count GPU-seconds too), bytes for Bandwidth.
pub fn default_unit(class: ProviderClass) -> UnitKind {
    match class {
        ProviderClass::Training | ProviderClass::Inference => UnitKind::GpuSeconds,
        ProviderClass::Edge => UnitKind::CpuSeconds,
        ProviderClass::Bandwidth => UnitKind::Bytes,
    }
}

/// Refuses a unit kind `class` does not measure (`ProviderClass::measures`), naming those it
/// does; `what` says where the kind came from.
pub fn ensure_measures(class: ProviderClass, kind: UnitKind, what: &str) -> Result<()> {
    if class.measures(kind) {
        return Ok(());
    }
    let fitting: Vec<&str> = UNIT_KINDS
        .into_iter()
        .filter(|candidate| class.measures(*candidate))
        .map(unit_kind_name)
        .collect();
    bail!(
        "{what} is {} but class {class:?} counts {}: a unit must be what the class sells",
        unit_kind_name(kind),
        fitting.join(" or ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_counts_its_default_unit_and_mismatches_name_the_fitting_ones() {
        for class in CLASSES {
            ensure_measures(class, default_unit(class), "the default").unwrap();
        }
        let error = ensure_measures(ProviderClass::Edge, UnitKind::Bytes, "--unit")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--unit is bytes but class Edge counts gpu-seconds or cpu-seconds"),
            "{error}"
        );
    }
}
