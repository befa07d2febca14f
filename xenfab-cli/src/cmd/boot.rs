//! `xenfab boot HOST install|localboot`: switch what network boot gives one host.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use xenfab_core::model::{BootState, HostRef};
use xenfab_core::output::{LockKind, boot};
use xenfab_core::render::netboot::{TFTP_DIR, host_links};

use crate::fabric::{self, Failure};

/// Switch a host between installing and booting its local disk: its pxelinux, GRUB2 and iPXE
/// links in the TFTP tree are replaced atomically, and the state is recorded so that the next
/// `xenfab render` keeps it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The host (short name or FQDN).
    host: String,
    /// What network boot gives it next.
    #[arg(value_enum)]
    state: State,
    /// The fabric the host is in: `--fabric FILE`, `--profiles DIR` or `--example`.
    #[command(flatten)]
    fabric: fabric::FabricOpts,
    /// The output tree xenfab rendered into; its TFTP root is `DIR/tftpboot`.
    #[arg(
        short,
        long,
        value_name = "DIR",
        required_unless_present = "tftp_root",
        conflicts_with = "tftp_root"
    )]
    output: Option<PathBuf>,
    /// The TFTP root itself, where the rendered `tftpboot/` was copied to or is served from.
    #[arg(long, value_name = "DIR")]
    tftp_root: Option<PathBuf>,
    #[command(flatten)]
    lock: fabric::LockArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum State {
    Install,
    Localboot,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let loaded = args.fabric.load("boot")?.loaded;
    let f = &loaded.fabric;
    let wanted = args.host.to_ascii_lowercase();
    let host = f
        .hosts()
        .find(|h| h.name().as_str() == wanted || f.fqdn(h.name()) == wanted)
        .ok_or_else(|| {
            Failure::Invalid(format!(
                "error: no host `{}` in the fabric",
                args.host.escape_debug()
            ))
        })?;
    let state = match args.state {
        State::Install => BootState::Install,
        State::Localboot => BootState::Localboot,
    };
    let links = host_links(f, host, state);
    let fqdn = f.fqdn(host.name());
    if links.is_empty() {
        let why = match host {
            HostRef::Guest(_, g) => format!(
                "guest `{fqdn}` ({}) boots its own disk, not from the network",
                g.mode.as_str()
            ),
            HostRef::Dom0(_) => format!("`{fqdn}` does not boot from the network"),
        };
        return Err(Failure::Invalid(format!("error: {why}")));
    }
    // The lock of the tree `render` writes (so that a render and a switch take turns), or of
    // the TFTP root given.
    let (root, locked) = match (&args.tftp_root, &args.output) {
        (Some(root), _) => (root.clone(), root.clone()),
        (None, Some(out)) => (out.join(TFTP_DIR), out.clone()),
        (None, None) => {
            return Err(Failure::Io(
                "error: give -o DIR or --tftp-root DIR".to_owned(),
            ));
        }
    };
    if !locked.is_dir() {
        return Err(Failure::Io(format!(
            "error: `{}` is not a directory: render the tree first",
            locked.display()
        )));
    }
    let _lock = args.lock.lock(&locked, LockKind::Exclusive)?;
    boot::switch(&root, &fqdn, state, &links)?;
    let mut out = String::new();
    for (link, target) in &links {
        let _ = writeln!(out, "{link} -> {target}");
    }
    super::print(&out)?;
    eprintln!(
        "{fqdn}: {}",
        if matches!(state, BootState::Install) {
            "install"
        } else {
            "localboot"
        }
    );
    Ok(ExitCode::SUCCESS)
}
