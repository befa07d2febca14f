//! Installing a Debian guest with debootstrap, on its dom0, into its volume: what xen-tools'
//! `xen-create-image` does, with nothing fetched but the guest's packages (from the OS's
//! `install_url`, an http(s) mirror or a `file:///` mirror on dom0), or nothing at all with a
//! tarball made beforehand by `debootstrap --make-tarball` (`os.<n>.debootstrap_tarball`).
//!
//! The layout is one ext4 file system on the whole volume, no partition table: what xen-tools
//! makes, what pygrub reads (libxenfsimage opens a file system at offset 0 when the disk has no
//! partition table: tools/pygrub/src/pygrub, `get_partition_offsets`, returns `[0]`), and what a
//! kernel of dom0 mounts as `root=/dev/xvda`. Without partitions, growing the guest is
//! `lvextend` and `resize2fs`, nothing else. The guest sees it as its first disk (`xvda`).
//!
//! render/debootstrap writes the script; provision.sh runs it while the guest is in state
//! `install` and its volume is blank.

use super::fabric::{Arch, BootState, Dom0, Fabric, Guest, OsFamily, VirtMode};
use super::kickstart::{KickstartOverride, Level, Package};
use super::names::Ident;

/// What every guest installed by debootstrap gets beside `--variant=minbase` (Priority:
/// required and apt): systemd as init (`systemd-sysv`: minbase has no init), udev (systemd's
/// device units, which `serial-getty@hvc0` waits for, come from udev's rules), ifupdown and
/// iproute2 for its static address (`/etc/network/interfaces`), and an SSH server to reach it.
pub const BASE_PACKAGES: [&str; 5] = [
    "systemd-sysv",
    "udev",
    "ifupdown",
    "iproute2",
    "openssh-server",
];

/// The kernel a guest booted by pygrub needs in its own volume (the `amd64` flavour boots as a
/// Xen PV and PVH guest: CONFIG_XEN_PV and CONFIG_XEN_PVH are set in Debian's amd64 config).
pub const KERNEL_PACKAGE: &str = "linux-image-amd64";

/// The tarball names `debootstrap --unpack-tarball` takes (debootstrap 1.0.128 of bookworm,
/// /usr/sbin/debootstrap: `.tar`, `.tar.gz`, `.tar.xz` by `tar -xf`, `.tgz` by `zcat`; any
/// other is "Unknown tarball"). `--make-tarball` always writes gzip.
pub const TARBALL_SUFFIXES: [&str; 4] = [".tgz", ".tar.gz", ".tar.xz", ".tar"];

/// True for a guest that xenfab installs with debootstrap: a Debian guest in state `install`
/// (that its dom0 and mode allow it is `BootState::refusal`'s business).
pub fn debootstrap_installs(fabric: &Fabric, guest: &Guest) -> bool {
    guest.state == BootState::Install
        && fabric
            .os
            .get(&guest.os)
            .is_some_and(|o| o.family == OsFamily::Debian)
}

/// Why a Debian guest cannot be installed by debootstrap, if it cannot.
pub(crate) fn refusal(fabric: &Fabric, dom0: &Dom0, guest: &Guest) -> Option<String> {
    if fabric
        .os
        .get(&dom0.os)
        .is_some_and(|o| o.family != OsFamily::Debian)
    {
        return Some(format!(
            "xenfab installs a Debian guest with debootstrap on its dom0, which is a Debian package, and dom0 `{}` does not run Debian: put the guest on a Debian dom0, or install it by hand and leave it in `localboot`",
            dom0.name
        ));
    }
    if fabric
        .os
        .get(&guest.os)
        .is_some_and(|o| o.arch != Arch::X86_64)
    {
        return Some(
            "xenfab installs amd64 Debian guests only (Linux dropped 32-bit PV guests in 5.9): set the OS's arch to x86_64"
                .to_owned(),
        );
    }
    match guest.mode {
        VirtMode::PvPygrub | VirtMode::Pvh | VirtMode::PvKernel | VirtMode::PvhKernel => None,
        VirtMode::Hvm => Some(
            "an HVM guest boots its disk through an emulated BIOS, which needs a partition table and a boot loader on the disk, and the debootstrap install makes one file system on the whole volume: use mode pv-pygrub, pvh, pv-kernel or pvh-kernel"
                .to_owned(),
        ),
        VirtMode::PvPypxeboot => Some(
            "pypxeboot boots an installer from the network, and xenfab installs a Debian guest with debootstrap on dom0: use mode pv-pygrub, pvh, pv-kernel or pvh-kernel"
                .to_owned(),
        ),
    }
}

/// True when the guest boots a kernel of its own volume (pygrub reads its `/boot/grub/grub.cfg`),
/// which its install must then put there; false when it boots dom0's (`direct_boot`).
pub fn needs_own_kernel(guest: &Guest) -> bool {
    !guest.mode.boots_dom0_kernel()
}

/// A Debian host's own packages: its `kickstart.packages`, else its OS's (`os`), with where
/// they came from. The site's `[kickstart.dom0]` and `[kickstart.guest]` lists are the EL
/// hosts' and are not used. For a guest (debootstrap's `--include`) and a dom0 (the preseed
/// file's `pkgsel/include`) alike.
pub(crate) fn own_packages<'a>(
    fabric: &'a Fabric,
    host: Option<&'a KickstartOverride>,
    os: &Ident,
) -> Option<(&'a [Package], Level)> {
    host.and_then(|k| k.packages.as_deref())
        .map(|p| (p, Level::Host))
        .or_else(|| {
            fabric
                .os
                .get(os)
                .and_then(|o| o.kickstart.as_ref())
                .and_then(|k| k.packages.as_deref())
                .map(|p| (p, Level::Os))
        })
}

/// `base`, then each of `own` not already in it, in that order.
pub(crate) fn package_list<'a>(
    base: impl IntoIterator<Item = &'a str>,
    own: Option<(&[Package], Level)>,
) -> Vec<String> {
    let mut out: Vec<String> = base.into_iter().map(str::to_owned).collect();
    for p in own.map_or(&[][..], |(p, _)| p) {
        if !out.iter().any(|o| o == p.as_str()) {
            out.push(p.as_str().to_owned());
        }
    }
    out
}

/// debootstrap's `--include` list for a guest: [`BASE_PACKAGES`], the kernel when pygrub boots
/// it ([`KERNEL_PACKAGE`]), then its own packages, each once, in that order.
pub fn packages(fabric: &Fabric, guest: &Guest) -> Vec<String> {
    let kernel = needs_own_kernel(guest).then_some(KERNEL_PACKAGE);
    package_list(
        BASE_PACKAGES.iter().copied().chain(kernel),
        own_packages(fabric, guest.kickstart.as_deref(), &guest.os),
    )
}

/// True for a Debian package name (Debian policy 5.6.1: `a-z 0-9 + - .`, at least two
/// characters, beginning with a letter or digit).
pub fn is_package_name(name: &str) -> bool {
    name.len() >= 2
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian_site() -> Fabric {
        let text = include_str!("../../../examples/debian-site.toml");
        crate::load(text, "debian-site.toml").unwrap().fabric
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
    fn pygrub_guests_get_a_kernel_and_their_own_packages_once() {
        let fabric = debian_site();
        let (_, saga) = guest(&fabric, "saga");
        assert!(debootstrap_installs(&fabric, saga));
        assert_eq!(
            packages(&fabric, saga),
            [
                "systemd-sysv",
                "udev",
                "ifupdown",
                "iproute2",
                "openssh-server",
                "linux-image-amd64",
                "less",
                "vim-tiny"
            ]
        );
        let (_, vidar) = guest(&fabric, "vidar");
        assert_eq!(packages(&fabric, vidar), BASE_PACKAGES);
        // In `localboot`, nothing is installed.
        let (_, mimir) = guest(&fabric, "mimir");
        assert!(!debootstrap_installs(&fabric, mimir));
    }

    #[test]
    fn refused_on_hvm_pypxeboot_and_non_debian_dom0s() {
        let mut fabric = debian_site();
        let (dom0, saga) = guest(&fabric, "saga");
        assert_eq!(refusal(&fabric, dom0, saga), None);
        for mode in [VirtMode::Hvm, VirtMode::PvPypxeboot] {
            let mut g = saga.clone();
            g.mode = mode;
            assert!(refusal(&fabric, dom0, &g).is_some(), "{mode:?}");
        }
        for mode in [VirtMode::Pvh, VirtMode::PvKernel, VirtMode::PvhKernel] {
            let mut g = saga.clone();
            g.mode = mode;
            assert_eq!(refusal(&fabric, dom0, &g), None, "{mode:?}");
        }
        let (g, d) = (saga.clone(), dom0.clone());
        fabric.os.get_mut(&d.os).unwrap().family = OsFamily::El9;
        assert!(
            refusal(&fabric, &d, &g)
                .unwrap()
                .contains("does not run Debian")
        );
    }

    #[test]
    fn package_names() {
        assert!(is_package_name("openssh-server"));
        assert!(is_package_name("g++"));
        assert!(is_package_name("libc6.1"));
        assert!(!is_package_name("@core"));
        assert!(!is_package_name("-foo"));
        assert!(!is_package_name("Foo"));
        assert!(!is_package_name("a"));
    }
}
