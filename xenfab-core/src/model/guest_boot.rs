//! How a guest boots while it is installed, and what its installer calls its disks.
//!
//! A pypxeboot guest and an HVM guest are installed from the network like a machine (pypxeboot
//! or the emulated NIC's PXE ROM reads pxelinux's files). A PV guest booted by pygrub and a PVH
//! guest boot their own disk, which is empty before the install: while such a guest's state is
//! `install`, its toolstack boots the installer's kernel and initrd directly instead (xl.cfg(5),
//! "Direct Kernel Boot": `kernel`, `ramdisk`, and `extra` for PV or `cmdline` for PVH), with the
//! kickstart URL and the guest's network settings on the kernel command line. `provision.sh`
//! copies that kernel and initrd, the files of the guest's boot image, from the TFTP root of the
//! install server into [`INSTALLER_DIR`] on the dom0.

use super::fabric::{BootState, Fabric, Guest, OsFamily, VirtMode};

/// Where `provision.sh` puts the installers' kernels and initrds on a dom0: one folder a boot
/// image, `<INSTALLER_DIR>/<image>/vmlinuz` and `…/initrd.img`. `/var/lib/xen` is the Xen
/// packages' own state folder on EL5 and on current Xen (Xen's `XEN_LIB_DIR`), so it exists on
/// every dom0; `boot/` is where virt-install keeps the kernels it boots the same way.
pub const INSTALLER_DIR: &str = "/var/lib/xen/boot";

/// The kernel, initrd and kernel command line that boot a guest's installer directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallerBoot {
    /// The kernel on dom0: `/var/lib/xen/boot/<image>/vmlinuz`.
    pub kernel: String,
    /// The initrd on dom0: `/var/lib/xen/boot/<image>/initrd.img`.
    pub ramdisk: String,
    /// The kernel command line: the boot image's `append`, the kickstart URL and the network.
    pub cmdline: String,
}

impl Guest {
    /// True for a guest that boots its own disk (pygrub, PVH) and is to be installed: its
    /// toolstack must boot the installer's kernel directly, as its disk has nothing to boot.
    pub fn boots_installer_directly(&self) -> bool {
        self.state == BootState::Install && matches!(self.mode, VirtMode::PvPygrub | VirtMode::Pvh)
    }
}

/// The installer's kernel, initrd and command line of `guest`, or `None` when the fabric does
/// not define its OS, boot image or network (validation reports those).
///
/// The command line is the boot image's `append`, then:
/// - EL3 to EL5 (anaconda's loader, RHEL 5 Installation Guide, "Kickstart Options" and
///   "Additional Boot Options"): `ks=<url> ksdevice=eth0 ip=<ip> netmask=<mask>
///   gateway=<gw> dns=<dns,…>`. A PV guest's only NIC is `eth0` (netfront).
/// - EL9 (dracut.cmdline(7) and anaconda's boot options): `inst.ks=<url>
///   ip=<ip>::<gw>:<mask>:<fqdn>::none nameserver=<dns> …`. The interface is left empty: the
///   guest has one NIC, and its name (`enX0` for netfront since systemd 243, `eth0` before) is
///   not the installer's business; NetworkManager's initrd generator (EL9's dracut network
///   module) applies an `ip=` without an interface to the NIC that comes up.
pub fn installer_boot(fabric: &Fabric, guest: &Guest) -> Option<InstallerBoot> {
    let os = fabric.os.get(&guest.os)?;
    let image = fabric.boot_images.get(&guest.boot_image)?;
    let net = fabric.networks.get(&guest.network)?;
    let ks = fabric.kickstart_url(&guest.name);
    let mask = net.subnet.netmask();
    let mut args: Vec<String> = image.append.iter().map(ToString::to_string).collect();
    match os.family {
        OsFamily::El9 => {
            args.push(format!("inst.ks={ks}"));
            args.push(format!(
                "ip={}::{}:{mask}:{}::none",
                guest.ip,
                net.gateway,
                fabric.fqdn(&guest.name)
            ));
            args.extend(net.dns.iter().map(|d| format!("nameserver={d}")));
        }
        // The Debian installer is not driven yet (validation refuses installing Debian hosts).
        OsFamily::Debian => return None,
        OsFamily::El3 | OsFamily::El4 | OsFamily::El5 => {
            args.push(format!("ks={ks}"));
            args.push("ksdevice=eth0".to_owned());
            args.push(format!("ip={}", guest.ip));
            args.push(format!("netmask={mask}"));
            args.push(format!("gateway={}", net.gateway));
            if !net.dns.is_empty() {
                let dns: Vec<String> = net.dns.iter().map(ToString::to_string).collect();
                args.push(format!("dns={}", dns.join(",")));
            }
        }
    }
    Some(InstallerBoot {
        kernel: format!("{INSTALLER_DIR}/{}/vmlinuz", guest.boot_image),
        ramdisk: format!("{INSTALLER_DIR}/{}/initrd.img", guest.boot_image),
        cmdline: args.join(" "),
    })
}

/// The name the guest's own kernel, and so its installer, gives a disk that the toolstack
/// attaches as `vdev`.
///
/// PV and PVH guests see `xvd*` as configured. An HVM guest sees emulated disks: EL3 to EL5
/// kernels (2.4.21, 2.6.9, 2.6.18) drive them with the IDE driver, as `hda`…`hdd` (their Xen
/// PV-on-HVM drivers are a separate kmod-xenpv, not in the installer). An EL9 kernel is a Xen
/// PVHVM guest: at boot it unplugs the emulated IDE and SCSI disks (arch/x86/xen/platform-pci-
/// unplug.c, xl's default `xen_platform_pci = 1`) and xen-blkfront, which is in the installer's
/// initrd, attaches the same disks as `xvd*`: drivers/block/xen-blkfront.c,
/// `xen_translate_vdev()`, maps IDE `hda`…`hdd` to `xvda`…`xvdd` and SCSI `sda`… to `xvde`….
/// The toolstack must still attach the disk as `hda`: libxl emulates only `hd*` and `sd*`
/// disks, and hvmloader's BIOS boots only emulated ones.
pub fn installer_disk_name(family: OsFamily, mode: VirtMode, vdev: &str) -> String {
    if mode != VirtMode::Hvm || family != OsFamily::El9 {
        return vdev.to_owned();
    }
    let letter_index = |s: &str| match s.as_bytes() {
        [b] if b.is_ascii_lowercase() => Some(b - b'a'),
        _ => None,
    };
    let translated = if let Some(rest) = vdev.strip_prefix("hd") {
        letter_index(rest).filter(|i| *i < 4)
    } else if let Some(rest) = vdev.strip_prefix("sd") {
        letter_index(rest)
            .and_then(|i| i.checked_add(4))
            .filter(|i| *i < 26)
    } else {
        None
    };
    match translated {
        Some(i) => format!("xvd{}", char::from(b'a' + i)),
        None => vdev.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn el9_hvm_guests_see_emulated_disks_as_xvd() {
        let el9 = |v| installer_disk_name(OsFamily::El9, VirtMode::Hvm, v);
        assert_eq!(el9("hda"), "xvda");
        assert_eq!(el9("hdb"), "xvdb");
        assert_eq!(el9("hdd"), "xvdd");
        assert_eq!(el9("sda"), "xvde");
        assert_eq!(el9("sdb"), "xvdf");
        assert_eq!(el9("xvda"), "xvda");
        // hde and beyond are not emulated (nor mapped): left as written.
        assert_eq!(el9("hde"), "hde");
        assert_eq!(el9("sdz"), "sdz");
    }

    #[test]
    fn older_and_paravirtual_guests_see_the_configured_name() {
        for family in [OsFamily::El3, OsFamily::El4, OsFamily::El5] {
            assert_eq!(installer_disk_name(family, VirtMode::Hvm, "hda"), "hda");
        }
        for mode in [VirtMode::PvPygrub, VirtMode::PvPypxeboot, VirtMode::Pvh] {
            assert_eq!(installer_disk_name(OsFamily::El9, mode, "xvda"), "xvda");
        }
    }
}
