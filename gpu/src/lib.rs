//! The built-in workload on a GPU, through wgpu (Vulkan, Metal or DX12).
//!
//! [`Gpu::product`] multiplies two of `tessera_work::matmul`'s matrices over the field of
//! 2^31 - 1 in a WGSL compute shader (`product.wgsl`) and returns exactly what the CPU's
//! `Matrix::product` returns, bit for bit: every entry is the canonical residue in [0, p), so the
//! order the GPU adds the terms in changes nothing, and `job check-result` and the co-signers
//! check a GPU's products like a CPU's. The inputs are derived on the CPU from the same seed.
//!
//! Without a GPU, Mesa's lavapipe (Vulkan on the CPU, `scripts/lavapipe` installs it on
//! Debian) runs the same shader: the tests compare both paths on it.

use std::time::{Duration, Instant};
use tessera_work::matmul::Matrix;
use wgpu::util::DeviceExt;

/// Side of the square of entries one workgroup computes (`@workgroup_size` in the shader).
pub const TILE: usize = 16;

/// What can go wrong on the GPU path.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// wgpu found no adapter on any backend.
    #[error(
        "no GPU adapter found (Vulkan, Metal or DX12): install the GPU's driver, or for Vulkan \
         on the CPU Mesa's lavapipe (scripts/lavapipe on Debian), or run with --device cpu"
    )]
    NoAdapter,
    /// The adapter would not open a device.
    #[error("the GPU adapter {adapter} would not open a device: {reason}")]
    Device { adapter: String, reason: String },
    /// The matrices are larger than the device binds in one buffer.
    #[error(
        "a {n} x {n} matrix is {bytes} bytes, more than {adapter} binds in one buffer ({limit} \
         bytes): use n up to {max_n}"
    )]
    TooLarge {
        n: usize,
        bytes: u64,
        limit: u64,
        max_n: usize,
        adapter: String,
    },
    /// The two inputs differ in size.
    #[error("the matrices differ in size: {0} x {0} and {1} x {1}")]
    SizeMismatch(usize, usize),
    /// The device failed or was lost while computing.
    #[error("the GPU failed while computing: {0}")]
    Failed(String),
}

/// What kind of device an adapter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeviceKind {
    Discrete,
    Integrated,
    Virtual,
    Other,
    /// A driver that runs on the CPU (lavapipe, WARP, SwiftShader): last, as the slowest.
    Cpu,
}

impl DeviceKind {
    fn of(device_type: wgpu::DeviceType) -> Self {
        match device_type {
            wgpu::DeviceType::DiscreteGpu => Self::Discrete,
            wgpu::DeviceType::IntegratedGpu => Self::Integrated,
            wgpu::DeviceType::VirtualGpu => Self::Virtual,
            wgpu::DeviceType::Cpu => Self::Cpu,
            wgpu::DeviceType::Other => Self::Other,
        }
    }

    /// Its name in receipts' metadata, the worker's status and `tessera worker devices`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Discrete => "discrete GPU",
            Self::Integrated => "integrated GPU",
            Self::Virtual => "virtual GPU",
            Self::Cpu => "CPU (software Vulkan)",
            Self::Other => "other",
        }
    }
}

/// An adapter as the worker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The adapter's name, e.g. "NVIDIA H100 80GB HBM3" or "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    pub kind: DeviceKind,
    /// "vulkan", "metal" or "dx12".
    pub backend: String,
    /// The driver and its version, as the driver states them.
    pub driver: String,
}

impl DeviceInfo {
    fn of(info: &wgpu::AdapterInfo) -> Self {
        let driver = [info.driver.as_str(), info.driver_info.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            name: info.name.clone(),
            kind: DeviceKind::of(info.device_type),
            backend: info.backend.to_str().to_string(),
            driver,
        }
    }
}

/// Every adapter wgpu sees, best first: discrete GPUs, then integrated, virtual, other and
/// software (CPU) ones.
pub fn adapters() -> Vec<DeviceInfo> {
    let mut found: Vec<DeviceInfo> = enumerate()
        .iter()
        .map(|adapter| DeviceInfo::of(&adapter.get_info()))
        .collect();
    found.sort_by_key(|info| info.kind);
    found
}

fn enumerate() -> Vec<wgpu::Adapter> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
}

/// One round computed on a GPU.
pub struct GpuRound {
    pub product: Matrix,
    /// From handing the inputs to the device to holding the product back: upload, the
    /// shader's run and the read-back.
    pub product_time: Duration,
    /// The whole round, the inputs' derivation on the CPU included.
    pub wall_time: Duration,
}

/// A device ready to run the built-in workload's products.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    pipeline: wgpu::ComputePipeline,
    info: DeviceInfo,
    /// The most bytes one storage buffer binding may hold on this device.
    max_binding: u64,
}

impl Gpu {
    /// Opens the best adapter wgpu sees, in [`adapters`]' order (a discrete GPU before an
    /// integrated one, any GPU before a CPU driver such as lavapipe).
    pub fn open() -> Result<Self, GpuError> {
        let mut candidates = enumerate();
        candidates.sort_by_key(|adapter| DeviceKind::of(adapter.get_info().device_type));
        let adapter = candidates.into_iter().next().ok_or(GpuError::NoAdapter)?;
        let info = DeviceInfo::of(&adapter.get_info());
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("tessera matmul"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|error| GpuError::Device {
            adapter: info.name.clone(),
            reason: error.to_string(),
        })?;
        // Errors are caught where they happen (`scoped`) and returned, never left to wgpu's
        // default handler, which panics.
        device.on_uncaptured_error(std::sync::Arc::new(|_| {}));
        let pipeline = scoped(&device, || {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("product.wgsl"),
                source: wgpu::ShaderSource::Wgsl(include_str!("product.wgsl").into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("product"),
                layout: None,
                module: &module,
                entry_point: Some("product"),
                compilation_options: Default::default(),
                cache: None,
            })
        })
        .map_err(|reason| GpuError::Device {
            adapter: info.name.clone(),
            reason: format!("the shader would not compile: {reason}"),
        })?;
        let max_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        Ok(Self {
            device,
            queue,
            pipeline,
            info,
            max_binding,
        })
    }

    /// The adapter this device is.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The largest side of a matrix this device multiplies.
    pub fn max_n(&self) -> usize {
        let by_binding = ((self.max_binding / 4) as f64).sqrt() as usize;
        // A dispatch has at most 65,535 workgroups a dimension.
        by_binding.min(65_535 * TILE)
    }

    /// `a · b`, computed on this device: the same matrix as `a.product(b)`.
    pub fn product(&self, a: &Matrix, b: &Matrix) -> Result<Matrix, GpuError> {
        let n = a.n();
        if b.n() != n {
            return Err(GpuError::SizeMismatch(n, b.n()));
        }
        let bytes = (n * n * 4) as u64;
        if n > self.max_n() {
            return Err(GpuError::TooLarge {
                n,
                bytes,
                limit: self.max_binding,
                max_n: self.max_n(),
                adapter: self.info.name.clone(),
            });
        }
        if n == 0 {
            return Ok(a.clone());
        }
        let readback =
            scoped(&self.device, || self.submit(a, b, bytes)).map_err(GpuError::Failed)?;
        let (sender, receiver) = std::sync::mpsc::channel();
        readback.map_async(wgpu::MapMode::Read, .., move |mapped| {
            let _ = sender.send(mapped);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|error| GpuError::Failed(error.to_string()))?;
        receiver
            .recv()
            .map_err(|_| GpuError::Failed("the read-back never completed".into()))?
            .map_err(|error| GpuError::Failed(error.to_string()))?;
        let entries: Vec<u64> = {
            let view = readback
                .get_mapped_range(..)
                .map_err(|error| GpuError::Failed(error.to_string()))?;
            view.chunks_exact(4)
                .map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]) as u64)
                .collect()
        };
        readback.unmap();
        Matrix::from_entries(n, entries)
            .ok_or_else(|| GpuError::Failed("the GPU returned an entry outside the field".into()))
    }

    /// Uploads `a` and `b`, runs the shader over them and copies the product to a buffer the
    /// host can map, which it returns; `bytes` is one matrix's size.
    fn submit(&self, a: &Matrix, b: &Matrix, bytes: u64) -> wgpu::Buffer {
        let n = a.n();
        let input = |label: &str, matrix: &Matrix| {
            let words: Vec<u32> = matrix.entries().iter().map(|entry| *entry as u32).collect();
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: &words_as_bytes(&words),
                    usage: wgpu::BufferUsages::STORAGE,
                })
        };
        let (a_buffer, b_buffer) = (input("a", a), input("b", b));
        let output = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("c"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("c, read back"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let dims = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("dims"),
                contents: &words_as_bytes(&[n as u32, 0, 0, 0]),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("product"),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &[
                binding(0, &a_buffer),
                binding(1, &b_buffer),
                binding(2, &output),
                binding(3, &dims),
            ],
        });

        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("product"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            let groups = n.div_ceil(TILE) as u32;
            pass.dispatch_workgroups(groups, groups, 1);
        }
        encoder.copy_buffer_to_buffer(&output, 0, &readback, 0, bytes);
        self.queue.submit([encoder.finish()]);
        readback
    }

    /// Round `round` of side `n` of the work `seed` derives, its product computed on this
    /// device (`tessera_work::matmul::run_round` is the CPU's): the inputs are derived on the
    /// CPU from the same seed.
    pub fn run_round(&self, seed: &[u8; 32], round: u32, n: usize) -> Result<GpuRound, GpuError> {
        let started = Instant::now();
        let a = Matrix::derived(seed, b"A", round, n);
        let b = Matrix::derived(seed, b"B", round, n);
        let computing = Instant::now();
        let product = self.product(&a, &b)?;
        Ok(GpuRound {
            product,
            product_time: computing.elapsed(),
            wall_time: started.elapsed(),
        })
    }
}

/// Runs `work` with the device's out-of-memory and validation errors caught; the first one
/// caught, if any, as text.
fn scoped<T>(device: &wgpu::Device, work: impl FnOnce() -> T) -> Result<T, String> {
    let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = work();
    let caught = [
        pollster::block_on(validation.pop()),
        pollster::block_on(memory.pop()),
    ];
    match caught.into_iter().flatten().next() {
        Some(error) => Err(error.to_string()),
        None => Ok(value),
    }
}

fn binding(index: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding: index,
        resource: buffer.as_entire_binding(),
    }
}

fn words_as_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|word| word.to_le_bytes()).collect()
}
