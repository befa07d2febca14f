//! What installing a Debian dom0 with the Debian installer needs (render/preseed): a layout
//! partman-auto can build, and values its preseed file can carry and the installer takes.
//!
//! Checked for each Debian dom0 in state `install` or `rescue` (whose entry loads the preseed
//! file as well), and but for the layout in state `reinstall` (whose layout
//! `BootState::refusal` checks): the others get a preseed file when all is well and none
//! otherwise, and nothing boots one ([`problems`] decides both).

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::partman::partman;
use crate::model::{BootState, Level};
use crate::model::{Dom0, Fabric, OsFamily};

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    for dom0 in &fabric.dom0s {
        // A rescue entry loads the preseed file too (its mirror, locale and keyboard); a
        // reinstall has a preseed file of its own, whose layout `boot-state-unsupported`
        // checks (BootState::refusal).
        let found = match dom0.state {
            BootState::Install | BootState::Rescue => problems(fabric, dom0),
            BootState::Reinstall => value_problems(fabric, dom0),
            BootState::Localboot => continue,
        };
        for (code, path, message) in found {
            diags.error(code, path, message);
        }
    }
}

/// Why a Debian dom0 cannot be installed from a preseed file, each with its rule code and
/// path; empty when it can (or is not a Debian dom0, or refers to what is missing, which
/// other rules report).
pub(crate) fn problems(fabric: &Fabric, dom0: &Dom0) -> Vec<(&'static str, FieldPath, String)> {
    let mut out = Vec::new();
    let Some(os) = fabric.os.get(&dom0.os) else {
        return out;
    };
    if os.family != OsFamily::Debian {
        return out;
    }
    // the layout the installer makes: with an ESP on UEFI, on GPT (model/boot_partitions.rs)
    if let (Some(scheme), Some(hw)) = (fabric.layout(dom0), fabric.hardware.get(&dom0.hardware)) {
        if let Err(why) = partman(&scheme, hw) {
            // partman-auto-raid gives every disk the recipe's partitions, and the ESP is on
            // the first disk only (model/boot_partitions.rs)
            let uefi = if fabric.firmware(dom0) == crate::model::Firmware::Uefi
                && !scheme.raids.is_empty()
            {
                " (on UEFI the EFI System Partition is on the first disk only, which partman-auto-raid's one recipe for every disk cannot express: use a layout without software RAID, docs/uefi.md)"
            } else {
                ""
            };
            out.push((
                "preseed-layout-unsupported",
                dom0.at.key("partitioning"),
                format!(
                    "the Debian installer cannot build partition scheme `{}` of `{}` from a preseed file: {why}{uefi}; give the dom0 a scheme partman-auto can express (docs/debian.md, \"Layouts\")",
                    dom0.partitioning,
                    fabric.fqdn(&dom0.name)
                ),
            ));
        }
    }
    out.extend(value_problems(fabric, dom0));
    out
}

/// The problems of [`problems`] but the layout's: what any preseed file of `dom0` (install,
/// reinstall, rescue) would carry that the installer does not take.
pub(crate) fn value_problems(
    fabric: &Fabric,
    dom0: &Dom0,
) -> Vec<(&'static str, FieldPath, String)> {
    let mut out = Vec::new();
    let Some(os) = fabric.os.get(&dom0.os) else {
        return out;
    };
    if os.family != OsFamily::Debian {
        return out;
    }
    // The mirror: choose-mirror takes a protocol, a host (with its port) and a directory
    // (mirror/<protocol>/hostname, …/directory): http or https, and no user name or password,
    // which it has no question for.
    let url = &os.install_url;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        out.push((
            "preseed-value-unusable",
            FieldPath::root().key("os").entry(dom0.os.as_str()).key("install_url"),
            format!(
                "the Debian installer takes its mirror as an http or https URL without a user name or password, not `{url}`: give os[{}].install_url such a URL",
                dom0.os
            ),
        ));
    }
    let ks = fabric.kickstart_of_dom0(dom0);
    // keyboard-configuration/xkb-keymap takes an XKB layout (`us`, `de`, `fr`: console-setup's
    // list); a console keymap name (`de-latin1-nodeadkeys`, `fr_CH`) is not one.
    let keymap = ks.keyboard.to_string();
    if !(2..=8).contains(&keymap.len()) || !keymap.bytes().all(|b| b.is_ascii_lowercase()) {
        let level = if dom0
            .kickstart
            .as_ref()
            .is_some_and(|k| k.keyboard.is_some())
        {
            Level::Host
        } else if os.kickstart.as_ref().is_some_and(|k| k.keyboard.is_some()) {
            Level::Os
        } else {
            Level::Site
        };
        out.push((
            "preseed-value-unusable",
            setting_path(level, dom0, "keyboard"),
            format!(
                "keyboard `{keymap}` of `{}` is not an XKB layout (lowercase letters, such as `us` or `de`), which is what the Debian installer's keyboard-configuration/xkb-keymap takes: set the dom0's or its OS's kickstart.keyboard to one",
                fabric.fqdn(&dom0.name)
            ),
        ));
    }
    // pkgsel/include: Debian package names (Debian policy 5.6.1); no groups, exclusions or
    // patterns.
    let own = crate::model::debootstrap::own_packages(fabric, dom0.kickstart.as_deref(), &dom0.os);
    if let Some((list, level)) = own {
        for (i, p) in list.iter().enumerate() {
            let name = p.as_str();
            if !crate::model::debootstrap::is_package_name(name) {
                out.push((
                    "preseed-value-unusable",
                    setting_path(level, dom0, "packages").elem(i, None),
                    format!(
                        "`{}` is not a Debian package name (lowercase letters, digits, `+`, `-` and `.`), which is all the Debian installer's pkgsel/include takes: name the package itself",
                        crate::diagnostic::shown(name)
                    ),
                ));
            }
        }
    }
    out
}

fn setting_path(level: Level, dom0: &Dom0, key: &'static str) -> FieldPath {
    match level {
        Level::Site => FieldPath::root().key("kickstart").key(key),
        Level::Os => FieldPath::root()
            .key("os")
            .entry(dom0.os.as_str())
            .key("kickstart")
            .key(key),
        Level::Host => dom0.at.key("kickstart").key(key),
    }
}
