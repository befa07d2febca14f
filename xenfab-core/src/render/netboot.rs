//! Network boot: the TFTP tree that pxelinux, pypxeboot, GRUB2 and iPXE read, laid out the way
//! pxelinux looks files up and Quattor's aii-pxelinux lays them out. Paths are relative to the
//! TFTP root, under `tftpboot/` in the output tree.
//!
//! - `pxelinux.cfg/<fqdn>.cfg`: the install entry of a host (kernel, initrd, `ks=…/<fqdn>.ks`);
//!   `pxelinux.cfg/<fqdn>.reinstall.cfg` (dom0s whose scheme keeps a volume group): the same
//!   with `ks=…/<fqdn>.reinstall.ks`; `pxelinux.cfg/<fqdn>.rescue.cfg` (dom0s and HVM guests):
//!   the installer in rescue mode; `pxelinux.cfg/localboot.cfg`: boot from the local disk.
//!   Each network-booted host has two links, `pxelinux.cfg/01-<mac>` and
//!   `pxelinux.cfg/<HEXIP>`, to one of them, by its state ([`BootState`]). pypxeboot (the
//!   seed's PV guests) reads the same files: one entry, `key=value` arguments only.
//! - `pxelinux.cfg/netinstall-<image>`: the seed's interactive install menu of each boot image
//!   pypxeboot guests use.
//! - `grub2/<fqdn>.cfg` (and `.reinstall.cfg`, `.rescue.cfg`), `grub2/localboot.cfg`, links
//!   `grub2/grub.cfg-01-<mac>` and `grub2/grub.cfg-<HEXIP>` (GRUB2's own lookup names), read
//!   by GRUB's BIOS (`i386-pc-pxe`) and UEFI (`x86_64-efi`) netboot images alike (the UEFI
//!   extras are [`super::uefi`]'s). The entries say `linux` and `initrd`: GRUB 2.06 on
//!   x86_64-efi boots a kernel's EFI stub with them, and so do the GRUBs of the releases
//!   whose installers can start on UEFI (Debian 12's; Rocky 9's, whose `linuxefi` is Red
//!   Hat's older name); EL5's 2.6.18 has no EFI stub and its dom0s cannot be UEFI
//!   (`firmware-unsupported`). Checked: tests/validators/test_uefi_netboot.py boots these
//!   entries with Debian's signed GRUB under OVMF.
//! - `ipxe/<fqdn>.ipxe` (and `.reinstall.ipxe`, `.rescue.ipxe`), `ipxe/localboot.ipxe`, links
//!   `ipxe/<mac>.ipxe` (iPXE's `${mac:hexhyp}`), and `ipxe/boot.ipxe`, the script that chains
//!   to them.
//!
//! Links are what `xenfab boot HOST install|reinstall|localboot|rescue` switches;
//! [`host_links`] says which.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{BootState, Fabric, HostRef, Ident, OsFamily, VirtMode, hex_ip};
use crate::output::Tree;
use crate::render::Part;

/// Where the TFTP root is in the output tree.
pub const TFTP_DIR: &str = "tftpboot";

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    if part == Part::Site {
        render_site(fabric, env, tree)?;
    }
    for host in part.hosts(fabric) {
        let Some(loader) = loader(fabric, host) else {
            continue;
        };
        for purpose in purposes(fabric, host, loader) {
            let entry = entry(fabric, host, purpose)?;
            let (pxe, ipxe) = entry_names(&entry.fqdn, purpose);
            tree.insert_file(
                &format!("{TFTP_DIR}/pxelinux.cfg/{pxe}"),
                templates::render(env, "pxelinux-install.cfg.j2", &entry)?,
            )?;
            if loader == Loader::Firmware {
                tree.insert_file(
                    &format!("{TFTP_DIR}/grub2/{pxe}"),
                    templates::render(env, "grub2-install.cfg.j2", &entry)?,
                )?;
                tree.insert_file(
                    &format!("{TFTP_DIR}/ipxe/{ipxe}"),
                    templates::render(env, "ipxe-install.ipxe.j2", &entry)?,
                )?;
            }
        }
        for (path, target) in host_links(fabric, host, host.state()) {
            tree.insert_symlink(&format!("{TFTP_DIR}/{path}"), target)?;
        }
    }
    Ok(())
}

/// The files every host shares: the local boot entries, iPXE's first script, and one
/// netinstall entry per boot image that a pypxeboot guest boots.
fn render_site(
    fabric: &Fabric,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    tree.insert_file(
        &format!("{TFTP_DIR}/pxelinux.cfg/localboot.cfg"),
        templates::render(env, "pxelinux-localboot.cfg.j2", ())?,
    )?;
    tree.insert_file(
        &format!("{TFTP_DIR}/grub2/localboot.cfg"),
        templates::render(env, "grub2-localboot.cfg.j2", ())?,
    )?;
    tree.insert_file(
        &format!("{TFTP_DIR}/ipxe/localboot.ipxe"),
        templates::render(env, "ipxe-localboot.ipxe.j2", ())?,
    )?;
    tree.insert_file(
        &format!("{TFTP_DIR}/ipxe/boot.ipxe"),
        templates::render(env, "ipxe-boot.ipxe.j2", ())?,
    )?;
    let netinstall: BTreeSet<&Ident> = fabric
        .hosts()
        .filter_map(|host| match host {
            HostRef::Guest(_, g) if g.mode == VirtMode::PvPypxeboot => Some(&g.boot_image),
            _ => None,
        })
        .collect();
    for image in netinstall {
        let view = netinstall_entry(fabric, image)?;
        tree.insert_file(
            &format!("{TFTP_DIR}/pxelinux.cfg/netinstall-{image}"),
            templates::render(env, "pxelinux-netinstall.cfg.j2", &view)?,
        )?;
    }
    Ok(())
}

/// What a network boot entry of a host starts: the installer with the kickstart, with the
/// reinstall kickstart, or in rescue mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Install,
    Reinstall,
    Rescue,
}

impl Purpose {
    fn of(state: BootState) -> Option<Purpose> {
        match state {
            BootState::Localboot => None,
            BootState::Install => Some(Purpose::Install),
            BootState::Reinstall => Some(Purpose::Reinstall),
            BootState::Rescue => Some(Purpose::Rescue),
        }
    }

    fn state(self) -> BootState {
        match self {
            Purpose::Install => BootState::Install,
            Purpose::Reinstall => BootState::Reinstall,
            Purpose::Rescue => BootState::Rescue,
        }
    }
}

/// The entries a host booted by `loader` gets: an install entry always, and a reinstall and a
/// rescue entry where its kind and scheme allow them ([`BootState::refusal`]). A Debian
/// dom0's entries are those of its preseed files: install and rescue with `<fqdn>.cfg`,
/// reinstall with `<fqdn>.reinstall.cfg`.
fn purposes(fabric: &Fabric, host: HostRef<'_>, loader: Loader) -> Vec<Purpose> {
    if let HostRef::Dom0(d) = host {
        if fabric
            .os
            .get(&d.os)
            .is_some_and(|o| !o.family.kickstarted())
        {
            let install = super::preseed::installable(fabric, d);
            let reinstall = super::preseed::reinstallable(fabric, d);
            return [
                (Purpose::Install, install),
                (Purpose::Reinstall, reinstall),
                (Purpose::Rescue, install),
            ]
            .into_iter()
            .filter_map(|(p, ok)| ok.then_some(p))
            .collect();
        }
    }
    let mut out = vec![Purpose::Install];
    for p in [Purpose::Reinstall, Purpose::Rescue] {
        // pypxeboot's guests are refused rescue by `refusal` already; the loader check keeps
        // the two in step.
        if p == Purpose::Rescue && loader != Loader::Firmware {
            continue;
        }
        if p.state().refusal(fabric, host).is_none() {
            out.push(p);
        }
    }
    out
}

/// The file names of a host's entry (pxelinux and GRUB2, iPXE), in their directories.
fn entry_names(fqdn: &str, purpose: Purpose) -> (String, String) {
    match purpose {
        Purpose::Install => (format!("{fqdn}.cfg"), format!("{fqdn}.ipxe")),
        Purpose::Reinstall => (
            format!("{fqdn}.reinstall.cfg"),
            format!("{fqdn}.reinstall.ipxe"),
        ),
        Purpose::Rescue => (format!("{fqdn}.rescue.cfg"), format!("{fqdn}.rescue.ipxe")),
    }
}

/// What boots a host from the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loader {
    /// A machine's (or an HVM guest's emulated) PXE firmware: pxelinux, GRUB2 or iPXE.
    Firmware,
    /// pypxeboot, which reads pxelinux's files in dom0.
    Pypxeboot,
}

/// How a host boots from the network, if it does: PV guests booted by pygrub and PVH guests
/// boot their own disk, `pv-kernel` and `pvh-kernel` guests a kernel of dom0, and Debian guests
/// are installed by debootstrap from their dom0 (render/debootstrap).
fn loader(fabric: &Fabric, host: HostRef<'_>) -> Option<Loader> {
    let os = match host {
        HostRef::Dom0(d) => &d.os,
        HostRef::Guest(_, g) => &g.os,
    };
    // Debian hosts: a dom0 boots the Debian installer's netboot image (render/preseed); a
    // Debian guest is installed by debootstrap on its dom0, never from the network (their DHCP
    // entries are rendered all the same).
    if fabric.os.get(os).is_some_and(|o| !o.family.kickstarted()) {
        return match host {
            HostRef::Dom0(d)
                if super::preseed::installable(fabric, d)
                    || super::preseed::reinstallable(fabric, d) =>
            {
                Some(Loader::Firmware)
            }
            HostRef::Dom0(_) | HostRef::Guest(..) => None,
        };
    }
    match host {
        HostRef::Dom0(_) => Some(Loader::Firmware),
        HostRef::Guest(_, g) => match g.mode {
            VirtMode::Hvm => Some(Loader::Firmware),
            VirtMode::PvPypxeboot => Some(Loader::Pypxeboot),
            VirtMode::PvPygrub | VirtMode::Pvh | VirtMode::PvKernel | VirtMode::PvhKernel => None,
        },
    }
}

/// What switching a host to a state does, once [`switch_plan`] has checked it may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootSwitch {
    /// The links to point, as [`host_links`] gives them.
    pub links: Vec<(String, String)>,
    /// True for a guest whose config, not a TFTP link, says what it boots in the state: a
    /// pygrub or PVH guest (it boots its own disk; the installer's kernel while in `install`
    /// or `rescue`), a pypxeboot guest out of `install` (its rescue variant boots the
    /// installer directly, pypxeboot cannot pass the bare word `rescue`), and a Debian guest
    /// (debootstrap installs it from its dom0's provision.sh). Its state is recorded and the
    /// next render writes its config.
    pub by_config: bool,
}

/// Why a host cannot be switched to a state ([`switch_plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootRefusal {
    /// The host cannot be in the state: [`BootState::refusal`]'s reason.
    State(String),
    /// Installing the dom0 wipes its disks and the volumes of its `guests` guests, and the
    /// caller did not say to; `reinstall_keeps`: its `reinstall` would keep them.
    WipesGuests {
        /// How many guests the dom0 has.
        guests: usize,
        /// Whether the dom0 can be in `reinstall`, which keeps the guests' volumes.
        reinstall_keeps: bool,
    },
    /// The host does not boot from the network: there is nothing to switch.
    NotNetworkBooted,
}

/// Checks that `host` may be switched to `state`, and says what the switch does: what
/// `xenfab boot`, the Python `Fabric.boot` and the Ansible boot module all do first.
/// `install` of a dom0 with guests is refused unless `wipe_guests`.
pub fn switch_plan(
    fabric: &Fabric,
    host: HostRef<'_>,
    state: BootState,
    wipe_guests: bool,
) -> Result<BootSwitch, BootRefusal> {
    if let Some(why) = state.refusal(fabric, host) {
        return Err(BootRefusal::State(why));
    }
    if let HostRef::Dom0(d) = host {
        if state == BootState::Install && !d.guests.is_empty() && !wipe_guests {
            return Err(BootRefusal::WipesGuests {
                guests: d.guests.len(),
                reinstall_keeps: BootState::Reinstall.refusal(fabric, host).is_none(),
            });
        }
    }
    let links = host_links(fabric, host, state);
    let by_config = match host {
        HostRef::Guest(_, g) => {
            matches!(g.mode, VirtMode::PvPygrub | VirtMode::Pvh)
                || (g.mode == VirtMode::PvPypxeboot && state != BootState::Install)
                || fabric
                    .os
                    .get(&g.os)
                    .is_some_and(|o| o.family == OsFamily::Debian)
        }
        HostRef::Dom0(_) => false,
    };
    if links.is_empty() && !by_config {
        return Err(BootRefusal::NotNetworkBooted);
    }
    Ok(BootSwitch { links, by_config })
}

/// The links, relative to the TFTP root, that make network boot find the entry of a host's
/// `state` (install, reinstall, rescue or the local-disk one), and what each points to
/// (relative to its own directory).
///
/// None for a host that does not boot from the network. A state the host cannot be in
/// ([`BootState::refusal`]) has no entry: its links point to the local disk, the safe
/// default; `xenfab boot` and validation refuse such a state before it gets here.
pub fn host_links(fabric: &Fabric, host: HostRef<'_>, state: BootState) -> Vec<(String, String)> {
    let Some(loader) = loader(fabric, host) else {
        return Vec::new();
    };
    let fqdn = fabric.fqdn(host.name());
    let (pxe, ipxe) = match Purpose::of(state) {
        Some(p) if purposes(fabric, host, loader).contains(&p) => entry_names(&fqdn, p),
        _ => ("localboot.cfg".to_owned(), "localboot.ipxe".to_owned()),
    };
    let mac = host.mac().pxelinux_name();
    let hex = hex_ip(host.ip());
    let mut links = vec![
        (format!("pxelinux.cfg/{mac}"), pxe.clone()),
        (format!("pxelinux.cfg/{hex}"), pxe.clone()),
    ];
    if loader == Loader::Firmware {
        links.push((format!("grub2/grub.cfg-{mac}"), pxe.clone()));
        links.push((format!("grub2/grub.cfg-{hex}"), pxe));
        links.push((format!("ipxe/{}.ipxe", mac.trim_start_matches("01-")), ipxe));
    }
    links
}

#[derive(Serialize)]
struct Entry {
    fqdn: String,
    /// The pxelinux label (`install`, `reinstall`, `rescue`, or a boot image's name).
    label: String,
    /// What GRUB2's menu entry says it does (`Install`, `Reinstall`, `Rescue`).
    title: String,
    kernel: String,
    initrd: String,
    initrd_name: String,
    /// Kernel arguments besides `initrd=` (pxelinux).
    args: String,
    /// pxelinux's `IPAPPEND 2`: it appends `BOOTIF=01-<mac>` of the NIC it booted from.
    ipappend: bool,
    /// The kernel arguments of the GRUB2 and iPXE entries: `args`, and `BOOTIF=01-<mac>`
    /// where pxelinux's entry has `IPAPPEND 2`.
    firmware_args: String,
    next_server: String,
    /// pxelinux's serial console (`SERIAL 0 115200`), a dom0's with one.
    pxelinux_serial: Option<String>,
    /// GRUB2's serial terminal (`serial --unit=0 --speed=115200`), a dom0's with one. iPXE
    /// has none to set: its serial console is a build option (src/config/console.h
    /// `CONSOLE_SERIAL`, src/config/serial.h `COMCONSOLE` and `COMSPEED`), so its entries
    /// only pass the kernel's `console=`.
    grub_serial: Option<String>,
}

/// The kickstart file a host's entry for `purpose` names, if it names one.
fn kickstart_url(fabric: &Fabric, host: HostRef<'_>, purpose: Purpose) -> Option<String> {
    match purpose {
        Purpose::Install => Some(fabric.kickstart_url(host.name())),
        // Beside `<fqdn>.ks`, as render/kickstart writes it.
        Purpose::Reinstall => Some(format!(
            "{}/{}.reinstall.ks",
            fabric.install.kickstart_url.as_str().trim_end_matches('/'),
            fabric.fqdn(host.name())
        )),
        Purpose::Rescue => None,
    }
}

/// The installer's own arguments of an entry (after the boot image's `append`): where the
/// kickstart is and which NIC to use, or rescue mode and where the installer's tree is.
fn installer_args(
    fabric: &Fabric,
    host: HostRef<'_>,
    os: &crate::model::OsRelease,
    purpose: Purpose,
) -> Vec<String> {
    if os.family == OsFamily::Debian {
        return debian_installer_args(fabric, host, purpose);
    }
    let current = os.family == OsFamily::El9;
    let mut args = Vec::new();
    if let Some(ks) = kickstart_url(fabric, host, purpose) {
        args.push(format!("{}={ks}", if current { "inst.ks" } else { "ks" }));
    } else {
        // The release's rescue words, the same for a guest that boots its installer directly.
        args.extend(crate::model::rescue_args(
            os.family,
            os.install_url.as_str(),
        ));
    }
    if current {
        // Current anaconda names NICs by MAC: BOOTIF says which one booted.
        args.push(format!("BOOTIF={}", host.mac().pxelinux_name()));
        if matches!(host, HostRef::Dom0(_)) {
            // The dom0's kickstart makes its bridge with this NIC as `--bridgeslaves=eth0`
            // (render/toolstack/mod.rs: `bridge_slave`): anaconda takes a device name there,
            // not a MAC, and with one NIC the kernel's own names make it `eth0`. anaconda
            // keeps `net.ifnames` on the installed system's kernel line, so the name holds
            // after the install too: `BootLoader._preserve_some_boot_args`
            // (pyanaconda/modules/storage/bootloader/base.py) copies each argument of
            // `[Bootloader] preserved_arguments` (data/anaconda.conf: "... biosdevname
            // ipv6.disable net.ifnames net.ifnames.prefix nosmt") that the installer was booted
            // with.
            args.push("net.ifnames=0".to_owned());
        }
    } else {
        let rescue = purpose == Purpose::Rescue;
        if rescue {
            // No kickstart answers the loader's language and keyboard screens.
            let ks = fabric.kickstart_of(host);
            args.extend(crate::model::loader_screens(ks.lang, ks.keyboard));
        }
        // Which NIC the loader brings up (it reads `ksdevice=` with or without a kickstart).
        args.push(ksdevice(host, purpose));
        if rescue {
            // Nor its TCP/IP screen.
            if let Some(net) = fabric.networks.get(host.network()) {
                args.extend(crate::model::loader_network(host.ip(), net));
            }
        }
    }
    args
}

/// The loader's `ksdevice=` word of an EL3 to EL5 entry.
///
/// A dom0 (EL5: dom0s are EL5, EL9 or Debian, validation's `dom0-os-unsupported`) may have
/// several NICs, and installs through the one it booted from, the fabric's `mac` (its DHCP
/// entry and its `01-<mac>` links are that NIC's). Its install and reinstall entries say
/// `ksdevice=bootif`, with the `BOOTIF=01-<mac>` that pxelinux appends (`IPAPPEND 2`,
/// [`appends_bootif`]) or that the GRUB2 and iPXE entries carry: anaconda 11.1's loader (every
/// 11.x tag, RHEL 5.0's 11.1.2.36 to 5.11's 11.1.2.263) reads `BOOTIF=` (loader2/loader.c,
/// `parseCmdLineFlags`: `loaderData->bootIf`, the address after `01-` with `-` made `:`), and
/// `chooseNetworkInterface` (loader2/net.c) takes `ksdevice=bootif` as that address and picks
/// the NIC that has it (`nl_mac2str`, isys/nl.c, upper case), without asking.
///
/// The rescue entry's line, with the loader's language and network answers, has no room for
/// the 28 bytes `IPAPPEND 2` adds within the 255 an EL5 kernel takes (validation's
/// `kernel-cmdline-too-long`), and a `BOOTIF=` cut off at the end would leave `bootif`
/// unresolved. It says `ksdevice=eth0` when the boot NIC is `eth0` (the seed's one NIC, and
/// the first of most servers), else the MAC itself, `ksdevice=<mac>`, which the same code
/// takes (any other `ksdevice=` value that is no device name is compared, upper-cased, with
/// each NIC's address) and which is 9 bytes longer.
///
/// A guest keeps `eth0`: it installs through its first NIC, and pypxeboot, which reads the
/// same files for PV guests, takes no `BOOTIF`.
pub(crate) fn ksdevice(host: HostRef<'_>, purpose: Purpose) -> String {
    match (host, purpose) {
        (HostRef::Dom0(d), Purpose::Rescue) => match d.boot_nic() {
            Some(nic) if nic.name.as_str() == "eth0" => "ksdevice=eth0".to_owned(),
            _ => format!("ksdevice={}", d.mac),
        },
        (HostRef::Dom0(_), Purpose::Install | Purpose::Reinstall) => "ksdevice=bootif".to_owned(),
        (HostRef::Guest(..), _) => "ksdevice=eth0".to_owned(),
    }
}

/// Whether a host's entry for `purpose` tells its installer which NIC it booted from with
/// `BOOTIF=01-<mac>` put there by the boot loader: pxelinux's `IPAPPEND 2` (syslinux 6.04's
/// doc/syslinux.txt, `IPAPPEND flag_val`, PXELINUX only: 2 adds
/// `BOOTIF=<hardware-address-of-boot-interface>`, the address in the `01-<mac>` form of
/// pxelinux's own config file names; Debian 12's pxelinux 3:6.04~git20190206.bf6db5b4+dfsg1-3
/// boots it in tests/validators/test_netboot.py), written out in the GRUB2 and iPXE entries,
/// which have no such option (GRUB2's `${net_default_mac}` is the address with `:`, not `01-`
/// and `-`, and the entry is the host's own, reached through its MAC or IP link, so its MAC
/// is known here).
///
/// Dom0s of EL5 (`ksdevice=bootif`, [`ksdevice`]; not the rescue entry, which names the MAC)
/// and Debian: the Debian installer's netcfg takes the NIC of `BOOTIF=` as its default
/// interface, over link detection, and with `interface=auto` (netcfg/choose_interface)
/// preseeded keeps it without asking (netcfg 1.63's changelog, "If BOOTIF= is set on the
/// Linux command line, look for an interface with that address and use it by default";
/// netcfg-common.c, `netcfg_get_interface`, as of netcfg 1.176). EL9's entries name `BOOTIF=`
/// themselves ([`installer_args`]), and guests install through their first NIC.
fn appends_bootif(host: HostRef<'_>, family: OsFamily, purpose: Purpose) -> bool {
    matches!(host, HostRef::Dom0(_))
        && match family {
            OsFamily::Debian => true,
            OsFamily::El5 => purpose != Purpose::Rescue,
            OsFamily::El3 | OsFamily::El4 | OsFamily::El9 => false,
        }
}

/// The Debian installer's arguments (installation guide for bookworm, B.2.2 "Using boot
/// parameters to preseed questions" and B.2.3 "Auto mode", and its appendix's boot parameter
/// aliases): `auto=true` (auto-install/enable) delays the locale and keyboard questions until
/// the preseed file is read, `priority=critical` (debconf/priority) asks nothing else,
/// `url=` (preseed/url) names the file. What the installer asks before it has fetched the
/// file is on the line too: the NIC (`interface=auto`, netcfg/choose_interface: the one of
/// `BOOTIF=`, which the entries carry, [`appends_bootif`]) and the host and
/// domain names (`hostname=`, `domain=`; netcfg asks them when DHCP gives none). A dom0 with
/// a serial console gets the installer on it (`console=ttyS0,115200n8`).
///
/// The rescue entry is the same with `rescue/enable=true` (installation guide for bookworm,
/// 8.6 "Recovering a Broken System": the installer's first screens, then, "instead of the
/// disk partitioning tool", a list of the partitions to mount as the root file system, and a
/// shell in it). The preseed file still answers the locale, keyboard and mirror questions;
/// its partitioning and late command are never reached, since rescue mode has no partitioning
/// step and installs nothing. The installer asks which partition to mount (rescue/root).
fn debian_installer_args(fabric: &Fabric, host: HostRef<'_>, purpose: Purpose) -> Vec<String> {
    let HostRef::Dom0(dom0) = host else {
        // loader() gives Debian guests no entries.
        return Vec::new();
    };
    let mut args = vec![
        "auto=true".to_owned(),
        "priority=critical".to_owned(),
        format!(
            "url={}",
            super::preseed::preseed_url(fabric, dom0, purpose == Purpose::Reinstall)
        ),
    ];
    if purpose == Purpose::Rescue {
        args.push("rescue/enable=true".to_owned());
    }
    args.extend([
        "interface=auto".to_owned(),
        format!("hostname={}", dom0.name),
        format!("domain={}", fabric.site.domain),
    ]);
    args
}

fn entry(fabric: &Fabric, host: HostRef<'_>, purpose: Purpose) -> Result<Entry, RenderError> {
    let (os_name, image_name) = match host {
        HostRef::Dom0(d) => {
            let os = lookup::os(fabric, &d.os)?;
            (&d.os, &os.boot_image)
        }
        HostRef::Guest(_, g) => (&g.os, &g.boot_image),
    };
    let os = lookup::os(fabric, os_name)?;
    let image = fabric
        .boot_images
        .get(image_name)
        .ok_or_else(|| lookup::missing("boot image", image_name))?;
    let mut args: Vec<String> = image.append.iter().map(ToString::to_string).collect();
    args.extend(installer_args(fabric, host, os, purpose));
    // A dom0 with a serial console gets its installer there too (guests' installers keep
    // their screen: an HVM guest's serial port is a pty of dom0 nobody watches at install).
    let serial = match host {
        HostRef::Dom0(d) => fabric.serial_console(d),
        HostRef::Guest(..) => None,
    };
    if let Some(serial) = serial {
        args.extend(serial.installer_args(os.family));
    }
    let next_server = fabric
        .next_server(host.network())
        .ok_or_else(|| lookup::missing("next-server of network", host.network()))?;
    let ipappend = appends_bootif(host, os.family, purpose);
    let args = args.join(" ");
    let firmware_args = if ipappend {
        // The boot NIC is the host's own: GRUB2 and iPXE reach this entry through its MAC
        // (or IP) link, and this keeps the file the same whatever NIC the firmware tried.
        format!("{args} BOOTIF={}", host.mac().pxelinux_name())
    } else {
        args.clone()
    };
    let (label, title) = match purpose {
        Purpose::Install => ("install", "Install"),
        Purpose::Reinstall => ("reinstall", "Reinstall"),
        Purpose::Rescue => ("rescue", "Rescue"),
    };
    Ok(Entry {
        fqdn: fabric.fqdn(host.name()),
        label: label.to_owned(),
        title: title.to_owned(),
        kernel: image.kernel.to_string(),
        initrd: image.initrd.to_string(),
        initrd_name: image
            .initrd
            .as_str()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
        args,
        ipappend,
        firmware_args,
        next_server: next_server.to_string(),
        // syslinux doc/syslinux.txt, "SERIAL port [baudrate [flowcontrol]]": port 0 is
        // COM1, 8 data bits, no parity, one stop bit; the directive goes first in the file.
        pxelinux_serial: serial.map(|s| format!("SERIAL {} {}", s.port.unit(), s.speed)),
        grub_serial: serial.map(crate::model::SerialConsole::grub_serial),
    })
}

fn netinstall_entry(fabric: &Fabric, image_name: &Ident) -> Result<Entry, RenderError> {
    let image = fabric
        .boot_images
        .get(image_name)
        .ok_or_else(|| lookup::missing("boot image", image_name))?;
    let args = image
        .append
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Entry {
        fqdn: String::new(),
        label: image_name.to_string(),
        title: String::new(),
        kernel: image.kernel.to_string(),
        initrd: image.initrd.to_string(),
        initrd_name: String::new(),
        firmware_args: args.clone(),
        args,
        ipappend: false,
        next_server: String::new(),
        pxelinux_serial: None,
        grub_serial: None,
    })
}

#[cfg(test)]
mod tests {
    use super::{BootState, TFTP_DIR, host_links};
    use crate::model::{Fabric, HostRef};
    use crate::output::{Entry, RelPath, Tree};

    fn example() -> (Fabric, Tree) {
        let fabric = match crate::load(crate::EXAMPLE, "example.toml") {
            Ok(l) => l.fabric,
            Err(e) => panic!("{e}"),
        };
        let tree = match crate::render(&fabric) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        };
        (fabric, tree)
    }

    fn file<'a>(tree: &'a Tree, path: &str) -> Option<&'a str> {
        let rel = RelPath::new(&format!("{TFTP_DIR}/{path}")).ok()?;
        match tree.get(&rel)? {
            Entry::File { contents, .. } => Some(contents),
            Entry::Symlink { .. } => None,
        }
    }

    fn host<'a>(fabric: &'a Fabric, name: &str) -> HostRef<'a> {
        fabric
            .hosts()
            .find(|h| h.name().as_str() == name)
            .unwrap_or_else(|| panic!("no host {name}"))
    }

    #[test]
    fn a_dom0_gets_install_reinstall_and_rescue_entries() {
        let (_, tree) = example();
        let f = "xen01.example.org";
        let install = file(&tree, &format!("pxelinux.cfg/{f}.cfg")).unwrap_or_default();
        assert!(
            install.ends_with(
                " ks=http://192.168.96.1/ks/xen01.example.org.ks ksdevice=bootif\n  ipappend 2\n"
            ),
            "{install}"
        );
        let reinstall = file(&tree, &format!("pxelinux.cfg/{f}.reinstall.cfg")).unwrap_or_default();
        assert_eq!(
            reinstall,
            "default reinstall\nlabel reinstall\n  kernel centos-5.2/x86_64/vmlinuz\n  \
             append initrd=centos-5.2/x86_64/initrd.img ramdisk=32768 ks=http://192.168.96.1/ks/xen01.example.org.reinstall.ks ksdevice=bootif\n  \
             ipappend 2\n"
        );
        let rescue = file(&tree, &format!("pxelinux.cfg/{f}.rescue.cfg")).unwrap_or_default();
        assert_eq!(
            rescue,
            "default rescue\nlabel rescue\n  kernel centos-5.2/x86_64/vmlinuz\n  \
             append initrd=centos-5.2/x86_64/initrd.img ramdisk=32768 rescue method=http://192.168.96.1/centos/5.2/os/x86_64 \
             lang=en_US.UTF-8 keymap=us ksdevice=eth0 ip=192.168.96.11 netmask=255.255.255.0 gateway=192.168.96.254 dns=192.168.96.1\n"
        );
        for path in [
            format!("grub2/{f}.reinstall.cfg"),
            format!("grub2/{f}.rescue.cfg"),
            format!("ipxe/{f}.reinstall.ipxe"),
            format!("ipxe/{f}.rescue.ipxe"),
        ] {
            assert!(file(&tree, &path).is_some(), "{path}");
        }
        let grub = file(&tree, &format!("grub2/{f}.reinstall.cfg")).unwrap_or_default();
        assert!(
            grub.contains("menuentry 'Reinstall xen01.example.org' {"),
            "{grub}"
        );
        assert!(
            grub.contains("ks=http://192.168.96.1/ks/xen01.example.org.reinstall.ks"),
            "{grub}"
        );
    }

    /// A dom0 installs through the NIC it booted from: pxelinux appends `BOOTIF=` itself
    /// (`IPAPPEND 2`), GRUB2 and iPXE have it written out, and the EL5 loader's `ksdevice=bootif`
    /// names it. Guests keep their first NIC; EL9 entries name `BOOTIF=` once, themselves.
    #[test]
    fn a_dom0_installs_through_its_boot_nic() {
        let (_, tree) = example();
        for state in ["", ".reinstall"] {
            let f = format!("xen01.example.org{state}");
            let pxe = file(&tree, &format!("pxelinux.cfg/{f}.cfg")).unwrap_or_default();
            assert!(pxe.contains(" ksdevice=bootif\n"), "{pxe}");
            assert!(pxe.ends_with("\n  ipappend 2\n"), "{pxe}");
            assert!(!pxe.contains("BOOTIF="), "{pxe}");
            let grub = file(&tree, &format!("grub2/{f}.cfg")).unwrap_or_default();
            assert!(
                grub.contains(" ksdevice=bootif BOOTIF=01-00-1e-c9-2a-11-01\n"),
                "{grub}"
            );
            let ipxe = file(&tree, &format!("ipxe/{f}.ipxe")).unwrap_or_default();
            assert!(
                ipxe.contains(" ksdevice=bootif BOOTIF=01-00-1e-c9-2a-11-01\n"),
                "{ipxe}"
            );
        }
        // Rescue: the boot NIC by name (it is eth0, the seed's), everywhere alike, and no
        // IPAPPEND (the line's budget).
        for path in [
            "pxelinux.cfg/xen01.example.org.rescue.cfg",
            "grub2/xen01.example.org.rescue.cfg",
            "ipxe/xen01.example.org.rescue.ipxe",
        ] {
            let rescue = file(&tree, path).unwrap_or_default();
            assert!(rescue.contains(" ksdevice=eth0 "), "{rescue}");
            assert!(
                !rescue.contains("BOOTIF=") && !rescue.contains("ipappend"),
                "{rescue}"
            );
        }
        // An HVM guest (EL3) installs through its first NIC, as before.
        let vali = file(&tree, "pxelinux.cfg/vali.example.org.cfg").unwrap_or_default();
        assert!(vali.ends_with(" ksdevice=eth0\n"), "{vali}");
        let vali = file(&tree, "grub2/vali.example.org.cfg").unwrap_or_default();
        assert!(!vali.contains("BOOTIF="), "{vali}");
        // pypxeboot's entries have no IPAPPEND (it boots no NIC).
        let ullr = file(&tree, "pxelinux.cfg/ullr.example.org.cfg").unwrap_or_default();
        assert!(!ullr.contains("ipappend"), "{ullr}");
        // EL9: `BOOTIF=` once, on the line; no IPAPPEND to add a second.
        let xen03 = file(&tree, "pxelinux.cfg/xen03.example.org.cfg").unwrap_or_default();
        assert!(!xen03.contains("ipappend"), "{xen03}");
        let xen03 = file(&tree, "grub2/xen03.example.org.cfg").unwrap_or_default();
        assert_eq!(xen03.matches("BOOTIF=").count(), 1, "{xen03}");
    }

    #[test]
    fn el9_rescue_is_inst_rescue_with_its_repo() {
        let (_, tree) = example();
        let rescue = file(&tree, "pxelinux.cfg/xen03.example.org.rescue.cfg").unwrap_or_default();
        assert!(
            rescue.ends_with(
                " inst.rescue inst.repo=http://192.168.96.1/rocky/9/BaseOS/x86_64/os BOOTIF=01-b0-7b-25-03-13-01 net.ifnames=0\n"
            ),
            "{rescue}"
        );
        let reinstall =
            file(&tree, "pxelinux.cfg/xen03.example.org.reinstall.cfg").unwrap_or_default();
        assert!(
            reinstall
                .contains(" inst.ks=http://192.168.96.1/ks/xen03.example.org.reinstall.ks BOOTIF="),
            "{reinstall}"
        );
    }

    #[test]
    fn guests_get_rescue_only_where_the_installer_can_take_it() {
        let (_, tree) = example();
        // HVM: PXE firmware, any argument.
        assert!(file(&tree, "pxelinux.cfg/vali.example.org.rescue.cfg").is_some());
        // pypxeboot: key=value arguments only.
        assert!(file(&tree, "pxelinux.cfg/ullr.example.org.cfg").is_some());
        assert!(file(&tree, "pxelinux.cfg/ullr.example.org.rescue.cfg").is_none());
        // No guest has a reinstall entry.
        for g in ["ullr", "vali", "bragi", "skadi", "idunn"] {
            assert!(
                file(
                    &tree,
                    &format!("pxelinux.cfg/{g}.example.org.reinstall.cfg")
                )
                .is_none()
            );
        }
    }

    #[test]
    fn links_follow_the_state() {
        let (fabric, _) = example();
        let xen01 = host(&fabric, "xen01");
        let targets = |state| {
            host_links(&fabric, xen01, state)
                .into_iter()
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
        };
        let f = "xen01.example.org";
        assert_eq!(
            targets(BootState::Reinstall),
            [
                format!("{f}.reinstall.cfg"),
                format!("{f}.reinstall.cfg"),
                format!("{f}.reinstall.cfg"),
                format!("{f}.reinstall.cfg"),
                format!("{f}.reinstall.ipxe"),
            ]
        );
        assert_eq!(targets(BootState::Rescue)[0], format!("{f}.rescue.cfg"));
        assert_eq!(targets(BootState::Rescue)[4], format!("{f}.rescue.ipxe"));
        assert_eq!(targets(BootState::Install)[1], format!("{f}.cfg"));
        assert_eq!(targets(BootState::Localboot)[0], "localboot.cfg");
        let paths: Vec<String> = host_links(&fabric, xen01, BootState::Rescue)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            paths,
            [
                "pxelinux.cfg/01-00-1e-c9-2a-11-01",
                "pxelinux.cfg/C0A8600B",
                "grub2/grub.cfg-01-00-1e-c9-2a-11-01",
                "grub2/grub.cfg-C0A8600B",
                "ipxe/00-1e-c9-2a-11-01.ipxe",
            ]
        );
        // A state the host cannot be in has no entry: its links stay on the local disk.
        let ullr = host(&fabric, "ullr");
        assert_eq!(
            host_links(&fabric, ullr, BootState::Rescue)[0].1,
            "localboot.cfg"
        );
        assert_eq!(
            host_links(&fabric, ullr, BootState::Reinstall)[0].1,
            "localboot.cfg"
        );
        assert_eq!(
            host_links(&fabric, ullr, BootState::Install)[0].1,
            "ullr.example.org.cfg"
        );
        // Guests that boot their own disk have no links at all.
        assert!(host_links(&fabric, host(&fabric, "skadi"), BootState::Rescue).is_empty());
    }

    #[test]
    fn an_el5_rescue_entry_names_a_boot_nic_that_is_not_eth0_by_its_mac() {
        let text = crate::testing::repo_file("tests/cases/multi-nic/fabric.toml").replace(
            r#"nics = [{ name = "eth0", mac = "00:1e:c9:2a:12:01" }, { name = "eth1" }]"#,
            r#"nics = [{ name = "eth0" }, { name = "eth1", mac = "00:1e:c9:2a:12:01" }]"#,
        );
        let fabric = crate::load(&text, "fabric.toml").unwrap().fabric;
        let tree = crate::render(&fabric).unwrap();
        let rescue = file(&tree, "pxelinux.cfg/xen02.multi.test.rescue.cfg").unwrap();
        assert!(rescue.contains(" ksdevice=00:1e:c9:2a:12:01 "), "{rescue}");
        let install = file(&tree, "pxelinux.cfg/xen02.multi.test.cfg").unwrap();
        assert!(
            install.contains(" ksdevice=bootif\n  ipappend 2\n"),
            "{install}"
        );
    }
}
