//! Guests: their configs for the dom0's toolstack and for libvirt, and each dom0's script that
//! creates their volumes and starts them.
//!
//! - `dom0s/<fqdn>/xen/<guest>`: an `xm` config (`/etc/xen/<guest>`), for guests of `xm` dom0s.
//!   pypxeboot guests have the seed's `bootloader="/usr/bin/pypxeboot"` and `vif=['mac=…']`,
//!   but `bootargs` and `root` as pypxeboot 0.0.3 really takes them (`pypxeboot_args`).
//! - `dom0s/<fqdn>/xen/<guest>.cfg`: an `xl` config, for guests of `xl` dom0s.
//! - `dom0s/<fqdn>/libvirt/<guest>.xml`: a libvirt domain (`type='xen'`) for every guest.
//! - `dom0s/<fqdn>/provision.sh`: creates each guest's logical volumes (keeping those that
//!   exist), puts its config in place, links it for autostart and starts it. Safe to run again.
//!
//! A guest that boots its own disk (pygrub, PVH) has nothing to boot before it is installed.
//! While its state is `install`, its xm, xl and libvirt configs are the install variant: they
//! boot the installer's kernel and initrd from dom0 (`kernel`, `ramdisk`, and `extra` for PV or
//! `cmdline` for PVH, xl.cfg(5) "Direct Kernel Boot"; see [`crate::model::installer_boot`])
//! with `on_reboot = "destroy"`, so that the guest stops when anaconda reboots at the end
//! instead of installing again; `provision.sh` fetches that kernel and initrd and does not link
//! the install variant for autostart. In state `rescue` the same guests, and pypxeboot guests
//! (whose pypxeboot cannot pass the bare word `rescue`), get the rescue variant: the same direct
//! boot with the release's rescue arguments instead of the kickstart
//! ([`crate::model::rescue_args`]), never linked for autostart either. Once the state is
//! `localboot`, the configs boot the disk
//! with pygrub. EL9 guests boot by pygrub too: their kickstart turns GRUB's BLS entries off
//! (`kickstart_post`), as pygrub (Xen 4.17's `GrubConf.py`) reads `menuentry` blocks but not
//! `blscfg`, and put `/` on ext4 (`booted_by_pygrub`), as pygrub cannot open XFS version 5.

mod libvirt;

pub use libvirt::LibvirtError;

use std::fmt::Write;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{
    Arch, BootState, Dom0, Fabric, Guest, HostRef, InstallerBoot, OsFamily, Toolstack, VirtMode,
    installer_boot,
};
use crate::output::Tree;
use crate::render::Part;

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    for dom0 in part.dom0s(fabric) {
        let fqdn = fabric.fqdn(&dom0.name);
        let dom0_arch = lookup::os(fabric, &dom0.os)?.arch;
        for guest in &dom0.guests {
            let installer = installer(fabric, guest)?;
            let view = GuestView::new(fabric, dom0, guest, dom0_arch, installer.as_ref())?;
            match dom0.toolstack {
                Toolstack::Xm => tree.insert_file(
                    &format!("dom0s/{fqdn}/xen/{}", guest.name),
                    templates::render(env, "guest.xm.j2", &view)?,
                )?,
                Toolstack::Xl => tree.insert_file(
                    &format!("dom0s/{fqdn}/xen/{}.cfg", guest.name),
                    templates::render(env, "guest.xl.cfg.j2", &view)?,
                )?,
            }
            let xml = libvirt::domain_xml(&libvirt_view(fabric, dom0, guest, installer.as_ref())?)
                .map_err(|source| RenderError::Libvirt { source })?;
            tree.insert_file(&format!("dom0s/{fqdn}/libvirt/{}.xml", guest.name), xml)?;
        }
        tree.insert_executable(
            &format!("dom0s/{fqdn}/provision.sh"),
            templates::render(env, "provision.sh.j2", provision_view(fabric, dom0)?)?,
        )?;
    }
    Ok(())
}

/// Everything a guest's xm or xl config says, computed here so that templates only print.
#[derive(Serialize)]
struct GuestView {
    name: String,
    fqdn: String,
    dom0: String,
    memory: u64,
    vcpus: u32,
    /// `pv`, `pvh` or `hvm` (xl's `type`).
    kind: &'static str,
    /// The bootloader in dom0: pypxeboot or pygrub (PV), pygrub (PVH), none (HVM).
    bootloader: Option<&'static str>,
    /// pypxeboot's arguments ([`pypxeboot_args`]), for xm's `bootargs`.
    bootargs: Option<String>,
    /// The installer the guest boots directly in its install or rescue variant (the config's
    /// header says which).
    installer: Option<InstallerView>,
    /// The kernel, initrd and command line from dom0 (quoted for `"…"` in xm and xl) that the
    /// guest boots: the installer's, or the `direct_boot` of a `pv-kernel` or `pvh-kernel`
    /// guest; no bootloader then.
    direct: Option<InstallerView>,
    /// xm's `vif` entries, quoted: `'mac=…'` (with `bridge=…` unless it is xend's default).
    xm_vifs: String,
    /// xl's `vif` entries, quoted: `'mac=…,bridge=…'`.
    xl_vifs: String,
    /// xm's `disk` entries: `"phy:xenvg/ullr,xvda,w"`.
    xm_disks: String,
    /// xl's `disk` entries: `'format=raw, vdev=xvda, access=rw, target=/dev/xenvg/ullr'`.
    xl_disks: String,
    /// The root device PV guests boot (`/dev/xvda1 ro`: `/` is the first partition).
    root: Option<&'static str>,
    /// xm's `device_model` for HVM guests.
    device_model: &'static str,
    /// xm's boot order for HVM guests (network, then disk) and xl's (network to install,
    /// disk otherwise).
    xm_boot: &'static str,
    xl_boot: &'static str,
    on_poweroff: &'static str,
    on_reboot: &'static str,
    on_crash: &'static str,
}

/// The installer a guest boots directly: a pygrub or PVH guest while it is installed or
/// rescued, a pypxeboot guest while it is rescued.
#[derive(Serialize)]
struct InstallerView {
    /// What the variant is for, in the config's header: `install` or `rescue`; `boot` for a
    /// `direct_boot`.
    purpose: &'static str,
    kernel: String,
    ramdisk: String,
    /// The command line, escaped for a double-quoted string of xm (Python) and xl (libxlutil
    /// reads `\\` and `\"` in a string as Python does).
    cmdline: String,
}

/// The installer boot of a guest that boots it directly (pygrub or PVH in state `install` or
/// `rescue`, pypxeboot in state `rescue`: [`Guest::boots_installer_directly`]).
fn installer(fabric: &Fabric, g: &Guest) -> Result<Option<InstallerBoot>, RenderError> {
    if !g.boots_installer_directly(fabric) {
        return Ok(None);
    }
    installer_boot(fabric, g)
        .map(Some)
        .ok_or_else(|| lookup::missing("OS, boot image or network of guest", &g.name))
}

/// `value` escaped for a double-quoted string of xm's Python and of xl's libxlutil.
fn quoted(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

/// xend's default bridge (`network-bridge` names it after the first NIC).
const XEND_DEFAULT_BRIDGE: &str = "xenbr0";

impl GuestView {
    fn new(
        fabric: &Fabric,
        dom0: &Dom0,
        g: &Guest,
        dom0_arch: Arch,
        installer: Option<&InstallerBoot>,
    ) -> Result<GuestView, RenderError> {
        let hvm = g.mode == VirtMode::Hvm;
        // xm's vif may leave out the bridge that xend's network-bridge made (vif-bridge then
        // takes the first bridge `brctl show` lists, Xen 3.1's vif-bridge); where initscripts
        // makes several bridges, every vif names its own.
        let default_bridge = match dom0.toolstack {
            crate::model::Toolstack::Xm => match super::toolstack::networking(fabric, dom0)? {
                super::toolstack::xend_config::Networking::Bridge(b) => Some(b),
                super::toolstack::xend_config::Networking::Initscripts => None,
            },
            crate::model::Toolstack::Xl => None,
        };
        let mut xm_vifs = Vec::new();
        let mut xl_vifs = Vec::new();
        // One vif a NIC, in order: the guest's kernel names them eth0, eth1, … in that order
        // (netfront enumerates the `device/vif/<n>` nodes xend and libxl write from the list).
        for nic in g.nics() {
            let bridge = &lookup::network(fabric, nic.network)?.bridge;
            let mac = nic.mac;
            let xm = if bridge.as_str() == XEND_DEFAULT_BRIDGE
                && default_bridge.as_deref() == Some(XEND_DEFAULT_BRIDGE)
            {
                format!("mac={mac}")
            } else {
                format!("mac={mac}, bridge={bridge}")
            };
            xm_vifs.push(if hvm {
                format!("'type=ioemu, {xm}'")
            } else {
                format!("'{xm}'")
            });
            // An emulated NIC for HVM guests: the rtl8139 whose PXE ROM installs them.
            xl_vifs.push(if hvm {
                format!("'mac={mac},bridge={bridge},model=rtl8139'")
            } else {
                format!("'mac={mac},bridge={bridge}'")
            });
        }
        let mut xm_disks = Vec::new();
        let mut xl_disks = Vec::new();
        for d in &g.disks {
            xm_disks.push(format!("\"phy:{}/{},{},w\"", d.vg, d.lv, d.vdev));
            xl_disks.push(format!(
                "'format=raw, vdev={}, access=rw, target=/dev/{}/{}'",
                d.vdev, d.vg, d.lv
            ));
        }
        let (kind, bootloader) = match g.mode {
            VirtMode::PvPypxeboot => ("pv", Some("/usr/bin/pypxeboot")),
            VirtMode::PvPygrub => ("pv", Some("pygrub")),
            VirtMode::Pvh => ("pvh", Some("pygrub")),
            VirtMode::PvKernel => ("pv", None),
            VirtMode::PvhKernel => ("pvh", None),
            VirtMode::Hvm => ("hvm", None),
        };
        let bootloader = match installer {
            Some(_) => None,
            None => bootloader.map(|b| pygrub_path(dom0.toolstack, b)),
        };
        let direct = match (installer, &g.direct_boot) {
            (Some(i), _) => Some(InstallerView {
                purpose: if i.rescue { "rescue" } else { "install" },
                kernel: quoted(&i.kernel),
                ramdisk: quoted(&i.ramdisk),
                cmdline: quoted(&i.cmdline),
            }),
            (None, Some(b)) if g.mode.boots_dom0_kernel() => Some(InstallerView {
                purpose: "boot",
                kernel: quoted(b.kernel.as_str()),
                ramdisk: quoted(b.ramdisk.as_str()),
                cmdline: quoted(&b.cmdline_text()),
            }),
            (None, _) if g.mode.boots_dom0_kernel() => {
                return Err(lookup::missing("direct_boot of guest", &g.name));
            }
            (None, _) => None,
        };
        Ok(GuestView {
            name: g.name.to_string(),
            fqdn: fabric.fqdn(&g.name),
            dom0: fabric.fqdn(&dom0.name),
            memory: g.memory.mib(),
            vcpus: g.vcpus,
            kind,
            bootloader,
            // The rescue variant of a pypxeboot guest boots the installer without pypxeboot.
            bootargs: installer.is_none().then(|| pypxeboot_args(g)).flatten(),
            installer: installer.map(|i| InstallerView {
                purpose: if i.rescue { "rescue" } else { "install" },
                kernel: quoted(&i.kernel),
                ramdisk: quoted(&i.ramdisk),
                cmdline: quoted(&i.cmdline),
            }),
            direct,
            xm_vifs: xm_vifs.join(", "),
            xl_vifs: xl_vifs.join(", "),
            xm_disks: xm_disks.join(", "),
            xl_disks: xl_disks.join(", "),
            // Never for pypxeboot: xend would hand it to pypxeboot as `--args=`
            // ([`pypxeboot_args`]).
            root: (g.mode == VirtMode::PvPygrub && installer.is_none()).then_some("/dev/xvda1 ro"),
            device_model: match dom0_arch {
                Arch::X86_64 => "/usr/lib64/xen/bin/qemu-dm",
                Arch::I386 => "/usr/lib/xen/bin/qemu-dm",
            },
            xm_boot: "nc",
            xl_boot: if g.state == BootState::Install {
                "n"
            } else {
                "c"
            },
            on_poweroff: g.on_poweroff.as_str(),
            on_reboot: on_reboot(g, installer),
            on_crash: g.on_crash.as_str(),
        })
    }
}

/// What the toolstack does when the guest reboots: `destroy` while it boots its installer
/// directly (anaconda reboots at the end of the install; booting the same installer again
/// would install again), the guest's own setting otherwise.
fn on_reboot(g: &Guest, installer: Option<&InstallerBoot>) -> &'static str {
    match installer {
        Some(_) => "destroy",
        None => g.on_reboot.as_str(),
    }
}

/// The bootloader as each toolstack names it. xend (Xen 3.x, EL5) runs the path it is given,
/// and EL5's xen package installs pygrub as `/usr/bin/pygrub`. libxl looks a bare name up in
/// its own binary folder (`/usr/lib/xen/bin` upstream, `/usr/libexec/xen/bin` on EL,
/// `/usr/lib/xen-4.17/bin` on Debian) and warns that `/usr/bin/pygrub` "is deprecated; use
/// bootloader='pygrub' instead" (libxl_bootloader.c, Xen 4.17; the string is in
/// libxenlight.so): xl and libvirt's libxl driver get `pygrub`.
fn pygrub_path(toolstack: Toolstack, bootloader: &'static str) -> &'static str {
    match (toolstack, bootloader) {
        (Toolstack::Xm, "pygrub") => "/usr/bin/pygrub",
        (_, b) => b,
    }
}

/// The arguments a pypxeboot guest's config gives pypxeboot (xm's `bootargs`, libvirt's
/// `<bootloader_args>`): `--pygrub-image=/dev/<vg>/<lv> mac=<mac>`, for pypxeboot 0.0.3 as
/// grid.ie released it (pypxeboot-0.0.3.tar.gz, mirrored in github.com/blamarvt/pypxeboot).
///
/// xend starts a bootloader as `BOOTLOADER [--kernel=K] [--ramdisk=R] [--args=A] [-q]
/// --output=FIFO <bootargs split by shlex> DISK` (XendBootloader.bootloader() of Xen 3.0.3 to
/// 3.4), where `A` is built from the config's `root` and `extra` (XendConfig's
/// `update_with_image_sxp`). pypxeboot parses its arguments with `getopt.gnu_getopt(…, 'vqh::',
/// ["verbose", "help", "output=", "label=", "interface=", "udhcpc=", "pygrub-image=",
/// "isconfig"])`, so any `--args=`, `--kernel=` or `--ramdisk=` makes it print its usage and
/// exit 1: a pypxeboot guest's config has no `root`, `extra`, `kernel` or `ramdisk`. The MAC
/// is the argument that begins with `mac=`: everything after the first `=`, up to the next
/// `=`, with `,` stripped, must be a MAC. The seed's `bootargs = vif[0]` gives that only while
/// the vif says nothing but `mac=`; writing `mac=` out keeps it right whatever the vif says.
/// When the guest's pxelinux entry says `localboot`, pypxeboot runs `pygrub -q IMAGE` on the
/// image of `--pygrub-image` and exits 1 without one (it ignores the DISK xend appends): the
/// guest's first disk, the one xend boots.
fn pypxeboot_args(g: &Guest) -> Option<String> {
    if g.mode != VirtMode::PvPypxeboot {
        return None;
    }
    let disk = g.disks.first()?;
    Some(format!(
        "--pygrub-image=/dev/{}/{} mac={}",
        disk.vg, disk.lv, g.mac
    ))
}

/// The `%post` a guest's kickstart needs for the way it boots, if any: an EL9 guest booted by
/// pygrub (PV or PVH) gets GRUB's BootLoaderSpec entries turned off. EL9's grub.cfg only says
/// `blscfg` and keeps its entries in /boot/loader/entries; pygrub (tools/pygrub/src/GrubConf.py
/// of Xen 4.17) reads `menuentry` blocks and knows no `blscfg`, so it finds nothing to boot.
/// With `GRUB_ENABLE_BLSCFG=false` in /etc/default/grub, `grub2-mkconfig` writes a
/// `menuentry` a kernel, and EL9's kernel-install (20-grub.install) runs it again for each new
/// kernel. PV-GRUB2 (`firmware = "pvgrub64"`) is no way out: upstream GRUB's Xen platform has
/// no `blscfg` command either (it is a Fedora patch), and no EL9 package ships pvgrub64.bin.
pub(crate) fn kickstart_post(fabric: &Fabric, g: &Guest) -> Option<&'static str> {
    let el9 = fabric
        .os
        .get(&g.os)
        .is_some_and(|os| os.family == OsFamily::El9);
    (el9 && matches!(g.mode, VirtMode::PvPygrub | VirtMode::Pvh)).then_some(BLS_OFF_POST)
}

/// True for a guest whose disk pygrub boots (PV with pygrub, PVH). Its kickstart puts `/`
/// (and `/boot` in it) on ext4 where the release would choose XFS: pygrub reads the guest's
/// files through Xen's libxenfsimage, whose XFS reader opens only version 4 filesystems
/// (`xenfsimage.open` of an `mkfs.xfs -m crc=1` image fails with EOPNOTSUPP under Xen 4.17;
/// `tests/validators/test_guests.py` shows it), and EL9's mkfs.xfs makes version 5; its ext
/// reader is e2fsprogs' libext2fs, which reads ext4.
pub(crate) fn booted_by_pygrub(g: &Guest) -> bool {
    matches!(g.mode, VirtMode::PvPygrub | VirtMode::Pvh)
}

/// The `%post` of [`kickstart_post`].
const BLS_OFF_POST: &str = "\
# pygrub reads GRUB's menuentry blocks, not BootLoaderSpec entries (blscfg): write menuentry
# blocks now and on every kernel update.
sed -i -e '/^GRUB_ENABLE_BLSCFG=/d' /etc/default/grub
echo 'GRUB_ENABLE_BLSCFG=false' >>/etc/default/grub
grub2-mkconfig -o /boot/grub2/grub.cfg
";

fn libvirt_view(
    fabric: &Fabric,
    dom0: &Dom0,
    g: &Guest,
    installer: Option<&InstallerBoot>,
) -> Result<libvirt::DomainView, RenderError> {
    let arch = lookup::os(fabric, &g.os)?.arch.libvirt().to_owned();
    let pygrub = pygrub_path(dom0.toolstack, "pygrub").to_owned();
    let boot = match (g.mode, installer) {
        // The install or rescue variant: the installer's kernel from dom0, no bootloader.
        (VirtMode::PvPygrub | VirtMode::Pvh | VirtMode::PvPypxeboot, Some(i)) => {
            libvirt::Boot::Direct {
                pvh: g.mode == VirtMode::Pvh,
                kernel: i.kernel.clone(),
                initrd: i.ramdisk.clone(),
                cmdline: i.cmdline.clone(),
            }
        }
        (VirtMode::PvPypxeboot, _) => libvirt::Boot::Pv {
            bootloader: "/usr/bin/pypxeboot".to_owned(),
            bootloader_args: pypxeboot_args(g),
        },
        (VirtMode::PvPygrub, _) => libvirt::Boot::Pv {
            bootloader: pygrub,
            bootloader_args: None,
        },
        (VirtMode::Pvh, _) => libvirt::Boot::Pvh { bootloader: pygrub },
        (VirtMode::PvKernel | VirtMode::PvhKernel, _) => {
            let b = g
                .direct_boot
                .as_ref()
                .ok_or_else(|| lookup::missing("direct_boot of guest", &g.name))?;
            libvirt::Boot::Direct {
                pvh: g.mode == VirtMode::PvhKernel,
                kernel: b.kernel.to_string(),
                initrd: b.ramdisk.to_string(),
                cmdline: b.cmdline_text(),
            }
        }
        (VirtMode::Hvm, _) => libvirt::Boot::Hvm {
            network_first: true,
        },
    };
    Ok(libvirt::DomainView {
        name: g.name.to_string(),
        description: format!(
            "{} on {}, generated by xenfab from the fabric file",
            fabric.fqdn(&g.name),
            fabric.fqdn(&dom0.name)
        ),
        memory_mib: g.memory.mib(),
        vcpus: g.vcpus,
        arch,
        boot,
        on_poweroff: g.on_poweroff.as_str().to_owned(),
        on_reboot: on_reboot(g, installer).to_owned(),
        on_crash: g.on_crash.as_str().to_owned(),
        disks: g
            .disks
            .iter()
            .map(|d| libvirt::DiskView {
                source: format!("/dev/{}/{}", d.vg, d.lv),
                target: d.vdev.to_string(),
            })
            .collect(),
        nics: g
            .nics()
            .map(|nic| {
                Ok(libvirt::NicView {
                    mac: nic.mac.to_string(),
                    bridge: lookup::network(fabric, nic.network)?.bridge.to_string(),
                })
            })
            .collect::<Result<_, RenderError>>()?,
    })
}

#[derive(Serialize)]
struct ProvisionView {
    dom0: String,
    /// `xm` or `xl`.
    tool: &'static str,
    /// Where the installers' kernels go on dom0 ([`crate::model::INSTALLER_DIR`]).
    installer_dir: &'static str,
    /// The volume groups the guests' disks are on, each once.
    volume_groups: Vec<String>,
    /// The bridges the guests attach to, each once.
    bridges: Vec<String>,
    /// True on a Debian dom0: a missing bridge is brought up with `ifup` from its
    /// /etc/network/interfaces (render/debian); elsewhere dom0's network setup makes it.
    ifup: bool,
    /// `lvcreate`'s options: `--yes` where lvm2 2.02.105 and later asks before wiping a
    /// file system signature found in the new volume's space (bookworm's lvm2 2.03.16, EL9's
    /// 2.03; lvcreate(8): `-y|--yes` "Do not prompt for confirmation interactively but always
    /// assume the answer yes"), which without a terminal would fail the run. EL5's lvm2
    /// 2.02.x neither asks nor has `--yes`: none there (xm dom0s).
    lvcreate_options: &'static str,
    /// True when a guest is installed by debootstrap: the script has `install_debootstrap`.
    debootstrap: bool,
    guests: Vec<ProvisionGuest>,
}

#[derive(Serialize)]
struct ProvisionGuest {
    name: String,
    /// The config's file name in /etc/xen (`ullr` for xm, `ullr.cfg` for xl).
    config: String,
    summary: String,
    /// `'VG' 'LV' 'SIZE'` for each disk, quoted for the shell (every value is validated).
    volumes: Vec<String>,
    /// `'SERVER' 'PATH' 'FILE'` for the installer's kernel and initrd of a guest that boots
    /// them directly (pygrub or PVH, state `install`): the file `PATH` of the TFTP root of
    /// `SERVER`, copied to `FILE` below the installer folder. Empty otherwise.
    fetches: Vec<String>,
    /// False for the install and rescue variants: dom0 must not install the guest again, or
    /// start its installer's rescue mode, each time it boots.
    autostart: bool,
    /// `install` or `rescue` for a guest whose config boots its installer directly: started
    /// with `start_installer`, which says how to restart a guest that still runs its disk.
    installer: Option<&'static str>,
    /// `'VG' 'LV'` of the disk a guest that boots its own disk (pygrub, PVH, state
    /// `localboot`) boots: it is not started while that volume is blank.
    boot_volume: Option<String>,
    /// How to install such a guest when xenfab cannot (a Debian guest of a dom0 that cannot run
    /// debootstrap); none for the others, whose script says `xenfab boot NAME install`.
    install_hint: Option<&'static str>,
    /// `'VG' 'LV' 'install/NAME.sh'` for a Debian guest in state `install`: its debootstrap
    /// install (render/debootstrap) runs while that volume, its first, is blank.
    debootstrap: Option<String>,
}

fn provision_view(fabric: &Fabric, dom0: &Dom0) -> Result<ProvisionView, RenderError> {
    let (tool, ext) = match dom0.toolstack {
        Toolstack::Xm => ("xm", ""),
        Toolstack::Xl => ("xl", ".cfg"),
    };
    let mut guests = Vec::with_capacity(dom0.guests.len());
    // Each boot image is fetched once a run, before the first guest that boots it.
    let mut fetched = std::collections::BTreeSet::new();
    for g in &dom0.guests {
        let mut summary = format!("{}, {} vCPU, {}", g.memory, g.vcpus, g.mode.as_str());
        for d in &g.disks {
            let _ = write!(summary, ", {}/{} {}", d.vg, d.lv, d.size);
        }
        let direct = g.boots_installer_directly(fabric);
        let debootstrap = super::debootstrap::installable(fabric, dom0, g);
        if debootstrap {
            summary.push_str("; state install: debootstrap installs it while its volume is blank");
        }
        let mut fetches = Vec::new();
        if direct {
            summary.push_str(if g.state == BootState::Rescue {
                "; state rescue: boots its installer in rescue mode"
            } else {
                "; state install: boots its installer"
            });
            let image = fabric
                .boot_images
                .get(&g.boot_image)
                .ok_or_else(|| lookup::missing("boot image", &g.boot_image))?;
            let server = fabric
                .next_server(&g.network)
                .ok_or_else(|| lookup::missing("next-server of network", &g.network))?;
            if fetched.insert(&g.boot_image) {
                for (path, file) in [(&image.kernel, "vmlinuz"), (&image.initrd, "initrd.img")] {
                    fetches.push(format!("'{server}' '{path}' '{}/{file}'", g.boot_image));
                }
            }
        }
        let own_disk = matches!(g.mode, VirtMode::PvPygrub | VirtMode::Pvh);
        guests.push(ProvisionGuest {
            name: g.name.to_string(),
            config: format!("{}{ext}", g.name),
            summary,
            volumes: g
                .disks
                .iter()
                .map(|d| format!("'{}' '{}' '{}m'", d.vg, d.lv, d.size.mib()))
                .collect(),
            fetches,
            autostart: !direct,
            installer: direct.then_some(if g.state == BootState::Rescue {
                "rescue"
            } else {
                "install"
            }),
            boot_volume: if own_disk && !direct {
                g.disks.first().map(|d| format!("'{}' '{}'", d.vg, d.lv))
            } else {
                None
            },
            install_hint: (own_disk
                && !lookup::os(fabric, &g.os)?.family.kickstarted()
                && BootState::Install
                    .refusal(fabric, HostRef::Guest(dom0, g))
                    .is_some())
            .then_some(
                "xenfab installs Debian guests on Debian dom0s only: put the system on the volume by hand, e.g. with debootstrap, then run this again",
            ),
            debootstrap: if debootstrap {
                let d = g
                    .disks
                    .first()
                    .ok_or_else(|| lookup::missing("disk of guest", &g.name))?;
                Some(format!(
                    "'{}' '{}' '{}'",
                    d.vg,
                    d.lv,
                    super::debootstrap::script_path(g)
                ))
            } else {
                None
            },
        });
    }
    let mut volume_groups: Vec<String> = Vec::new();
    let mut bridges: Vec<String> = Vec::new();
    for g in &dom0.guests {
        for d in &g.disks {
            let vg = d.vg.to_string();
            if !volume_groups.contains(&vg) {
                volume_groups.push(vg);
            }
        }
        for nic in g.nics() {
            let bridge = lookup::network(fabric, nic.network)?.bridge.to_string();
            if !bridges.contains(&bridge) {
                bridges.push(bridge);
            }
        }
    }
    Ok(ProvisionView {
        dom0: fabric.fqdn(&dom0.name),
        tool,
        installer_dir: crate::model::INSTALLER_DIR,
        volume_groups,
        bridges,
        ifup: lookup::os(fabric, &dom0.os)?.family == OsFamily::Debian,
        lvcreate_options: match dom0.toolstack {
            Toolstack::Xm => "",
            Toolstack::Xl => " --yes",
        },
        debootstrap: guests.iter().any(|g| g.debootstrap.is_some()),
        guests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Fabric {
        crate::load(crate::EXAMPLE, "example.toml").unwrap().fabric
    }

    fn guest<'a>(fabric: &'a Fabric, name: &str) -> (&'a Dom0, &'a Guest) {
        fabric
            .dom0s
            .iter()
            .flat_map(|d| d.guests.iter().map(move |g| (d, g)))
            .find(|(_, g)| g.name.as_str() == name)
            .unwrap()
    }

    #[test]
    fn quoted_escapes_backslash_and_double_quote() {
        assert_eq!(quoted(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(quoted("ks=http://h/ks"), "ks=http://h/ks");
    }

    #[test]
    fn pypxeboot_gets_its_mac_and_the_disk_to_boot_but_no_root() {
        let fabric = example();
        let (dom0, ullr) = guest(&fabric, "ullr");
        assert_eq!(
            pypxeboot_args(ullr).as_deref(),
            Some("--pygrub-image=/dev/xenvg/ullr mac=00:16:3e:a8:60:2b")
        );
        let view = GuestView::new(&fabric, dom0, ullr, Arch::I386, None).unwrap();
        assert!(view.root.is_none());
        let (_, vali) = guest(&fabric, "vali");
        assert!(pypxeboot_args(vali).is_none());
    }

    #[test]
    fn pygrub_by_toolstack() {
        assert_eq!(pygrub_path(Toolstack::Xm, "pygrub"), "/usr/bin/pygrub");
        assert_eq!(pygrub_path(Toolstack::Xl, "pygrub"), "pygrub");
        assert_eq!(
            pygrub_path(Toolstack::Xm, "/usr/bin/pypxeboot"),
            "/usr/bin/pypxeboot"
        );
    }

    #[test]
    fn install_variant_only_while_installing_a_guest_that_boots_its_own_disk() {
        let mut fabric = example();
        let (_, skadi) = guest(&fabric, "skadi");
        assert!(installer(&fabric, skadi).unwrap().is_none());
        let (_, ullr) = guest(&fabric, "ullr");
        // pypxeboot guests network-install: no direct boot even in state install.
        assert_eq!(ullr.state, BootState::Install);
        assert!(installer(&fabric, ullr).unwrap().is_none());

        fabric.dom0s[1].guests[1].state = BootState::Install;
        let (dom0, skadi) = guest(&fabric, "skadi");
        let boot = installer(&fabric, skadi).unwrap().unwrap();
        assert_eq!(
            boot.kernel,
            "/var/lib/xen/boot/centos-5.2-x86_64-xen/vmlinuz"
        );
        assert_eq!(
            boot.cmdline,
            "ks=http://192.168.96.1/ks/skadi.example.org.ks ksdevice=eth0 ip=192.168.96.46 \
             netmask=255.255.255.0 gateway=192.168.96.254 dns=192.168.96.1"
        );
        let view = GuestView::new(&fabric, dom0, skadi, Arch::X86_64, Some(&boot)).unwrap();
        assert_eq!(view.bootloader, None);
        assert_eq!(view.root, None);
        assert_eq!(view.on_reboot, "destroy");
        let provision = provision_view(&fabric, dom0).unwrap();
        let p = provision.guests.iter().find(|p| p.name == "skadi").unwrap();
        assert!(!p.autostart);
        assert_eq!(p.boot_volume, None);
        assert_eq!(
            p.fetches,
            [
                "'192.168.96.1' 'centos-5.2/x86_64/xen/vmlinuz' 'centos-5.2-x86_64-xen/vmlinuz'",
                "'192.168.96.1' 'centos-5.2/x86_64/xen/initrd.img' 'centos-5.2-x86_64-xen/initrd.img'"
            ]
        );
    }

    #[test]
    fn rescue_variant_for_pygrub_pvh_and_pypxeboot_guests() {
        let mut fabric = example();
        for g in fabric.dom0s.iter_mut().flat_map(|d| d.guests.iter_mut()) {
            if matches!(g.name.as_str(), "skadi" | "idunn" | "ullr" | "vali") {
                g.state = BootState::Rescue;
            }
        }
        for name in ["skadi", "idunn", "ullr"] {
            let (dom0, g) = guest(&fabric, name);
            let boot = installer(&fabric, g).unwrap().unwrap();
            assert!(boot.rescue, "{name}");
            let view = GuestView::new(&fabric, dom0, g, Arch::X86_64, Some(&boot)).unwrap();
            let i = view.installer.as_ref().unwrap();
            assert_eq!(i.purpose, "rescue");
            assert_eq!(view.bootloader, None, "{name}: no pygrub, no pypxeboot");
            assert!(view.bootargs.is_none() && view.root.is_none(), "{name}");
            assert_eq!(view.on_reboot, "destroy", "{name}");
            let lv = libvirt_view(&fabric, dom0, g, Some(&boot)).unwrap();
            assert!(matches!(lv.boot, libvirt::Boot::Direct { .. }), "{name}");
            assert_eq!(lv.on_reboot, "destroy");
            let provision = provision_view(&fabric, dom0).unwrap();
            let p = provision.guests.iter().find(|p| p.name == name).unwrap();
            assert!(
                !p.autostart,
                "{name}: a rescue variant is never linked for autostart"
            );
            assert_eq!(p.installer, Some("rescue"));
            assert_eq!(p.boot_volume, None, "{name}");
            assert!(
                p.summary
                    .ends_with("; state rescue: boots its installer in rescue mode")
            );
            assert!(
                p.fetches
                    .iter()
                    .any(|f| f.ends_with(&format!("'{}/vmlinuz'", g.boot_image)))
                    || provision
                        .guests
                        .iter()
                        .take_while(|q| q.name != name)
                        .any(|q| q
                            .fetches
                            .iter()
                            .any(|f| f.contains(&format!("'{}/vmlinuz'", g.boot_image)))),
                "{name}: its installer is fetched"
            );
        }
        // An HVM guest is rescued from the network: no direct boot.
        let (_, vali) = guest(&fabric, "vali");
        assert!(installer(&fabric, vali).unwrap().is_none());
    }

    #[test]
    fn installed_guests_that_boot_their_own_disk_wait_for_it() {
        let fabric = example();
        let provision = provision_view(&fabric, &fabric.dom0s[1]).unwrap();
        let skadi = provision.guests.iter().find(|p| p.name == "skadi").unwrap();
        assert_eq!(skadi.boot_volume.as_deref(), Some("'xenvg' 'skadi'"));
        assert!(skadi.autostart && skadi.fetches.is_empty());
        let bragi = provision.guests.iter().find(|p| p.name == "bragi").unwrap();
        assert_eq!(bragi.boot_volume, None);
    }

    #[test]
    fn bls_off_for_el9_guests_on_pygrub_only() {
        let fabric = example();
        let (_, idunn) = guest(&fabric, "idunn"); // PVH, EL9
        assert_eq!(kickstart_post(&fabric, idunn), Some(BLS_OFF_POST));
        let (_, skadi) = guest(&fabric, "skadi"); // pygrub, EL5: grub legacy
        assert_eq!(kickstart_post(&fabric, skadi), None);
        let (_, vali) = guest(&fabric, "vali"); // HVM
        assert_eq!(kickstart_post(&fabric, vali), None);
    }
}
