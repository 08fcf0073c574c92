//! `tessera-gpu-check`: the GPU path checked on one machine in one go (`scripts/gpu-check`).
//! For each side n given (default 1024 2048 4096), it derives a round's inputs, multiplies them
//! on the GPU wgpu opens and on the CPU, requires the two products bit-identical and the GPU's
//! to pass Freivalds' test (two trials), and prints GPU time, CPU time, check time and their
//! ratios as a Markdown table. Exits 1 on any mismatch or failure.
//!
//! Usage: `tessera-gpu-check [N ...]`

use rand::SeedableRng;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tessera_gpu::Gpu;
use tessera_work::matmul::{self, Matrix};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gpu-check failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let sides: Vec<usize> = match std::env::args().skip(1).collect::<Vec<_>>() {
        args if args.is_empty() => vec![1024, 2048, 4096],
        args => args
            .iter()
            .map(|arg| {
                arg.parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{arg:?} is not a matrix side (a positive integer)"))
            })
            .collect::<Result<_, _>>()?,
    };
    let gpu = Gpu::open().map_err(|error| error.to_string())?;
    let info = gpu.info();
    println!(
        "GPU: {} ({}, {}, driver {}); CPU reference: tessera-work's loop on one thread.\n",
        info.name,
        info.kind.name(),
        info.backend,
        info.driver
    );
    println!("| n | GPU product (ms) | CPU product (ms) | Freivalds check, 2 trials (ms) | CPU / GPU | check / GPU |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let seed = [0x5e; 32];
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    for (round, n) in sides.into_iter().enumerate() {
        let a = Matrix::derived(&seed, b"A", round as u32, n);
        let b = Matrix::derived(&seed, b"B", round as u32, n);
        // A first product warms the pipeline up (shader compilation, allocation) untimed.
        gpu.product(&a, &b)
            .map_err(|error| format!("n = {n}: {error}"))?;
        let (on_gpu, gpu_time) = timed(|| gpu.product(&a, &b));
        let on_gpu = on_gpu.map_err(|error| format!("n = {n}: {error}"))?;
        let (on_cpu, cpu_time) = timed(|| a.product(&b));
        if on_gpu != on_cpu {
            return Err(format!("n = {n}: the GPU's product differs from the CPU's"));
        }
        let (passed, check_time) = timed(|| matmul::freivalds(&a, &b, &on_gpu, 2, &mut rng));
        if !passed {
            return Err(format!("n = {n}: the GPU's product fails Freivalds' test"));
        }
        println!(
            "| {n} | {} | {} | {} | {:.1}x | {:.1} % |",
            millis(gpu_time),
            millis(cpu_time),
            millis(check_time),
            cpu_time.as_secs_f64() / gpu_time.as_secs_f64(),
            100.0 * check_time.as_secs_f64() / gpu_time.as_secs_f64(),
        );
    }
    println!("\nEvery product was bit-identical to the CPU's and passed Freivalds' test.");
    Ok(())
}

fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = work();
    (value, started.elapsed())
}

fn millis(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1_000.0)
}
