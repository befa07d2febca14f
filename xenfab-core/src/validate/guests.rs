//! What a guest that boots a kernel of dom0 needs: one that boots its installer directly (a PV
//! guest booted by pygrub or a PVH guest in state `install` or `rescue`, a pypxeboot guest in
//! state `rescue`; see [`crate::model::installer_boot`]), and one whose mode is `pv-kernel` or
//! `pvh-kernel`.

use super::netboot::cmdline_limit;
use crate::diagnostic::Diagnostics;
use crate::model::{Fabric, installer_boot};

/// The longest command line Xen hands a PV or PVH guest's kernel: `MAX_GUEST_CMDLINE` is
/// 1024 bytes with its NUL (xen/include/public/xen.h, `start_info.cmd_line`; libxl cuts a
/// longer one).
const MAX_GUEST_CMDLINE: usize = 1023;

pub(super) fn check(fabric: &Fabric, diags: &mut Diagnostics) {
    check_direct_boot(fabric, diags);
    for dom0 in &fabric.dom0s {
        for g in dom0
            .guests
            .iter()
            .filter(|g| g.boots_installer_directly(fabric))
        {
            let (Some(os), Some(boot)) = (fabric.os.get(&g.os), installer_boot(fabric, g)) else {
                continue;
            };
            // The toolstack hands the line to the guest's kernel as it is (Xen's start_info
            // takes 1024 bytes, MAX_GUEST_CMDLINE in xen/include/public/xen.h), and the kernel
            // keeps as much as it would from a boot loader.
            let limit = cmdline_limit(os.family);
            let len = boot.cmdline.len();
            if len > limit {
                let (what, shorten) = if boot.rescue {
                    (
                        "the rescue arguments with the install tree",
                        format!("os[{}].install_url", g.os),
                    )
                } else {
                    ("the kickstart URL", "install.kickstart_url".to_owned())
                };
                diags.error(
                    "kernel-cmdline-too-long",
                    g.at.key("name"),
                    format!(
                        "the installer's kernel command line of `{}` is {len} bytes (boot image `{}`'s append, {what} and the network) \
                         but its kernel takes at most {limit}: shorten {shorten}, site.domain or boot_images[{}].append",
                        fabric.fqdn(&g.name),
                        g.boot_image,
                        g.boot_image
                    ),
                );
            }
        }
    }
}

/// `direct_boot` goes with the modes that boot a kernel of dom0, and only with them.
fn check_direct_boot(fabric: &Fabric, diags: &mut Diagnostics) {
    for g in fabric.dom0s.iter().flat_map(|d| &d.guests) {
        match (&g.direct_boot, g.mode.boots_dom0_kernel()) {
            (None, true) => diags.error(
                "direct-boot-mode",
                g.at.key("mode"),
                format!(
                    "a {} guest boots a kernel of dom0 but `{}` has no direct_boot: give direct_boot = {{ kernel = \"/vmlinuz\", ramdisk = \"/initrd.img\" }}",
                    g.mode.as_str(),
                    g.name
                ),
            ),
            (Some(_), false) => diags.error(
                "direct-boot-mode",
                g.at.key("direct_boot"),
                format!(
                    "guest `{}` is a {} guest, which does not boot a kernel of dom0: remove direct_boot, or make it mode = \"pv-kernel\" or \"pvh-kernel\"",
                    g.name,
                    g.mode.as_str()
                ),
            ),
            (Some(b), true) => {
                let len = b.cmdline_text().len();
                if len > MAX_GUEST_CMDLINE {
                    diags.error(
                        "kernel-cmdline-too-long",
                        g.at.key("direct_boot").key("cmdline"),
                        format!(
                            "the kernel command line of `{}` is {len} bytes but Xen hands a guest at most {MAX_GUEST_CMDLINE}: shorten direct_boot.cmdline",
                            g.name
                        ),
                    );
                }
            }
            (None, false) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Error;

    /// The example with skadi (pv-pygrub, EL5: 255 bytes of command line) in `state`, and its
    /// release's install tree `extra` characters longer: the rule's messages at skadi.
    fn skadi_errors(state: &str, extra: usize) -> Vec<String> {
        let long = format!(
            "http://192.168.96.1/centos/5.2/os/x86_64{}",
            "/x".repeat(extra)
        );
        let text = crate::EXAMPLE
            .replacen(
                "install_url = \"http://192.168.96.1/centos/5.2/os/x86_64\"",
                &format!("install_url = \"{long}\""),
                1,
            )
            .replacen(
                "  name = \"skadi\"",
                &format!("  state = \"{state}\"\n  name = \"skadi\""),
                1,
            );
        match crate::load(&text, "t.toml") {
            Ok(_) => Vec::new(),
            Err(Error::Invalid(diags)) => diags
                .iter()
                .filter(|d| {
                    d.code == "kernel-cmdline-too-long"
                        && d.path.to_string() == "dom0s[xen02].guests[skadi].name"
                })
                .map(|d| d.message.clone())
                .collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_rescue_variant_counts_its_install_tree() {
        // The rescue line has `rescue method=<tree> lang=… keymap=…` and the network: about
        // 170 bytes with the example's tree, too long once the tree is 120 bytes longer.
        assert_eq!(skadi_errors("rescue", 0), Vec::<String>::new());
        let e = skadi_errors("rescue", 60);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("the rescue arguments with the install tree and the network")
                && e[0].contains("shorten os[centos-5.2-x86_64].install_url, site.domain"),
            "{}",
            e[0]
        );
        // Installed from the kickstart, the tree is not on its line.
        assert_eq!(skadi_errors("install", 60), Vec::<String>::new());
    }
}
