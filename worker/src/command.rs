//! The external-command workload: the program a spec names (a script, or `docker run …`),
//! run once with its arguments, metered in wall time times the devices it holds (device-time
//! summed over the whole run, then rounded up to a whole second once), its standard output kept in the job's results folder
//! and its SHA-256 taken as the result hash. Only programs the operator allows
//! (`--allow-command`) run: a client's spec never chooses what runs on a provider's machine.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of `wall_time` on `devices` devices is billed: the device-time of the whole run
/// in seconds, rounded up once (a run is billed less than a second more than it used).
pub fn billed_units(wall_time: Duration, devices: u32) -> u64 {
    let device_nanos = wall_time.as_nanos().saturating_mul(devices as u128);
    device_nanos.div_ceil(1_000_000_000).min(u64::MAX as u128) as u64
}

/// A command running for a job; dropping it kills the command.
pub struct Running {
    child: Child,
    started: Instant,
    output: PathBuf,
}

/// How a command ended.
pub struct Finished {
    pub wall_time: Duration,
    /// SHA-256 of its standard output.
    pub output_hash: [u8; 32],
    /// `None` when it exited with status 0, else what went wrong.
    pub failure: Option<String>,
}

impl Running {
    /// Starts `program` with `args`, its standard output written to `output`.
    pub fn start(program: &str, args: &[String], output: &Path) -> Result<Self> {
        if let Some(folder) = output.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let file = std::fs::File::create(output)
            .with_context(|| format!("cannot create {}", output.display()))?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {program}"))?;
        Ok(Self {
            child,
            started: Instant::now(),
            output: output.to_path_buf(),
        })
    }

    /// The outcome once the command has exited; `None` while it runs.
    pub fn finished(&mut self) -> Result<Option<Finished>> {
        let Some(status) = self.child.try_wait()? else {
            return Ok(None);
        };
        let wall_time = self.started.elapsed();
        let output = std::fs::read(&self.output)
            .with_context(|| format!("cannot read {}", self.output.display()))?;
        Ok(Some(Finished {
            wall_time,
            output_hash: tessera_work::spec::hash(&output),
            failure: (!status.success()).then(|| format!("the command exited with {status}")),
        }))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_billed_its_device_time_rounded_up_once() {
        assert_eq!(billed_units(Duration::from_millis(44), 1), 1);
        assert_eq!(billed_units(Duration::from_millis(1_500), 2), 3);
        assert_eq!(billed_units(Duration::from_millis(1_250), 4), 5);
        assert_eq!(billed_units(Duration::from_millis(2_001), 1), 3);
        assert_eq!(billed_units(Duration::from_secs(2), 1), 2);
        assert_eq!(billed_units(Duration::ZERO, 8), 0);
    }
}
