//! Reading the fabric a command works on, and reporting why it cannot be used.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xenfab_core::{Diagnostics, Error, Loaded};

/// Exit status: the input is invalid.
pub const INVALID: u8 = 1;
/// Exit status: usage or I/O error.
pub const IO: u8 = 2;

/// Why a command failed, with the exit status it maps to.
#[derive(Debug)]
pub enum Failure {
    /// Bad input: a parse error, or a fabric with errors (diagnostics already printed).
    Invalid(String),
    /// A usage or I/O problem.
    Io(String),
}

impl Failure {
    /// Prints the failure on stderr and gives its exit status.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Invalid(msg) => {
                if !msg.is_empty() {
                    eprintln!("xenfab: {msg}");
                }
                ExitCode::from(INVALID)
            }
            Failure::Io(msg) => {
                eprintln!("xenfab: {msg}");
                ExitCode::from(IO)
            }
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        match e {
            Error::Parse(e) => Failure::Invalid(format!("error: {e}")),
            Error::Invalid(diags) => {
                print_diagnostics(&diags);
                Failure::Invalid(format!(
                    "{} error(s), {} warning(s): nothing written",
                    diags.error_count(),
                    diags.warning_count()
                ))
            }
            Error::Output(e) => Failure::Io(format!("error: {}", xenfab_core::error_chain(&e))),
            other => Failure::Io(format!("error: {}", xenfab_core::error_chain(&other))),
        }
    }
}

pub fn print_diagnostics(diags: &Diagnostics) {
    for d in diags {
        eprintln!("{d}");
    }
}

/// Reads and checks the fabric at `file` (`-` for standard input), or the built-in example
/// when there is none. Warnings are printed on stderr.
pub fn load(file: Option<&Path>) -> Result<Loaded, Failure> {
    let (text, origin) = read(file)?;
    let loaded = xenfab_core::load(&text, &origin)?;
    print_diagnostics(&loaded.warnings);
    Ok(loaded)
}

/// The text of the fabric file and its name for messages.
pub fn read(file: Option<&Path>) -> Result<(String, String), Failure> {
    match file {
        None => Ok((xenfab_core::EXAMPLE.to_owned(), "<example>".to_owned())),
        Some(p) if p == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::Io(format!("error: cannot read standard input: {e}")))?;
            Ok((text, "<stdin>".to_owned()))
        }
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::Io(format!("error: cannot read `{}`: {e}", p.display())))?;
            Ok((text, p.display().to_string()))
        }
    }
}

/// The fabric file argument of every command that reads one.
#[derive(Debug, clap::Args)]
pub struct FabricArg {
    /// The fabric file (TOML, or JSON by its `.json` extension; `-` reads standard input).
    /// Without it, the built-in example site.
    pub file: Option<PathBuf>,
}
