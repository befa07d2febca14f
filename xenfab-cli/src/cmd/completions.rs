//! `xenfab completions SHELL`: the shell's completion script, made by clap_complete from the
//! same command definition as `--help`.

use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::fabric::Failure;

/// Print the completion script of SHELL for xenfab, e.g. into bash's completion directory:
/// `xenfab completions bash > /etc/bash_completion.d/xenfab`, or for zsh
/// `xenfab completions zsh > "${fpath[1]}/_xenfab"`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let mut command = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "xenfab", &mut script);
    super::print_with(|out| std::io::Write::write_all(out, &script))?;
    Ok(ExitCode::SUCCESS)
}
