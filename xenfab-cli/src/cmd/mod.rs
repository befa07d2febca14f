//! The subcommands, one file each.

mod example;
mod mac;
mod render;
mod schema;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::fabric::Failure;

/// Render every provisioning artefact of a Xen fabric (kickstart, PXE, DHCP, GRUB, toolstack
/// and guest configs, LVM) from one description, checked as a whole.
///
/// Exit status: 0 ok, 1 invalid input, 2 usage or I/O error. Data goes to stdout,
/// diagnostics to stderr.
#[derive(Debug, Parser)]
#[command(name = "xenfab", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Validate(validate::Args),
    Render(render::Args),
    Mac(mac::Args),
    Example(example::Args),
    Schema(schema::Args),
}

pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Mac(args) => mac::run(&args),
        Command::Example(args) => example::run(&args),
        Command::Schema(args) => schema::run(&args),
    }
}

/// Writes `text` to stdout; a closed pipe is not an error worth a message.
pub fn print(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Io(format!("error: cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
