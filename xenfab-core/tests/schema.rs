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

/// `schemas/pan/xenfab/{schema,config}.pan` must be what the same types generate.
#[test]
fn committed_pan_schema_is_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/pan/xenfab");
    for (file, generated) in [
        ("schema.pan", xenfab_core::input::fabric_file::pan_schema()),
        ("config.pan", xenfab_core::input::fabric_file::pan_config()),
    ] {
        let path = dir.join(file);
        if std::env::var_os("XENFAB_BLESS").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "schemas/pan/xenfab/{file} is stale: run XENFAB_BLESS=1 cargo test --test schema and commit it"
        );
    }
}

/// Every field of every JSON Schema definition is a field of the pan type of the same name.
#[test]
fn pan_schema_has_every_field_of_the_json_schema() {
    let json: serde_json::Value =
        serde_json::from_str(&xenfab_core::input::fabric_file::json_schema()).unwrap();
    let pan = xenfab_core::input::fabric_file::pan_schema();
    let defs = json["$defs"].as_object().unwrap();
    let mut checked = 0;
    for def in defs.values().chain(std::iter::once(&json)) {
        let Some(props) = def.get("properties").and_then(serde_json::Value::as_object) else {
            continue;
        };
        let required: Vec<&str> = def
            .get("required")
            .and_then(serde_json::Value::as_array)
            .map(|r| r.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default();
        for key in props.keys() {
            let marker = if required.contains(&key.as_str()) {
                ":"
            } else {
                "?"
            };
            assert!(
                pan.contains(&format!("    '{key}' {marker} ")),
                "field `{key}` is not in the pan schema as `{marker}`"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} fields checked");
}
