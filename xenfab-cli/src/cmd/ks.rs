//! `xenfab ks reinstall FILE [-o OUT]`: make a dom0's kickstart file reinstall its system and
//! keep its guests' volumes.

use std::path::PathBuf;
use std::process::ExitCode;

use xenfab_core::render::kickstart::reinstall::{self, Options};

use crate::fabric::{self, Failure};

/// Kickstart files.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    Reinstall(ReinstallArgs),
}

/// Convert a dom0's kickstart file into one that reinstalls dom0's own system and keeps every
/// guest volume, as the seed's ks2reinst.sh meant to: `clearpart` and the member partitions
/// go, arrays and volume groups are reused (`--useexisting`; `--noformat` for the guests'
/// volume group and the arrays under it), dom0's logical volumes are reformatted. Every other
/// line is kept as it was. A layout that cannot be made safe is refused, naming the line.
#[derive(Debug, clap::Args)]
struct ReinstallArgs {
    /// The kickstart file (`-` reads standard input).
    file: PathBuf,
    /// Write the result here instead of standard output.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// A volume group whose volumes must be kept (repeatable). Default: every volume group
    /// with no `logvol` of dom0's (the seed's `xenvg`).
    #[arg(long = "keep-vg", value_name = "VG")]
    keep_vgs: Vec<String>,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let Command::Reinstall(args) = &args.command;
    let (text, origin) = fabric::read_file(&args.file)?;
    let converted = reinstall::reinstall(
        &text,
        &Options {
            keep_vgs: args.keep_vgs.clone(),
        },
    )
    .map_err(|e| {
        let hint = if e.line().is_none() {
            " (--keep-vg VG names the guests' volume group)"
        } else {
            ""
        };
        Failure::Invalid(format!(
            "error: {origin}: {}{hint}",
            xenfab_core::error_chain(&e)
        ))
    })?;
    for note in &converted.notes {
        eprintln!("{origin}: {note}");
    }
    match &args.output {
        Some(out) => super::write_atomically(out, &converted.text)?,
        None => super::print(&converted.text)?,
    }
    Ok(ExitCode::SUCCESS)
}
