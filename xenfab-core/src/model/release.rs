//! OS releases, not families: what each release's installer (anaconda) accepts, drives the
//! kickstart renderer and validation.
//!
//! A family (`el5`) names a kickstart dialect; a release (`5.2`) names one anaconda, and what
//! a kickstart file may say changed within a family: `bootloader --hvargs` came with RHEL 5.5,
//! SHA-512 password hashes with RHEL 5.2. pykickstart has one handler a family (`RHEL5` is 5.x
//! at its latest: `commands/bootloader.py` adds `--hvargs` with `version=RHEL5`), so it cannot
//! tell 5.2 from 5.5; this table can, and each entry says where its fact comes from.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::fabric::OsFamily;
use super::size::Size;

/// A release of an OS family, as `major.minor` (`5.2`, `4.6`, `9.4`); `3.9` is RHEL 3
/// Update 9 (CentOS 3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    /// The major version: 3, 4, 5 or 9.
    pub major: u8,
    /// The minor version (the update).
    pub minor: u8,
}

impl Release {
    /// `major.minor`.
    pub const fn new(major: u8, minor: u8) -> Release {
        Release { major, minor }
    }
}

/// Why a release does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a release as major.minor, such as 5.2 or 9.4")]
pub struct ReleaseError;

impl FromStr for Release {
    type Err = ReleaseError;

    fn from_str(s: &str) -> Result<Release, ReleaseError> {
        let (major, minor) = s.split_once('.').ok_or(ReleaseError)?;
        let number = |t: &str| {
            if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ReleaseError);
            }
            t.parse::<u8>().map_err(|_| ReleaseError)
        };
        Ok(Release::new(number(major)?, number(minor)?))
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for Release {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What one release's installer accepts and needs, for the kickstart renderer and validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseInfo {
    /// The release.
    pub release: Release,
    /// `bootloader --hvargs` (the hypervisor's arguments on the `kernel /xen.gz` line):
    /// anaconda 11.1.2.197, RHEL 5.5 (rhbz#501438); RHEL 5.2's parser (pykickstart r0.43.1)
    /// aborts on it. Without it, a `%post` writes the arguments into grub.conf.
    pub hvargs: bool,
    /// The kickstart command `repo`: anaconda 11 (pykickstart's `FC6_Repo`, mapped from the
    /// RHEL5 handler on; the RHEL3 and RHEL4 handlers have none).
    pub repo: bool,
    /// The kickstart command `services --enabled=… --disabled=…`: anaconda 11 on (pykickstart's
    /// `FC6_Services`, which `handlers/control.py` maps in the RHEL5 and RHEL9 handlers and not
    /// in RHEL3's or RHEL4's: pykickstart 3.78, checked by tests/validators/test_overrides.py
    /// against `pykickstart.version.makeVersion`). Without it, `chkconfig NAME on|off` lines in
    /// a `%post` do the same (anaconda 11 carries `services` out with `/sbin/chkconfig` too).
    pub services: bool,
    /// `langsupport` is needed, or anaconda stops at its language-support screen: RHEL 3 and
    /// 4 (anaconda 9.1 and 10.1; pykickstart's `FC3_LangSupport` in the RHEL3 and RHEL4
    /// handlers, deprecated from FC5, so RHEL5, on; the RHEL 3 and 4 System Administration
    /// Guides list it as required).
    pub langsupport: bool,
    /// `mouse` is needed, or anaconda stops at its mouse screen: RHEL 3 only (pykickstart's
    /// `RHEL3_Mouse`; the RHEL4 handler has the deprecated `FC3_Mouse`).
    pub mouse: bool,
    /// `%packages --resolvedeps` is needed, or anaconda stops on unresolved dependencies:
    /// RHEL 3 and 4 (anaconda 9.1 and 10.1); a deprecated no-op from FC4 and so RHEL 5
    /// (pykickstart's `sections.py`: `deprecated=FC4`), removed in F9.
    pub resolvedeps: bool,
    /// The smallest `/boot` the installer accepts, when it checks one.
    pub boot_min: Option<Size>,
    /// The `/boot` size the installer itself would make.
    pub boot_default: Size,
    /// The crypt(3) prefixes its glibc (libxcrypt on EL9) reads.
    pub hashes: &'static [&'static str],
}

/// MD5 only: glibc 2.3 (RHEL 3 and 4) and RHEL 5 before 5.2 have no SHA-crypt.
const MD5_ONLY: &[&str] = &["$1$"];
/// RHEL 5.2 added SHA-256 and SHA-512 crypt to glibc (glibc-2.5-24; RHEL 5.2 release notes,
/// "SHA-256 and SHA-512 password hashing", authconfig `--passalgo`).
const EL5_SHA: &[&str] = &["$1$", "$5$", "$6$"];
/// RHEL 9's libxcrypt is built with `--enable-hashes=strong,glibc` (libxcrypt.spec): yescrypt,
/// bcrypt, SHA-crypt and MD5 are all read.
const EL9_ALL: &[&str] = &["$1$", "$5$", "$6$", "$y$", "$2a$", "$2b$", "$2y$"];

/// The last minor release of each family that the table knows: RHEL 3 Update 9 (2007),
/// 4.9 (2011), 5.11 (2014), 9.7 (2025).
const fn last_minor(family: OsFamily) -> u8 {
    match family {
        OsFamily::El3 | OsFamily::El4 => 9,
        OsFamily::El5 => 11,
        OsFamily::El9 => 7,
        // Debian's point releases (12.1, 12.2, …) are the same release with fixes (Debian's
        // stable release policy: no new upstream versions, so bookworm keeps Xen 4.17): the
        // table takes any of them; see `major` for the releases.
        OsFamily::Debian => 99,
    }
}

/// The major version of a family.
pub const fn major(family: OsFamily) -> u8 {
    match family {
        OsFamily::El3 => 3,
        OsFamily::El4 => 4,
        OsFamily::El5 => 5,
        OsFamily::El9 => 9,
        OsFamily::Debian => 12,
    }
}

/// The releases of Debian the table knows: 12 (bookworm) and 13 (trixie).
const DEBIAN_RELEASES: [u8; 2] = [12, 13];

/// The Xen of a Debian release, as its hypervisor package and files name it
/// (`xen-hypervisor-4.17-amd64` installs `/boot/xen-4.17-amd64.gz`, `.efi` and `.config`: its
/// file list on packages.debian.org, and the end-to-end test's dom0 image): bookworm has Xen
/// 4.17 (xen 4.17.x+…-0+deb12u1), trixie Xen 4.20: `xen-hypervisor-4.20-amd64`
/// (4.20.4+63-g7abfd2bce2-0+deb13u1, read with `dpkg-deb -c`) installs
/// `/boot/xen-4.20-amd64.gz`, `.efi` and `.config` the same way. `None` for other families
/// and unknown releases.
pub const fn debian_xen(family: OsFamily, release: Release) -> Option<&'static str> {
    match (family, release.major) {
        (OsFamily::Debian, 12) => Some("4.17"),
        (OsFamily::Debian, 13) => Some("4.20"),
        _ => None,
    }
}

/// Debian's code name of a release (`bookworm`).
pub const fn debian_codename(release: Release) -> Option<&'static str> {
    match release.major {
        12 => Some("bookworm"),
        13 => Some("trixie"),
        _ => None,
    }
}

/// The release assumed when an OS names none: the family's first (`5.0`), which has the
/// fewest features, so nothing is written that its installer might refuse.
pub const fn default_release(family: OsFamily) -> Release {
    Release::new(major(family), 0)
}

/// The releases of a family that the table knows, as text for messages (`5.0 to 5.11`).
pub fn known_range(family: OsFamily) -> String {
    if family == OsFamily::Debian {
        return "12 (bookworm) and 13 (trixie)".to_owned();
    }
    format!("{m}.0 to {m}.{}", last_minor(family), m = major(family))
}

/// What `release` of `family` accepts, or `None` for a release the table does not know
/// (another family's, or one that never existed).
pub fn info(family: OsFamily, release: Release) -> Option<ReleaseInfo> {
    let known_major = if family == OsFamily::Debian {
        DEBIAN_RELEASES.contains(&release.major)
    } else {
        release.major == major(family)
    };
    if !known_major || release.minor > last_minor(family) {
        return None;
    }
    let legacy = |langsupport, mouse, resolvedeps, hashes| ReleaseInfo {
        release,
        hvargs: false,
        repo: false,
        services: false,
        langsupport,
        mouse,
        resolvedeps,
        boot_min: None,
        // anaconda 9.1 and 10.1's autopart (`autopart.py`, `PartitionSpec` for /boot): 100M.
        boot_default: Size::from_mib(100),
        hashes,
    };
    Some(match family {
        OsFamily::El3 => legacy(true, true, true, MD5_ONLY),
        OsFamily::El4 => legacy(true, false, true, MD5_ONLY),
        OsFamily::El5 => ReleaseInfo {
            release,
            hvargs: release.minor >= 5,
            repo: true,
            services: true,
            langsupport: false,
            mouse: false,
            resolvedeps: false,
            boot_min: None,
            // anaconda 11.1's autopart: /boot 100M (RHEL 5 Installation Guide, "Recommended
            // Partitioning Scheme").
            boot_default: Size::from_mib(100),
            hashes: if release.minor >= 2 {
                EL5_SHA
            } else {
                MD5_ONLY
            },
        },
        OsFamily::El9 => ReleaseInfo {
            release,
            hvargs: false,
            repo: true,
            services: true,
            langsupport: false,
            mouse: false,
            resolvedeps: false,
            // anaconda 34 (RHEL 9): the storage checker's `min_partition_sizes` has
            // `/boot: 512 MiB` (pyanaconda/modules/storage/checker/utils.py, its unit test
            // `test_default_settings`); the 1 GiB minimum is later Fedora's.
            boot_min: Some(Size::from_mib(512)),
            // platform.py: `PartSpec(mountpoint="/boot", size=Size("1GiB"))`.
            boot_default: Size::from_mib(1024),
            hashes: EL9_ALL,
        },
        // No kickstart: these facts are anaconda's and unused for Debian hosts, which xenfab
        // does not install yet. Debian's libcrypt1 (libxcrypt) reads the same hashes as EL9's.
        OsFamily::Debian => ReleaseInfo {
            release,
            hvargs: false,
            repo: false,
            langsupport: false,
            mouse: false,
            resolvedeps: false,
            boot_min: None,
            boot_default: Size::from_mib(512),
            hashes: EL9_ALL,
            services: false,
        },
    })
}

/// The kinds of hash `hashes` lists, for messages: `$1$ (MD5)`, `$1$, $5$ or $6$`.
pub fn hash_names(hashes: &[&str]) -> String {
    match hashes {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The Xen kernel a release's install tree installs: `kernel-xen` of its GA (the kernel the
/// point release shipped with, before any update) for EL5, `kernel` for EL9 (its files carry
/// the architecture: `vmlinuz-5.14.0-427.13.1.el9_4.x86_64`, which [`kernel_files`] adds), so
/// that the hypervisor's boot entry names files that exist after the install. `None` where
/// the table has no fact (EL3 and EL4, which are no dom0s).
///
/// Sources: Red Hat's "Red Hat Enterprise Linux Release Dates" (access.redhat.com/articles/3078),
/// which lists each minor release's GA kernel, and the `kernel-xen` and `kernel` packages of
/// each release's `Server/` (EL5) or `BaseOS/` (EL9) tree; CentOS trees carry the same NVRs.
/// Checked for EL9 against:
/// - 9.0 to 9.4: Rocky Linux's "Release Version Guide" (wiki.rockylinux.org/rocky/version,
///   "Release Kernel": 5.14.0-70.13.1, -162.6.1, -284.11.1, -362.8.1, -427.13.1).
/// - 9.5: 5.14.0-503.11.1.el9_5, built Tue Nov 12 2024, the day RHEL 9.5 came out, as
///   AlmaLinux 9.5 installs it (an install log's `uname -a`). Rocky Linux 9.5's tree is a week
///   later and installs 5.14.0-503.14.1 (the same Rocky guide): on a Rocky 9.5 tree the rule
///   `kernel-not-installed` is wrong, and its dom0's `%post` writes the entry from the kernel it
///   installed anyway.
/// - 9.6: 5.14.0-570.12.1.el9_6 (Nutanix Kubernetes Platform's supported-OS table, "RHEL 9.6
///   5.14.0-570.12.1.el9_6.x86_64"; AlmaLinux 9.6 installs it too; built Fri Apr 4 2025).
/// - 9.7: 5.14.0-611.5.1.el9_7 (the same table, "Rocky Linux 9.7 5.14.0-611.5.1.el9_7.x86_64",
///   and Rocky 9.7 install notes: `Rocky Linux 9.7 (Blue Onyx) / Kernel
///   5.14.0-611.5.1.el9_7.x86_64`). No RHEL 9.7 source was found: the row is the Rocky tree's.
pub const fn installed_kernel(family: OsFamily, release: Release) -> Option<&'static str> {
    match (family, release.major, release.minor) {
        (OsFamily::El5, 5, minor) => Some(match minor {
            0 => "2.6.18-8.el5",
            1 => "2.6.18-53.el5",
            2 => "2.6.18-92.el5",
            3 => "2.6.18-128.el5",
            4 => "2.6.18-164.el5",
            5 => "2.6.18-194.el5",
            6 => "2.6.18-238.el5",
            7 => "2.6.18-274.el5",
            8 => "2.6.18-308.el5",
            9 => "2.6.18-348.el5",
            10 => "2.6.18-371.el5",
            11 => "2.6.18-398.el5",
            _ => return None,
        }),
        (OsFamily::El9, 9, minor) => Some(match minor {
            0 => "5.14.0-70.13.1.el9_0",
            1 => "5.14.0-162.6.1.el9_1",
            2 => "5.14.0-284.11.1.el9_2",
            3 => "5.14.0-362.8.1.el9_3",
            4 => "5.14.0-427.13.1.el9_4",
            5 => "5.14.0-503.11.1.el9_5",
            6 => "5.14.0-570.12.1.el9_6",
            7 => "5.14.0-611.5.1.el9_7",
            _ => return None,
        }),
        _ => None,
    }
}

/// The version that names a release's kernel files (`kernel_version`): EL5's as its package
/// has it (`2.6.18-92.el5`; the files add `xen`), EL9's with the architecture
/// (`5.14.0-427.13.1.el9_4.x86_64`, as `/boot/vmlinuz-…` and `/lib/modules/…` are named).
pub fn kernel_files(family: OsFamily, release: Release, arch: &str) -> Option<String> {
    let kernel = installed_kernel(family, release)?;
    Some(match family {
        OsFamily::El9 => format!("{kernel}.{arch}"),
        _ => kernel.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_parse_and_print() {
        let r: Release = "5.11".parse().unwrap();
        assert_eq!(r, Release::new(5, 11));
        assert_eq!(r.to_string(), "5.11");
        assert!(Release::new(5, 2) < Release::new(5, 11));
        for bad in [
            "5", "5.", ".2", "5.2.1", "-5.2", "5.x", "005.2", "", " 5.2", "5.2 ",
        ] {
            assert!(bad.parse::<Release>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hvargs_only_from_rhel_5_5() {
        // anaconda 11.1.2.197 (RHEL 5.5), rhbz#501438: 5.4's parser has no --hvargs.
        assert!(!info(OsFamily::El5, Release::new(5, 2)).unwrap().hvargs);
        assert!(!info(OsFamily::El5, Release::new(5, 4)).unwrap().hvargs);
        assert!(info(OsFamily::El5, Release::new(5, 5)).unwrap().hvargs);
        assert!(info(OsFamily::El5, Release::new(5, 11)).unwrap().hvargs);
    }

    #[test]
    fn el3_and_el4_need_their_screens_answered() {
        let el3 = info(OsFamily::El3, Release::new(3, 9)).unwrap();
        let el4 = info(OsFamily::El4, Release::new(4, 6)).unwrap();
        let el5 = info(OsFamily::El5, Release::new(5, 2)).unwrap();
        assert!(el3.langsupport && el3.mouse && el3.resolvedeps && !el3.repo);
        assert!(el4.langsupport && !el4.mouse && el4.resolvedeps && !el4.repo);
        assert!(!el5.langsupport && !el5.mouse && !el5.resolvedeps && el5.repo);
    }

    #[test]
    fn hashes_follow_the_release() {
        let h = |f, r| info(f, r).unwrap().hashes;
        assert_eq!(h(OsFamily::El4, Release::new(4, 9)), ["$1$"]);
        assert_eq!(h(OsFamily::El5, Release::new(5, 1)), ["$1$"]);
        assert!(h(OsFamily::El5, Release::new(5, 2)).contains(&"$6$"));
        assert!(h(OsFamily::El9, Release::new(9, 4)).contains(&"$y$"));
        assert_eq!(hash_names(EL5_SHA), "$1$, $5$ or $6$");
        assert_eq!(hash_names(MD5_ONLY), "$1$");
    }

    #[test]
    fn el9_boot_has_a_minimum() {
        let el9 = info(OsFamily::El9, Release::new(9, 4)).unwrap();
        assert_eq!(el9.boot_min, Some(Size::from_mib(512)));
        assert!(
            info(OsFamily::El5, Release::new(5, 2))
                .unwrap()
                .boot_min
                .is_none()
        );
    }

    #[test]
    fn unknown_releases_are_none() {
        assert!(info(OsFamily::El5, Release::new(9, 4)).is_none());
        assert!(info(OsFamily::El5, Release::new(5, 12)).is_none());
        assert!(info(OsFamily::El9, Release::new(9, 8)).is_none());
        assert!(info(OsFamily::El3, Release::new(3, 0)).is_some());
        assert_eq!(default_release(OsFamily::El5), Release::new(5, 0));
        assert_eq!(known_range(OsFamily::El5), "5.0 to 5.11");
    }

    #[test]
    fn debian_releases_and_their_xen() {
        let bookworm = Release::new(12, 0);
        assert!(info(OsFamily::Debian, bookworm).is_some());
        assert!(info(OsFamily::Debian, Release::new(12, 11)).is_some());
        assert!(info(OsFamily::Debian, Release::new(13, 0)).is_some());
        assert!(info(OsFamily::Debian, Release::new(11, 0)).is_none());
        assert!(info(OsFamily::Debian, Release::new(14, 0)).is_none());
        assert_eq!(default_release(OsFamily::Debian), bookworm);
        assert_eq!(debian_xen(OsFamily::Debian, bookworm), Some("4.17"));
        assert_eq!(
            debian_xen(OsFamily::Debian, Release::new(13, 2)),
            Some("4.20")
        );
        assert_eq!(debian_xen(OsFamily::El9, Release::new(9, 4)), None);
        assert_eq!(debian_codename(bookworm), Some("bookworm"));
        assert_eq!(installed_kernel(OsFamily::Debian, bookworm), None);
    }

    #[test]
    fn installed_kernels_are_the_ga_kernels() {
        // RHEL 5.2 installs kernel-xen-2.6.18-92.el5; 2.6.18-92.1.6.el5 is an update.
        assert_eq!(
            installed_kernel(OsFamily::El5, Release::new(5, 2)),
            Some("2.6.18-92.el5")
        );
        assert_eq!(
            installed_kernel(OsFamily::El5, Release::new(5, 11)),
            Some("2.6.18-398.el5")
        );
        assert_eq!(
            kernel_files(OsFamily::El9, Release::new(9, 4), "x86_64").as_deref(),
            Some("5.14.0-427.13.1.el9_4.x86_64")
        );
        assert_eq!(
            installed_kernel(OsFamily::El9, Release::new(9, 6)),
            Some("5.14.0-570.12.1.el9_6")
        );
        assert_eq!(
            kernel_files(OsFamily::El9, Release::new(9, 7), "x86_64").as_deref(),
            Some("5.14.0-611.5.1.el9_7.x86_64")
        );
        assert_eq!(installed_kernel(OsFamily::El9, Release::new(9, 8)), None);
        // Every EL9 release the table knows has its kernel: 5.14.0-<build>.<z>.el9_<minor>,
        // builds growing.
        let mut last = 0;
        for minor in 0..=last_minor(OsFamily::El9) {
            let k = installed_kernel(OsFamily::El9, Release::new(9, minor)).unwrap();
            assert!(k.ends_with(&format!(".el9_{minor}")), "{k}");
            let build: u32 = k["5.14.0-".len()..]
                .split('.')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(build > last, "{k}");
            last = build;
        }
        assert_eq!(installed_kernel(OsFamily::El4, Release::new(4, 6)), None);
        // Every EL5 release the table knows has its kernel, and they only grow.
        let mut last = 0;
        for minor in 0..=last_minor(OsFamily::El5) {
            let k = installed_kernel(OsFamily::El5, Release::new(5, minor)).unwrap();
            let build: u32 = k["2.6.18-".len()..k.len() - ".el5".len()].parse().unwrap();
            assert!(build > last, "{k}");
            last = build;
        }
    }
}
