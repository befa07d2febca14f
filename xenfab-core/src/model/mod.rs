//! The fabric model: validated domain types that every renderer reads.
//!
//! Values here are already parsed and checked for syntax (a [`HostName`] cannot hold a `;`);
//! relations between them (duplicates, capacity, references) are checked by
//! [`crate::validate()`].

pub mod boot_files;
mod boot_partitions;
mod capacity;
pub mod debootstrap;
pub mod dns;
mod fabric;
mod firmware;
mod guest_boot;
mod interfaces;
mod kickstart;
pub mod ks_lines;
mod mac;
mod names;
mod partition;
pub mod partman;
pub mod release;
mod size;

pub use boot_partitions::{
    BIOSBOOT_MIB, ESP_MIN, ESP_MOUNT, GptReason, MSDOS_MAX_MIB, boot_disks, boot_layout, esp_size,
    gpt_reason,
};
pub use capacity::{Capacity, SAVE_DIR, SaveArea, VgCapacity, capacity};
pub use fabric::{
    Arch, BootImage, BootState, DirectBoot, Disk, Dom0, Fabric, Guest, GuestDisk, Hardware,
    HardwareRaid, HostRef, InstallServer, LifecycleAction, MacSource, Network, OsFamily, OsRelease,
    SerialConsole, SerialPort, Site, Toolstack, VirtMode,
};
pub(crate) use fabric::{hosts_of, kept_volume_groups};
pub use firmware::Firmware;
pub use guest_boot::{
    INSTALLER_DIR, InstallerBoot, installer_boot, installer_disk_name, loader_network,
    loader_screens, rescue_args,
};
pub(crate) use interfaces::nic_path;
pub use interfaces::{
    BOND_MIIMON, Bond, BondMode, Bridge, GuestNic, Interfaces, Nic, NicRef, OtherAddress,
};
pub use kickstart::{
    CryptHash, DEFAULT_HASHES, Keymap, KickstartOverride, KickstartSettings, Level, Locale, Merged,
    Package, PostScript, PostScriptError, PreScript, PreScriptError, Repo, RoleSettings, Service,
    Services, ServicesOverride, Timezone, Token, known_default,
};
pub use mac::{MacAddr, MacError, MacScheme, XEN_OUI, hex_ip};
pub use names::{AbsFile, AbsPath, BootPath, DomainName, HostName, Ident, LvmName, NameError};
pub use partition::{
    BUILTIN_SCHEMES, DiskLabel, FsType, Holder, LogicalVolume, MountPoint, Partition,
    PartitionScheme, RaidArray, RaidLevel, Role, VolumeGroup, builtin_schemes, mount_covers,
};
pub use size::{Size, SizeError};
