//! `xenfab boot HOST [install|reinstall|localboot|rescue]`: switch what network boot gives one
//! host, or print its state (docs/lifecycle.md).

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use xenfab_core::model::{BootState, HostRef, VirtMode};
use xenfab_core::output::{LockKind, boot};
use xenfab_core::render::netboot::{BootRefusal, TFTP_DIR, switch_plan};

use crate::fabric::{self, Failure};

/// Switch what network boot gives a host next: the installer (`install`), dom0's reinstall that
/// keeps its guests' volumes (`reinstall`), its local disk (`localboot`) or the installer's
/// rescue mode (`rescue`). Its pxelinux, GRUB2 and iPXE links in the TFTP tree are replaced
/// atomically, and the state is recorded so that the next `xenfab render` keeps it.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The host (short name or FQDN).
    host: String,
    /// What network boot gives it next. Without it, the host's state is printed: the one
    /// `xenfab boot` recorded in the TFTP tree, or else the fabric's.
    #[arg(value_enum)]
    state: Option<State>,
    /// Install a dom0 that has guests although the install wipes their volumes (its kickstart
    /// clears every disk); without it, `install` of such a dom0 is refused: use `reinstall`.
    #[arg(long)]
    wipe_guests: bool,
    /// The fabric the host is in: `--fabric FILE`, `--profiles DIR` or `--example`.
    #[command(flatten)]
    fabric: fabric::FabricOpts,
    #[command(flatten)]
    tree: TftpArgs,
    #[command(flatten)]
    lock: fabric::LockArgs,
}

/// Where the TFTP tree is whose links `boot` switches and whose recorded states `boot` and
/// `status` read.
#[derive(Debug, clap::Args)]
pub struct TftpArgs {
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
}

impl TftpArgs {
    /// The tree given as `-o DIR` or `--tftp-root DIR` by a command where it is optional
    /// (`show`); `None` when neither is given.
    pub fn given(output: Option<PathBuf>, tftp_root: Option<PathBuf>) -> Option<TftpArgs> {
        (output.is_some() || tftp_root.is_some()).then_some(TftpArgs { output, tftp_root })
    }

    /// The TFTP root, and the directory to lock: the tree `render` writes (so that a render
    /// and a switch take turns), or the TFTP root given. It must be there: a mistyped
    /// directory is an error, not a tree where no host was ever switched.
    pub fn locate(&self) -> Result<(PathBuf, PathBuf), Failure> {
        let (root, locked) = match (&self.tftp_root, &self.output) {
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
        Ok((root, locked))
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum State {
    /// The installer with the host's kickstart (`<fqdn>.ks`); on a dom0 it wipes every disk.
    Install,
    /// dom0 only: the installer with `<fqdn>.reinstall.ks`, which keeps the guests' volumes.
    Reinstall,
    /// The local disk.
    Localboot,
    /// The installer's rescue mode (guests that boot their own disk, and pypxeboot guests,
    /// boot it directly: their config changes at the next render).
    Rescue,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let loaded = args.fabric.load("boot")?.loaded;
    let f = &loaded.fabric;
    let host = find_host(f, &args.host)?;
    let Some(wanted_state) = args.state else {
        return super::status::print_one(f, host, &args.tree, args.lock);
    };
    let state = match wanted_state {
        State::Install => BootState::Install,
        State::Reinstall => BootState::Reinstall,
        State::Localboot => BootState::Localboot,
        State::Rescue => BootState::Rescue,
    };
    let fqdn = f.fqdn(host.name());
    let plan = switch_plan(f, host, state, args.wipe_guests).map_err(|refusal| {
        Failure::Invalid(match refusal {
            BootRefusal::State(why) => format!(
                "error: `{fqdn}` cannot be in state `{}`: {why}",
                state.as_str()
            ),
            BootRefusal::WipesGuests {
                guests,
                reinstall_keeps,
            } => format!(
                "error: installing dom0 `{fqdn}` wipes its disks and the volumes of its {guests} \
                 guest{}: {}, or give --wipe-guests",
                if guests == 1 { "" } else { "s" },
                if reinstall_keeps {
                    format!("use `xenfab boot {} reinstall` to keep them", host.name())
                } else {
                    "it has no reinstall that keeps them: move them off first".to_owned()
                },
            ),
            BootRefusal::NotNetworkBooted => {
                format!("error: `{fqdn}` does not boot from the network")
            }
        })
    })?;
    let links = plan.links;
    // A guest whose config says what it boots (BootSwitch::by_config): only its state is
    // recorded, and the next render writes its config into its dom0's provision.sh.
    let by_config = match host {
        HostRef::Guest(d, g) if plan.by_config => Some((d, g)),
        _ => None,
    };
    let (root, locked) = args.tree.locate()?;
    let _lock = args.lock.lock(&locked, LockKind::Exclusive)?;
    boot::switch(&root, &fqdn, state, &links)?;
    let mut out = String::new();
    for (link, target) in &links {
        let _ = writeln!(out, "{link} -> {target}");
    }
    super::print(&out)?;
    crate::ui::note(&format!("{fqdn}: {}", state.as_str()));
    if let Some((d, g)) = by_config {
        let boots = match state {
            BootState::Install if debian(f, g) => {
                "its own disk, which its debootstrap install (install/<guest>.sh) fills while blank"
            }
            _ if debian(f, g) => "its own disk",
            BootState::Install => "the installer's kernel with its kickstart",
            BootState::Rescue => "the installer's kernel in rescue mode",
            _ if g.mode == VirtMode::PvPypxeboot => "pypxeboot, which reads the links above",
            BootState::Localboot | BootState::Reinstall => "its own disk",
        };
        crate::ui::note(&format!(
            "{fqdn} is a {} guest: what it boots in this state is in its config; run `xenfab render` \
             to write its config ({boots}) into the provision.sh of `{}`, and run that script on the dom0",
            g.mode.as_str(),
            f.fqdn(&d.name)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The host `name` (short name or FQDN) of `fabric`, or an error naming it (exit 1).
pub fn find_host<'f>(fabric: &'f xenfab_core::Fabric, name: &str) -> Result<HostRef<'f>, Failure> {
    /// How many of the fabric's hosts the error names.
    const NAMED: usize = 12;
    fabric.host(name).ok_or_else(|| {
        let all = fabric.hosts().count();
        let mut names: Vec<&str> = fabric
            .hosts()
            .take(NAMED)
            .map(|h| h.name().as_str())
            .collect();
        if all > NAMED {
            names.push("…");
        }
        Failure::Invalid(format!(
            "error: no host `{}` in the fabric (its {all} host(s): {}; `xenfab status` lists them)",
            name.escape_debug(),
            names.join(", ")
        ))
    })
}

/// True for a Debian guest: debootstrap installs it from its dom0 (render/debootstrap).
fn debian(f: &xenfab_core::Fabric, g: &xenfab_core::model::Guest) -> bool {
    f.os.get(&g.os)
        .is_some_and(|o| o.family == xenfab_core::model::OsFamily::Debian)
}
