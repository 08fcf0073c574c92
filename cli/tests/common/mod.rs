//! Helpers the `tessera` binary's test files share.

use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

/// A port on 127.0.0.1 nothing listens on right now.
#[allow(dead_code)] // not every test file starts a localnet
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a port on 127.0.0.1")
        .local_addr()
        .expect("its address")
        .port()
}

/// Bytes of the embedded ledger's store in `data_dir`, its write-ahead log included.
#[allow(dead_code)] // not every test file measures the store
pub fn store_bytes(data_dir: &Path) -> u64 {
    ["ledger.sqlite", "ledger.sqlite-wal"]
        .iter()
        .filter_map(|name| std::fs::metadata(data_dir.join(name)).ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// A command's standard output and error, as text.
#[allow(dead_code)] // not every test file runs the binary
pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A JSON string's text; panics on anything else.
#[allow(dead_code)] // not every test file reads JSON
pub fn text(value: &serde_json::Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not text"))
        .to_string()
}
