//! `schemas/fabric.schema.json` must be the schema the Rust types generate.

#[test]
fn committed_schema_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/fabric.schema.json");
    let generated = xenfab_core::input::fabric_file::json_schema();
    if std::env::var_os("XENFAB_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/fabric.schema.json is stale: run `cargo run -p xenfab-cli -- schema > schemas/fabric.schema.json` \
         (or XENFAB_BLESS=1 cargo test --test schema) and commit it"
    );
}
