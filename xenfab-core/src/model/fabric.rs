//! The fabric: a site, its networks and hardware, its dom0s and their guests.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::kickstart::KickstartSettings;
use super::mac::{MacAddr, MacScheme};
use super::names::{AbsFile, AbsPath, BootPath, DomainName, HostName, Ident, LvmName};
use super::partition::PartitionScheme;
use super::size::Size;
use crate::diagnostic::FieldPath;

/// A whole fabric: everything one fabric file describes, with every default applied.
///
/// A `Fabric` comes from [`crate::load`] (or [`crate::lower`] followed by
/// [`crate::validate()`]); renderers take only fabrics that passed validation.
#[derive(Debug, Clone, Serialize)]
pub struct Fabric {
    /// The site: its name, domain and how guest MACs are derived.
    pub site: Site,
    /// The install server that network installs boot from.
    pub install: InstallServer,
    /// What every kickstart file shares.
    pub kickstart: KickstartSettings,
    /// Kernel and initrd pairs for network installs, by name.
    pub boot_images: BTreeMap<Ident, BootImage>,
    /// Operating system releases, by name.
    pub os: BTreeMap<Ident, OsRelease>,
    /// Networks, by name.
    pub networks: BTreeMap<Ident, Network>,
    /// Hardware profiles, by name.
    pub hardware: BTreeMap<Ident, Hardware>,
    /// Partition schemes by name: the built-in ones and the fabric file's own.
    pub partition_schemes: BTreeMap<Ident, PartitionScheme>,
    /// The Xen hosts, in the order of the fabric file.
    pub dom0s: Vec<Dom0>,
    /// The site's DNS zones: name servers, SOA values, TTL (not in the inventory).
    #[serde(skip)]
    pub dns: super::dns::DnsSettings,
}

/// The site.
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    /// A short name for the site.
    pub name: Ident,
    /// The DNS domain of every host.
    pub domain: DomainName,
    /// How guests without an explicit MAC get one.
    pub mac_scheme: MacScheme,
    /// Memory kept by the hypervisor itself and for per-guest overhead, on every dom0.
    pub hypervisor_memory: Size,
}

/// The install server: TFTP for network boot, HTTP for kickstart files.
#[derive(Debug, Clone, Serialize)]
pub struct InstallServer {
    /// The `next-server` DHCP hands out: the TFTP server's address, unless a network has its
    /// own.
    pub next_server: Option<Ipv4Addr>,
    /// The boot files DHCP hands out by the kind of client (`[install.boot_files]`; BIOS:
    /// `pxelinux.0`, relative to the TFTP root). Renderers ask [`Fabric::boot_files`].
    pub boot_files: super::boot_files::BootFiles,
    /// The interfaces the DHCP server listens on (Kea's `interfaces-config`).
    pub dhcp_interfaces: Vec<Ident>,
    /// The TFTP root on the install server (`/tftpboot` in the seed).
    pub tftp_root: AbsPath,
    /// The URL kickstart files are served under; a host's is `<kickstart_url>/<fqdn>.ks`.
    pub kickstart_url: url::Url,
    /// Where `xenfab serve` listens (an `http://` URL): kickstarts' `%post` calls
    /// `<ack_url>/ack/<fqdn>` when the install is done. None: no call.
    pub ack_url: Option<url::Url>,
}

/// A kernel and initrd that network installs boot, relative to the TFTP root.
#[derive(Debug, Clone, Serialize)]
pub struct BootImage {
    /// The kernel, e.g. `xen-domU-c4.6/i386/vmlinuz`.
    pub kernel: BootPath,
    /// The initrd, e.g. `xen-domU-c4.6/i386/initrd.img`.
    pub initrd: BootPath,
    /// More kernel arguments the installer needs, before xenfab's own (the seed's
    /// `ramdisk=32768`).
    pub append: Vec<super::kickstart::Token>,
}

impl Fabric {
    /// The TFTP server of hosts on `network`: the network's own, else the site's.
    pub fn next_server(&self, network: &Ident) -> Option<Ipv4Addr> {
        self.networks
            .get(network)
            .and_then(|n| n.next_server)
            .or(self.install.next_server)
    }

    /// The boot files DHCP hands network-booting hosts, by the kind of client: what every DHCP
    /// renderer and the UEFI netboot files ask. The site's `[install.boot_files]`, and when
    /// it names no UEFI file while a dom0 boots with UEFI firmware,
    /// [`super::boot_files::DEFAULT_UEFI`] (`grub2/grubx64.efi`, beside the per-host GRUB
    /// files).
    pub fn boot_files(&self) -> super::boot_files::BootFiles {
        let mut files = self.install.boot_files.clone();
        if files.uefi.is_none()
            && self
                .dom0s
                .iter()
                .any(|d| self.firmware(d) == super::Firmware::Uefi)
        {
            files.uefi = Some(super::boot_files::default_uefi());
        }
        files
    }

    /// The URL of a host's kickstart file: `<kickstart_url>/<fqdn>.ks`.
    pub fn kickstart_url(&self, name: &HostName) -> String {
        format!(
            "{}/{}.ks",
            self.install.kickstart_url.as_str().trim_end_matches('/'),
            self.fqdn(name)
        )
    }
}

/// An operating system release that hosts are installed with.
#[derive(Debug, Clone, Serialize)]
pub struct OsRelease {
    /// Which installer the release has, which decides the kickstart dialect.
    pub family: OsFamily,
    /// The release (`5.2`): what its installer accepts (`bootloader --hvargs`, hashes,
    /// `/boot`), from the release table. The family's first release when the fabric file
    /// names none.
    pub release: super::release::Release,
    /// What the release's installer accepts and needs.
    #[serde(skip)]
    pub installer: super::release::ReleaseInfo,
    /// The installation tree (`url --url=…` in the kickstart file).
    pub install_url: url::Url,
    /// The boot image that starts its installer.
    pub boot_image: Ident,
    /// The version of its Xen kernel (`2.6.18-92.el5`), which names the files the
    /// hypervisor's boot entry loads; needed for the OS of a dom0. The one its installation
    /// tree installs (the release table's, [`super::release::installed_kernel`]) when the
    /// release is named.
    pub kernel_version: Option<Ident>,
    /// Its architecture.
    pub arch: Arch,
    /// The package repository that provides Xen to an EL9 dom0's installer.
    pub xen_repo: Option<url::Url>,
    /// A tarball of the packages a Debian guest's debootstrap install needs, made beforehand
    /// with `debootstrap --make-tarball` and kept on dom0: the install then fetches nothing
    /// (`debootstrap --unpack-tarball`; [`super::debootstrap`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debootstrap_tarball: Option<AbsFile>,
    /// Kickstart settings of its hosts, over the site's (not in the inventory, like the site's).
    #[serde(skip)]
    pub kickstart: Option<super::kickstart::KickstartOverride>,
}

/// The architecture of an OS release.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// 64-bit x86.
    #[default]
    X86_64,
    /// 32-bit x86 (the seed's CentOS-4 and CentOS-3 guests).
    I386,
}

impl Arch {
    /// The name libvirt uses (`x86_64`, `i686`).
    pub const fn libvirt(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::I386 => "i686",
        }
    }
}

/// The installer family of an OS release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OsFamily {
    /// Red Hat Enterprise Linux 3 and its rebuilds (CentOS 3).
    El3,
    /// Red Hat Enterprise Linux 4 and its rebuilds (CentOS 4).
    El4,
    /// Red Hat Enterprise Linux 5 and its rebuilds (CentOS 5, Scientific Linux 5): the seed.
    El5,
    /// Red Hat Enterprise Linux 9 and its rebuilds (Rocky, Alma): current anaconda.
    El9,
    /// Debian (12 bookworm with Xen 4.17, 13 trixie with Xen 4.20): a dom0 installed by the
    /// Debian installer with a preseed file, and Debian guests installed by debootstrap on
    /// their dom0 ([`super::debootstrap`]).
    Debian,
}

impl OsFamily {
    /// The name used in the fabric file.
    pub const fn as_str(self) -> &'static str {
        match self {
            OsFamily::El3 => "el3",
            OsFamily::El4 => "el4",
            OsFamily::El5 => "el5",
            OsFamily::El9 => "el9",
            OsFamily::Debian => "debian",
        }
    }

    /// The family's name in messages (`EL5`, `Debian`).
    pub const fn display_name(self) -> &'static str {
        match self {
            OsFamily::El3 => "EL3",
            OsFamily::El4 => "EL4",
            OsFamily::El5 => "EL5",
            OsFamily::El9 => "EL9",
            OsFamily::Debian => "Debian",
        }
    }

    /// True for the families whose hosts xenfab installs with a kickstart file (anaconda).
    pub const fn kickstarted(self) -> bool {
        !matches!(self, OsFamily::Debian)
    }
}

/// An IPv4 network that hosts live on.
#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// The subnet.
    pub subnet: Ipv4Net,
    /// The default gateway.
    pub gateway: Ipv4Addr,
    /// DNS servers, in order.
    pub dns: Vec<Ipv4Addr>,
    /// The bridge on each dom0 that guests on this network attach to.
    pub bridge: Ident,
    /// The TFTP server for hosts on this network, when it is not the site's install server.
    pub next_server: Option<Ipv4Addr>,
    /// A network inside each dom0, with no uplink: its bridge has no port (`bridge_ports
    /// none`), and dom0 has the gateway's address on it. Guests on it reach their own dom0 and
    /// each other, never another dom0's guests.
    pub host_only: bool,
    /// Its IEEE 802.1Q VLAN id (1 to 4094) on the links that carry it tagged: a dom0 carries it
    /// on the VLAN device `<nic or bond>.<id>` ([`super::Interfaces`]). None: untagged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
}

/// A hardware profile: what one model of server has.
#[derive(Debug, Clone, Serialize)]
pub struct Hardware {
    /// Installed memory.
    pub ram: Size,
    /// Physical CPUs (cores) the hypervisor can schedule.
    pub cpus: u32,
    /// How the disks are combined.
    pub raid: HardwareRaid,
    /// The physical disks.
    pub disks: Vec<Disk>,
    /// The serial console of machines of this profile (their BMC's serial-over-LAN), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_console: Option<SerialConsole>,
    /// How machines of this profile start (BIOS unless set); a dom0 may say otherwise.
    #[serde(skip_serializing_if = "super::Firmware::is_bios")]
    pub firmware: super::Firmware,
}

/// A physical disk.
#[derive(Debug, Clone, Serialize)]
pub struct Disk {
    /// Its name as the installer sees it (`sda`).
    pub name: Ident,
    /// Its capacity.
    pub size: Size,
}

/// How a server's disks are combined before the OS sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HardwareRaid {
    /// The disks are seen one by one; the partition scheme may build software RAID over them
    /// (the seed's PE-1950: software RAID-1 over two disks).
    None,
    /// A RAID controller mirrors the disks (pairs) and shows one disk `sda`.
    Raid1,
    /// A RAID controller stripes with parity and shows one disk `sda`.
    Raid5,
    /// A RAID controller mirrors pairs and stripes over them, and shows one disk `sda` (the
    /// seed's PE-2950: four disks seen as one).
    Raid10,
}

impl Hardware {
    /// The disks the installer sees: the physical ones, or the one logical disk `sda` a
    /// hardware RAID controller shows (its capacity follows the RAID level).
    pub fn visible_disks(&self) -> Vec<(&str, Size)> {
        let n = self.disks.len() as u64;
        let smallest = self
            .disks
            .iter()
            .map(|d| d.size)
            .min()
            .unwrap_or_default()
            .mib();
        let logical = match self.raid {
            HardwareRaid::None => {
                return self
                    .disks
                    .iter()
                    .map(|d| (d.name.as_str(), d.size))
                    .collect();
            }
            HardwareRaid::Raid1 => smallest,
            HardwareRaid::Raid5 => n.saturating_sub(1) * smallest,
            HardwareRaid::Raid10 => n / 2 * smallest,
        };
        vec![("sda", Size::from_mib(logical))]
    }
}

/// A Xen host.
#[derive(Debug, Clone, Serialize)]
pub struct Dom0 {
    /// Its host name.
    pub name: HostName,
    /// Its address.
    pub ip: Ipv4Addr,
    /// The MAC of the NIC it installs through.
    pub mac: MacAddr,
    /// The network it installs through (its `ip` is on it).
    pub network: Ident,
    /// Its NICs, bonds and the bridges of the networks it carries.
    pub interfaces: super::Interfaces,
    /// Its hardware profile.
    pub hardware: Ident,
    /// The OS release it is installed with.
    pub os: Ident,
    /// Memory given to dom0 (`dom0_mem`); 512M in the seed.
    pub memory: Size,
    /// vCPUs given to dom0 (`dom0_max_vcpus`); one in the seed.
    pub vcpus: u32,
    /// Whether dom0 may balloon down to make room for guests; off in the seed.
    pub balloon: bool,
    /// The toolstack that manages its guests.
    pub toolstack: Toolstack,
    /// The partition scheme of its disks.
    pub partitioning: Ident,
    /// The serial console the hypervisor and dom0's kernel write to, when set on the dom0
    /// itself (it overrides its hardware profile's): use [`Fabric::serial_console`], which
    /// falls back to the profile's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_console: Option<SerialConsole>,
    /// Its firmware when set on the dom0 itself (it overrides its hardware profile's): use
    /// [`Fabric::firmware`], which falls back to the profile's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<super::Firmware>,
    /// What network boot gives it: install, reinstall, its local disk or rescue mode.
    pub state: BootState,
    /// Whether `state = "install"` may wipe its guests' volumes (the install kickstart has
    /// `clearpart --all`); off by default, and validation refuses the install of a dom0 with
    /// guests without it.
    pub wipe_guests: bool,
    /// Its own kickstart settings, over its OS's and the site's (its kickstart file shows
    /// them; the inventory does not, as it does not show the site's).
    #[serde(skip)]
    pub kickstart: Option<Box<super::kickstart::KickstartOverride>>,
    /// Its guests, in the order of the fabric file.
    pub guests: Vec<Guest>,
    /// Where it was described in the input: diagnostics point there.
    #[serde(skip)]
    pub(crate) at: FieldPath,
}

/// The Xen toolstack of a dom0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Toolstack {
    /// `xm` and the `xend` daemon (Xen 3 and 4 up to 4.4): the seed.
    Xm,
    /// `xl` and libxl (Xen 4.1 and later).
    Xl,
}

/// A guest (domU).
#[derive(Debug, Clone, Serialize)]
pub struct Guest {
    /// Its host name.
    pub name: HostName,
    /// The address of its first NIC.
    pub ip: Ipv4Addr,
    /// The MAC of its first NIC.
    pub mac: MacAddr,
    /// Whether the MAC was given or derived, and by which scheme.
    pub mac_source: MacSource,
    /// The network its first NIC is on.
    pub network: Ident,
    /// Its other NICs (`eth1`, `eth2`, …), after the first (its `ip`, `mac` and `network`);
    /// [`Guest::nics`] lists them all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_nics: Vec<super::GuestNic>,
    /// Its memory.
    pub memory: Size,
    /// Its vCPUs.
    pub vcpus: u32,
    /// Its virtual disks, each a logical volume on the dom0.
    pub disks: Vec<GuestDisk>,
    /// How it is virtualised and booted.
    pub mode: VirtMode,
    /// The kernel, ramdisk and command line from dom0 that a `pv-kernel` or `pvh-kernel`
    /// guest boots; none for the other modes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_boot: Option<DirectBoot>,
    /// The OS release it is installed with.
    pub os: Ident,
    /// The boot image its network install uses.
    pub boot_image: Ident,
    /// What Xen does when it powers off.
    pub on_poweroff: LifecycleAction,
    /// What Xen does when it reboots.
    pub on_reboot: LifecycleAction,
    /// What Xen does when it crashes.
    pub on_crash: LifecycleAction,
    /// Whether network boot installs it or boots it from its disk.
    pub state: BootState,
    /// Its own kickstart settings, over its OS's and the site's (its kickstart file shows
    /// them; the inventory does not, as it does not show the site's).
    #[serde(skip)]
    pub kickstart: Option<Box<super::kickstart::KickstartOverride>>,
    /// Where it was described in the input: diagnostics point there.
    #[serde(skip)]
    pub(crate) at: FieldPath,
}

/// Where a guest's MAC came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "scheme")]
pub enum MacSource {
    /// Given in the fabric file.
    Explicit,
    /// Derived from the guest's IP by a scheme.
    Derived(MacScheme),
}

/// A guest disk: a logical volume on its dom0.
#[derive(Debug, Clone, Serialize)]
pub struct GuestDisk {
    /// The volume group (`xenvg` in the seed).
    pub vg: LvmName,
    /// The logical volume: the guest's name for its first disk, as in the seed.
    pub lv: LvmName,
    /// Its size.
    pub size: Size,
    /// The device the guest sees (`xvda`; `hda` for HVM guests).
    pub vdev: Ident,
}

/// How a guest is virtualised and booted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VirtMode {
    /// Paravirtualised, booted by pypxeboot from the network (the seed's CentOS-4 guests).
    PvPypxeboot,
    /// Paravirtualised, booted by pygrub from its own disk.
    PvPygrub,
    /// Hardware-assisted, installed from the network by an emulated NIC's PXE ROM (the
    /// seed's CentOS-3 guests).
    Hvm,
    /// PVH: paravirtualised in an HVM container (Xen 4.10 and later, `xl` only), booted by
    /// pygrub from its own disk.
    Pvh,
    /// Paravirtualised, booting a kernel and ramdisk of dom0 (`direct_boot`) every time:
    /// xl.cfg(5) "Direct Kernel Boot".
    PvKernel,
    /// PVH, booting a kernel and ramdisk of dom0 (`direct_boot`) every time (`xl` only).
    PvhKernel,
}

/// A serial port of the dom0's machine, as Xen names it (xen-command-line(7), `com1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SerialPort {
    /// The first serial port (ttyS0).
    Com1,
    /// The second serial port (ttyS1).
    Com2,
}

impl SerialPort {
    /// Xen's name of the port.
    pub const fn as_str(self) -> &'static str {
        match self {
            SerialPort::Com1 => "com1",
            SerialPort::Com2 => "com2",
        }
    }

    /// The port's number from 0, as GRUB (`serial --unit=N`), pxelinux (`SERIAL N`) and
    /// Linux (`ttySN`) count: com1 is 0.
    pub const fn unit(self) -> u8 {
        match self {
            SerialPort::Com1 => 0,
            SerialPort::Com2 => 1,
        }
    }
}

/// A serial console: the port and its speed, 8 data bits, no parity, one stop bit.
///
/// Set on a hardware profile (a Dell's iDRAC serial-over-LAN is usually `com2` at 115200 or
/// 57600) or on a dom0, which overrides its profile's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SerialConsole {
    /// The port.
    pub port: SerialPort,
    /// Its speed in baud, one of [`SerialConsole::SPEEDS`].
    pub speed: u32,
}

impl SerialConsole {
    /// The speed when none is given: the one of Xen's own examples (xen-command-line(7),
    /// `com1=115200,8n1`) and of the old `serial_console = "com1"` form.
    pub const DEFAULT_SPEED: u32 = 115_200;

    /// The speeds every consumer takes. Xen's `comN=<baud>` takes any; the others do not:
    /// GRUB legacy's `serial --speed` fails on a speed missing from its `divisor_tab`
    /// (grub-0.97 stage2/serial.c: 2400, 4800, 9600, 19200, 38400, 57600, 115200), GRUB2's on
    /// one missing from the same table (grub-core/term/ns8250.c, `serial_get_divisor`), and
    /// pxelinux's `SERIAL port baudrate` (doc/syslinux.txt) sets the UART's divisor to
    /// `BAUD_DIVISOR / baud` (115200 / baud, syslinux core/elflink/readconfig.c), so a speed
    /// that does not divide 115200 comes out as another. Linux's `console=ttyS0,<baud>n8`
    /// (Documentation/admin-guide/serial-console.rst) takes the common rates. The five below
    /// are in all of them, and are what BMCs' serial-over-LAN offers (a Dell iDRAC: 9600 to
    /// 115200); 2400 and 4800 are too slow for an installer.
    pub const SPEEDS: [u32; 5] = [9600, 19200, 38400, 57600, 115_200];

    /// Linux's name of the port (`ttyS0`).
    pub fn tty(self) -> String {
        format!("ttyS{}", self.port.unit())
    }

    /// The installer's or a bare-metal kernel's console argument: `console=ttyS0,115200n8`
    /// (Documentation/admin-guide/serial-console.rst: `console=ttyS0,9600n8`).
    pub fn linux_console(self) -> String {
        format!("console={},{}n8", self.tty(), self.speed)
    }

    /// Xen's words (xen-command-line(7)): `com1=115200,8n1` sets the port up
    /// (`com1=<baud>[/<base-baud>][,DPS...]`, `8n1` data bits, parity, stop bits) and
    /// `console=com1,vga` sends Xen's console to it and to the screen.
    pub fn xen_args(self) -> String {
        let p = self.port.as_str();
        format!("{p}={},8n1 console={p},vga", self.speed)
    }

    /// The installer's console words for a release `family`: the serial port only for the
    /// Debian installer (installation guide for bookworm, "Boot parameters", "Boot console":
    /// `console=ttyS0,9600n8` when a screen is attached too), the screen then the serial
    /// port for anaconda, which runs on the last `console=` and prints the kernel's messages
    /// on every one (RHEL 9 "Boot options reference", `console=`: "the boot message is
    /// displayed on all specified consoles ... the installation program uses" the last; RHEL
    /// 5 installation guide, "Additional Boot Options": `console=<device>`).
    pub fn installer_args(self, family: OsFamily) -> Vec<String> {
        if family == OsFamily::Debian {
            vec![self.linux_console()]
        } else {
            vec!["console=tty0".to_owned(), self.linux_console()]
        }
    }

    /// GRUB's `serial` command, the same in GRUB legacy (its manual, "serial") and GRUB2
    /// (its manual, 16.3 "serial"): `serial --unit=0 --speed=115200`.
    pub fn grub_serial(self) -> String {
        format!("serial --unit={} --speed={}", self.port.unit(), self.speed)
    }
}

/// What a `pv-kernel` or `pvh-kernel` guest boots: files of dom0 (xl.cfg(5), "Direct Kernel
/// Boot": `kernel`, `ramdisk`, and `extra` for PV or `cmdline` for PVH).
#[derive(Debug, Clone, Serialize)]
pub struct DirectBoot {
    /// The kernel, an absolute path in dom0.
    pub kernel: AbsFile,
    /// The ramdisk (initrd), an absolute path in dom0.
    pub ramdisk: AbsFile,
    /// The kernel's command line, word by word.
    pub cmdline: Vec<super::kickstart::Token>,
}

impl DirectBoot {
    /// The command line as one string.
    pub fn cmdline_text(&self) -> String {
        let words: Vec<&str> = self
            .cmdline
            .iter()
            .map(super::kickstart::Token::as_str)
            .collect();
        words.join(" ")
    }
}

impl VirtMode {
    /// The name used in the fabric file.
    pub const fn as_str(self) -> &'static str {
        match self {
            VirtMode::PvPypxeboot => "pv-pypxeboot",
            VirtMode::PvPygrub => "pv-pygrub",
            VirtMode::Hvm => "hvm",
            VirtMode::Pvh => "pvh",
            VirtMode::PvKernel => "pv-kernel",
            VirtMode::PvhKernel => "pvh-kernel",
        }
    }

    /// True for the modes that boot a kernel of dom0 (`direct_boot`).
    pub const fn boots_dom0_kernel(self) -> bool {
        matches!(self, VirtMode::PvKernel | VirtMode::PvhKernel)
    }

    /// True for the PVH modes, which need `xl`.
    pub const fn pvh(self) -> bool {
        matches!(self, VirtMode::Pvh | VirtMode::PvhKernel)
    }

    /// True for modes whose disks are seen as emulated IDE disks (`hda`).
    pub const fn emulated_disks(self) -> bool {
        matches!(self, VirtMode::Hvm)
    }
}

/// What Xen does when a guest powers off, reboots or crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LifecycleAction {
    /// Destroy the domain.
    Destroy,
    /// Destroy it and start it again.
    Restart,
    /// Keep the domain as it is (for debugging).
    Preserve,
    /// Keep it under a new name and start a new one.
    RenameRestart,
    /// Write a core dump, then destroy it.
    CoredumpDestroy,
    /// Write a core dump, then restart it.
    CoredumpRestart,
}

impl LifecycleAction {
    /// The value as `xm` and `xl` configs spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            LifecycleAction::Destroy => "destroy",
            LifecycleAction::Restart => "restart",
            LifecycleAction::Preserve => "preserve",
            LifecycleAction::RenameRestart => "rename-restart",
            LifecycleAction::CoredumpDestroy => "coredump-destroy",
            LifecycleAction::CoredumpRestart => "coredump-restart",
        }
    }
}

impl Toolstack {
    /// The name used in the fabric file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Toolstack::Xm => "xm",
            Toolstack::Xl => "xl",
        }
    }
}

impl BootState {
    /// Every state, in the order the CLI lists them.
    pub const ALL: [BootState; 4] = [
        BootState::Install,
        BootState::Reinstall,
        BootState::Localboot,
        BootState::Rescue,
    ];

    /// The name used in the fabric file.
    pub const fn as_str(self) -> &'static str {
        match self {
            BootState::Localboot => "localboot",
            BootState::Install => "install",
            BootState::Reinstall => "reinstall",
            BootState::Rescue => "rescue",
        }
    }

    /// Why `host` cannot be put in this state, if it cannot: a guest has no reinstall variant,
    /// and a dom0 whose partition scheme keeps no volume group has nothing a reinstall would
    /// keep.
    ///
    /// Every host xenfab installs can be installed, rescued and booted locally. Guests that do
    /// not boot from the network (pv-pygrub, PVH), and pypxeboot guests in rescue mode
    /// (pypxeboot cannot pass the bare word `rescue`), get these states from their guest
    /// config, which boots the installer's kernel directly ([`crate::model::installer_boot`]).
    /// A Debian dom0 is installed from its preseed file (render/preseed), rescued by the same
    /// installer in rescue mode, and reinstalled from its reinstall preseed file when its
    /// guests' groups are on disks of their own ([`super::partman::partman_reinstall`]); a
    /// Debian guest is installed by debootstrap on a Debian dom0 ([`super::debootstrap`], any
    /// mode but HVM and pypxeboot, `pv-kernel` and `pvh-kernel` too) and has no reinstall nor
    /// rescue; other guests that boot a kernel of dom0 (`pv-kernel`, `pvh-kernel`: nothing to
    /// install) are in `localboot` only.
    pub fn refusal(self, fabric: &Fabric, host: HostRef<'_>) -> Option<String> {
        if self == BootState::Localboot {
            return None;
        }
        let os = match host {
            HostRef::Dom0(d) => &d.os,
            HostRef::Guest(_, g) => &g.os,
        };
        if fabric.os.get(os).is_some_and(|o| !o.family.kickstarted()) {
            // Debian hosts: a dom0 is installed, reinstalled or rescued by the Debian installer
            // with a preseed file (render/preseed), a guest installed by debootstrap on its
            // dom0 (render/debootstrap).
            return match (self, host) {
                (BootState::Install | BootState::Rescue, HostRef::Dom0(_))
                | (BootState::Localboot, _) => None,
                (BootState::Install, HostRef::Guest(d, g)) => {
                    super::debootstrap::refusal(fabric, d, g)
                }
                (BootState::Reinstall, HostRef::Dom0(d)) => debian_reinstall_refusal(fabric, d),
                (BootState::Reinstall, HostRef::Guest(..)) => Some(
                    "only a dom0 has a reinstall; a Debian guest is installed again by `install` on a blank volume (lvremove it first)"
                        .to_owned(),
                ),
                (BootState::Rescue, HostRef::Guest(..)) => Some(
                    "xenfab has no rescue system for a Debian guest: mount its volume on dom0, or boot it with `init=/bin/sh` from its console"
                        .to_owned(),
                ),
            };
        }
        if let HostRef::Guest(_, g) = host {
            if g.mode.boots_dom0_kernel() {
                return Some(format!(
                    "a {} guest boots the kernel of its direct_boot from dom0 every time, so it has no installer to boot: leave it in `localboot`",
                    g.mode.as_str()
                ));
            }
        }
        match (self, host) {
            (BootState::Localboot | BootState::Install | BootState::Rescue, _) => None,
            (BootState::Reinstall, HostRef::Guest(..)) => Some(
                "only a dom0 has a reinstall kickstart (one that keeps its guests' volume group): install the guest again with `install`"
                    .to_owned(),
            ),
            (BootState::Reinstall, HostRef::Dom0(d)) => {
                let scheme = fabric.partition_schemes.get(&d.partitioning)?;
                if kept_volume_groups(scheme, d).next().is_some() {
                    None
                } else {
                    Some(nothing_kept(d))
                }
            }
        }
    }
}

/// Why a reinstall of `dom0` is refused when its scheme keeps no volume group.
fn nothing_kept(dom0: &Dom0) -> String {
    format!(
        "partition scheme `{}` has no volume group for guests that a reinstall would keep (each of its groups holds dom0's own volumes and no guest's): use `install`",
        dom0.partitioning
    )
}

/// Why the Debian installer cannot reinstall `dom0` keeping its guests' volume groups, if it
/// cannot: it has none to keep, or they share a disk with dom0's own partitions
/// ([`super::partman::partman_reinstall`]).
fn debian_reinstall_refusal(fabric: &Fabric, dom0: &Dom0) -> Option<String> {
    let scheme = fabric.partition_schemes.get(&dom0.partitioning)?;
    let hardware = fabric.hardware.get(&dom0.hardware)?;
    let kept: Vec<&str> = kept_volume_groups(scheme, dom0)
        .map(LvmName::as_str)
        .collect();
    if kept.is_empty() {
        return Some(nothing_kept(dom0));
    }
    super::partman::partman_reinstall(scheme, hardware, &kept)
        .err()
        .map(|why| {
            format!(
                "the Debian installer cannot reinstall this dom0 keeping {}: {why}; reinstall it by hand, or use `install` with wipe_guests = true",
                kept.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            )
        })
}

/// The volume groups of `scheme` that a reinstall of `dom0` keeps: those its guests' disks are
/// on, and those that hold none of dom0's own volumes (the same choice as the reinstall
/// kickstart's, `render/kickstart/mod.rs`).
pub(crate) fn kept_volume_groups<'a>(
    scheme: &'a PartitionScheme,
    dom0: &'a Dom0,
) -> impl Iterator<Item = &'a LvmName> {
    scheme
        .volume_groups
        .iter()
        .filter(|vg| {
            dom0.guests
                .iter()
                .flat_map(|g| &g.disks)
                .any(|d| d.vg == vg.name)
                || !scheme.logical_volumes.iter().any(|lv| lv.vg == vg.name)
        })
        .map(|vg| &vg.name)
}

/// What network boot gives a host next: the lifecycle of `docs/lifecycle.md`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum BootState {
    /// Boot from the local disk (the safe default: a reboot never reinstalls by surprise).
    #[default]
    Localboot,
    /// Boot the installer and kickstart the host from `<fqdn>.ks`. On a dom0 this wipes its
    /// disks, its guests' volumes with them (`clearpart --all`).
    Install,
    /// dom0 only: boot the installer with `<fqdn>.reinstall.ks`, which reformats dom0's system
    /// and keeps the volume group(s) its guests are on.
    Reinstall,
    /// Boot the installer in rescue mode (a shell that finds and mounts the installed system;
    /// nothing is installed).
    Rescue,
}

impl Fabric {
    /// The fully qualified name of a host of this site.
    pub fn fqdn(&self, name: &HostName) -> String {
        format!("{}.{}", name, self.site.domain)
    }

    /// The serial console of a dom0: its own, else its hardware profile's; none when neither
    /// sets one. Every renderer asks here.
    pub fn serial_console(&self, dom0: &Dom0) -> Option<SerialConsole> {
        dom0.serial_console.or_else(|| {
            self.hardware
                .get(&dom0.hardware)
                .and_then(|h| h.serial_console)
        })
    }

    /// Every host, dom0s and guests, with the dom0 each guest runs on.
    pub fn hosts(&self) -> impl Iterator<Item = HostRef<'_>> {
        hosts_of(&self.dom0s)
    }

    /// The host named `name`: its short name or its FQDN, in any case (`xenfab boot HOST`,
    /// `xenfab show HOST`).
    pub fn host(&self, name: &str) -> Option<HostRef<'_>> {
        let wanted = name.to_ascii_lowercase();
        self.hosts()
            .find(|h| h.name().as_str() == wanted || self.fqdn(h.name()) == wanted)
    }
}

/// The hosts of `dom0s`: each dom0, then its guests with it.
pub(crate) fn hosts_of(dom0s: &[Dom0]) -> impl Iterator<Item = HostRef<'_>> {
    dom0s.iter().flat_map(|d| {
        std::iter::once(HostRef::Dom0(d)).chain(d.guests.iter().map(move |g| HostRef::Guest(d, g)))
    })
}

/// A host of the fabric: a dom0, or a guest with the dom0 it runs on.
#[derive(Debug, Clone, Copy)]
pub enum HostRef<'a> {
    /// A dom0.
    Dom0(&'a Dom0),
    /// A guest and its dom0.
    Guest(&'a Dom0, &'a Guest),
}

impl<'a> HostRef<'a> {
    /// The host name.
    pub fn name(self) -> &'a HostName {
        match self {
            HostRef::Dom0(d) => &d.name,
            HostRef::Guest(_, g) => &g.name,
        }
    }

    /// The address.
    pub fn ip(self) -> Ipv4Addr {
        match self {
            HostRef::Dom0(d) => d.ip,
            HostRef::Guest(_, g) => g.ip,
        }
    }

    /// The MAC.
    pub fn mac(self) -> MacAddr {
        match self {
            HostRef::Dom0(d) => d.mac,
            HostRef::Guest(_, g) => g.mac,
        }
    }

    /// The network.
    pub fn network(self) -> &'a Ident {
        match self {
            HostRef::Dom0(d) => &d.network,
            HostRef::Guest(_, g) => &g.network,
        }
    }

    /// The boot state.
    pub fn state(self) -> BootState {
        match self {
            HostRef::Dom0(d) => d.state,
            HostRef::Guest(_, g) => g.state,
        }
    }

    /// Where the host was described in the input.
    pub(crate) fn at(self) -> &'a FieldPath {
        match self {
            HostRef::Dom0(d) => &d.at,
            HostRef::Guest(_, g) => &g.at,
        }
    }
}
