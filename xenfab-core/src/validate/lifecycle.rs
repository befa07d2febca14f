//! The install lifecycle (docs/lifecycle.md): a boot state each host can be in, and no install
//! that wipes guests by surprise.

use crate::diagnostic::Diagnostics;
use crate::model::{BootState, Fabric, HostRef};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    for host in fabric.hosts() {
        let state = host.state();
        if matches!(state, BootState::Localboot) {
            continue;
        }
        if let HostRef::Dom0(d) = host {
            // The install kickstart of a dom0 clears every disk (`clearpart --all`,
            // render/kickstart), its guests' volume group with it.
            if state == BootState::Install && !d.guests.is_empty() && !d.wipe_guests {
                let n = d.guests.len();
                // The preseed file's partman recipes of a Debian dom0 wipe the disks too
                // (render/preseed), and it has no reinstall to keep them.
                let keep = if BootState::Reinstall.refusal(fabric, host).is_none() {
                    "use state = \"reinstall\" to keep them"
                } else {
                    "it has no reinstall that keeps them: move them off first"
                };
                diags.error(
                    "install-wipes-guests",
                    d.at.key("state"),
                    format!(
                        "installing dom0 `{}` wipes its disks and the volumes of its {n} guest{} (`{}`{}): \
                         {keep}, or set wipe_guests = true",
                        d.name,
                        if n == 1 { "" } else { "s" },
                        d.guests[0].name,
                        if n == 1 { String::new() } else { format!(" and {} more", n - 1) },
                    ),
                );
            }
        }
        if let Some(why) = state.refusal(fabric, host) {
            diags.error(
                "boot-state-unsupported",
                host.at().key("state"),
                format!(
                    "`{}` cannot be in state `{}`: {why}",
                    fabric.fqdn(host.name()),
                    state.as_str()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Error;

    /// The example with `edit` made to it: the (code, path, message) of every lifecycle error.
    fn errors(edit: impl Fn(&str) -> String) -> Vec<(String, String, String)> {
        let text = edit(crate::EXAMPLE);
        assert!(text != crate::EXAMPLE, "the edit changed nothing");
        match crate::load(&text, "t.toml") {
            Ok(_) => Vec::new(),
            Err(Error::Invalid(diags)) => diags
                .iter()
                .filter(|d| matches!(d.code, "install-wipes-guests" | "boot-state-unsupported"))
                .map(|d| (d.code.to_owned(), d.path.to_string(), d.message.clone()))
                .collect(),
            Err(e) => panic!("{e}"),
        }
    }

    /// Adds `line` to dom0 `name` (after its `name = …` line, whatever comment that has).
    fn set_dom0(name: &str, line: &str) -> impl Fn(&str) -> String {
        let at = format!("\nname = \"{name}\"");
        let line = line.to_owned();
        move |t: &str| match t
            .find(&at)
            .and_then(|i| t[i + 1..].find('\n').map(|j| i + 2 + j))
        {
            Some(end) => format!("{}{line}\n{}", &t[..end], &t[end..]),
            None => t.to_owned(),
        }
    }

    fn set_guest(name: &str, line: &str) -> impl Fn(&str) -> String {
        let at = format!("  name = \"{name}\"");
        let with = format!("  {line}\n{at}");
        move |t: &str| t.replacen(&at, &with, 1)
    }

    #[test]
    fn install_of_a_dom0_with_guests_needs_wipe_guests() {
        let e = errors(set_dom0("xen01", "state = \"install\""));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "install-wipes-guests");
        assert_eq!(e[0].1, "dom0s[xen01].state");
        assert_eq!(
            e[0].2,
            "installing dom0 `xen01` wipes its disks and the volumes of its 2 guests (`ullr` and 1 more): \
             use state = \"reinstall\" to keep them, or set wipe_guests = true"
        );
        assert!(errors(set_dom0("xen01", "state = \"install\"\nwipe_guests = true")).is_empty());
        // From the defaults too.
        let e = errors(|t: &str| {
            t.replacen(
                "[defaults.dom0]\n",
                "[defaults.dom0]\nstate = \"install\"\n",
                1,
            )
        });
        assert_eq!(
            e.iter().filter(|x| x.0 == "install-wipes-guests").count(),
            3,
            "{e:?}"
        );
    }

    #[test]
    fn reinstall_localboot_and_rescue_of_a_dom0_are_fine() {
        for state in ["reinstall", "localboot", "rescue"] {
            let line = format!("state = \"{state}\"");
            assert!(errors(set_dom0("xen01", &line)).is_empty(), "{state}");
            assert!(errors(set_dom0("xen03", &line)).is_empty(), "{state}");
        }
    }

    #[test]
    fn a_guest_has_no_reinstall() {
        let e = errors(set_guest("vali", "state = \"reinstall\""));
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "boot-state-unsupported");
        assert_eq!(e[0].1, "dom0s[xen01].guests[vali].state");
        assert!(
            e[0].2
                .starts_with("`vali.example.org` cannot be in state `reinstall`: only a dom0"),
            "{}",
            e[0].2
        );
    }

    #[test]
    fn every_guest_can_be_rescued() {
        // HVM from the network; pygrub, PVH and pypxeboot guests by their config's direct boot
        // of the installer (model/guest_boot.rs).
        for guest in ["vali", "ullr", "skadi", "idunn"] {
            let e = errors(|t: &str| {
                set_guest(guest, "state = \"rescue\"")(t).replacen(
                    "  state = \"install\"\n",
                    "",
                    usize::from(guest == "ullr"),
                )
            });
            assert!(e.is_empty(), "{guest}: {e:?}");
            let text = set_guest(guest, "state = \"rescue\"")(crate::EXAMPLE).replacen(
                "  state = \"install\"\n",
                "",
                usize::from(guest == "ullr"),
            );
            let fabric = match crate::load(&text, "t.toml") {
                Ok(loaded) => loaded.fabric,
                Err(e) => panic!("{guest}: {e}"),
            };
            let g = fabric
                .dom0s
                .iter()
                .flat_map(|d| &d.guests)
                .find(|g| g.name.as_str() == guest)
                .unwrap();
            assert_eq!(g.state, crate::model::BootState::Rescue, "{guest}");
        }
    }

    #[test]
    fn reinstall_needs_a_kept_volume_group() {
        // A scheme whose only volume group holds dom0's own volumes and no guest's.
        let edit = |t: &str| {
            t.replacen(
                "[[dom0s]]\nname = \"xen01\"",
                "[partition_schemes.novg]\n\
                 partitions = [\n  { disk = \"sda\", size = \"256M\", primary = true, mount = \"/boot\", fstype = \"ext3\" },\n  \
                 { id = \"pv.01\", disk = \"sda\", size = \"20G\", use = \"pv\" },\n]\n\
                 volume_groups = [{ name = \"sysvg\", pvs = [\"pv.01\"] }]\n\
                 logical_volumes = [\n  { name = \"root\", vg = \"sysvg\", size = \"10G\", mount = \"/\", fstype = \"ext3\" },\n  \
                 { name = \"swap\", vg = \"sysvg\", size = \"2G\", mount = \"swap\" },\n]\n\n\
                 [[dom0s]]\nname = \"xen09\"\nip = \"192.168.96.19\"\nmac = \"00:1e:c9:2a:19:01\"\n\
                 hardware = \"pe1950\"\npartitioning = \"novg\"\nstate = \"reinstall\"\n\n\
                 [[dom0s]]\nname = \"xen01\"",
                1,
            )
        };
        let e = errors(edit);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].1, "dom0s[xen09].state");
        assert!(
            e[0].2
                .contains("partition scheme `novg` has no volume group for guests"),
            "{}",
            e[0].2
        );
    }
}
