//! `tessera-attest`, the co-signing service as a program of its own: it takes its settings
//! from a config file, its environment and its command line (in rising order of precedence),
//! prints the settings in effect, starts on an embedded ledger, says where it listens, answers
//! as the key it was given, and stops cleanly on SIGTERM.

use solana_keypair::Keypair;
use solana_signer::Signer;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The service binary, with no `TESSERA_*` variable of the environment the tests run in.
fn attest_binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera-attest"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TESSERA_")) {
        command.env_remove(name);
    }
    command
}

/// A running service, killed if the test ends before it stopped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_attest_binary_serves_as_its_settings_say_and_stops_on_sigterm() {
    let folder = std::env::temp_dir().join(format!("tessera-attest-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let (key, key_file) = attestor_key(&folder);
    let config = folder.join("attest.toml");
    let settings = toml_settings(&[
        ("listen", "127.0.0.1:0"),
        ("key", key_file.to_str().unwrap()),
        ("data-dir", folder.join("ledger").to_str().unwrap()),
        ("network", "3"),
    ]);
    std::fs::write(&config, settings).unwrap();

    prints_its_settings(&config);

    // The environment overrides the file: the service attests for network 7.
    let mut command = attest_binary();
    command
        .arg("--config")
        .arg(&config)
        .env("TESSERA_NETWORK", "7");
    let (service, url) = start(command);

    let info: serde_json::Value = reqwest::blocking::get(format!("{url}/v1/info"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["mode"], "key");
    assert_eq!(info["key"], key.pubkey().to_string());
    let network = tessera_client::pda::network(7).to_string();
    assert_eq!(info["network"], network.as_str());

    stops_on_sigterm(service);

    // A setting the service does not have is refused by name, before anything starts.
    std::fs::write(&config, "lisen = \"127.0.0.1:0\"\n").unwrap();
    let refused = attest_binary()
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`lisen` is no setting"), "{stderr}");
    let _ = std::fs::remove_dir_all(&folder);
}

/// Starts the service `command` runs; it and the URL its first line says it listens at.
fn start(mut command: Command) -> (Running, String) {
    let mut service = Running(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(service.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|_| panic!("the first line is not where it listens: {line:?}"));
    let url = listening["listening"].as_str().unwrap().to_string();
    (service, url)
}

/// A new attestor key, and its keypair file in `folder`.
fn attestor_key(folder: &std::path::Path) -> (Keypair, std::path::PathBuf) {
    let key = Keypair::new();
    let path = folder.join("attestor.json");
    std::fs::write(&path, serde_json::to_vec(&key.to_bytes().to_vec()).unwrap()).unwrap();
    (key, path)
}

/// A config file setting each `(name, value)` as a TOML string.
fn toml_settings(settings: &[(&str, &str)]) -> String {
    settings
        .iter()
        .map(|(name, value)| format!("{name} = {value:?}\n"))
        .collect()
}

/// Sends SIGTERM to `service` and checks that it stops, cleanly, within a minute.
fn stops_on_sigterm(mut service: Running) {
    // SAFETY: `service` is our own child, still running.
    unsafe { libc::kill(service.0.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = service.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "tessera-attest did not stop within 60 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "tessera-attest ended with {status}");
}

/// `--print-config` prints the file's settings at `config`, and the defaults.
fn prints_its_settings(config: &std::path::Path) {
    let printed = attest_binary()
        .arg("--config")
        .arg(config)
        .arg("--print-config")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.status.success(), "{text}");
    assert!(text.contains("network = \"3\""), "{text}");
    assert!(text.contains("listen = \"127.0.0.1:0\""), "{text}");
    assert!(text.contains("sample ="), "{text}");
}

#[test]
fn the_service_serves_https_with_the_certificate_it_is_given() {
    let folder = std::env::temp_dir().join(format!("tessera-attest-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let (key, key_file) = attestor_key(&folder);
    // A certificate for 127.0.0.1 from a test authority (tests/tls, made with openssl).
    let tls = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let mut command = attest_binary();
    command
        .args(["--listen", "127.0.0.1:0", "--network", "3"])
        .arg("--key")
        .arg(&key_file)
        .arg("--data-dir")
        .arg(folder.join("ledger"))
        .arg("--tls-cert")
        .arg(tls.join("cert.pem"))
        .arg("--tls-key")
        .arg(tls.join("key.pem"));
    let (service, url) = start(command);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let authority = std::fs::read(tls.join("ca.pem")).unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&authority).unwrap())
        .build()
        .unwrap();
    let info: serde_json::Value = client
        .get(format!("{url}/v1/info"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["key"], key.pubkey().to_string());
    // Plain HTTP gets no answer from it, and neither does a client that does not trust the
    // certificate.
    let plain = url.replace("https://", "http://");
    assert!(reqwest::blocking::get(format!("{plain}/v1/info")).is_err());
    assert!(reqwest::blocking::get(format!("{url}/v1/info")).is_err());

    stops_on_sigterm(service);
    let _ = std::fs::remove_dir_all(&folder);
}
