//! What the debootstrap install of a Debian guest needs (render/debootstrap): a mirror
//! debootstrap can read, Debian package names, a tarball name `--unpack-tarball` takes, and a
//! kernel of dom0 told where its root is and what its NIC is called.
//!
//! Checked for each Debian guest in state `install` that its dom0 and mode allow (the others
//! are `boot-state-unsupported`). [`problems`] also decides whether render/debootstrap writes
//! the guest's script: a state recorded by `xenfab boot` can put a guest in `install` past
//! validation, and such a guest gets no script (as a Debian dom0 gets no preseed file).

use crate::diagnostic::{Diagnostics, FieldPath};
use crate::model::debootstrap::{
    TARBALL_SUFFIXES, debootstrap_installs, is_package_name, own_packages,
};
use crate::model::{BootState, Dom0, Fabric, Guest, HostRef, Level};

const CODE: &str = "debootstrap-unusable";

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    // An OS's problems are reported once, at the OS, whichever of its guests shows them.
    let mut seen = std::collections::BTreeSet::new();
    for dom0 in &fabric.dom0s {
        for g in &dom0.guests {
            if !debootstrap_installs(fabric, g) {
                continue;
            }
            for (code, path, message) in problems(fabric, dom0, g) {
                if seen.insert(path.to_string()) {
                    diags.error(code, path, message);
                }
            }
        }
    }
}

/// Why the debootstrap install of Debian guest `g` cannot be rendered, each with its rule code
/// and path; empty when it can, or when `install` is refused for it (`boot-state-unsupported`
/// says why).
pub(crate) fn problems(
    fabric: &Fabric,
    dom0: &Dom0,
    g: &Guest,
) -> Vec<(&'static str, FieldPath, String)> {
    let mut out = Vec::new();
    if BootState::Install
        .refusal(fabric, HostRef::Guest(dom0, g))
        .is_some()
    {
        return out;
    }
    let Some(os) = fabric.os.get(&g.os) else {
        return out;
    };
    let os_path = || FieldPath::root().key("os").entry(g.os.as_str());
    // debootstrap reads http, https and file mirrors (its `download_*` functions: wget for
    // http(s), cp for file:), and appends `dists/<suite>/…` to the URL.
    let url = &os.install_url;
    let usable = match url.scheme() {
        "http" | "https" => true,
        "file" => url.host_str().is_none_or(str::is_empty),
        _ => false,
    } && url.query().is_none()
        && url.fragment().is_none();
    if !usable {
        out.push((
            CODE,
            os_path().key("install_url"),
            format!(
                "debootstrap reads a mirror from an http, https or file:/// URL without a query or fragment, not `{url}`: give os[{}].install_url such a URL (file:/// for a mirror on dom0)",
                g.os
            ),
        ));
    }
    if let Some(t) = &os.debootstrap_tarball {
        if !TARBALL_SUFFIXES.iter().any(|s| t.as_str().ends_with(s)) {
            out.push((
                CODE,
                os_path().key("debootstrap_tarball"),
                format!(
                    "debootstrap --unpack-tarball takes a file ending in .tgz, .tar.gz, .tar.xz or .tar, not `{t}`: name the tarball so"
                ),
            ));
        }
    }
    if let Some((list, level)) = own_packages(fabric, g.kickstart.as_deref(), &g.os) {
        for (i, p) in list.iter().enumerate() {
            if !is_package_name(p.as_str()) {
                let at = match level {
                    Level::Host => g.at.key("kickstart"),
                    _ => os_path().key("kickstart"),
                };
                out.push((
                    CODE,
                    at.key("packages").elem(i, None),
                    format!(
                        "`{}` is not a Debian package name (lowercase letters, digits, `+`, `-` and `.`), which is all debootstrap's --include takes: name the package itself",
                        crate::diagnostic::shown(p.as_str())
                    ),
                ));
            }
        }
    }
    // A kernel of dom0 boots the installed volume: it must be told its root (the whole volume,
    // the first disk) and to call the NIC eth0, as /etc/network/interfaces does.
    if let (Some(b), Some(disk)) = (&g.direct_boot, g.disks.first()) {
        let root = format!("root=/dev/{}", disk.vdev);
        let words: Vec<&str> = b.cmdline.iter().map(crate::model::Token::as_str).collect();
        let missing: Vec<&str> = [root.as_str(), "net.ifnames=0"]
            .into_iter()
            .filter(|w| !words.contains(w))
            .collect();
        if !missing.is_empty() {
            out.push((
                CODE,
                g.at.key("direct_boot").key("cmdline"),
                format!(
                    "`{}` boots dom0's kernel on the volume its debootstrap install fills (one file system on the whole disk, NIC eth0 in /etc/network/interfaces), but its command line lacks `{}`: add it",
                    fabric.fqdn(&g.name),
                    missing.join(" ")
                ),
            ));
        }
    }
    out
}
