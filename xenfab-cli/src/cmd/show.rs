//! `xenfab show HOST [ARTEFACT]`: one host's artefacts, rendered, on stdout; nothing written.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use xenfab_core::model::HostRef;
use xenfab_core::output::{Entry, RelPath, Tree};
use xenfab_core::render::netboot::TFTP_DIR;
use xenfab_core::render::owners::Owners;

use super::boot::{TftpArgs, find_host};
use crate::fabric::{self, Failure};

/// Print one host's artefacts as `xenfab render` would write them, without writing anything.
///
/// Without ARTEFACT, the list of the host's artefacts, one a line in path order: `file PATH`,
/// `exec PATH` (mode 0755) or `link PATH -> TARGET`. With ARTEFACT, that file's exact bytes
/// (a link: its target and a newline), so that `xenfab show xen01 grub/menu.lst > f` gives
/// the file `xenfab render` writes. A dom0's artefacts are the files named after it, its
/// network boot links and everything in its directory `dom0s/<fqdn>/` (its guests' configs
/// included); a guest's are the files named after it, its links and its configs in its dom0's
/// directory. The site's files (DHCP, DNS, `inventory/hosts.csv`, …) list every host and are
/// no host's.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The host (short name or FQDN).
    host: String,
    /// The artefact to print: its path in the output tree (`kickstart/ullr.example.org.ks`),
    /// or its path in the dom0's directory (`xen/ullr`, `provision.sh`) or in `tftpboot/`
    /// (`pxelinux.cfg/ullr.example.org.cfg`).
    artefact: Option<String>,
    /// The fabric the host is in: `--fabric FILE`, `--profiles DIR` or `--example`.
    #[command(flatten)]
    fabric: fabric::FabricOpts,
    /// An output tree: render the hosts in the boot states `xenfab boot` recorded in its TFTP
    /// root (`DIR/tftpboot`), as `xenfab render -o DIR` does.
    #[arg(short, long, value_name = "DIR", conflicts_with = "tftp_root")]
    output: Option<PathBuf>,
    /// The TFTP root whose recorded boot states to render the hosts in.
    #[arg(long, value_name = "DIR")]
    tftp_root: Option<PathBuf>,
    #[command(flatten)]
    lock: fabric::LockArgs,
}

/// How many names an error lists at most.
const NAMED: usize = 40;

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut f = args.fabric.load("show")?.loaded.fabric;
    // the states `render -o DIR` would render the hosts in
    if let Some(tree) = TftpArgs::given(args.output.clone(), args.tftp_root.clone()) {
        super::status::recorded(&mut f, &tree, args.lock)?;
    }
    let f = &f;
    let host = find_host(f, &args.host)?;
    let fqdn = f.fqdn(host.name());
    let owners = Owners::new(f);
    let tree = owners
        .render(host)
        .map_err(|e| Failure::Io(format!("error: {}", xenfab_core::error_chain(&e))))?;
    let Some(wanted) = &args.artefact else {
        super::print(&listing(&tree))?;
        let what = match host {
            HostRef::Dom0(_) => "dom0".to_owned(),
            HostRef::Guest(d, _) => format!("guest of {}", f.fqdn(&d.name)),
        };
        crate::ui::note(&format!(
            "{fqdn} ({what}, state {}): {} artefact(s); the site's files (dhcp/, dns/, \
             inventory/hosts.csv, …) list every host and are not listed",
            host.state().as_str(),
            tree.len()
        ));
        return Ok(ExitCode::SUCCESS);
    };
    let dom0_dir = match host {
        HostRef::Dom0(d) | HostRef::Guest(d, _) => format!("dom0s/{}/", f.fqdn(&d.name)),
    };
    let found: Vec<(&RelPath, &Entry)> = tree
        .iter()
        .filter(|(path, _)| names(path.as_str(), &dom0_dir).any(|name| name == wanted))
        .collect();
    match found.as_slice() {
        [(_, Entry::File { contents, .. })] => super::print(contents)?,
        [(_, Entry::Symlink { target })] => super::print(&format!("{target}\n"))?,
        [] => {
            return Err(Failure::Invalid(format!(
                "error: `{fqdn}` has no artefact `{}`; its artefacts: {} (`xenfab show {}` \
                 lists them)",
                wanted.escape_debug(),
                some(tree.iter().map(|(p, _)| p.as_str())),
                host.name()
            )));
        }
        many => {
            return Err(Failure::Invalid(format!(
                "error: `{}` names {} artefacts of `{fqdn}`: {}; give its whole path",
                wanted.escape_debug(),
                many.len(),
                some(many.iter().map(|(p, _)| p.as_str()))
            )));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The names an artefact at `path` is found by: its path in the tree, and its path in the
/// dom0's directory `dom0_dir` or in the TFTP root when it is there.
fn names<'p>(path: &'p str, dom0_dir: &str) -> impl Iterator<Item = &'p str> {
    let tftp = path
        .strip_prefix(TFTP_DIR)
        .and_then(|rest| rest.strip_prefix('/'));
    std::iter::once(path)
        .chain(path.strip_prefix(dom0_dir))
        .chain(tftp)
}

/// The listing: one line an entry, in path order.
fn listing(tree: &Tree) -> String {
    let mut out = String::new();
    for (path, entry) in tree {
        let _ = match entry {
            Entry::File {
                executable: false, ..
            } => writeln!(out, "file  {path}"),
            Entry::File {
                executable: true, ..
            } => writeln!(out, "exec  {path}"),
            Entry::Symlink { target } => writeln!(out, "link  {path} -> {target}"),
        };
    }
    out
}

/// At most [`NAMED`] of `names`, comma-separated.
fn some<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let more = names.len().saturating_sub(NAMED);
    let mut list: Vec<&str> = names.take(NAMED).collect();
    let tail = format!("… ({more} more)");
    if more > 0 {
        list.push(&tail);
    }
    list.join(", ")
}
