//! GPU time of an external command, read from NVIDIA's driver: NVML, which `nvml-wrapper`
//! loads at run time, so the build and a machine without NVIDIA's driver need none of it.
//!
//! While a GPU-second job's command runs, the worker samples at each look at it (every 100 ms
//! while it waits only for commands, else once a pass) which GPUs the command's processes (the
//! command and its descendants) hold, from NVML's list of each GPU's compute processes, and
//! their SM utilization over the last period. The metered device-time is, from one sample to
//! the next, the time the held GPUs were held, at most the spec's devices at once ([`meter`]),
//! rounded up to a whole GPU-second once at the end: a command that holds fewer GPUs than its
//! spec names is billed fewer, one that holds more is billed no more.
//!
//! What this cannot see: processes outside the command's process tree (a container that `docker
//! run` hands to the Docker daemon runs under the daemon, not under the command; a worker in a
//! container sees other process ids than NVML). When no sample saw the command's processes hold
//! a GPU, the worker meters wall time times the spec's devices and says so, naming the processes
//! it saw holding GPUs; without NVML it does the same and says why. It never guesses silently.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

/// One look at the GPUs: when (since the command started), and the GPUs the command's
/// processes held then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at: Duration,
    pub held: Vec<HeldGpu>,
}

/// Why a command's GPU time is its wall time times the spec's devices.
pub type WallTime = String;

/// A GPU a command's process held at a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldGpu {
    /// NVML's index of the GPU.
    pub index: u32,
    /// The SM utilization NVML gave for the command's processes on it since the last sample,
    /// percent; `None` when it gave none (the driver samples about every 1/6 s).
    pub sm_utilization: Option<u32>,
}

/// The GPU time a run's samples show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metered {
    /// GPU-nanoseconds held, summed over the GPUs.
    pub device_nanos: u128,
    /// The GPUs held at some sample, by NVML index.
    pub gpus: Vec<u32>,
    /// The mean of the SM utilizations NVML gave, percent; `None` when it gave none.
    pub mean_sm_utilization: Option<u32>,
}

impl Metered {
    /// GPU-seconds, rounded up once (a run is billed less than a second more than it held).
    pub fn gpu_seconds(&self) -> u64 {
        self.device_nanos
            .div_ceil(1_000_000_000)
            .min(u64::MAX as u128) as u64
    }
}

/// The GPU time of a run that ended at `ended` (since it started), from `samples` in the order
/// taken: each sample's held GPUs, at most `most` of them (the spec's devices), count from it
/// until the next sample, the last one's until the end. Time before the first sample counts
/// nothing: no GPU was seen held then.
pub fn meter(samples: &[Sample], ended: Duration, most: u32) -> Metered {
    let mut device_nanos = 0u128;
    let mut gpus = BTreeSet::new();
    let (mut utilization_sum, mut utilizations) = (0u64, 0u64);
    for (at, sample) in samples.iter().enumerate() {
        let until = samples
            .get(at + 1)
            .map_or(ended, |next| next.at)
            .max(sample.at);
        let held: BTreeSet<u32> = sample.held.iter().map(|gpu| gpu.index).collect();
        let billed = held.len().min(most as usize);
        device_nanos += (until - sample.at).as_nanos() * billed as u128;
        gpus.extend(held);
        for utilization in sample.held.iter().filter_map(|gpu| gpu.sm_utilization) {
            utilization_sum += u64::from(utilization.min(100));
            utilizations += 1;
        }
    }
    Metered {
        device_nanos,
        gpus: gpus.into_iter().collect(),
        mean_sm_utilization: (utilizations > 0).then(|| (utilization_sum / utilizations) as u32),
    }
}

/// What samples a command's GPUs: NVML, or nothing and why.
pub enum Sampler {
    Nvml(Box<NvmlSampler>),
    /// No NVML: the command is metered in wall time times the spec's devices.
    WallTime {
        why: String,
    },
}

impl Sampler {
    /// NVML when the driver's library loads and sees a GPU; else why not.
    pub fn open() -> Self {
        match NvmlSampler::open() {
            Ok(nvml) => Self::Nvml(Box::new(nvml)),
            Err(why) => Self::WallTime { why },
        }
    }

    /// Takes a sample of the GPUs the process `root` and its descendants hold, `at` since the
    /// command started.
    pub fn sample(&mut self, root: u32, at: Duration) {
        if let Self::Nvml(nvml) = self {
            nvml.sample(root, at);
        }
    }

    /// The GPU time of a run that ended at `ended`, at most `most` GPUs at once (the spec's
    /// devices), or why it is to be metered in wall time instead.
    pub fn finish(&self, ended: Duration, most: u32) -> Result<Metered, WallTime> {
        match self {
            Self::Nvml(nvml) => nvml.observed.finish(ended, most),
            Self::WallTime { why } => Err(why.clone()),
        }
    }
}

/// What the samples of one run saw.
#[derive(Default)]
pub struct Observed {
    samples: Vec<Sample>,
    /// Processes outside the command's tree seen holding a GPU, by GPU.
    others: BTreeMap<u32, BTreeSet<u32>>,
}

impl Observed {
    /// The GPU time of a run that ended at `ended`, at most `most` GPUs at once; when no
    /// sample saw the command's processes hold a GPU, why it is to be metered in wall time.
    pub fn finish(&self, ended: Duration, most: u32) -> Result<Metered, WallTime> {
        let metered = meter(&self.samples, ended, most);
        if !metered.gpus.is_empty() {
            return Ok(metered);
        }
        let others: Vec<String> = self
            .others
            .iter()
            .map(|(gpu, pids)| format!("GPU {gpu} by processes {pids:?}"))
            .collect();
        Err(format!(
            "NVML saw no GPU held by the command's processes in {} samples{}: metering wall \
             time times the spec's devices (a container started by the command runs outside \
             its process tree)",
            self.samples.len(),
            if others.is_empty() {
                String::new()
            } else {
                format!(" (held meanwhile: {})", others.join("; "))
            }
        ))
    }
}

/// NVML, opened, and what its samples saw so far.
pub struct NvmlSampler {
    nvml: nvml_wrapper::Nvml,
    devices: u32,
    /// Per GPU, the newest utilization sample's timestamp read (NVML's CPU clock, µs).
    last_read: BTreeMap<u32, u64>,
    observed: Observed,
}

impl NvmlSampler {
    fn open() -> Result<Self, String> {
        let nvml = nvml_wrapper::Nvml::init().map_err(|error| {
            format!("NVML is not available ({error}): metering wall time times the spec's devices")
        })?;
        let devices = nvml.device_count().map_err(|error| {
            format!("NVML counts no GPU ({error}): metering wall time times the spec's devices")
        })?;
        if devices == 0 {
            return Err("NVML sees no GPU: metering wall time times the spec's devices".into());
        }
        Ok(Self {
            nvml,
            devices,
            last_read: BTreeMap::new(),
            observed: Observed::default(),
        })
    }

    fn sample(&mut self, root: u32, at: Duration) {
        let family = process_tree(root);
        let mut held = Vec::new();
        for index in 0..self.devices {
            let Ok(device) = self.nvml.device_by_index(index) else {
                continue;
            };
            let holds = device
                .running_compute_processes()
                .map(|processes| {
                    processes
                        .iter()
                        .any(|process| family.contains(&process.pid))
                })
                .unwrap_or(false);
            if !holds {
                continue;
            }
            let since = self.last_read.get(&index).copied().unwrap_or(0);
            let utilization = device
                .process_utilization_stats(since)
                .ok()
                .and_then(|stats| {
                    let ours: Vec<_> = stats
                        .iter()
                        .filter(|stat| family.contains(&stat.pid))
                        .collect();
                    if let Some(newest) = stats.iter().map(|stat| stat.timestamp).max() {
                        self.last_read.insert(index, newest);
                    }
                    (!ours.is_empty()).then(|| ours.iter().map(|stat| stat.sm_util).sum::<u32>())
                });
            held.push(HeldGpu {
                index,
                sm_utilization: utilization,
            });
        }
        self.observed.samples.push(Sample { at, held });
    }
}

/// The process `root` and its descendants, from `/proc` (Linux; elsewhere `root` alone).
fn process_tree(root: u32) -> HashSet<u32> {
    let mut family = HashSet::from([root]);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return family;
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid ...": the name may hold spaces and parentheses.
            let after_name = &stat[stat.rfind(')')? + 1..];
            let ppid = after_name.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    // Parents before children is not guaranteed: repeat until nothing joins.
    loop {
        let before = family.len();
        for (pid, ppid) in &parents {
            if family.contains(ppid) {
                family.insert(*pid);
            }
        }
        if family.len() == before {
            return family;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn held(gpus: &[(u32, Option<u32>)]) -> Vec<HeldGpu> {
        gpus.iter()
            .map(|(index, sm_utilization)| HeldGpu {
                index: *index,
                sm_utilization: *sm_utilization,
            })
            .collect()
    }

    /// Samples recorded from a two-GPU run of about 3 s: the command loads for 0.4 s (no GPU),
    /// holds GPU 0, then GPU 0 and 1, then lets GPU 0 go.
    fn recorded() -> Vec<Sample> {
        vec![
            Sample {
                at: at(100),
                held: vec![],
            },
            Sample {
                at: at(400),
                held: held(&[(0, None)]),
            },
            Sample {
                at: at(1_000),
                held: held(&[(0, Some(97)), (1, Some(40))]),
            },
            Sample {
                at: at(2_000),
                held: held(&[(1, Some(88))]),
            },
        ]
    }

    #[test]
    fn gpu_time_is_each_held_gpus_time_summed_from_the_samples() {
        let metered = meter(&recorded(), at(3_100), 2);
        // GPU 0: 0.4 → 2.0 s; GPU 1: 1.0 → 3.1 s.
        assert_eq!(
            metered.device_nanos,
            at(1_600).as_nanos() + at(2_100).as_nanos()
        );
        assert_eq!(metered.gpu_seconds(), 4, "3.7 GPU-seconds, rounded up once");
        assert_eq!(metered.gpus, [0, 1]);
        assert_eq!(metered.mean_sm_utilization, Some((97 + 40 + 88) / 3));
        // A spec of one device is billed one GPU at a time, whatever the command held.
        let one = meter(&recorded(), at(3_100), 1);
        assert_eq!(one.device_nanos, at(3_100 - 400).as_nanos());
    }

    #[test]
    fn no_gpu_held_is_no_gpu_time() {
        let idle = vec![
            Sample {
                at: at(0),
                held: vec![],
            },
            Sample {
                at: at(500),
                held: vec![],
            },
        ];
        let metered = meter(&idle, at(10_000), 4);
        assert_eq!((metered.device_nanos, metered.gpu_seconds()), (0, 0));
        assert!(metered.gpus.is_empty());
        assert_eq!(metered.mean_sm_utilization, None);
        assert_eq!(
            meter(&[], at(10_000), 4).gpu_seconds(),
            0,
            "no sample, nothing seen"
        );
    }

    #[test]
    fn a_gpu_listed_twice_in_a_sample_counts_once_and_late_samples_count_nothing_backwards() {
        let twice = vec![Sample {
            at: at(0),
            held: held(&[(3, Some(50)), (3, Some(50))]),
        }];
        assert_eq!(
            meter(&twice, at(2_000), 4).device_nanos,
            at(2_000).as_nanos()
        );
        // A sample taken after the run's end (a slow look) adds nothing.
        let late = vec![Sample {
            at: at(5_000),
            held: held(&[(0, None)]),
        }];
        assert_eq!(meter(&late, at(4_000), 4).device_nanos, 0);
    }

    #[test]
    fn a_run_nvml_saw_hold_no_gpu_is_metered_in_wall_time_naming_who_held_them() {
        let mut observed = Observed {
            samples: vec![Sample {
                at: at(0),
                held: vec![],
            }],
            others: BTreeMap::new(),
        };
        observed.others.entry(1).or_default().insert(4242);
        let why = observed.finish(at(5_000), 1).unwrap_err();
        assert!(why.starts_with("NVML saw no GPU held by the command's processes in 1 samples"));
        assert!(why.contains("GPU 1 by processes {4242}"), "{why}");
        observed.samples[0].held = held(&[(1, Some(90))]);
        assert_eq!(observed.finish(at(5_000), 1).unwrap().gpu_seconds(), 5);
    }

    #[test]
    fn without_nvml_the_sampler_says_why_and_meters_nothing() {
        let sampler = Sampler::WallTime {
            why: "NVML is not available (test)".into(),
        };
        assert_eq!(
            sampler.finish(at(1_000), 2),
            Err("NVML is not available (test)".to_string())
        );
    }

    #[test]
    fn a_process_tree_holds_the_root_and_its_children() {
        let me = std::process::id();
        let family = process_tree(me);
        assert!(family.contains(&me));
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let family = process_tree(me);
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            family.contains(&child.id()),
            "the child joins its parent's tree"
        );
    }
}
