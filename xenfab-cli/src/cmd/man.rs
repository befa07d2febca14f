//! `xenfab man`: the manual pages, made by clap_mangen from the same command definition as
//! `--help`.

use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::fabric::Failure;

/// Print xenfab's manual page (roff: `xenfab man | man -l -`); with `--dir`, write it and a
/// page for each command (`xenfab.1`, `xenfab-render.1`, …) into DIR, e.g. a package's
/// `/usr/share/man/man1`, and list the files written.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write every page into this directory (it must exist) instead of printing `xenfab.1`.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// The page of `command`, named `name` (`xenfab`, `xenfab-render`, …).
fn page(command: clap::Command, name: &str) -> Result<Vec<u8>, Failure> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(command.name(name.to_owned()))
        .render(&mut roff)
        .map_err(|e| Failure::Io(format!("error: cannot make the page of {name}: {e}")))?;
    Ok(roff)
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let command = super::Cli::command();
    let Some(dir) = &args.dir else {
        let roff = page(command, "xenfab")?;
        super::print_with(|out| std::io::Write::write_all(out, &roff))?;
        return Ok(ExitCode::SUCCESS);
    };
    if !dir.is_dir() {
        return Err(Failure::Io(format!(
            "error: `{}` is not a directory",
            dir.display()
        )));
    }
    let mut pages = vec![("xenfab".to_owned(), command.clone())];
    for sub in command.get_subcommands() {
        pages.push((format!("xenfab-{}", sub.get_name()), sub.clone()));
    }
    // every page made before any is written: a failure leaves no half set
    let mut texts = Vec::new();
    for (name, command) in pages {
        let roff = page(command, &name)?;
        let text = String::from_utf8(roff)
            .map_err(|e| Failure::Io(format!("error: the page of {name} is not UTF-8: {e}")))?;
        texts.push((dir.join(format!("{name}.1")), text));
    }
    let mut written = String::new();
    for (path, text) in &texts {
        super::write_atomically(path, text)?;
        let _ = writeln!(written, "{}", path.display());
    }
    super::print(&written)?;
    Ok(ExitCode::SUCCESS)
}
