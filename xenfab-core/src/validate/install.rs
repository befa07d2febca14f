//! What installing a host needs: a kernel version for the hypervisor's boot entry, a toolstack
//! the OS still has, a root password hash its glibc can read, kickstart options that mean
//! something to its installer, a guest disk that holds `/` and swap.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::release;
use crate::model::{
    CryptHash, Fabric, Holder, Ident, Level, Merged, OsFamily, PartitionScheme, Size, Toolstack,
    known_default,
};

/// The smallest first disk a guest's kickstart layout (`/` and swap) fits on.
const GUEST_DISK_MIN: Size = Size::from_mib(2048);

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    let mut without_kernel = BTreeSet::new();
    for dom0 in &fabric.dom0s {
        let Some(os) = fabric.os.get(&dom0.os) else {
            continue;
        };
        // A Debian dom0's entry loads the links Debian keeps (/boot/vmlinuz): no version.
        if os.kernel_version.is_none() && os.family.kickstarted() && without_kernel.insert(&dom0.os)
        {
            diags.error(
                "missing-value",
                FieldPath::root()
                    .key("os")
                    .entry(dom0.os.as_str())
                    .key("kernel_version"),
                format!(
                    "the hypervisor's boot entry of dom0 `{}` needs the version of its Xen kernel",
                    dom0.name
                ),
            );
        }
        if os.family == OsFamily::El9 && dom0.toolstack == Toolstack::Xm {
            diags.error(
                "toolstack-unavailable",
                dom0.at.key("toolstack"),
                "xm and xend were removed in Xen 4.5: an EL9 dom0 needs toolstack = \"xl\"",
            );
        }
        // Only a guest that anaconda installs puts its / and swap on its first disk.
        let installed = |g: &&crate::model::Guest| {
            !g.mode.boots_dom0_kernel()
                && fabric.os.get(&g.os).is_some_and(|o| o.family.kickstarted())
        };
        for g in dom0.guests.iter().filter(installed) {
            if let Some(disk) = g.disks.first() {
                if disk.size < GUEST_DISK_MIN {
                    diags.error(
                        "guest-disk-small",
                        g.at.key("disks").elem(0, None).key("size"),
                        format!("the first disk holds the guest's / and swap: it needs at least {GUEST_DISK_MIN}, not {}", disk.size),
                    );
                }
            }
        }
    }
    check_boot(fabric, diags);
    release_kickstart(fabric, diags);
    check_xen_repo(fabric, diags);
    default_password(fabric, diags);
    service_conflict(fabric, diags);
}

/// An EL9 dom0's OS names the repository that provides Xen, once for each OS. No EL9 tree
/// has Xen: RHEL 9 ships KVM only (RHEL 9 "Configuring and managing virtualization": Xen is
/// not a supported hypervisor, and RHEL has had no dom0 since RHEL 6), EPEL 9 has no `xen`
/// package (Fedora's `xen.spec` is built for Fedora branches only), and the CentOS Virt SIG's
/// `centos-release-xen` (Xen4CentOS) was built for CentOS 6 and 7 only. Without a repository
/// the installer cannot find `xen`, and the kickstart no longer ignores a missing package.
fn check_xen_repo(fabric: &Fabric, diags: &mut Diagnostics) {
    let mut seen = BTreeSet::new();
    for dom0 in &fabric.dom0s {
        let Some(os) = fabric.os.get(&dom0.os) else {
            continue;
        };
        if os.family == OsFamily::El9 && os.xen_repo.is_none() && seen.insert(&dom0.os) {
            diags.error(
                "xen-repo-missing",
                FieldPath::root()
                    .key("os")
                    .entry(dom0.os.as_str())
                    .key("xen_repo"),
                format!(
                    "dom0 `{}` runs EL9, whose installation tree has no Xen (nor has EPEL 9): name the repository that provides the `xen` package in xen_repo",
                    dom0.name
                ),
            );
        }
    }
}

/// The size of `/boot` in a scheme (its smallest member for an array, the size a growing
/// partition starts from), when the scheme has one.
fn boot_size(scheme: &PartitionScheme) -> Option<Size> {
    match scheme.holder("/boot")? {
        Holder::Partition(i) => Some(scheme.partitions[i].size),
        Holder::Raid(r) => r
            .members
            .iter()
            .filter_map(|m| scheme.partitions.iter().find(|p| p.id.as_ref() == Some(m)))
            .map(|p| p.size)
            .min(),
        Holder::LogicalVolume(lv) => Some(lv.size),
    }
}

/// A dom0's `/boot` at least what its release's installer accepts (anaconda 34, EL9: 512M;
/// the seed's 256M is for EL5), once for each scheme and OS.
fn check_boot(fabric: &Fabric, diags: &mut Diagnostics) {
    let mut seen = BTreeSet::new();
    for dom0 in &fabric.dom0s {
        let (Some(os), Some(scheme)) = (
            fabric.os.get(&dom0.os),
            fabric.partition_schemes.get(&dom0.partitioning),
        ) else {
            continue;
        };
        let Some(min) = os.installer.boot_min else {
            continue;
        };
        let Some(size) = boot_size(scheme) else {
            continue;
        };
        if size < min && seen.insert((&dom0.partitioning, &dom0.os)) {
            diags.error(
                "boot-too-small",
                dom0.at.key("partitioning"),
                format!(
                    "partition scheme `{}` gives /boot {size}, below the {min} that the installer of os `{}` (release {}) accepts (it makes {} itself): use a scheme with a bigger /boot",
                    dom0.partitioning, dom0.os, os.release, os.installer.boot_default
                ),
            );
        }
    }
}

/// Where a merged setting was given: the site's `[kickstart]`, the OS's `[os.<name>.kickstart]`
/// or the host's own `kickstart`, as a field path.
fn setting_path(level: Level, os: &Ident, host: &FieldPath, key: &'static str) -> FieldPath {
    match level {
        Level::Site => FieldPath::root().key("kickstart").key(key),
        Level::Os => FieldPath::root()
            .key("os")
            .entry(os.as_str())
            .key("kickstart")
            .key(key),
        Level::Host => host.key("kickstart").key(key),
    }
}

/// The hosts that share one finding: the first one's path and settings, and how many.
struct Hosts<'a> {
    first: &'a FieldPath,
    ks: Merged<'a>,
    count: usize,
}

impl Hosts<'_> {
    fn text(&self) -> String {
        if self.count == 1 {
            format!("used by {}", self.first)
        } else {
            format!("used by {} and {} more", self.first, self.count - 1)
        }
    }
}

/// A group of hosts that share an OS and where a setting of theirs was given: hosts whose own
/// settings give it are each their own group (their number in the fabric), the others share
/// their OS's (or the site's).
type Group<'a> = (&'a Ident, Option<usize>);

fn count<'a>(
    map: &mut BTreeMap<Group<'a>, Hosts<'a>>,
    key: Group<'a>,
    at: &'a FieldPath,
    ks: Merged<'a>,
) {
    map.entry(key)
        .or_insert(Hosts {
            first: at,
            ks,
            count: 0,
        })
        .count += 1;
}

/// What the kickstart settings of each host ask of the release it is installed with: a root
/// password hash its glibc reads, `repo` only where anaconda knows it, `--resolvedeps` only
/// where it means something. Each host's own merged settings count (its own over its OS's over
/// the site's, [`crate::model::KickstartSettings::merged`]): a repo given for EL9 hosts only is
/// no concern of EL4 ones. Hosts that share an OS and a setting's source are reported once.
fn release_kickstart(fabric: &Fabric, diags: &mut Diagnostics) {
    let ks = &fabric.kickstart;
    // Every release reads MD5 and takes no repo when none is given: most fabrics need none of
    // the checks below, and then the hosts are not merged (validation of 110,000 hosts is
    // benchmarked).
    let overridden = fabric.os.values().any(|o| o.kickstart.is_some())
        || fabric
            .dom0s
            .iter()
            .any(|d| d.kickstart.is_some() || d.guests.iter().any(|g| g.kickstart.is_some()));
    if !overridden
        && !ks.resolvedeps
        && ks.root_password.as_str().starts_with("$1$")
        && ks.repos.is_empty()
    {
        return;
    }
    let mut hashes: BTreeMap<Group<'_>, Hosts<'_>> = BTreeMap::new();
    let mut repos: BTreeMap<Group<'_>, Hosts<'_>> = BTreeMap::new();
    let mut resolvedeps_ignored = false;
    let mut number = 0_usize;
    for dom0 in &fabric.dom0s {
        let hosts = std::iter::once((&dom0.os, &dom0.at, fabric.kickstart_of_dom0(dom0))).chain(
            dom0.guests
                .iter()
                .map(|g| (&g.os, &g.at, fabric.kickstart_of_guest(g))),
        );
        for (os_name, at, ks) in hosts {
            number += 1;
            let Some(os) = fabric.os.get(os_name) else {
                continue;
            };
            let info = os.installer;
            let own = |level| (level == Level::Host).then_some(number);
            if !info
                .hashes
                .iter()
                .any(|p| ks.root_password.as_str().starts_with(p))
            {
                count(&mut hashes, (os_name, own(ks.root_password_from)), at, ks);
            }
            if !info.repo && !ks.repos.is_empty() {
                count(&mut repos, (os_name, own(ks.repos_from)), at, ks);
            }
            resolvedeps_ignored |= fabric.kickstart.resolvedeps && !info.resolvedeps;
        }
    }
    for ((name, _), hosts) in hashes {
        let Some(os) = fabric.os.get(name) else {
            continue;
        };
        let info = os.installer;
        let ks = hosts.ks;
        diags.error(
            "password-hash-unsupported",
            setting_path(ks.root_password_from, name, hosts.first, "root_password"),
            format!(
                "hosts of os `{name}` (release {}, {}) cannot read this kind of hash: use {}{}",
                os.release,
                hosts.text(),
                release::hash_names(info.hashes),
                if info.hashes == ["$1$"] {
                    " (MD5, `openssl passwd -1`)"
                } else {
                    ""
                }
            ),
        );
    }
    // `repo` came with anaconda 11 (pykickstart's handlers/control.py maps it from RHEL5
    // on, `FC6_Repo`; the RHEL3 and RHEL4 handlers have no `repo`): EL3 and EL4 installers
    // stop at it as an unknown command.
    for ((name, _), hosts) in repos {
        let Some(os) = fabric.os.get(name) else {
            continue;
        };
        let ks = hosts.ks;
        let path = setting_path(ks.repos_from, name, hosts.first, "repos");
        diags.error(
            "repo-unsupported",
            path.clone(),
            format!(
                "the installer of os `{name}` (release {}, {}) does not know the kickstart command `repo` (it came with EL5): {}",
                os.release,
                hosts.text(),
                if ks.repos_from == Level::Site {
                    format!("give the repositories on the releases that need them (os[<name>].kickstart.repos) instead of {path}, or set `repos = []` in os[{name}].kickstart")
                } else {
                    format!("remove {path}")
                }
            ),
        );
    }
    if resolvedeps_ignored {
        diags.warning(
            "resolvedeps-ignored",
            FieldPath::root().key("kickstart").key("resolvedeps"),
            "`%packages --resolvedeps` has been a deprecated no-op since Fedora Core 4: it is left out of EL5 and EL9 kickstart files (EL3 and EL4 always have it)",
        );
    }
}

/// Where a merged service list was given: the site's role (`kickstart.dom0.services.enabled`),
/// the OS's or the host's own, as a field path.
fn services_path(
    level: Level,
    dom0: bool,
    os: &Ident,
    host: &FieldPath,
    key: &'static str,
) -> FieldPath {
    match level {
        Level::Site => FieldPath::root()
            .key("kickstart")
            .key(if dom0 { "dom0" } else { "guest" })
            .key("services")
            .key(key),
        Level::Os => FieldPath::root()
            .key("os")
            .entry(os.as_str())
            .key("kickstart")
            .key("services")
            .key(key),
        Level::Host => host.key("kickstart").key("services").key(key),
    }
}

/// Where a service is enabled and disabled, the first host that gets both, and how many do.
type Conflict<'a> = (FieldPath, FieldPath, &'a FieldPath, usize);

/// A service both enabled and disabled for one host (`service-conflict`): anaconda would
/// run `chkconfig NAME off` and then `on` (or systemd's disable, then enable) and the
/// fabric file would say both. Each host's merged lists count: the site may disable what a
/// host enables, and the host must then give its own `disabled` too. Reported once for each
/// pair of places and name, at the enabled entry, with the disabled one and the hosts.
fn service_conflict(fabric: &Fabric, diags: &mut Diagnostics) {
    let ks = &fabric.kickstart;
    let any = |o: Option<&crate::model::KickstartOverride>| {
        o.is_some_and(|k| k.services.enabled.is_some() || k.services.disabled.is_some())
    };
    let given = [&ks.dom0, &ks.guest]
        .iter()
        .any(|r| !r.services.enabled.is_empty() || !r.services.disabled.is_empty())
        || fabric.os.values().any(|o| any(o.kickstart.as_ref()))
        || fabric.dom0s.iter().any(|d| {
            any(d.kickstart.as_deref()) || d.guests.iter().any(|g| any(g.kickstart.as_deref()))
        });
    if !given {
        return;
    }
    // (enabled at, disabled at, name) → those places, the first host and how many
    let mut found: BTreeMap<(String, String, &str), Conflict<'_>> = BTreeMap::new();
    for dom0 in &fabric.dom0s {
        let hosts = std::iter::once((&dom0.os, &dom0.at, true, fabric.kickstart_of_dom0(dom0)))
            .chain(
                dom0.guests
                    .iter()
                    .map(|g| (&g.os, &g.at, false, fabric.kickstart_of_guest(g))),
            );
        for (os, at, is_dom0, m) in hosts {
            if m.enabled.is_empty() || m.disabled.is_empty() {
                continue;
            }
            for (i, name) in m.enabled.iter().enumerate() {
                let Some(j) = m.disabled.iter().position(|d| d == name) else {
                    continue;
                };
                let enabled =
                    services_path(m.enabled_from, is_dom0, os, at, "enabled").elem(i, None);
                let disabled =
                    services_path(m.disabled_from, is_dom0, os, at, "disabled").elem(j, None);
                found
                    .entry((enabled.to_string(), disabled.to_string(), name.as_str()))
                    .or_insert_with(|| (enabled, disabled, at, 0))
                    .3 += 1;
            }
        }
    }
    for ((_, _, name), (enabled, disabled, first, count)) in found {
        let hosts = if count == 1 {
            format!("for {first}")
        } else {
            format!("for {first} and {} more", count - 1)
        };
        diags.error_related(
            "service-conflict",
            enabled,
            &disabled,
            format!(
                "service `{}` is both enabled here and disabled in {disabled} {hosts}: remove it from one list (lists are replaced whole, so give the host or OS its own `disabled` without it)",
                crate::diagnostic::shown(name)
            ),
        );
    }
}

/// A root password hash known to the world (the example's) is refused wherever it is given,
/// unless `kickstart.allow_default_password` says that this is the example.
fn default_password(fabric: &Fabric, diags: &mut Diagnostics) {
    let ks = &fabric.kickstart;
    if ks.allow_default_password {
        return;
    }
    let mut refuse = |hash: Option<&CryptHash>, path: FieldPath| {
        if let Some(what) = hash.and_then(known_default) {
            diags.error(
                "default-root-password",
                path,
                format!(
                    "this root password hash is {what}: anyone can log in as root on these hosts; make your own with `openssl passwd -6` (`-1` for EL3 and EL4)"
                ),
            );
        }
    };
    refuse(
        Some(&ks.root_password),
        FieldPath::root().key("kickstart").key("root_password"),
    );
    for (name, os) in &fabric.os {
        refuse(
            os.kickstart.as_ref().and_then(|k| k.root_password.as_ref()),
            FieldPath::root()
                .key("os")
                .entry(name.as_str())
                .key("kickstart")
                .key("root_password"),
        );
    }
    for dom0 in &fabric.dom0s {
        let hosts = std::iter::once((dom0.kickstart.as_deref(), &dom0.at))
            .chain(dom0.guests.iter().map(|g| (g.kickstart.as_deref(), &g.at)));
        for (k, at) in hosts {
            refuse(
                k.and_then(|k| k.root_password.as_ref()),
                at.key("kickstart").key("root_password"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::output::{Entry, RelPath};

    const MINIMAL: &str = include_str!("../../../tests/cases/minimal/fabric.toml");
    const OVERRIDES: &str = include_str!("../../../tests/cases/overrides/fabric.toml");
    const EXAMPLE_HASH: &str = "$1$xenfab$sluoPgn275QVu60NZstPb.";
    const SHA512: &str = "$6$xenfabc9$Q7HcA1x9mgy5Vf6ZhHZL6rDbK2B1Xw3qYq4mF0pV9nR2sT8uW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3vW.";

    /// The codes and paths of a fabric's errors (none when it loads).
    fn errors(text: &str) -> Vec<(String, String)> {
        match crate::load(text, "fabric.toml") {
            Ok(_) => Vec::new(),
            Err(crate::Error::Invalid(d)) => d
                .iter()
                .filter(|d| d.severity == crate::diagnostic::Severity::Error)
                .map(|d| (d.code.to_string(), d.path.to_string()))
                .collect(),
            Err(e) => panic!("{e}"),
        }
    }

    /// The minimal fabric with EL4 guests, and `extra` appended.
    fn el4(extra: &str) -> String {
        let text = MINIMAL.replace(
            "[defaults.guest]\nos = \"c5\"",
            "[os.c4]\nfamily = \"el4\"\nrelease = \"4.9\"\ninstall_url = \"http://10.1.0.1/c4\"\nboot_image = \"c5\"\n\n[defaults.guest]\nos = \"c4\"",
        );
        assert!(text.contains("os = \"c4\""));
        format!("{text}{extra}")
    }

    #[test]
    fn a_hash_an_el4_guest_cannot_read_is_refused_where_it_is_given() {
        assert_eq!(errors(&el4("")), []);
        let own = format!("\n    [dom0s.guests.kickstart]\n    root_password = \"{SHA512}\"\n");
        assert_eq!(
            errors(&el4(&own)),
            [(
                "password-hash-unsupported".to_owned(),
                "dom0s[xen1].guests[web1].kickstart.root_password".to_owned()
            )]
        );
        // the same hash for the EL5 dom0 alone: release 5.0 reads MD5 only, too
        let dom0 = MINIMAL.replace(
            "hardware = \"box\"\n",
            &format!("hardware = \"box\"\n\n  [dom0s.kickstart]\n  root_password = \"{SHA512}\"\n"),
        );
        assert_eq!(
            errors(&dom0),
            [(
                "password-hash-unsupported".to_owned(),
                "dom0s[xen1].kickstart.root_password".to_owned()
            )]
        );
    }

    #[test]
    fn repositories_count_only_for_the_hosts_they_reach() {
        // on the EL5 OS only: the EL4 guest has none
        let el5 = el4(
            "\n[os.c5.kickstart]\nrepos = [{ name = \"x\", baseurl = \"http://10.1.0.1/x\" }]\n",
        );
        assert_eq!(errors(&el5), []);
        // the site's reach the EL4 guest, unless its OS says none
        let site = el4("").replace(
            "[boot_images.c5]",
            "repos = [{ name = \"x\", baseurl = \"http://10.1.0.1/x\" }]\n\n[boot_images.c5]",
        );
        assert_eq!(
            errors(&site),
            [("repo-unsupported".to_owned(), "kickstart.repos".to_owned())]
        );
        assert_eq!(
            errors(&format!("{site}\n[os.c4.kickstart]\nrepos = []\n")),
            []
        );
    }

    #[test]
    fn the_examples_password_is_refused_but_for_the_example() {
        assert!(crate::load(crate::EXAMPLE, "seed-site.toml").is_ok());
        let copy = crate::EXAMPLE.replace("allow_default_password = true", "");
        let errs = errors(&copy);
        assert_eq!(
            errs,
            [(
                "default-root-password".to_owned(),
                "kickstart.root_password".to_owned()
            )]
        );
        let os = el4(&format!(
            "\n[os.c4.kickstart]\nroot_password = \"{EXAMPLE_HASH}\"\n"
        ));
        assert_eq!(
            errors(&os),
            [(
                "default-root-password".to_owned(),
                "os[c4].kickstart.root_password".to_owned()
            )]
        );
    }

    /// Defect 3: a repository given on the EL9 release is in EL9 kickstart files only.
    #[test]
    fn an_el9_repository_lands_in_el9_kickstarts_only() {
        let loaded = crate::load(OVERRIDES, "fabric.toml").unwrap();
        let tree = crate::render(&loaded.fabric).unwrap();
        let mut seen = 0;
        for (path, entry) in &tree {
            let (Entry::File { contents, .. }, true) =
                (entry, path.as_str().starts_with("kickstart/"))
            else {
                continue;
            };
            seen += 1;
            let el9 = contents.starts_with("#version=RHEL9");
            assert_eq!(
                contents.contains("repo --name=xen "),
                el9 && !path.as_str().contains("vidar"),
                "{path}"
            );
        }
        assert_eq!(
            seen, 8,
            "two dom0s (and their reinstall files), four guests"
        );
        let file = |name: &str| match tree.get(&RelPath::new(name).unwrap()) {
            Some(Entry::File { contents, .. }) => contents.clone(),
            _ => panic!("no {name}"),
        };
        let saga = file("kickstart/saga.example.org.ks");
        assert!(saga.contains("keyboard de-latin1-nodeadkeys\n"), "{saga}");
        assert!(saga.contains("lang en_GB\n"), "its OS's language");
        assert!(
            !saga.contains("echo site-guest-post"),
            "its own empty %post"
        );
        let xen05 = file("kickstart/xen05.example.org.ks");
        assert!(xen05.contains("timezone --utc UTC\n"));
        assert!(xen05.contains("rootpw --iscrypted $1$xen05$"));
    }

    /// A service both enabled and disabled for one host, from one level or two.
    #[test]
    fn a_service_enabled_and_disabled_for_one_host_is_refused() {
        let site = MINIMAL.replace(
            "[boot_images.c5]",
            "[kickstart.dom0]\nservices = { enabled = [\"xend\", \"cups\"], disabled = [\"cups\"] }\n\n[boot_images.c5]",
        );
        assert!(
            site.contains("[kickstart.dom0]"),
            "the minimal case changed"
        );
        assert_eq!(
            errors(&site),
            [(
                "service-conflict".to_owned(),
                "kickstart.dom0.services.enabled[1]".to_owned()
            )]
        );
        // the host enables what its role disables: its own `disabled` must leave it out
        let host = format!(
            "{}\n    [dom0s.guests.kickstart]\n    services = {{ enabled = [\"cups\"] }}\n",
            MINIMAL.replace(
                "[boot_images.c5]",
                "[kickstart.guest]\nservices = { disabled = [\"kudzu\", \"cups\"] }\n\n[boot_images.c5]",
            )
        );
        let loaded = crate::load(&host, "fabric.toml");
        let Err(crate::Error::Invalid(d)) = loaded else {
            panic!("accepted");
        };
        let d: Vec<_> = d.iter().filter(|d| d.code == "service-conflict").collect();
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].path.to_string(),
            "dom0s[xen1].guests[web1].kickstart.services.enabled[0]"
        );
        assert!(
            d[0].message
                .contains("kickstart.guest.services.disabled[1]"),
            "{}",
            d[0].message
        );
        assert_eq!(
            d[0].related.as_ref().map(|r| r.path.to_string()).as_deref(),
            Some("kickstart.guest.services.disabled[1]")
        );
        let fixed = host.replace(
            "services = { enabled = [\"cups\"] }",
            "services = { enabled = [\"cups\"], disabled = [\"kudzu\"] }",
        );
        assert_eq!(errors(&fixed), []);
        // enabled for guests and disabled for dom0s: different hosts, no conflict
        let roles = MINIMAL.replace(
            "[boot_images.c5]",
            "[kickstart.dom0]\nservices = { disabled = [\"cups\"] }\n\n[kickstart.guest]\nservices = { enabled = [\"cups\"] }\n\n[boot_images.c5]",
        );
        assert_eq!(errors(&roles), []);
    }

    /// A hostile service name is refused where it is given, shown escaped.
    #[test]
    fn service_names_and_pre_scripts_are_checked_at_their_field() {
        let bad = MINIMAL.replace(
            "[boot_images.c5]",
            "[kickstart.guest]\nservices = { enabled = [\"sshd\", \"--disabled=sshd\"] }\npre = [\"true\\n%end\\nclearpart --all\"]\n\n[boot_images.c5]",
        );
        let got = errors(&bad);
        assert_eq!(
            got,
            [
                (
                    "invalid-value".to_owned(),
                    "kickstart.guest.services.enabled[1]".to_owned()
                ),
                (
                    "invalid-value".to_owned(),
                    "kickstart.guest.pre[0]".to_owned()
                ),
            ]
        );
    }
}
