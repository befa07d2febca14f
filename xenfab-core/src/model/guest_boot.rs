//! How a guest boots while it is installed or rescued, and what its installer calls its disks.
//!
//! A pypxeboot guest and an HVM guest are installed from the network like a machine (pypxeboot
//! or the emulated NIC's PXE ROM reads pxelinux's files). A PV guest booted by pygrub and a PVH
//! guest boot their own disk, which is empty before the install: while such a guest's state is
//! `install`, its toolstack boots the installer's kernel and initrd directly instead (xl.cfg(5),
//! "Direct Kernel Boot": `kernel`, `ramdisk`, and `extra` for PV or `cmdline` for PVH), with the
//! kickstart URL and the guest's network settings on the kernel command line. `provision.sh`
//! copies that kernel and initrd, the files of the guest's boot image, from the TFTP root of the
//! install server into [`INSTALLER_DIR`] on the dom0.
//!
//! Rescue mode is the same direct boot with the release's rescue arguments
//! ([`rescue_args`]) instead of the kickstart, for the pygrub and PVH guests and for pypxeboot
//! guests too: pypxeboot hands the installer only the `key=value` words of a pxelinux `append`
//! line (its parser drops a bare word such as `rescue`), so a pypxeboot guest's rescue variant
//! bypasses pypxeboot and boots the installer's kernel directly like the others.

use super::fabric::{BootState, Fabric, Guest, Network, OsFamily, VirtMode};

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
    /// The kernel command line: the boot image's `append`, the kickstart URL (or the rescue
    /// arguments) and the network.
    pub cmdline: String,
    /// True for rescue mode (state `rescue`), false for the install (state `install`).
    pub rescue: bool,
}

impl Guest {
    /// True for a guest whose toolstack boots the installer's kernel directly ([`installer_boot`]):
    /// a guest that boots its own disk (pygrub, PVH) in state `install` (its disk has nothing to
    /// boot yet) or `rescue`, and a pypxeboot guest in state `rescue` (pypxeboot cannot pass the
    /// bare word `rescue`). HVM guests are installed and rescued from the network. A Debian
    /// guest boots no installer: debootstrap installs it from dom0 ([`super::debootstrap`]).
    pub fn boots_installer_directly(&self, fabric: &Fabric) -> bool {
        if fabric
            .os
            .get(&self.os)
            .is_some_and(|o| o.family == OsFamily::Debian)
        {
            return false;
        }
        match self.state {
            BootState::Install => matches!(self.mode, VirtMode::PvPygrub | VirtMode::Pvh),
            BootState::Rescue => matches!(
                self.mode,
                VirtMode::PvPygrub | VirtMode::Pvh | VirtMode::PvPypxeboot
            ),
            BootState::Localboot | BootState::Reinstall => false,
        }
    }
}

/// The installer's arguments that start rescue mode from the release's install tree, with no
/// kickstart: the words of every rescue entry, network-booted (render/netboot.rs) or booted
/// directly by the toolstack ([`installer_boot`]).
///
/// - EL9 (anaconda 34 with dracut; anaconda's `docs/boot-options.rst`, `inst.rescue` and
///   `inst.repo`; `docs/rescue.rst`, "Invoking"): `inst.rescue inst.repo=<install_url>`. The
///   installer's stage2 image comes from the tree's `.treeinfo` (`inst.repo` "must contain a
///   valid .treeinfo file"). The bare `rescue` is no longer read by dracut's anaconda module.
/// - EL3 to EL5 (anaconda 9 to 11): `rescue method=<install_url>`. The loader's command line
///   parser (`loader2/loader.c`, `parseCmdLineFlags`) sets rescue mode on the bare word
///   `rescue` and takes the tree from `method=`, which also skips its "Rescue Method" menu
///   (`doLoaderMain`, `STEP_METHOD`: no question when `loaderData->method` names a method); the
///   RHEL 3/4/5 installation guides document both ("linux rescue", "Additional Boot Time
///   Command Line Options").
pub fn rescue_args(family: OsFamily, install_url: &str) -> [String; 2] {
    match family {
        OsFamily::El9 => ["inst.rescue".to_owned(), format!("inst.repo={install_url}")],
        OsFamily::El3 | OsFamily::El4 | OsFamily::El5 => {
            ["rescue".to_owned(), format!("method={install_url}")]
        }
        // The Debian installer's rescue mode (installation guide, "Boot parameters":
        // `rescue/enable=true`), asking only what it must. Unused while Debian hosts have no
        // rescue state (no Debian rescue entry yet, issue 12).
        OsFamily::Debian => [
            "rescue/enable=true".to_owned(),
            "priority=critical".to_owned(),
        ],
    }
}

/// The EL3 to EL5 loader's answers to its language and keyboard screens, which nothing else
/// answers in rescue mode (no kickstart): `lang=<lang> keymap=<keyboard>`, the host's kickstart
/// `lang` and `keyboard` (`loader2/loader.c`, `doLoaderMain`: `STEP_LANG` and `STEP_KBD` are
/// skipped when `lang_set`/`kbd_set`, which `parseCmdLineFlags` sets from these words).
pub fn loader_screens(lang: &super::Locale, keyboard: &super::Keymap) -> [String; 2] {
    [format!("lang={lang}"), format!("keymap={keyboard}")]
}

/// The EL3 to EL5 loader's answer to its TCP/IP screen: `ip=<ip> netmask=<mask>
/// gateway=<gw> dns=<dns,…>` (`parseCmdLineFlags`: `ip=` sets `ipinfo_set`, so the screen is
/// not shown). With a kickstart the loader brings the network up by itself; in rescue mode it
/// asks unless these are given.
pub fn loader_network(ip: std::net::Ipv4Addr, net: &Network) -> Vec<String> {
    let mut args = vec![
        format!("ip={ip}"),
        format!("netmask={}", net.subnet.netmask()),
        format!("gateway={}", net.gateway),
    ];
    if !net.dns.is_empty() {
        let dns: Vec<String> = net.dns.iter().map(ToString::to_string).collect();
        args.push(format!("dns={}", dns.join(",")));
    }
    args
}

/// The installer's kernel, initrd and command line of `guest` for its state (`install`, or
/// `rescue`), or `None` when the fabric does not define its OS, boot image or network
/// (validation reports those).
///
/// The command line is the boot image's `append`, then the kickstart URL, or in state `rescue`
/// the release's [`rescue_args`], then the network:
/// - EL3 to EL5 (anaconda's loader, RHEL 5 Installation Guide, "Kickstart Options" and
///   "Additional Boot Options"): `ks=<url> ksdevice=eth0 ip=<ip> netmask=<mask>
///   gateway=<gw> dns=<dns,…>`. A PV guest's only NIC is `eth0` (netfront). The loader reads
///   `ksdevice=`, `ip=`, `netmask=`, `gateway=` and `dns=` from the command line with or
///   without a kickstart (`parseCmdLineFlags`; `ip=` sets `ipinfo_set`, so its TCP/IP screen
///   is not shown), which is what brings the network up in rescue mode. Rescue mode has no
///   kickstart to answer the loader's first two screens, so it also gets `lang=` and
///   `keymap=` (`doLoaderMain`, `STEP_LANG` and `STEP_KBD`: `chooseLanguage` and
///   `chooseKeyboard` are skipped when `lang_set`/`kbd_set`), the guest's kickstart `lang` and
///   `keyboard`: the loader passes both to the same `setLanguage`/`isysLoadKeymap` as the
///   kickstart's `lang` and `keyboard` commands.
/// - EL9 (dracut.cmdline(7) and anaconda's boot options): `inst.ks=<url>
///   ip=<ip>::<gw>:<mask>:<fqdn>::none nameserver=<dns> …`. The interface is left empty: the
///   guest has one NIC, and its name (`enX0` for netfront since systemd 243, `eth0` before) is
///   not the installer's business; NetworkManager's initrd generator (EL9's dracut network
///   module) applies an `ip=` without an interface to the NIC that comes up. anaconda's rescue
///   mode asks no language or keyboard (it uses `inst.lang`/`inst.keymap`, default `en_US.UTF-8`
///   and `us`) before its own "Rescue" menu.
pub fn installer_boot(fabric: &Fabric, guest: &Guest) -> Option<InstallerBoot> {
    let os = fabric.os.get(&guest.os)?;
    let image = fabric.boot_images.get(&guest.boot_image)?;
    let net = fabric.networks.get(&guest.network)?;
    let rescue = guest.state == BootState::Rescue;
    let ks = fabric.kickstart_url(&guest.name);
    let mask = net.subnet.netmask();
    let mut args: Vec<String> = image.append.iter().map(ToString::to_string).collect();
    if rescue {
        args.extend(rescue_args(os.family, os.install_url.as_str()));
    }
    match os.family {
        OsFamily::El9 => {
            if !rescue {
                args.push(format!("inst.ks={ks}"));
            }
            args.push(format!(
                "ip={}::{}:{mask}:{}::none",
                guest.ip,
                net.gateway,
                fabric.fqdn(&guest.name)
            ));
            args.extend(net.dns.iter().map(|d| format!("nameserver={d}")));
        }
        // A Debian guest boots no installer: debootstrap installs it from dom0 (render/debootstrap).
        OsFamily::Debian => return None,
        OsFamily::El3 | OsFamily::El4 | OsFamily::El5 => {
            if rescue {
                let ks = fabric.kickstart_of_guest(guest);
                args.extend(loader_screens(ks.lang, ks.keyboard));
            } else {
                args.push(format!("ks={ks}"));
            }
            args.push("ksdevice=eth0".to_owned());
            args.extend(loader_network(guest.ip, net));
        }
    }
    Some(InstallerBoot {
        kernel: format!("{INSTALLER_DIR}/{}/vmlinuz", guest.boot_image),
        ramdisk: format!("{INSTALLER_DIR}/{}/initrd.img", guest.boot_image),
        cmdline: args.join(" "),
        rescue,
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

    fn example_with(name: &str, state: BootState) -> Fabric {
        let mut fabric = crate::load(crate::EXAMPLE, "example.toml").unwrap().fabric;
        for g in fabric.dom0s.iter_mut().flat_map(|d| d.guests.iter_mut()) {
            if g.name.as_str() == name {
                g.state = state;
            }
        }
        fabric
    }

    fn guest<'a>(fabric: &'a Fabric, name: &str) -> &'a Guest {
        fabric
            .dom0s
            .iter()
            .flat_map(|d| &d.guests)
            .find(|g| g.name.as_str() == name)
            .unwrap()
    }

    #[test]
    fn who_boots_the_installer_directly() {
        use BootState::{Install, Localboot, Reinstall, Rescue};
        use VirtMode::{Hvm, PvPygrub, PvPypxeboot, Pvh};
        let fabric = crate::load(crate::EXAMPLE, "example.toml").unwrap().fabric;
        let mut g = guest(&fabric, "skadi").clone();
        for (mode, state, direct) in [
            (PvPygrub, Install, true),
            (PvPygrub, Rescue, true),
            (PvPygrub, Localboot, false),
            (Pvh, Install, true),
            (Pvh, Rescue, true),
            (Pvh, Localboot, false),
            // pypxeboot installs from the network, but cannot pass the bare word `rescue`.
            (PvPypxeboot, Install, false),
            (PvPypxeboot, Rescue, true),
            (PvPypxeboot, Localboot, false),
            (Hvm, Install, false),
            (Hvm, Rescue, false),
            (Hvm, Localboot, false),
            (PvPygrub, Reinstall, false),
        ] {
            g.mode = mode;
            g.state = state;
            assert_eq!(
                g.boots_installer_directly(&fabric),
                direct,
                "{mode:?} {state:?}"
            );
        }
    }

    #[test]
    fn rescue_words_by_release() {
        assert_eq!(
            rescue_args(OsFamily::El5, "http://h/c5"),
            ["rescue", "method=http://h/c5"]
        );
        assert_eq!(
            rescue_args(OsFamily::El3, "http://h/c3"),
            ["rescue", "method=http://h/c3"]
        );
        assert_eq!(
            rescue_args(OsFamily::El9, "http://h/r9"),
            ["inst.rescue", "inst.repo=http://h/r9"]
        );
    }

    #[test]
    fn el5_rescue_answers_the_loader_and_brings_the_network_up() {
        let fabric = example_with("skadi", BootState::Rescue);
        let boot = installer_boot(&fabric, guest(&fabric, "skadi")).unwrap();
        assert!(boot.rescue);
        assert_eq!(
            boot.kernel,
            "/var/lib/xen/boot/centos-5.2-x86_64-xen/vmlinuz"
        );
        assert_eq!(
            boot.cmdline,
            "rescue method=http://192.168.96.1/centos/5.2/os/x86_64 lang=en_US.UTF-8 keymap=us \
             ksdevice=eth0 ip=192.168.96.46 netmask=255.255.255.0 gateway=192.168.96.254 \
             dns=192.168.96.1"
        );
        // The same guest being installed: the kickstart, no rescue words.
        let fabric = example_with("skadi", BootState::Install);
        let boot = installer_boot(&fabric, guest(&fabric, "skadi")).unwrap();
        assert!(!boot.rescue);
        assert!(
            boot.cmdline
                .starts_with("ks=http://192.168.96.1/ks/skadi.example.org.ks ")
        );
        assert!(!boot.cmdline.contains("rescue") && !boot.cmdline.contains("lang="));
    }

    #[test]
    fn el9_rescue_has_the_tree_and_the_network_but_no_kickstart() {
        let fabric = example_with("idunn", BootState::Rescue);
        let g = guest(&fabric, "idunn");
        let boot = installer_boot(&fabric, g).unwrap();
        let words: Vec<&str> = boot.cmdline.split(' ').collect();
        let url = fabric.os[&g.os].install_url.to_string();
        let at = words.iter().position(|w| *w == "inst.rescue").unwrap();
        assert_eq!(words[at + 1], format!("inst.repo={url}"));
        assert!(
            words
                .iter()
                .any(|w| w.starts_with(&format!("ip={}::", g.ip)))
        );
        assert!(words.iter().any(|w| w.starts_with("nameserver=")));
        assert!(
            !words
                .iter()
                .any(|w| w.starts_with("inst.ks=") || w.starts_with("ks="))
        );
    }

    #[test]
    fn a_pypxeboot_guest_is_rescued_by_direct_boot() {
        let fabric = example_with("ullr", BootState::Rescue);
        let g = guest(&fabric, "ullr");
        let boot = installer_boot(&fabric, g).unwrap();
        assert!(boot.rescue && g.boots_installer_directly(&fabric));
        assert_eq!(
            boot.ramdisk,
            format!("/var/lib/xen/boot/{}/initrd.img", g.boot_image)
        );
        assert!(
            boot.cmdline.contains(" rescue method=") || boot.cmdline.starts_with("rescue method=")
        );
    }

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
