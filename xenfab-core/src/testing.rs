//! Test helpers: files of the repository (examples, golden cases), machines and built-in schemes for unit tests.

use crate::model::Fabric;

/// The text of `path`, relative to the repository's root (`examples/debian-site.toml`).
pub(crate) fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The fabric of the fabric file at `path`, relative to the repository's root; it must load.
pub(crate) fn repo_fabric(path: &str) -> Fabric {
    match crate::load(&repo_file(path), path) {
        Ok(loaded) => loaded.fabric,
        Err(e) => panic!("{path}: {e}"),
    }
}

/// A BIOS machine of 16 GiB and 8 CPUs with `disks` (name, size in MiB), seen one by one.
pub(crate) fn hardware(disks: &[(&str, u64)]) -> crate::model::Hardware {
    crate::model::Hardware {
        ram: crate::model::Size::from_mib(16384),
        cpus: 8,
        raid: crate::model::HardwareRaid::None,
        disks: disks
            .iter()
            .map(|(n, mib)| crate::model::Disk {
                name: n.parse().unwrap(),
                size: crate::model::Size::from_mib(*mib),
            })
            .collect(),
        serial_console: None,
        firmware: crate::model::Firmware::Bios,
    }
}

/// The built-in partition scheme `name` (`seed-softraid1`, `seed-hwraid10`).
pub(crate) fn builtin_scheme(name: &str) -> crate::model::PartitionScheme {
    crate::model::builtin_schemes()
        .into_iter()
        .find(|(n, _)| n.as_str() == name)
        .unwrap_or_else(|| panic!("no built-in scheme {name}"))
        .1
}
