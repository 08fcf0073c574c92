//! `tessera-attest`, the co-signing service as a program of its own: it starts on an embedded
//! ledger from its flags alone, says where it listens, answers as the key it was given, and
//! stops cleanly on SIGTERM.

use solana_keypair::Keypair;
use solana_signer::Signer;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_attest_binary_serves_as_its_key_and_stops_on_sigterm() {
    let folder = std::env::temp_dir().join(format!("tessera-attest-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    let key = Keypair::new();
    let key_file = folder.join("attestor.json");
    std::fs::write(
        &key_file,
        serde_json::to_vec(&key.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();

    let mut service = Command::new(env!("CARGO_BIN_EXE_tessera-attest"))
        .args(["--listen", "127.0.0.1:0", "--network", "7", "--key"])
        .arg(&key_file)
        .arg("--data-dir")
        .arg(folder.join("ledger"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(service.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let listening: serde_json::Value = serde_json::from_str(&line)
        .unwrap_or_else(|_| panic!("the first line is not where it listens: {line:?}"));
    let url = listening["listening"].as_str().unwrap().to_string();

    let info: serde_json::Value = reqwest::blocking::get(format!("{url}/v1/info"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["mode"], "key");
    assert_eq!(info["key"], key.pubkey().to_string());
    let network = tessera_client::pda::network(7).to_string();
    assert_eq!(info["network"], network.as_str());

    // SAFETY: `service` is our own child, still running.
    unsafe { libc::kill(service.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = service.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = service.kill();
            panic!("tessera-attest did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "tessera-attest ended with {status}");
    let _ = std::fs::remove_dir_all(&folder);
}
