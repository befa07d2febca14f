//! `xenfab render [FILE] -o DIR [--dry-run]`: write every artefact into an output tree.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::fabric::{self, FabricArg, Failure};

/// Render every artefact of a fabric into DIR, writing only what changed.
///
/// Files xenfab wrote earlier for hosts that are gone are removed; files it did not write are
/// never touched. Nothing is written when the fabric has errors.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fabric: FabricArg,
    /// The output directory.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Show what would change, as a unified diff on stdout, without writing.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let loaded = fabric::load(args.fabric.file.as_deref())?;
    write(loaded.fabric, &args.output, args.dry_run)
}

/// Renders `fabric` into `output` (or shows the diff): what `render` and `quattor render` do
/// once they have a fabric.
pub fn write(
    mut fabric: xenfab_core::Fabric,
    output: &Path,
    dry_run: bool,
) -> Result<ExitCode, Failure> {
    // Hosts switched with `xenfab boot` keep the state it recorded in the TFTP tree.
    let tftp_root = output.join(xenfab_core::render::netboot::TFTP_DIR);
    let states =
        xenfab_core::output::boot::read_states(&tftp_root).map_err(xenfab_core::Error::from)?;
    states.apply(&mut fabric);
    let tree = xenfab_core::render(&fabric).map_err(xenfab_core::Error::from)?;
    let plan = xenfab_core::output::plan(output, &tree).map_err(xenfab_core::Error::from)?;
    if dry_run {
        super::print(&plan.diff())?;
        eprintln!(
            "dry run: would write {}: {}",
            output.display(),
            plan.summary()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let summary = plan.apply().map_err(xenfab_core::Error::from)?;
    let mut lines = String::new();
    for (sign, paths) in [
        ("+", &summary.created),
        ("~", &summary.changed),
        ("-", &summary.removed),
    ] {
        for p in paths {
            let _ = writeln!(lines, "{sign} {p}");
        }
    }
    super::print(&lines)?;
    eprintln!("{}: {summary}", output.display());
    Ok(ExitCode::SUCCESS)
}
