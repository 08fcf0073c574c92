//! The external-command workload: the program a spec names (a script, or `docker run …`),
//! run once with its arguments, metered in device-time (summed over the whole run, then
//! rounded up to a whole second once): on a GPU-second job the GPU time NVML saw its processes
//! hold (`gpu_time`), else, and without NVML, its wall time times the devices its spec names.
//! Its standard output is kept in the job's results folder and its SHA-256 taken as the result
//! hash.
//!
//! Only command lines the operator allows run (`--allow-command`, an [`Allowed`] each): a
//! client's spec never chooses what runs on a provider's machine, only the slots the operator
//! left open in an allowed line.

use crate::gpu_time::{Metered, Sampler};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// A command line the operator allows: words separated by spaces (quotes are not special, so
/// an argument with a space in it can only fill a slot), each either an exact
/// argument or a slot (`{}`, or `{name}` to say what goes there) that a spec fills with one
/// argument of its own, which may not begin with `-` (so a slot is never a flag). The first
/// word, the program, is exact, and no slot follows a flag (`-v {x}`, `-c {x}`,
/// `--entrypoint {x}` would let the spec choose what the flag does): a spec's values are
/// positional arguments. E.g. `/usr/bin/docker run --rm --network=none
/// registry.example/infer:1 {model}` runs that image alone, with one argument the spec picks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    words: Vec<Word>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Word {
    Exact(String),
    Slot(String),
}

impl FromStr for Allowed {
    type Err = String;

    fn from_str(line: &str) -> Result<Self, String> {
        let words: Vec<Word> = line
            .split_whitespace()
            .map(
                |word| match word.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    Some(name) => Word::Slot(name.to_string()),
                    None => Word::Exact(word.to_string()),
                },
            )
            .collect();
        match words.first() {
            None => return Err("an allowed command line names a program".into()),
            Some(Word::Slot(_)) => {
                return Err(format!(
                    "{line:?}: the program of an allowed command line is exact, not a slot"
                ))
            }
            Some(Word::Exact(_)) => {}
        }
        for pair in words.windows(2) {
            if let [Word::Exact(flag), Word::Slot(name)] = pair {
                // `--` ends the flags: what follows it is positional.
                if flag.starts_with('-') && flag != "--" {
                    return Err(format!(
                        "{line:?}: the slot {{{name}}} follows the flag {flag}, so the spec could \
                         choose what {flag} does; write what follows a flag yourself, and leave \
                         slots to positional arguments (after a word that is no flag, or `--`)"
                    ));
                }
            }
        }
        Ok(Self { words })
    }
}

impl std::fmt::Display for Allowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<String> = self
            .words
            .iter()
            .map(|word| match word {
                Word::Exact(text) => text.clone(),
                Word::Slot(name) => format!("{{{name}}}"),
            })
            .collect();
        f.write_str(&words.join(" "))
    }
}

impl Allowed {
    /// Whether `program args` is this command line; if not, where it differs.
    pub fn admits(&self, program: &str, args: &[String]) -> Result<(), String> {
        let given: Vec<&str> = std::iter::once(program)
            .chain(args.iter().map(String::as_str))
            .collect();
        if given.len() != self.words.len() {
            return Err(format!(
                "it has {} arguments, `{self}` has {}",
                given.len() - 1,
                self.words.len() - 1
            ));
        }
        for (at, (word, value)) in self.words.iter().zip(&given).enumerate() {
            match word {
                Word::Exact(text) if text == value => {}
                Word::Exact(text) => {
                    return Err(format!("word {at} is {value:?}, `{self}` has {text:?}"))
                }
                Word::Slot(name) if value.is_empty() || value.starts_with('-') => {
                    return Err(format!(
                        "word {at} fills the slot {{{name}}} of `{self}` with {value:?}: a slot \
                         takes one argument that does not begin with -"
                    ))
                }
                Word::Slot(_) => {}
            }
        }
        Ok(())
    }
}

/// Whether one of `allowed` admits `program args`; if none does, why each refused.
pub fn admitted(allowed: &[Allowed], program: &str, args: &[String]) -> Result<(), String> {
    if allowed.is_empty() {
        return Err(
            "this worker runs no external command: its operator allows command lines with \
             --allow-command"
                .into(),
        );
    }
    let mut why = Vec::new();
    for line in allowed {
        match line.admits(program, args) {
            Ok(()) => return Ok(()),
            Err(reason) => why.push(reason),
        }
    }
    Err(format!("no --allow-command admits it: {}", why.join("; ")))
}

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
    /// A GPU-second job's GPU sampler, and the spec's devices: the most GPUs billed at once.
    gpu_time: Option<(Sampler, u32)>,
}

/// How a command ended.
pub struct Finished {
    pub wall_time: Duration,
    /// On a GPU-second job: the GPU time NVML saw, or why there is none to see.
    pub gpu_time: Option<Result<Metered, String>>,
    /// SHA-256 of its standard output.
    pub output_hash: [u8; 32],
    /// `None` when it exited with status 0, else what went wrong.
    pub failure: Option<String>,
}

impl Running {
    /// Starts `program` with `args`, its standard output written to `output`; `gpu_time`
    /// samples its GPUs while it runs (a GPU-second job's), billing at most `devices` at once.
    pub fn start(
        program: &str,
        args: &[String],
        output: &Path,
        gpu_time: Option<(Sampler, u32)>,
    ) -> Result<Self> {
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
            gpu_time,
        })
    }

    /// The outcome once the command has exited; `None` while it runs, after a sample of its
    /// GPUs.
    pub fn finished(&mut self) -> Result<Option<Finished>> {
        let Some(status) = self.child.try_wait()? else {
            if let Some((sampler, _)) = &mut self.gpu_time {
                sampler.sample(self.child.id(), self.started.elapsed());
            }
            return Ok(None);
        };
        let wall_time = self.started.elapsed();
        let output = std::fs::read(&self.output)
            .with_context(|| format!("cannot read {}", self.output.display()))?;
        Ok(Some(Finished {
            wall_time,
            gpu_time: self
                .gpu_time
                .as_ref()
                .map(|(sampler, devices)| sampler.finish(wall_time, *devices)),
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

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn an_allowed_line_admits_its_own_arguments_and_its_slots_alone() {
        let docker: Allowed = "/usr/bin/docker run --rm --network=none img:1 {model}"
            .parse()
            .unwrap();
        let run = args(&["run", "--rm", "--network=none", "img:1", "llama"]);
        assert_eq!(docker.admits("/usr/bin/docker", &run), Ok(()));
        // A host mount, another image, a flag in the slot, an extra argument: all refused.
        let mount = args(&["run", "-v", "/:/host", "--network=none", "img:1", "x"]);
        assert!(docker.admits("/usr/bin/docker", &mount).is_err());
        let other = args(&["run", "--rm", "--network=none", "evil:1", "llama"]);
        let why = docker.admits("/usr/bin/docker", &other).unwrap_err();
        assert!(why.contains("word 4 is \"evil:1\""), "{why}");
        let flag = args(&["run", "--rm", "--network=none", "img:1", "--privileged"]);
        let why = docker.admits("/usr/bin/docker", &flag).unwrap_err();
        assert!(why.contains("does not begin with -"), "{why}");
        let extra = args(&["run", "--rm", "--network=none", "img:1", "llama", "sh"]);
        assert!(docker.admits("/usr/bin/docker", &extra).is_err());
        assert!(docker.admits("/usr/bin/podman", &run).is_err());
        // An interpreter is allowed only with the script its operator wrote.
        let shell: Allowed = "/bin/sh /opt/jobs/infer.sh {input}".parse().unwrap();
        let why = admitted(
            std::slice::from_ref(&shell),
            "/bin/sh",
            &args(&["-c", "rm -rf ~"]),
        )
        .unwrap_err();
        assert!(why.starts_with("no --allow-command admits it"), "{why}");
        assert!(admitted(&[shell], "/bin/sh", &args(&["/opt/jobs/infer.sh", "a.txt"])).is_ok());
        assert!(admitted(&[], "/bin/sh", &[])
            .unwrap_err()
            .contains("runs no external"));
        assert!("{prog} x".parse::<Allowed>().is_err());
        assert!("/usr/bin/tool run -- {input}".parse::<Allowed>().is_ok());
        for after_a_flag in [
            "/bin/sh -c {script}",
            "docker run -v {x} img",
            "d --entrypoint {e}",
        ] {
            let why = after_a_flag.parse::<Allowed>().unwrap_err();
            assert!(why.contains("follows the flag"), "{why}");
        }
        assert!("  ".parse::<Allowed>().is_err());
    }

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
