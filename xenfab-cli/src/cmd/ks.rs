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
/// line is kept as it was. The file is read as anaconda reads it: lines end at \n only (CR,
/// CRLF and other line breaks are refused), no continuation lines. A layout that cannot be
/// made safe is refused, naming the line; the result is checked again before it is written.
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
    /// A logical volume of dom0's own inside a kept volume group, to reuse and reformat
    /// (repeatable). Any other `logvol` in a kept group must be `--noformat`.
    #[arg(long = "reformat-lv", value_name = "VG/LV")]
    reformat_lvs: Vec<String>,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let Command::Reinstall(args) = &args.command;
    let (text, origin) = fabric::read_file(&args.file)?;
    let converted = reinstall::reinstall(
        &text,
        &Options {
            keep_vgs: args.keep_vgs.clone(),
            reformat_lvs: args.reformat_lvs.clone(),
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
            escaped(&xenfab_core::error_chain(&e))
        ))
    })?;
    for note in &converted.notes {
        crate::ui::note(&format!("{origin}: {}", escaped(note)));
    }
    match &args.output {
        Some(out) => super::write_atomically(out, &converted.text)?,
        None => super::print(&converted.text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A message with the characters that could act on a terminal escaped: controls (the reader
/// refuses them in command lines already) and the bidirectional overrides.
fn escaped(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_escaped() {
        assert_eq!(
            super::escaped("part a\u{1b}[2J\u{202e}b: x"),
            "part a\\u{1b}[2J\\u{202e}b: x"
        );
    }
}
