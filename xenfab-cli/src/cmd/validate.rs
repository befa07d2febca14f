//! `xenfab validate [FILE]`: check a fabric and report every problem.

use std::process::ExitCode;

use xenfab_core::input::text::ReadError;
use xenfab_core::{Diagnostic, FieldPath, ParseError, Severity};

use crate::fabric::{self, FabricArg, Failure};
use crate::ui::{self, Source};

/// Check a fabric as a whole and report every problem at once, with its path and line.
///
/// With `--json`, the diagnostics are printed on stdout as a JSON array, a file that cannot be
/// read as a fabric (a syntax error, an unknown key, a file too large or not UTF-8) included:
/// it is one diagnostic with the code `parse-error` and its file, line and column.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    fabric: FabricArg,
    /// Print the diagnostics as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    match fabric::read_text(args.fabric.file()) {
        Ok((text, origin)) => {
            let format = args.fabric.format.of(&origin);
            let result = xenfab_core::load_as(&text, &origin, format);
            let source = Source::new(&origin, &text);
            report(
                result.map(|loaded| (loaded, origin.clone())),
                Some(&source),
                args.json,
            )
        }
        Err(ReadError::Invalid(e)) => report(Err(xenfab_core::Error::Parse(e)), None, args.json),
        Err(e) => Err(Failure::from(e)),
    }
}

/// Reports a fabric loaded from `origin` (or why it did not load) as `validate` does: the
/// diagnostics on stderr (on a terminal with the lines of `source` they point at), or with
/// `json` as a JSON array on stdout; then the count. `quattor validate` reports its
/// profiles' fabric the same way.
pub(super) fn report(
    result: Result<(xenfab_core::Loaded, String), xenfab_core::Error>,
    source: Option<&Source<'_>>,
    json: bool,
) -> Result<ExitCode, Failure> {
    if json {
        let diags: Vec<Diagnostic> = match &result {
            Ok((loaded, _)) => loaded.warnings.iter().cloned().collect(),
            Err(xenfab_core::Error::Invalid(d)) => d.iter().cloned().collect(),
            Err(xenfab_core::Error::Parse(e)) => vec![parse_diagnostic(e)],
            Err(_) => Vec::new(),
        };
        let json =
            serde_json::to_string_pretty(&diags).map_err(|e| Failure::Io(format!("error: {e}")))?;
        super::print(&format!("{json}\n"))?;
    }
    let (loaded, origin) = match result {
        Ok(loaded) => loaded,
        // the count alone: "nothing written", as a command that writes says, would puzzle
        Err(xenfab_core::Error::Invalid(d)) => {
            if !json {
                ui::diagnostics(&d, source);
            }
            return Err(Failure::Invalid(format!(
                "{} error(s), {} warning(s)",
                d.error_count(),
                d.warning_count()
            )));
        }
        Err(e) => return Err(Failure::of(e, source)),
    };
    if !json {
        ui::diagnostics(&loaded.warnings, source);
    }
    let f = &loaded.fabric;
    let guests: usize = f.dom0s.iter().map(|d| d.guests.len()).sum();
    ui::note(&format!(
        "{origin}: ok: {} dom0(s), {guests} guest(s), {} warning(s)",
        f.dom0s.len(),
        loaded.warnings.len()
    ));
    Ok(ExitCode::SUCCESS)
}

/// A file that cannot be read as a fabric, as the one diagnostic of `validate --json`.
fn parse_diagnostic(e: &ParseError) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: "parse-error",
        path: FieldPath::root(),
        message: e.message.clone(),
        location: Some(e.location.clone()),
        related: None,
    }
}
