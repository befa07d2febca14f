//! The fabric file as written: serde types for TOML and JSON, and the source of the JSON Schema.
//!
//! Values that validation checks (names, addresses, sizes) are kept as text here and parsed
//! while lowering, so that one run reports every bad value instead of stopping at the first.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{
    Arch, BootState, DiskLabel, Firmware, FsType, HardwareRaid, LifecycleAction, MacScheme,
    OsFamily, RaidLevel, SerialPort, Toolstack, VirtMode,
};

/// The version of the fabric file format this xenfab reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// One description of a Xen fabric: the site, its networks and hardware, its dom0s and their
/// guests. Written as TOML (or the same structure as JSON).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "xenfab fabric file", extend("$id" = "https://xenfab.invalid/schemas/fabric.schema.json"))]
pub struct FabricFile {
    /// The format version of the file; this xenfab reads version 1.
    pub version: u32,
    /// The site.
    pub site: Site,
    /// The install server that network installs boot from.
    pub install: Install,
    /// What every kickstart file shares: root password, locale, packages, `%post` hooks.
    pub kickstart: Kickstart,
    /// Kernel and initrd pairs for network installs, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boot_images: BTreeMap<String, BootImage>,
    /// Operating system releases, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub os: BTreeMap<String, Os>,
    /// Networks, by name.
    pub networks: BTreeMap<String, Network>,
    /// Hardware profiles, by name.
    pub hardware: BTreeMap<String, Hardware>,
    /// Custom partition schemes, by name. The built-in `seed-softraid1` and `seed-hwraid10`
    /// are always there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partition_schemes: BTreeMap<String, PartitionScheme>,
    /// Defaults for dom0s and guests that do not say otherwise.
    #[serde(default)]
    pub defaults: Defaults,
    /// The Xen hosts.
    #[serde(default)]
    pub dom0s: Vec<Dom0>,
    /// The site's DNS zones (`dns/`): name servers, SOA mailbox, TTL and timers. Every value
    /// has a default, and the zones are rendered without this table too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Dns>,
}

/// The site's DNS zones: a forward zone of the site's domain and a reverse zone a network.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dns {
    /// The zones' name servers (NS records). A name without a dot, or one label over the
    /// site's domain, must be a host of the fabric (the zone has its address); a name outside
    /// the site's domain is taken as it is. Default: `ns`, the host of that name if there is
    /// one, else the install server (`install.next_server`, or the first network's
    /// `next_server`), which gets an address record `ns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<Vec<String>>,
    /// The zones' responsible mailbox (the SOA's RNAME) as a domain name, its first label
    /// the local part: `hostmaster.example.org` is hostmaster@example.org (default
    /// `hostmaster.<site.domain>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "hostname"))]
    pub hostmaster: Option<String>,
    /// The TTL of every record, in seconds (default 3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    /// SOA refresh: how often secondaries poll, in seconds (default 7200, RFC 1912 2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<u32>,
    /// SOA retry: how soon secondaries poll again after a failure, in seconds (default 900).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    /// SOA expire: how long secondaries answer without reaching the master, in seconds
    /// (default 1209600, two weeks, RFC 1912 2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire: Option<u32>,
    /// SOA minimum: the TTL of negative answers, in seconds (default 3600, RFC 2308 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<u32>,
}

/// The site.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// A short name for the site.
    pub name: String,
    /// The DNS domain of every host.
    #[schemars(extend("format" = "hostname"))]
    pub domain: String,
    /// How guests without an explicit MAC get one (default `xen-last3`, the seed's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_scheme: Option<MacScheme>,
    /// Memory the hypervisor keeps for itself and per-guest overhead on every dom0
    /// (default 128M).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervisor_memory: Option<SizeText>,
}

/// The install server.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// The TFTP server's address that DHCP hands out as `next-server` (a network may have its
    /// own; every network with hosts needs one or the other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "ipv4"))]
    pub next_server: Option<String>,
    /// The boot file DHCP hands out, relative to the TFTP root (default `pxelinux.0`): the
    /// older spelling of `boot_files.bios`, which cannot be given with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_file: Option<String>,
    /// The boot file DHCP hands out by the kind of client (option 93, vendor and user class):
    /// BIOS, x86-64 UEFI, UEFI HTTP boot, iPXE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_files: Option<BootFiles>,
    /// The interfaces the DHCP server listens on (default: all, `*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dhcp_interfaces: Option<Vec<String>>,
    /// The TFTP root on the install server (default `/tftpboot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tftp_root: Option<String>,
    /// The URL kickstart files are served under: a host's is `<kickstart_url>/<fqdn>.ks`.
    #[schemars(extend("format" = "uri"))]
    pub kickstart_url: String,
    /// Where `xenfab serve` listens, as an `http://` URL (e.g. `http://192.168.96.1:8140`):
    /// each kickstart's `%post` then calls `<ack_url>/ack/<fqdn>` at the end of the install,
    /// and the server switches the host to local boot. Without it, kickstarts make no call
    /// and hosts stay in their state until `xenfab boot HOST localboot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri"))]
    pub ack_url: Option<String>,
}

/// `[install.boot_files]`: the boot file of each kind of network-booting client.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BootFiles {
    /// BIOS PXE ROMs, and every client no other entry matches (default `install.boot_file`,
    /// else `pxelinux.0`), relative to the TFTP root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bios: Option<String>,
    /// x86-64 UEFI PXE clients (option 93 = 7 or 9), relative to the TFTP root, e.g.
    /// `grub2/grubx64.efi` or `shimx64.efi`. None: `grub2/grubx64.efi` once a dom0's
    /// firmware is `uefi`, else they get the BIOS file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uefi: Option<String>,
    /// UEFI HTTP boot clients (option 93 = 16, vendor class `HTTPClient`): an http or https
    /// URL of at most 127 characters, e.g. `http://192.168.96.1/efi/grubx64.efi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri"))]
    pub http: Option<String>,
    /// Clients that already run iPXE (user class `iPXE`), relative to the TFTP root, e.g.
    /// `ipxe/boot.ipxe`. None: they are told apart by option 93 as the firmware is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipxe: Option<String>,
}

/// What every kickstart file of the site shares.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kickstart {
    /// The root password as a crypt(3) hash (`openssl passwd -6`; `-1` for EL3 and EL4),
    /// never the password itself.
    pub root_password: String,
    /// The time zone (default `UTC`), a tz name such as `Europe/Berlin`, never beginning with
    /// `-`; the hardware clock is kept in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The installer's language (default `en_US.UTF-8`): a locale, never beginning with `-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The keyboard layout (default `us`), never beginning with `-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard: Option<String>,
    /// Ask for `%packages --resolvedeps`: meaningful for EL3 and EL4; a deprecated no-op since
    /// Fedora Core 4, so left out (with a warning) for EL5 and later.
    #[serde(default, skip_serializing_if = "is_false")]
    pub resolvedeps: bool,
    /// Extra package repositories for the installer (`repo --name --baseurl`), e.g. Xen's for EL9.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repos: Vec<Repo>,
    /// Packages and `%post` hooks of dom0s.
    #[serde(default)]
    pub dom0: KickstartRole,
    /// Packages and `%post` hooks of guests.
    #[serde(default)]
    pub guest: KickstartRole,
    /// Allow a root password hash whose password is known to the world (the example's,
    /// `changeme`): only the built-in example says so. Without it such a hash is refused
    /// (`default-root-password`), at every level.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_default_password: bool,
}

/// Kickstart settings of one OS release or one host, over the site's `[kickstart]`: each one
/// given replaces the site's (and a host's replaces its OS's). Lists are replaced whole, not
/// appended to: to add a package, repeat the site's list with it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KickstartOverride {
    /// The root password as a crypt(3) hash, instead of the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_password: Option<String>,
    /// The time zone, instead of the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The installer's language, instead of the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// The keyboard layout, instead of the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard: Option<String>,
    /// The installer's package repositories, instead of the site's (`[]`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repos: Option<Vec<Repo>>,
    /// `%packages`, instead of the role's (dom0 or guest) of the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<String>>,
    /// `%post` scripts, instead of the role's of the site (`[]`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<Vec<String>>,
    /// `%pre` scripts, instead of the role's of the site (`[]`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre: Option<Vec<String>>,
    /// Services enabled and disabled at install: each list given replaces the role's of the
    /// site (`enabled = []`: none).
    #[serde(default, skip_serializing_if = "ServicesOverride::is_empty")]
    pub services: ServicesOverride,
}

/// Services of an OS release or a host: each list given replaces the one below it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicesOverride {
    /// Services enabled, instead of the site's role's (or the OS's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Vec<String>>,
    /// Services disabled, instead of the site's role's (or the OS's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Vec<String>>,
}

impl ServicesOverride {
    /// True when it gives neither list.
    pub fn is_empty(&self) -> bool {
        self.enabled.is_none() && self.disabled.is_none()
    }
}

/// Services a role's hosts get enabled and disabled at install: systemd units or SysV init
/// scripts (`sshd`, `xen-init-dom0`, `getty@tty1`), letters, digits and `-_.@:`, beginning
/// with a letter or digit, at most 255 characters.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Services {
    /// Services enabled (`services --enabled=`; `chkconfig NAME on` in `%post` for EL3/EL4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled: Vec<String>,
    /// Services disabled (`services --disabled=`; `chkconfig NAME off` in `%post` for EL3/EL4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled: Vec<String>,
}

impl Services {
    /// True when it lists none.
    pub fn is_empty(&self) -> bool {
        self.enabled.is_empty() && self.disabled.is_empty()
    }
}

/// An installer package repository.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repo {
    /// Its name.
    pub name: String,
    /// Its URL.
    #[schemars(extend("format" = "uri"))]
    pub baseurl: String,
}

/// Packages, services and `%pre`/`%post` hooks of one role.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KickstartRole {
    /// `%packages` (default: the seed's list for EL3 to EL5 dom0s, a minimal one otherwise):
    /// packages, `@groups`, and exclusions with one leading `-` (`-firewalld`); never `--…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<String>>,
    /// `%post` scripts, each its own section; no line may begin with `%`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post: Vec<String>,
    /// `%pre` scripts, each its own section; no line may begin with `%`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre: Vec<String>,
    /// Services enabled and disabled at install.
    #[serde(default, skip_serializing_if = "Services::is_empty")]
    pub services: Services,
}

/// A kernel and initrd for network installs, relative to the TFTP root.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BootImage {
    /// The kernel, e.g. `xen-domU-c4.6/i386/vmlinuz`.
    pub kernel: String,
    /// The initrd, e.g. `xen-domU-c4.6/i386/initrd.img`.
    pub initrd: String,
    /// More kernel arguments its installer needs, before xenfab's own (the seed's
    /// `ramdisk=32768`), none beginning with `-`. pypxeboot reads only `key=value` arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub append: Vec<String>,
}

/// An operating system release.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Os {
    /// Its installer family, which decides the kickstart dialect.
    pub family: OsFamily,
    /// Its release as `major.minor` (`5.2`, `4.6`, `3.9`, `9.4`), which decides what its
    /// installer accepts (`bootloader --hvargs` from 5.5, SHA-512 hashes from 5.2, `/boot` of
    /// at least 512M on 9). Default: the family's first (`5.0`), which has the fewest features.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The installation tree.
    #[schemars(extend("format" = "uri"))]
    pub install_url: String,
    /// The boot image (a key of `boot_images`) that starts its installer.
    pub boot_image: String,
    /// The version of its Xen kernel (`2.6.18-92.el5`), which names the files the
    /// hypervisor's boot entry loads: `xen.gz-<version>`, `vmlinuz-<version>xen` and so on
    /// (EL5), or `vmlinuz-<version>` (EL9, with the architecture:
    /// `5.14.0-427.13.1.el9_4.x86_64`). Needed for the OS of a dom0; it must be the kernel
    /// the installation tree installs, and is taken from the release table when `release` is
    /// named and this is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    /// Its architecture: `x86_64` (default) or `i386`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// The package repository that provides Xen (`xen`, `xen-hypervisor`) to an EL9 dom0's
    /// installer (a `repo` line of its kickstart): no EL9 tree, nor EPEL 9, has Xen. Needed
    /// for the OS of an EL9 dom0; EL5 trees have Xen themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri"))]
    pub xen_repo: Option<String>,
    /// Debian: a tarball on dom0 of the packages its guests' debootstrap install needs, made
    /// beforehand with `debootstrap --make-tarball` (an absolute path ending in `.tgz`,
    /// `.tar.gz`, `.tar.xz` or `.tar`); the install then runs `debootstrap --unpack-tarball` and
    /// needs no mirror. Without it, debootstrap fetches from `install_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debootstrap_tarball: Option<String>,
    /// Kickstart settings of the hosts installed with it, over the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickstart: Option<KickstartOverride>,
}

/// An IPv4 network.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The subnet, as `192.168.96.0/24`.
    pub subnet: String,
    /// The default gateway.
    #[schemars(extend("format" = "ipv4"))]
    pub gateway: String,
    /// DNS servers, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    /// The bridge guests on this network attach to (default `xenbr0`; at most 15 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge: Option<String>,
    /// The TFTP server for this network, when it is not the site's install server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_server: Option<String>,
    /// A network inside each dom0 with no uplink (default false): every Debian dom0 whose
    /// guests are on it makes its bridge without a port (`bridge_ports none`) and takes the
    /// gateway's address on it. Guests on it reach their own dom0 and each other only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_only: Option<bool>,
    /// Its IEEE 802.1Q VLAN id, 1 to 4094, when dom0s carry it tagged (default: untagged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u32>,
}

/// A hardware profile.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    /// Installed memory.
    pub ram: SizeText,
    /// Physical CPUs (cores), 1 to 4095.
    pub cpus: u32,
    /// How a RAID controller combines the disks (default `none`: the OS sees each disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raid: Option<HardwareRaid>,
    /// The physical disks.
    pub disks: Vec<Disk>,
    /// The serial console of machines of this profile (their BMC's serial-over-LAN, a Dell
    /// iDRAC's is usually `{ port = "com2", speed = 115200 }` or 57600); a dom0's own
    /// `serial_console` overrides it (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_console: Option<SerialConsole>,
    /// How machines of this profile start: `bios` (default; also UEFI machines run in their
    /// legacy mode) or `uefi`. A dom0's own `firmware` overrides it. See docs/uefi.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<Firmware>,
}

/// A serial console: a port with its speed, or just the port (at 115200).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(
    untagged,
    expecting = "a port (\"com1\" or \"com2\") or { port, speed }"
)]
pub enum SerialConsole {
    /// The port and its speed (first: the form a Quattor pan schema, which has no unions,
    /// gets).
    Line(SerialLine),
    /// Just the port: `"com1"`, at 115200 8n1 (the form before speeds could be given).
    Port(SerialPort),
}

/// A serial port and its speed, 8 data bits, no parity, one stop bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SerialLine {
    /// `com1` or `com2`.
    pub port: SerialPort,
    /// Its speed in baud: 9600, 19200, 38400, 57600 or 115200 (default 115200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [9600, 19200, 38400, 57600, 115_200]))]
    pub speed: Option<u32>,
}

/// A physical disk.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    /// Its name as the installer sees it (`sda`).
    pub name: String,
    /// Its capacity (`500GB` counts as vendors do, `500G` in GiB).
    pub size: SizeText,
}

/// A custom partition scheme, in kickstart's terms.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionScheme {
    /// Disk partitions.
    #[serde(default)]
    pub partitions: Vec<Partition>,
    /// Software RAID arrays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raids: Vec<Raid>,
    /// LVM volume groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_groups: Vec<VolumeGroup>,
    /// dom0's own logical volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logical_volumes: Vec<LogicalVolume>,
    /// The partition table: `msdos` (default, disks up to 2 TiB) or `gpt`. xenfab uses GPT
    /// anyway on UEFI machines and on disks over 2 TiB, and adds the partitions the firmware
    /// needs (an EFI System Partition, or a BIOS boot partition). See docs/uefi.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_label: Option<DiskLabel>,
}

/// What a partition or array is used as, when it holds no file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Use {
    /// A member of a software RAID array.
    Raid,
    /// An LVM physical volume.
    Pv,
}

/// A disk partition: give either `mount` (a mount point, or `swap`) or `use`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// The name arrays and volume groups refer to it by (`raid.01`, `pv.01`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The disk it is on.
    pub disk: String,
    /// Its size, or its smallest size when it grows.
    pub size: SizeText,
    /// Whether it takes the rest of the disk.
    #[serde(default, skip_serializing_if = "is_false")]
    pub grow: bool,
    /// Whether it must be a primary partition.
    #[serde(default, skip_serializing_if = "is_false")]
    pub primary: bool,
    /// Its mount point, or `swap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    /// Its file system (default `ext3`, as in the seed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fstype: Option<FsType>,
    /// What it is used as, when it has no mount point.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub role: Option<Use>,
}

/// A software RAID array: give either `mount` or `use = "pv"`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Raid {
    /// The name volume groups refer to it by, when it is a physical volume (`pv.01`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its md device (`md0`).
    pub device: String,
    /// Its RAID level.
    pub level: RaidLevel,
    /// The ids of its member partitions.
    pub members: Vec<String>,
    /// Its mount point, or `swap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
    /// Its file system (default `ext3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fstype: Option<FsType>,
    /// `pv` when it is an LVM physical volume.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub role: Option<Use>,
}

/// An LVM volume group.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeGroup {
    /// Its name.
    pub name: String,
    /// The ids of its physical volumes.
    pub pvs: Vec<String>,
    /// Its physical extent size (default 4M).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pe_size: Option<SizeText>,
}

/// One of dom0's own logical volumes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogicalVolume {
    /// Its name.
    pub name: String,
    /// Its volume group.
    pub vg: String,
    /// Its size, or its smallest size when it grows.
    pub size: SizeText,
    /// Whether it takes the rest of the volume group (then no guest fits there).
    #[serde(default, skip_serializing_if = "is_false")]
    pub grow: bool,
    /// Its mount point, or `swap`.
    pub mount: String,
    /// Its file system (default `ext3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fstype: Option<FsType>,
}

/// Defaults for hosts that do not say otherwise.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Defaults for dom0s.
    #[serde(default)]
    pub dom0: Dom0Defaults,
    /// Defaults for guests.
    #[serde(default)]
    pub guest: GuestDefaults,
}

/// Defaults for dom0s; each falls back to the seed's choice.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dom0Defaults {
    /// The OS release (a key of `os`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The network (a key of `networks`; default: the only one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// dom0's memory (default 512M).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SizeText>,
    /// dom0's vCPUs (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u32>,
    /// Whether dom0 may balloon (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balloon: Option<bool>,
    /// The toolstack (default `xm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolstack: Option<Toolstack>,
    /// What network boot gives dom0s next (default `localboot`): `install`, `reinstall` (keeps
    /// the guests' volume group), `localboot` or `rescue`. See docs/lifecycle.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BootState>,
}

/// Defaults for guests; each falls back to the seed's choice.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestDefaults {
    /// The OS release (a key of `os`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Memory (default 1024M).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SizeText>,
    /// vCPUs (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u32>,
    /// Virtualisation mode (default `pv-pypxeboot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<VirtMode>,
    /// The size of the one disk of a guest that lists none (default 10G).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_size: Option<SizeText>,
    /// The volume group of guest disks (default `xenvg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vg: Option<String>,
    /// What Xen does on power-off (default `destroy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_poweroff: Option<LifecycleAction>,
    /// What Xen does on reboot (default `restart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_reboot: Option<LifecycleAction>,
    /// What Xen does on a crash (default `restart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_crash: Option<LifecycleAction>,
    /// What guests boot next (default `localboot`): `install`, `localboot` or `rescue` (HVM
    /// guests from the network, others by booting the installer directly). See
    /// docs/lifecycle.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BootState>,
}

/// A Xen host.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dom0 {
    /// Its host name (one DNS label; the site's domain is added).
    #[schemars(extend("pattern" = HOST_NAME_PATTERN))]
    pub name: String,
    /// Its address.
    #[schemars(extend("format" = "ipv4"))]
    pub ip: String,
    /// The MAC of the NIC it installs through.
    #[schemars(extend("pattern" = MAC_PATTERN))]
    pub mac: String,
    /// Its hardware profile (a key of `hardware`).
    pub hardware: String,
    /// The network it installs through, which its `ip` is on (a key of `networks`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Its NICs (default: one, `eth0`, with its `mac`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nics: Vec<Nic>,
    /// Its bonds of NICs (default: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bonds: Vec<Bond>,
    /// The networks it carries, each a bridge on a NIC or bond (default: its `network` on its
    /// only bond, else on `eth0`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bridges: Vec<Bridge>,
    /// Its OS release (a key of `os`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// dom0's memory (`dom0_mem`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SizeText>,
    /// dom0's vCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u32>,
    /// Whether dom0 may balloon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balloon: Option<bool>,
    /// The toolstack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolstack: Option<Toolstack>,
    /// The partition scheme (a built-in or a key of `partition_schemes`; default
    /// `seed-softraid1` for hardware that shows two or more disks, `seed-hwraid10` for one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitioning: Option<String>,
    /// The serial console the hypervisor, dom0's kernel, the boot loaders and the installer
    /// write to: `{ port = "com2", speed = 57600 }`, or just the port (`"com1"`, at 115200
    /// 8n1). Overrides its hardware profile's (default: the profile's, else none: the screen
    /// only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_console: Option<SerialConsole>,
    /// How this machine starts, `bios` or `uefi`, when it differs from its hardware profile's
    /// `firmware` (default: the profile's, else `bios`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<Firmware>,
    /// What network boot gives it next: `install` (wipes its disks, its guests' volumes too),
    /// `reinstall` (reformats its system, keeps its guests' volume group), `localboot` or
    /// `rescue`. See docs/lifecycle.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BootState>,
    /// Allow `state = "install"` although it has guests, whose volumes the install wipes
    /// (default false: use `reinstall` to keep them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wipe_guests: Option<bool>,
    /// Its own kickstart settings, over its OS's and the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickstart: Option<KickstartOverride>,
    /// Its guests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guests: Vec<Guest>,
}

/// A physical NIC of a dom0.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nic {
    /// Its name on the installed system (`eth0`; at most 15 characters).
    pub name: String,
    /// Its MAC (the dom0's `mac` for the NIC it boots from the network with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = MAC_PATTERN))]
    pub mac: Option<String>,
}

/// A bond of a dom0's NICs.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bond {
    /// Its name (`bond0`; at most 15 characters).
    pub name: String,
    /// Its bonding mode (`active-backup`, `802.3ad`, …).
    pub mode: crate::model::BondMode,
    /// Its NICs (names of `nics`), two or more.
    pub members: Vec<String>,
}

/// A network a dom0 carries: the network's bridge, with a NIC or bond as its port.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bridge {
    /// The network (a key of `networks`); tagged with its `vlan`, if it has one.
    pub network: String,
    /// The NIC or bond that carries it.
    pub device: String,
    /// dom0's address on it (its `ip` on its install network; none: guests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "ipv4"))]
    pub ip: Option<String>,
}

/// Another NIC of a guest.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestNic {
    /// Its network (a key of `networks`).
    pub network: String,
    /// Its address.
    #[schemars(extend("format" = "ipv4"))]
    pub ip: String,
    /// Its MAC; derived from its IP by the site's `mac_scheme` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = MAC_PATTERN))]
    pub mac: Option<String>,
}

/// A guest (domU).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guest {
    /// Its host name (one DNS label).
    #[schemars(extend("pattern" = HOST_NAME_PATTERN))]
    pub name: String,
    /// Its address.
    #[schemars(extend("format" = "ipv4"))]
    pub ip: String,
    /// Its MAC; derived from the IP by the site's `mac_scheme` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = MAC_PATTERN))]
    pub mac: Option<String>,
    /// Its network (default: its dom0's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// Its other NICs (`eth1`, `eth2`, …), after the first (its `ip`, `mac` and `network`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_nics: Vec<GuestNic>,
    /// Its memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<SizeText>,
    /// Its vCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u32>,
    /// Its disks (default: one disk of `defaults.guest.disk_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disks: Option<Vec<GuestDisk>>,
    /// Virtualisation mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<VirtMode>,
    /// The kernel, ramdisk and command line from dom0 that a `pv-kernel` or `pvh-kernel`
    /// guest boots (needed for those modes, refused for the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_boot: Option<DirectBoot>,
    /// Its OS release (a key of `os`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The boot image of its network install (default: its OS release's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_image: Option<String>,
    /// What Xen does on power-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_poweroff: Option<LifecycleAction>,
    /// What Xen does on reboot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_reboot: Option<LifecycleAction>,
    /// What Xen does on a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_crash: Option<LifecycleAction>,
    /// What it boots next: `install`, `localboot` or `rescue` (HVM guests from the network,
    /// others by booting the installer directly; a guest has no `reinstall`). See
    /// docs/lifecycle.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<BootState>,
    /// Its own kickstart settings, over its OS's and the site's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickstart: Option<KickstartOverride>,
}

/// What a `pv-kernel` or `pvh-kernel` guest boots: files of its dom0 (xl.cfg(5), "Direct
/// Kernel Boot").
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectBoot {
    /// The kernel: an absolute path in dom0 of `A-Za-z0-9._+-/` (`/boot/vmlinuz`).
    pub kernel: String,
    /// The ramdisk (initrd): an absolute path in dom0 of `A-Za-z0-9._+-/`.
    pub ramdisk: String,
    /// The kernel's command line, one word an element (`["console=hvc0", "ro"]`), none
    /// beginning with `-`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmdline: Vec<String>,
}

/// A guest disk: a logical volume on its dom0.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestDisk {
    /// Its size.
    pub size: SizeText,
    /// Its volume group (default `defaults.guest.vg`, else `xenvg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vg: Option<String>,
    /// Its logical volume (default: the guest's name for the first disk, `<name>-<vdev>` after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lv: Option<String>,
    /// The device the guest sees (default `xvda`, `xvdb`, …; `hda`, … for HVM guests):
    /// `xvd`, `hd` or `sd` and one to three letters, one a disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vdev: Option<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_false(b: &bool) -> bool {
    !*b
}

const HOST_NAME_PATTERN: &str = "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$";
pub(crate) const MAC_PATTERN: &str = "^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$";
const SIZE_PATTERN: &str = "^[0-9]{1,15}(M|MiB|G|GiB|T|TiB|MB|GB|TB)?$";

/// A size as written: `512M`, `24G`, `500GB`, or a number of MiB.
///
/// Kept as text until lowering, which parses it with [`crate::Size`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeText(pub String);

impl From<&str> for SizeText {
    fn from(s: &str) -> SizeText {
        SizeText(s.to_owned())
    }
}

impl<'de> Deserialize<'de> for SizeText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SizeText, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "a size such as \"512M\" or \"24G\", or a number of MiB"
        )]
        enum Raw {
            Text(String),
            Mib(u64),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Text(s) => SizeText(s),
            Raw::Mib(n) => SizeText(n.to_string()),
        })
    }
}

impl Serialize for SizeText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl JsonSchema for SizeText {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: `512M`, `24G`, `2T` (binary units), `500GB` (decimal units, as disk vendors count), or a whole number of MiB.",
            "oneOf": [
                { "type": "string", "pattern": SIZE_PATTERN },
                { "type": "integer", "minimum": 0 }
            ]
        })
    }
}
