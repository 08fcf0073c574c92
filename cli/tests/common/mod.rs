//! Helpers the `tessera` binary's test files share.

use solana_rpc_client::rpc_client::RpcClient;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A port on 127.0.0.1 nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a port on 127.0.0.1")
        .local_addr()
        .expect("its address")
        .port()
}

/// Bytes of the embedded ledger's store in `data_dir`, its write-ahead log included.
pub use tessera_ledger::embedded::ledger::store_bytes;

/// A fresh data folder for the test `name` (removed first if an earlier run left it).
pub fn fresh_folder(name: &str) -> PathBuf {
    let data_dir = std::env::temp_dir().join(format!("tessera-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_dir);
    data_dir
}

/// Runs `tessera` on `data_dir`.
pub fn tessera(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("tessera runs")
}

/// Runs a command on `data_dir` that must succeed; its JSON.
pub fn json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = tessera(data_dir, &[args, &["--output", "json"]].concat());
    let (stdout, stderr) = texts(&output);
    assert!(
        output.status.success(),
        "{args:?} failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{args:?}: not JSON: {stdout}"))
}

/// A command's standard output and error, as text.
pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A JSON string's text; panics on anything else.
pub fn text(value: &serde_json::Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not text"))
        .to_string()
}

/// A `tessera localnet` in a child process, serving `data_dir`; killed if dropped unstopped.
pub struct Localnet {
    pub child: Child,
    pub url: String,
    pub data_dir: PathBuf,
}

impl Localnet {
    /// Starts it on free ports and waits for its ready line.
    pub fn start(data_dir: &Path) -> Self {
        let (rpc, ws) = (free_port(), free_port());
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "localnet",
                "--rpc-port",
                &rpc.to_string(),
                "--ws-port",
                &ws.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(data_dir.with_extension("log")).unwrap())
            .spawn()
            .expect("tessera localnet starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains("embedded ledger at"),
            "localnet said {line:?}"
        );
        Self {
            child,
            url: format!("http://127.0.0.1:{rpc}"),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Stops it as `stop` does and starts it again on the same ledger.
    pub fn restart(self) -> Self {
        let data_dir = self.data_dir.clone();
        self.stop();
        Self::start(&data_dir)
    }

    /// SIGTERM, as a service manager or Ctrl-C would, and a clean exit.
    pub fn stop(mut self) {
        // SAFETY: signals our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().unwrap();
        assert!(status.success(), "localnet exited with {status}");
    }

    /// A client of its JSON-RPC.
    pub fn rpc(&self) -> RpcClient {
        RpcClient::new_with_commitment(
            self.url.clone(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        )
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A spec of an external command in `folder`: `/bin/sh` running the script `script` (written
/// to `<name>.sh`) on `devices` devices. The spec file, and the `--allow-command` line that
/// admits exactly that command.
pub fn command_spec(folder: &Path, name: &str, script: &str, devices: u32) -> (PathBuf, String) {
    let script_path = folder.join(format!("{name}.sh"));
    std::fs::write(&script_path, script).unwrap();
    let script_path = script_path.to_str().unwrap().to_string();
    let spec = serde_json::json!({
        "format": "tessera-spec/v1",
        "workload": { "kind": "command", "program": "/bin/sh", "args": [script_path], "devices": devices },
    });
    let spec_path = folder.join(format!("{name}.json"));
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    (spec_path, format!("/bin/sh {script_path}"))
}
