//! The subcommands, one file each.

mod boot;
mod completions;
mod dhcpd_config;
mod example;
mod ks;
mod mac;
mod man;
mod quattor;
mod render;
mod report;
mod schema;
mod serve;
mod show;
mod status;
mod validate;
mod xend_config;

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
    #[command(flatten)]
    pub global: crate::ui::GlobalArgs,
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
    Ks(ks::Args),
    XendConfig(xend_config::Args),
    DhcpdConfig(dhcpd_config::Args),
    Boot(boot::Args),
    Status(status::Args),
    Show(show::Args),
    Report(report::Args),
    Quattor(quattor::Args),
    Serve(serve::Args),
    Completions(completions::Args),
    Man(man::Args),
}

impl Cli {
    /// Parses `args` (the program's name first) as `Cli::parse` does, but with clap's help,
    /// usage and errors coloured as `--color` says: clap on its own looks only at the stream
    /// and `NO_COLOR`, as `--color auto` does. On `--help`, `--version` or a usage error it
    /// prints and exits, as `Cli::parse` does.
    pub fn parse_colored(args: Vec<std::ffi::OsString>) -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = Cli::command().color(crate::ui::clap_color(&args));
        let parsed = command
            .try_get_matches_from_mut(args)
            .and_then(|matches| Cli::from_arg_matches(&matches));
        parsed.unwrap_or_else(|e| e.format(&mut command).exit())
    }
}

pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Render(args) => render::run(&args),
        Command::Mac(args) => mac::run(&args),
        Command::Example(args) => example::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Ks(args) => ks::run(&args),
        Command::XendConfig(args) => xend_config::run(&args),
        Command::DhcpdConfig(args) => dhcpd_config::run(&args),
        Command::Boot(args) => boot::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Show(args) => show::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Quattor(args) => quattor::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// Writes `text` to stdout; a closed pipe is not an error worth a message.
pub fn print(text: &str) -> Result<(), Failure> {
    print_with(|out| std::io::Write::write_all(out, text.as_bytes()))
}

/// Writes to stdout (buffered) what `write` writes; a closed pipe is not an error worth a
/// message.
pub fn print_with(
    write: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'_>>) -> std::io::Result<()>,
) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::Io(format!("error: cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

/// Writes `text` to `path` atomically (the output tree's own atomic write: a temporary file
/// with a unique name beside it, synced, renamed over it, the directory synced), so that a
/// reader never sees half a file. The file keeps its permissions (and owner, as root).
pub fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), Failure> {
    xenfab_core::output::replace_file(path, text.as_bytes())
        .map_err(|e| Failure::Io(format!("error: {}", xenfab_core::error_chain(&e))))
}

/// Reads the file a command edits; with `--in-place` it must be a real file, not `-`.
pub fn in_place_input(file: &std::path::Path, in_place: bool) -> Result<(String, String), Failure> {
    if in_place && file == std::path::Path::new("-") {
        return Err(Failure::Io(
            "error: --in-place needs a file, not `-` (standard input)".to_owned(),
        ));
    }
    crate::fabric::read_file(file)
}
