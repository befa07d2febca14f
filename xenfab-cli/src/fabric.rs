//! Reading the fabric a command works on, and reporting why it cannot be used.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xenfab_core::input::text::{self, ReadError};
use xenfab_core::output::OutputError;
use xenfab_core::{Diagnostics, Error, Format, Loaded, ParseError};

use crate::ui::Source;

/// Exit status: the input is invalid.
pub const INVALID: u8 = 1;
/// Exit status: usage or I/O error.
pub const IO: u8 = 2;

/// The origin of the built-in example site in messages and in the manifest.
pub const EXAMPLE_ORIGIN: &str = "<example>";

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
                    crate::ui::eprint_line(&format!("xenfab: {}", crate::ui::tagged(&msg)));
                }
                ExitCode::from(INVALID)
            }
            Failure::Io(msg) => {
                crate::ui::eprint_line(&format!("xenfab: {}", crate::ui::tagged(&msg)));
                ExitCode::from(IO)
            }
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::of(e, None)
    }
}

impl Failure {
    /// The failure of `e`, an error of the fabric read from `source` where it is known: its
    /// diagnostics are printed, on a terminal with the lines of the file they point at.
    pub fn of(e: Error, source: Option<&Source<'_>>) -> Failure {
        match e {
            Error::Parse(e) => {
                let mut msg = format!("error: {e}");
                if crate::ui::get().err_terminal {
                    if let Some(snippet) = source.and_then(|s| parse_snippet(&e, s)) {
                        msg = format!("{msg}\n{}", snippet.trim_end());
                    }
                }
                Failure::Invalid(msg)
            }
            Error::Invalid(diags) => {
                crate::ui::diagnostics(&diags, source);
                Failure::Invalid(format!(
                    "{} error(s), {} warning(s): nothing written",
                    diags.error_count(),
                    diags.warning_count()
                ))
            }
            Error::Output(e) => Failure::from(e),
            other => Failure::Io(format!("error: {}", xenfab_core::error_chain(&other))),
        }
    }
}

impl From<OutputError> for Failure {
    fn from(e: OutputError) -> Failure {
        let msg = xenfab_core::error_chain(&e);
        match e {
            // Refusals that protect a tree: the input is wrong for this tree, not the system.
            OutputError::OtherSite { .. } | OutputError::MassRemoval { .. } => Failure::Invalid(
                format!("error: {msg}: nothing written; give --force to render anyway"),
            ),
            OutputError::Locked { .. } => Failure::Io(format!(
                "error: {msg}: try again when it is done, or leave out --no-wait to wait"
            )),
            _ => Failure::Io(format!("error: {msg}")),
        }
    }
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Failure {
        match e {
            ReadError::Invalid(e) => Failure::Invalid(format!("error: {e}")),
            other => Failure::Io(format!("error: {}", xenfab_core::error_chain(&other))),
        }
    }
}

/// A parse error as a diagnostic, for its snippet.
fn parse_snippet(e: &ParseError, source: &Source<'_>) -> Option<String> {
    let d = xenfab_core::Diagnostic {
        severity: xenfab_core::Severity::Error,
        code: "parse-error",
        path: xenfab_core::FieldPath::root(),
        message: e.message.clone(),
        location: Some(e.location.clone()),
        related: None,
    };
    crate::ui::snippet(&d, source, crate::ui::get().color_err)
}

/// Prints `diags` on stderr (with `--quiet`, only the errors).
pub fn print_diagnostics(diags: &Diagnostics) {
    crate::ui::diagnostics(diags, None);
}

/// Reads the text of the file at `path` (`-` for standard input), at most 64 MiB of UTF-8,
/// and its name for messages.
pub fn read_file(path: &Path) -> Result<(String, String), Failure> {
    Ok(read_text(Some(path))?)
}

/// The text of the fabric file (`None`: the built-in example) and its name for messages.
pub fn read(file: Option<&Path>) -> Result<(String, String), Failure> {
    Ok(read_text(file)?)
}

/// [`read`], with the reason it fails as the core gives it.
pub fn read_text(file: Option<&Path>) -> Result<(String, String), ReadError> {
    match file {
        None => Ok((xenfab_core::EXAMPLE.to_owned(), EXAMPLE_ORIGIN.to_owned())),
        Some(p) if p == Path::new("-") => {
            let origin = "<stdin>";
            Ok((
                text::read_text(std::io::stdin().lock(), origin)?,
                origin.to_owned(),
            ))
        }
        Some(p) => Ok((text::read_path(p)?, p.display().to_string())),
    }
}

/// A checked fabric and where it came from (recorded in an output tree's manifest).
#[derive(Debug)]
pub struct Sourced {
    pub loaded: Loaded,
    pub origin: String,
}

/// The fabric argument of the commands that only read (`validate`, `report`): a file, or the
/// built-in example when none is given.
#[derive(Debug, clap::Args)]
pub struct FabricArg {
    /// The fabric file (TOML, or JSON by its `.json` extension; `-` reads standard input).
    /// Without it, the built-in example site (this command only reads, so nothing is lost).
    #[arg(conflicts_with_all = ["example", "fabric"])]
    file: Option<PathBuf>,
    /// The fabric file, as the commands that take it as an option spell it (`boot`,
    /// `xend-config`, `dhcpd-config`): the same as FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "example")]
    fabric: Option<PathBuf>,
    /// The built-in example site, said explicitly (the default when FILE is left out).
    #[arg(long)]
    pub example: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

impl FabricArg {
    /// The fabric file given, as FILE or `--fabric` (`None`: the built-in example).
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref().or(self.fabric.as_deref())
    }
}

/// `--format`: the fabric file's syntax, when its name does not say it.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct FormatArg {
    /// The fabric file's syntax. By default JSON for a `.json` file and TOML for any other
    /// (standard input included).
    #[arg(long, value_enum, value_name = "FORMAT")]
    format: Option<FormatName>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatName {
    Toml,
    Json,
}

impl FormatArg {
    /// The syntax to read `origin` (a file's name, or `<stdin>`) with.
    pub fn of(self, origin: &str) -> Format {
        match self.format {
            Some(FormatName::Toml) => Format::Toml,
            Some(FormatName::Json) => Format::Json,
            None => Format::from_file_name(origin),
        }
    }
}

/// The fabric argument of `render`: a file, or `--example`; never the example by default,
/// since a forgotten file must not replace a site's tree with the example's.
#[derive(Debug, clap::Args)]
pub struct WriterFabricArg {
    /// The fabric file (TOML, or JSON by its `.json` extension; `-` reads standard input).
    #[arg(conflicts_with_all = ["example", "fabric"])]
    file: Option<PathBuf>,
    /// The fabric file, as the commands that take it as an option spell it (`boot`,
    /// `xend-config`, `dhcpd-config`): the same as FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "example")]
    fabric: Option<PathBuf>,
    /// Render the built-in example site (`xenfab example` prints it) instead of a file.
    #[arg(long)]
    pub example: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

impl WriterFabricArg {
    /// The fabric, or exit status 2 saying what to give.
    pub fn load(&self, command: &str) -> Result<Sourced, Failure> {
        match (
            self.file.as_deref().or(self.fabric.as_deref()),
            self.example,
        ) {
            (Some(file), _) => load_sourced(Some(file), self.format),
            (None, true) => load_sourced(None, self.format),
            (None, false) => Err(Failure::Io(format!(
                "error: `xenfab {command}` writes files and needs a fabric: give a fabric FILE \
                 (`-` for standard input), or --example for the built-in example site"
            ))),
        }
    }
}

/// The fabric options of the commands that write and take the fabric as an option (`boot`,
/// `dhcpd-config`, `xend-config --dom0`): `--fabric FILE`, `--profiles DIR` or `--example`.
#[derive(Debug, clap::Args)]
pub struct FabricOpts {
    /// The fabric file (TOML, or JSON by its `.json` extension; `-` reads standard input).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profiles", "example"])]
    pub fabric: Option<PathBuf>,
    /// A directory of Quattor profiles to read as the fabric, instead of a fabric file.
    #[arg(long, value_name = "DIR", conflicts_with = "example")]
    pub profiles: Option<PathBuf>,
    /// The built-in example site (`xenfab example` prints it), instead of a fabric file.
    #[arg(long)]
    pub example: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

impl FabricOpts {
    /// Whether any of the options is given.
    pub fn given(&self) -> bool {
        self.fabric.is_some() || self.profiles.is_some() || self.example
    }

    /// The fabric, or exit status 2 saying what to give.
    pub fn load(&self, command: &str) -> Result<Sourced, Failure> {
        if let Some(dir) = &self.profiles {
            let loaded = xenfab_core::input::quattor::load_dir(dir)?;
            print_diagnostics(&loaded.warnings);
            return Ok(Sourced {
                loaded,
                origin: dir.display().to_string(),
            });
        }
        match (&self.fabric, self.example) {
            (Some(file), _) => load_sourced(Some(file), self.format),
            (None, true) => load_sourced(None, self.format),
            (None, false) => Err(Failure::Io(format!(
                "error: `xenfab {command}` needs a fabric: give --fabric FILE, --profiles DIR \
                 (Quattor profiles), or --example for the built-in example site"
            ))),
        }
    }
}

/// Reads and checks the fabric at `file` (`-` for standard input), or the built-in example
/// when there is none, with the name it goes by in messages. Warnings are printed on stderr.
pub fn load_sourced(file: Option<&Path>, format: FormatArg) -> Result<Sourced, Failure> {
    let (text, origin) = read(file)?;
    let source = Source::new(&origin, &text);
    let loaded = xenfab_core::load_as(&text, &origin, format.of(&origin))
        .map_err(|e| Failure::of(e, Some(&source)))?;
    crate::ui::diagnostics(&loaded.warnings, Some(&source));
    Ok(Sourced { loaded, origin })
}

/// How a command that writes into an output tree waits for its lock.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LockArgs {
    /// Fail at once when another xenfab run holds the output tree's lock, instead of waiting
    /// for it.
    #[arg(long)]
    pub no_wait: bool,
}

impl LockArgs {
    /// Locks the tree at `root`; says once on stderr when it waits, and for whom.
    pub fn lock(
        self,
        root: &Path,
        kind: xenfab_core::output::LockKind,
    ) -> Result<xenfab_core::output::TreeLock, Failure> {
        let lock = xenfab_core::output::TreeLock::acquire(root, kind, |busy| {
            if !self.no_wait {
                crate::ui::note(&format!("xenfab: {busy}; waiting for it"));
            }
            !self.no_wait
        })?;
        Ok(lock)
    }
}
