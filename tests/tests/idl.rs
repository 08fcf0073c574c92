//! The committed IDL (`idl/tessera.json`, what TypeScript and Python clients are generated
//! from) must be the program's: this builds the IDL as `anchor build` does and compares.
//! After changing the program: `UPDATE_IDL=1 cargo test -p tessera-tests --test idl`.

use anchor_lang_idl::build::IdlBuilder;
use anchor_lang_idl::types::Idl;
use std::path::Path;

#[test]
fn committed_idl_matches_the_program() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf();
    // anchor-lang-idl 0.1.4 turns a set RUSTUP_TOOLCHAIN into a malformed `cargo +toolchain`
    // argument; rust-toolchain.toml picks the same toolchain without it. This binary holds
    // this one test, so changing its environment affects nothing else.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = IdlBuilder::new()
        .program_path(root.join("programs/tessera"))
        .resolution(true)
        .skip_lint(false)
        .no_docs(false)
        .cargo_args(vec![
            "--lib".into(),
            "--locked".into(),
            // Its own target folder: other features and flags than the workspace build, and
            // the outer cargo holds the lock on target/ while tests run.
            "--target-dir".into(),
            root.join("target/idl-build").display().to_string(),
        ])
        .build()
        .expect("the IDL builds (a nested `cargo test --features idl-build`)");
    let path = root.join("idl/tessera.json");
    let json = serde_json::to_string_pretty(&idl).expect("the IDL serializes") + "\n";
    if std::env::var_os("UPDATE_IDL").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, json).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: UPDATE_IDL=1 cargo test -p tessera-tests --test idl",
            path.display()
        )
    });
    let committed: Idl = serde_json::from_str(&committed).expect("idl/tessera.json is an IDL");
    assert!(
        committed == idl,
        "idl/tessera.json is stale: the program changed; regenerate it with \
         `UPDATE_IDL=1 cargo test -p tessera-tests --test idl` and commit it"
    );
    assert!(!idl.instructions.is_empty() && !idl.errors.is_empty());
}
