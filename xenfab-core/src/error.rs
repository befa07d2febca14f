//! Errors of every phase: parse, validate, render, write.

use std::sync::Arc;

use crate::diagnostic::{Diagnostics, Location};
use crate::output::OutputError;

/// A `Result` with xenfab's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Anything that stops xenfab: input that cannot be read, a fabric with errors, a renderer
/// that fails, an output tree that cannot be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a well-formed fabric file.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The fabric has errors; every diagnostic (warnings too) is kept.
    #[error("the fabric has {} error(s)", .0.error_count())]
    Invalid(Diagnostics),
    /// A renderer failed.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The output tree could not be planned or written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// What kind of [`Error`] happened, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::Parse`].
    Parse,
    /// See [`Error::Invalid`].
    Invalid,
    /// See [`Error::Render`].
    Render,
    /// See [`Error::Output`].
    Output,
}

impl Error {
    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Parse(_) => ErrorKind::Parse,
            Error::Invalid(_) => ErrorKind::Invalid,
            Error::Render(_) => ErrorKind::Render,
            Error::Output(_) => ErrorKind::Output,
        }
    }

    /// The diagnostics of an [`Error::Invalid`].
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            Error::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

/// Input that is not a well-formed fabric file: a syntax error, an unknown key, a value of the
/// wrong type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {}", crate::diagnostic::escape_controls(&message.replace('\n', " ")))]
pub struct ParseError {
    /// Where: the file as the user named it, and the line and column where known.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(
        file: &Arc<str>,
        line: Option<u32>,
        column: Option<u32>,
        message: &str,
    ) -> ParseError {
        ParseError {
            location: Location {
                file: file.clone(),
                line,
                column,
            },
            message: shorten_quoted(message),
        }
    }
}

/// A parser's message with every `` `quoted` `` piece of input longer than 60 characters cut
/// to its first 40 and `…`, and the whole cut at 1,000 characters: toml and serde quote the
/// offending value in full (`unknown variant `…``), and a 100 KB value must not come back
/// whole on the terminal.
fn shorten_quoted(message: &str) -> String {
    const LONG: usize = 60;
    const KEEP: usize = 40;
    const MAX: usize = 1000;
    let mut out = String::with_capacity(message.len().min(MAX + 4));
    for (i, piece) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 && piece.chars().count() > LONG {
            out.extend(piece.chars().take(KEEP));
            out.push('…');
        } else {
            out.push_str(piece);
        }
    }
    if out.chars().count() > MAX {
        out = out.chars().take(MAX).collect();
        out.push('…');
    }
    out
}

/// A renderer that could not produce its artefact.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A template failed; this is a bug in xenfab.
    #[error("template `{name}` failed")]
    Template {
        /// The template.
        name: String,
        /// Why.
        #[source]
        source: minijinja::Error,
    },
    /// The fabric refers to something it does not define; validation should have caught it.
    #[error("{what} `{name}` is not defined")]
    Missing {
        /// What kind of object.
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// A dom0's kickstart layout cannot be made into a reinstall that keeps its guests.
    #[error("cannot make the reinstall kickstart of `{host}`")]
    Reinstall {
        /// The dom0.
        host: String,
        /// Why.
        #[source]
        source: crate::render::kickstart::reinstall::ReinstallError,
    },
    /// The generated dhcpd.conf could not take its host declarations (a bug in xenfab).
    #[error("cannot put the hosts into dhcpd.conf")]
    Dhcpd {
        /// Why.
        #[source]
        source: crate::render::dhcp::isc_edit::EditError,
    },
    /// A libvirt domain could not be written (a bug in xenfab).
    #[error("cannot write a libvirt domain")]
    Libvirt {
        /// Why.
        #[source]
        source: crate::render::guests::LibvirtError,
    },
    /// A file rendered again to be written came out other than when it was planned (a bug
    /// in xenfab: a render is deterministic).
    #[error("`{path}` rendered differently when it was written than when it was planned")]
    Unsteady {
        /// The file.
        path: crate::output::RelPath,
    },
    /// A value could not be written as JSON.
    #[error("cannot write JSON")]
    Json(#[from] serde_json::Error),
    /// Two artefacts want the same path.
    #[error(transparent)]
    Tree(#[from] OutputError),
}

/// An error and its sources on one line, `: `-separated: xenfab's messages leave their source
/// out (it is kept as `#[source]`), so this is how to show the whole of an error.
///
/// ```
/// let e = xenfab_core::load("version = 1\n[site\n", "f.toml").unwrap_err();
/// assert!(xenfab_core::error_chain(&e).starts_with("f.toml:2:"));
/// ```
///
/// Control characters anywhere in the chain (a source quoting hostile input) are escaped, as
/// [`crate::escape_controls`] does.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    crate::diagnostic::escape_controls(&text).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_quoted_input_is_cut_in_parse_errors() {
        let long = "x".repeat(100_000);
        let msg = super::shorten_quoted(&format!("unknown variant `{long}`, expected `a`"));
        assert!(msg.len() < 200, "{msg}");
        assert!(msg.ends_with("…`, expected `a`"), "{msg}");
        assert_eq!(
            super::shorten_quoted("plain `short` text"),
            "plain `short` text"
        );
        let unmatched = super::shorten_quoted(&format!("bad `{long}"));
        assert!(unmatched.chars().count() <= 1001, "{}", unmatched.len());
    }
}
