//! What network boot needs: a TFTP server for every network with hosts, and boot images that
//! pypxeboot can read for the guests it boots.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::{BootImage, BootState, Fabric, HostRef, Ident, OsFamily, VirtMode};

/// The longest kernel command line (in bytes, without its final NUL) the installer's kernel
/// of a family takes. Linux's x86 boot protocol before 2.06 (kernels before 2.6.22: EL3's
/// 2.4.21, EL4's 2.6.9, EL5's 2.6.18) has no `cmdline_size` field, and boot loaders must
/// assume 255 (Documentation/x86/boot.txt, "cmdline_size"); EL9's 5.14 kernels have
/// `COMMAND_LINE_SIZE` 2048 (arch/x86/include/asm/setup.h), so 2047. Longer lines are cut
/// short, and what is cut is the kickstart URL and NIC at their end.
pub(super) const fn cmdline_limit(family: OsFamily) -> usize {
    match family {
        OsFamily::El3 | OsFamily::El4 | OsFamily::El5 => 255,
        // Debian 12's and 13's kernels (6.1, 6.12) have COMMAND_LINE_SIZE 2048 too.
        OsFamily::El9 | OsFamily::Debian => 2047,
    }
}

/// The bytes a boot loader puts before `append`'s words: pxelinux passes `initrd=<initrd>`
/// (pxelinux-*.cfg), GRUB2 adds `BOOT_IMAGE=/<kernel>` (grub2-install.cfg); the longer
/// counts, with its space.
fn cmdline_prefix(image: &BootImage) -> usize {
    let pxelinux = "initrd=".len() + image.initrd.as_str().len();
    let grub2 = "BOOT_IMAGE=/".len() + image.kernel.as_str().len();
    pxelinux.max(grub2) + 1
}

/// `append`'s words with a space between them.
fn append_len(image: &BootImage) -> usize {
    image
        .append
        .iter()
        .map(|a| a.as_str().len() + 1)
        .sum::<usize>()
}

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    check_cmdlines(fabric, diags);
    // Networks have a TFTP server as a rule: the hosts are walked only for one that has none.
    // A host-only network needs none: the install server cannot reach its hosts, which get no
    // DHCP entry and are never booted from the network.
    for (name, net) in &fabric.networks {
        if !net.host_only
            && fabric.next_server(name).is_none()
            && fabric.hosts().any(|h| h.network() == name)
        {
            diags.error(
                "missing-next-server",
                FieldPath::root().key("networks").entry(name.as_str()).key("next_server"),
                format!("hosts on network `{name}` have no TFTP server: set install.next_server or this network's next_server"),
            );
        }
    }

    check_pypxeboot_words(fabric, diags);
}

/// pypxeboot 0.0.3 splits each word of `append` at every `=` and unpacks two parts
/// (`(k,v) = entry.split('=')`): a word with two `=` stops it with a ValueError, and a word
/// without one takes the previous word's key (or stops it with a NameError when it comes
/// first). So every word of the entries of a guest it boots must be `key=value` with one `=`:
/// the boot image's `append`, and `ks=<kickstart_url>/<fqdn>.ks` (pypxeboot 0.0.3,
/// github.com/blamarvt/pypxeboot; see `render/guests/mod.rs`, `pypxeboot_args`).
fn check_pypxeboot_words(fabric: &Fabric, diags: &mut Diagnostics) {
    // Only images with another kind of word need looking at the guests that boot them.
    let unreadable: Vec<(&Ident, usize, &crate::model::Token)> = fabric
        .boot_images
        .iter()
        .flat_map(|(name, image)| {
            image
                .append
                .iter()
                .enumerate()
                .map(move |(i, arg)| (name, i, arg))
        })
        .filter(|(_, _, arg)| arg.as_str().matches('=').count() != 1)
        .collect();
    let booted_by = |image: &Ident| {
        fabric
            .dom0s
            .iter()
            .flat_map(|d| &d.guests)
            .find(|g| g.mode == VirtMode::PvPypxeboot && &g.boot_image == image)
    };
    for (image, i, arg) in unreadable {
        if let Some(g) = booted_by(image) {
            diags.error(
                "pypxeboot-unreadable",
                FieldPath::root().key("boot_images").entry(image.as_str()).key("append").elem(i, None),
                format!(
                    "`{arg}` is not `key=value` with one `=`, which is all pypxeboot reads, and guest `{}` boots this image by pypxeboot: \
                     write it as `key=value`, or give the guest mode = \"hvm\" or another boot image",
                    g.name
                ),
            );
        }
    }
    if fabric.install.kickstart_url.as_str().contains('=') {
        let pypxeboot_guest = fabric
            .dom0s
            .iter()
            .flat_map(|d| &d.guests)
            .find(|g| g.mode == VirtMode::PvPypxeboot);
        if let Some(g) = pypxeboot_guest {
            diags.error(
                "pypxeboot-unreadable",
                FieldPath::root().key("install").key("kickstart_url"),
                format!(
                    "the kickstart URL has a `=`, and pypxeboot, which boots guest `{}`, reads `ks=<url>` only when the URL has none: \
                     serve the kickstarts under a URL without `=`",
                    g.name
                ),
            );
        }
    }
}

/// What pxelinux's `IPAPPEND 2` appends to a dom0's EL5 or Debian entry, and what its GRUB2
/// and iPXE entries write out (render/netboot.rs, `appends_bootif`): a space and
/// `BOOTIF=01-<mac>`, 28 bytes.
const BOOTIF: &str = " BOOTIF=01-00-00-00-00-00-00";

/// Entries whose command line is too long: (image, family) → (first host, its family, longest
/// line, hosts over).
type Over<'a> = BTreeMap<(&'a Ident, u8), (HostRef<'a>, OsFamily, usize, usize)>;

/// Counts a host whose entry's command line, `tail` after what the boot loader and the
/// image's `append` put first, is longer than its installer's kernel takes.
fn record<'a>(
    over: &mut Over<'a>,
    host: HostRef<'a>,
    image_name: &'a Ident,
    family: OsFamily,
    image: &BootImage,
    tail: usize,
) {
    let len = cmdline_prefix(image) + append_len(image) + tail;
    if len > cmdline_limit(family) {
        let entry = over
            .entry((image_name, family as u8))
            .or_insert((host, family, len, 0));
        entry.2 = entry.2.max(len);
        entry.3 += 1;
    }
}

/// The length of a dom0's serial console words on its installer's line, with the spaces
/// before them (render/netboot.rs `entry`: [`crate::model::SerialConsole::installer_args`]).
fn serial_len(fabric: &Fabric, host: HostRef<'_>, family: OsFamily) -> usize {
    let HostRef::Dom0(dom0) = host else {
        return 0;
    };
    fabric.serial_console(dom0).map_or(0, |s| {
        s.installer_args(family).iter().map(|w| w.len() + 1).sum()
    })
}

/// Every network boot entry's kernel command line must fit its installer's kernel: `append`,
/// then `ks=<kickstart_url>/<fqdn>.ks ksdevice=eth0` (EL3 to EL5 guests; an EL5 dom0's
/// `ksdevice=bootif BOOTIF=01-<mac>`, the last put there by pxelinux's `IPAPPEND 2`, and
/// `ksdevice=<mac>` in its rescue entry) or `inst.ks=… BOOTIF=01-<mac>` (EL9), after what the
/// boot loader puts first; a dom0's reinstall entry names
/// `<fqdn>.reinstall.ks`, and the rescue entry of a dom0 or an HVM guest has `rescue
/// method=<install_url> lang=… keymap=…` and the network (`ip=… netmask=… gateway=… dns=…`)
/// or `inst.rescue inst.repo=<install_url>` instead of the kickstart (render/netboot.rs). One
/// error an image and family, at the first host whose longest line is too long. Lengths are
/// added up; only the few words of EL3 to EL5 rescue entries are built.
fn check_cmdlines(fabric: &Fabric, diags: &mut Diagnostics) {
    let url = fabric
        .install
        .kickstart_url
        .as_str()
        .trim_end_matches('/')
        .len();
    let domain = fabric.site.domain.as_str().len();
    let mut over: Over<'_> = BTreeMap::new();
    for host in fabric.hosts() {
        let (os_name, image_name) = match host {
            HostRef::Dom0(d) => match fabric.os.get(&d.os) {
                Some(os) => (&d.os, &os.boot_image),
                None => continue,
            },
            HostRef::Guest(_, g) => (&g.os, &g.boot_image),
        };
        let (Some(os), Some(image)) = (fabric.os.get(os_name), fabric.boot_images.get(image_name))
        else {
            continue;
        };
        // No installer line: xenfab installs no Debian guest, and a guest that boots a kernel
        // of dom0 is never installed.
        let never_installed = match host {
            HostRef::Dom0(_) => false,
            HostRef::Guest(_, g) => g.mode.boots_dom0_kernel(),
        };
        if never_installed || (!os.family.kickstarted() && !matches!(host, HostRef::Dom0(_))) {
            continue;
        }
        if os.family == OsFamily::Debian {
            // The Debian installer's line (render/netboot.rs, debian_installer_args):
            // `auto=true priority=critical url=<kickstart_url>/preseed/<fqdn>.cfg
            // interface=auto hostname=<name> domain=<domain>`, `BOOTIF=01-<mac>` (pxelinux's
            // `IPAPPEND 2`, or written out by GRUB2 and iPXE), the rescue entry's
            // `rescue/enable=true` (counted for all: the longest of a dom0's entries), and
            // its serial console's words.
            let name = host.name().as_str().len();
            let tail = "auto=true priority=critical url=".len()
                + url
                + "/preseed/".len()
                + name
                + 1
                + domain
                + ".cfg interface=auto hostname=".len()
                + name
                + " domain=".len()
                + domain
                + " rescue/enable=true".len()
                + serial_len(fabric, host, os.family)
                + BOOTIF.len();
            record(&mut over, host, image_name, os.family, image, tail);
            continue;
        }
        let mut ks_url = url + 1 + host.name().as_str().len() + 1 + domain + ".ks".len();
        if matches!(host, HostRef::Dom0(_)) && BootState::Reinstall.refusal(fabric, host).is_none()
        {
            ks_url += ".reinstall".len();
        }
        let rescue = match host {
            HostRef::Dom0(_) => true,
            HostRef::Guest(_, g) => g.mode == VirtMode::Hvm,
        };
        let tree = os.install_url.as_str().len();
        // EL9's installer arguments, else EL3 to EL5's (render/netboot.rs, installer_args),
        // and the NIC words of the kickstart entries and of the rescue entry.
        let rescue_ksdevice = format!(
            " {}",
            crate::render::netboot::ksdevice(host, crate::render::netboot::Purpose::Rescue)
        );
        let (ks_arg, rescue_arg, ks_nic, rescue_nic) = if os.family == OsFamily::El9 {
            // ` net.ifnames=0` is on dom0s' lines only (their bridge port): counted for all.
            let nic = " BOOTIF=01-00-00-00-00-00-00 net.ifnames=0";
            ("inst.ks=", "inst.rescue inst.repo=", nic, nic)
        } else if matches!(host, HostRef::Dom0(_)) {
            // A dom0 installs through the NIC it booted from (render/netboot.rs, `ksdevice`
            // and `appends_bootif`): `ksdevice=bootif` and what pxelinux's `IPAPPEND 2` adds
            // at the end, or, in the rescue entry, the MAC itself.
            (
                "ks=",
                "rescue method=",
                " ksdevice=bootif BOOTIF=01-00-00-00-00-00-00",
                rescue_ksdevice.as_str(),
            )
        } else {
            ("ks=", "rescue method=", " ksdevice=eth0", " ksdevice=eth0")
        };
        let mut tail = ks_arg.len() + ks_url + ks_nic.len();
        if rescue {
            let mut rescue_len = rescue_arg.len() + tree + rescue_nic.len();
            if os.family != OsFamily::El9 {
                // The loader's answers to its screens (render/netboot.rs, installer_args):
                // built, as they are few, from the same functions as the entry.
                let ks = fabric.kickstart_of(host);
                let words = crate::model::loader_screens(ks.lang, ks.keyboard);
                let net = fabric.networks.get(host.network());
                let network = net.map(|n| crate::model::loader_network(host.ip(), n));
                rescue_len += words
                    .iter()
                    .chain(network.iter().flatten())
                    .map(|w| w.len() + 1)
                    .sum::<usize>();
            }
            tail = tail.max(rescue_len);
        }
        let tail = tail + serial_len(fabric, host, os.family);
        record(&mut over, host, image_name, os.family, image, tail);
    }
    for ((image, _), (host, family, len, count)) in over {
        let others = match count {
            1 => String::new(),
            2 => " (and that of 1 more host)".to_owned(),
            n => format!(" (and those of {} more hosts)", n - 1),
        };
        diags.error(
            "kernel-cmdline-too-long",
            host.at().key("name"),
            format!(
                "the installer's kernel command line of `{}`{others} is {len} bytes (boot image `{image}`'s append, then the kickstart URL, or the install tree of rescue mode, and NIC) \
                 but {} kernels take at most {}: shorten install.kickstart_url, site.domain, the release's install_url or boot_images[{image}].append",
                fabric.fqdn(host.name()),
                family.display_name(),
                cmdline_limit(family)
            ),
        );
    }
    // The network-install menu (pxelinux-netinstall.cfg) boots each image with its append
    // alone: it must fit the smallest limit of the releases that use the image.
    for (name, image) in &fabric.boot_images {
        let limit = fabric
            .os
            .values()
            .filter(|o| &o.boot_image == name)
            .map(|o| cmdline_limit(o.family))
            .min()
            .unwrap_or(cmdline_limit(OsFamily::El9));
        let len = cmdline_prefix(image) + append_len(image).saturating_sub(1);
        if len > limit {
            diags.error(
                "kernel-cmdline-too-long",
                FieldPath::root().key("boot_images").entry(name.as_str()).key("append"),
                format!("the kernel command line of boot image `{name}` is {len} bytes but its releases' kernels take at most {limit}: shorten its append"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    /// A host-only network's guests are never network-booted: no TFTP server is needed there.
    #[test]
    fn a_host_only_network_needs_no_tftp_server() {
        let text = include_str!("../../../tests/cases/debian-e2e/fabric.toml")
            .replacen("next_server = \"10.0.0.1\"\n", "", 1)
            .replacen(
                "[networks.lan]\n",
                "[networks.lan]\nnext_server = \"10.0.0.1\"\n",
                1,
            );
        let codes = |text: &str| -> Vec<&'static str> {
            match crate::load(text, "f.toml") {
                Ok(loaded) => loaded.warnings.iter().map(|d| d.code).collect(),
                Err(e) => e
                    .diagnostics()
                    .map(|d| d.iter().map(|d| d.code).collect())
                    .unwrap_or_default(),
            }
        };
        assert!(!codes(&text).contains(&"missing-next-server"));
        // The same fabric without the lan's server still needs one there.
        let without = text.replacen(
            "[networks.lan]\nnext_server = \"10.0.0.1\"\n",
            "[networks.lan]\n",
            1,
        );
        assert!(codes(&without).contains(&"missing-next-server"));
    }

    /// The serial console's words (`console=tty0 console=ttyS1,57600n8` on an EL5 dom0's
    /// line) count: the kickstart URL that first makes the line too long is that much
    /// shorter with them.
    #[test]
    fn the_serial_console_words_count() {
        let with = include_str!("../../../tests/cases/release-5.5/fabric.toml");
        assert!(with.contains("serial_console = { port = \"com2\", speed = 57600 }"));
        let without = with.replacen("serial_console = {", "# serial_console = {", 1);
        let first_too_long = |text: &str| -> Option<usize> {
            (0..300).find(|&n| {
                let padded = text.replacen(
                    "kickstart_url = \"http://10.1.0.1/ks\"",
                    &format!("kickstart_url = \"http://10.1.0.1/ks/{}\"", "x".repeat(n)),
                    1,
                );
                crate::load(&padded, "f.toml").err().is_some_and(|e| {
                    e.diagnostics()
                        .is_some_and(|d| d.iter().any(|d| d.code == "kernel-cmdline-too-long"))
                })
            })
        };
        let (Some(a), Some(b)) = (first_too_long(with), first_too_long(&without)) else {
            panic!("no padding made the line too long");
        };
        assert_eq!(b - a, " console=tty0 console=ttyS1,57600n8".len());
    }
}
