//! Network boot of UEFI machines: what GRUB EFI reads besides the per-host files of
//! [`super::netboot`]'s `grub2/`. Rendered when DHCP hands x86-64 UEFI clients a boot file
//! ([`crate::model::Fabric::boot_files`]: the site's `uefi` entry, or
//! [`crate::model::boot_files::DEFAULT_UEFI`] when a dom0 boots with UEFI firmware).
//!
//! - `tftpboot/grub2/grub.cfg`, a link to `localboot.cfg`: what GRUB reads after
//!   `grub.cfg-01-<mac>` and `grub.cfg-<HEXIP>` (and its shorter prefixes) are not there, so a
//!   machine xenfab does not know boots its own disk rather than stopping at a GRUB prompt.
//!   GRUB 2.06 `grub-core/net/net.c` `grub_net_search_config_file` tries the MAC name, then
//!   the HEXIP names, then leaves the plain `grub.cfg` to its caller
//!   (`grub-core/normal/main.c` `grub_cmd_normal`).
//! - `tftpboot/grub/grub.cfg`: Debian's signed netboot image (`grubnetx64.efi.signed`,
//!   grub-efi-amd64-signed) has the prefix `/grub` built in (debian/build-efi-images:
//!   `grub-mkimage … -p /grub`), reads only `/grub/grub.cfg` wherever it was loaded from,
//!   and does not look for per-host names by itself (seen in tests/validators'
//!   `test_efi_boot.py` boots: its memdisk config `source`s `$prefix/grub.cfg`). This file
//!   points its prefix at `grub2/` and runs `normal`, whose lookup then finds the host's
//!   file there. Images that look beside themselves (Fedora and RHEL's GRUB takes the
//!   directory it was loaded from, `fw_path`) find `grub2/` directly when DHCP hands them
//!   `grub2/grubx64.efi`.

use serde::Serialize;

use super::netboot::TFTP_DIR;
use super::templates;
use crate::error::RenderError;
use crate::model::Fabric;
use crate::output::Tree;
use crate::render::Part;

#[derive(Serialize)]
struct PrefixView {
    /// The UEFI boot file DHCP hands out.
    uefi: String,
}

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    // site-wide files only
    if part != Part::Site {
        return Ok(());
    }
    let Some(uefi) = fabric.boot_files().uefi else {
        return Ok(());
    };
    tree.insert_symlink(&format!("{TFTP_DIR}/grub2/grub.cfg"), "localboot.cfg")?;
    tree.insert_file(
        &format!("{TFTP_DIR}/grub/grub.cfg"),
        templates::render(
            env,
            "grub-efi-prefix.cfg.j2",
            &PrefixView {
                uefi: uefi.as_str().to_owned(),
            },
        )?,
    )?;
    Ok(())
}
