//! What a Tessera job's work is, shared by the worker that does it and the attestors and
//! clients that check it: the job spec document a job's `spec_hash` commits to ([`spec`]), the
//! built-in workload, whose result anyone can check far faster than it was computed
//! ([`matmul`]), and the folders where spec documents and results are published ([`publish`]).

pub mod matmul;
pub mod publish;
pub mod spec;
