//! A machine's firmware: how it starts, and so which boot files, partition tables and boot
//! entries it needs. A hardware profile says it; a dom0 may say otherwise (a machine whose
//! legacy mode is switched on or off by hand). Every renderer asks [`Fabric::firmware`].

use serde::{Deserialize, Serialize};

use super::fabric::{Dom0, Fabric};

/// How a machine starts.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Firmware {
    /// A PC BIOS (or UEFI in its legacy mode, CSM): boot sector, pxelinux. The seed's
    /// machines, and the default.
    #[default]
    Bios,
    /// UEFI (x86-64): an EFI System Partition, EFI boot files over the network, Xen through
    /// GRUB's `multiboot2`.
    Uefi,
}

impl Firmware {
    /// Its name in the fabric file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Firmware::Bios => "bios",
            Firmware::Uefi => "uefi",
        }
    }
}

impl Firmware {
    /// True for [`Firmware::Bios`], the default the inventory leaves out.
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    pub fn is_bios(&self) -> bool {
        *self == Firmware::Bios
    }
}

impl std::fmt::Display for Firmware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Fabric {
    /// The firmware of a dom0: its own, else its hardware profile's, else BIOS.
    pub fn firmware(&self, dom0: &Dom0) -> Firmware {
        dom0.firmware
            .or_else(|| self.hardware.get(&dom0.hardware).map(|h| h.firmware))
            .unwrap_or_default()
    }
}
