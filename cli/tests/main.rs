//! The `tessera` command line tried from outside: each module runs the built binary (and
//! `tessera localnet`) the way a user would, on a data folder of its own. One test binary for
//! all of them, so that they link once and run side by side.

mod common;

mod attest;
mod auditor;
mod commands;
mod embedded;
mod localnet;
mod one_folder;
mod worker;
