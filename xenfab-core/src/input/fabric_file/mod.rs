//! The fabric file: xenfab's own input format, TOML or the same structure as JSON.

pub(crate) mod dto;
mod json_keys;
mod locate;
mod lower;
mod pan_schema;

use std::sync::Arc;

pub use dto::FORMAT_VERSION;
pub(crate) use lower::shown;
pub use lower::{Lowered, lower};
pub use pan_schema::{pan_config, pan_schema};

use crate::diagnostic::{Diagnostics, Location};
use crate::error::{Error, ParseError};
use crate::input::suggest::did_you_mean;
use locate::{JsonLocator, TomlLocator, line_column};

/// The syntax a fabric file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML, the usual form.
    Toml,
    /// JSON, with the same structure.
    Json,
}

impl Format {
    /// JSON for a `.json` file, TOML for anything else.
    pub fn from_file_name(name: &str) -> Format {
        if std::path::Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

/// A fabric file read from text: its contents, its name, and (for TOML) where each field is.
#[derive(Debug)]
pub struct Source {
    file: dto::FabricFile,
    origin: Arc<str>,
    /// The file's text and syntax, to find where each diagnostic is.
    text: Option<(Format, String)>,
}

impl Source {
    /// Parses `text`, named `origin` in messages (a file name, or `<example>`).
    ///
    /// A syntax error, an unknown key or a value of the wrong type is an error naming the
    /// file, line and column; values that parse but are wrong are left to lowering and
    /// validation, which report all of them at once.
    pub fn parse(text: &str, format: Format, origin: &str) -> Result<Source, Error> {
        let origin: Arc<str> = origin.into();
        match format {
            Format::Toml => {
                let file: dto::FabricFile = toml::from_str(text).map_err(|e| {
                    let (line, column) = e.span().map(|s| line_column(text, s.start)).unzip();
                    let message = did_you_mean(e.message().trim_end());
                    ParseError::new(&origin, line, column, &message)
                })?;
                Ok(Source {
                    file,
                    text: Some((Format::Toml, text.to_owned())),
                    origin,
                })
            }
            Format::Json => {
                let json_error = |e: serde_json::Error| {
                    let message = e.to_string();
                    // serde_json appends the place to its message; it is shown separately.
                    let message = message
                        .split(" at line ")
                        .next()
                        .unwrap_or(&message)
                        .to_owned();
                    let message = did_you_mean(&message);
                    let line = u32::try_from(e.line()).ok().filter(|&l| l > 0);
                    let column = u32::try_from(e.column()).ok().filter(|_| line.is_some());
                    ParseError::new(&origin, line, column, &message)
                };
                // serde_json keeps the last of two equal keys without a word: a first pass
                // refuses them, with the place of the second.
                serde_json::from_str::<json_keys::UniqueKeys>(text).map_err(json_error)?;
                let file: dto::FabricFile = serde_json::from_str(text).map_err(json_error)?;
                Ok(Source {
                    file,
                    text: Some((Format::Json, text.to_owned())),
                    origin,
                })
            }
        }
    }

    /// A source made from an already-built fabric file (as from a Python dict).
    pub fn from_file(file: FabricFile, origin: &str) -> Source {
        Source {
            file,
            origin: origin.into(),
            text: None,
        }
    }

    /// The fabric file as read.
    pub fn file(&self) -> &FabricFile {
        &self.file
    }

    /// The text of a fabric file read from text, and its syntax; `None` for one built
    /// otherwise (from a Python dict, or Quattor profiles).
    pub fn text(&self) -> Option<(Format, &str)> {
        self.text
            .as_ref()
            .map(|(format, text)| (*format, text.as_str()))
    }

    /// The name of the input in messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Gives every diagnostic its place in this file and puts them in file order.
    pub(crate) fn locate(&self, diagnostics: &mut Diagnostics) {
        if diagnostics.is_empty() {
            return;
        }
        let locator = self.text.as_ref().and_then(|(format, text)| match format {
            Format::Toml => TomlLocator::new(text).map(Locator::Toml),
            Format::Json => JsonLocator::new(text).map(Locator::Json),
        });
        let place = |path| {
            let (line, column) = locator
                .as_ref()
                .and_then(|l| match l {
                    Locator::Toml(l) => l.locate(path),
                    Locator::Json(l) => Some(l.locate(path)),
                })
                .unzip();
            Location {
                file: self.origin.clone(),
                line,
                column,
            }
        };
        for d in diagnostics.items_mut() {
            d.location = Some(place(&d.path));
            if let Some(related) = &mut d.related {
                related.location = Some(place(&related.path));
            }
        }
        diagnostics.sort();
    }
}

pub use dto::FabricFile;

/// Where diagnostics are found in a file, by its syntax.
enum Locator<'t> {
    Toml(TomlLocator<'t>),
    Json(JsonLocator<'t>),
}

/// The JSON Schema of the fabric file, generated from [`FabricFile`], as pretty JSON with a
/// final newline. `schemas/fabric.schema.json` holds it; a test fails when it is stale.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(FabricFile);
    let mut text = serde_json::to_string_pretty(&schema)
        .unwrap_or_else(|e| unreachable!("a schema is JSON: {e}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// toml and serde_json quote a bad key or value in their messages: what the user sees of
    /// it is escaped, whatever the key holds.
    #[test]
    fn parse_errors_quoting_input_are_escaped() {
        let hostile = "\u{1b}]0;pwned\u{7}\r\u{2028}";
        let toml = format!("version = 1\n\"{hostile}\" = 1\n");
        let json = format!("{{\"version\": 1, \"{}\": 1}}", hostile.escape_unicode());
        for (text, format) in [(toml, Format::Toml), (json, Format::Json)] {
            let err = Source::parse(&text, format, "f\u{1b}[2J").unwrap_err();
            for shown in [err.to_string(), crate::error_chain(&err)] {
                assert!(
                    !shown.chars().any(|c| c.is_control() || c == '\u{2028}'),
                    "{shown:?}"
                );
                assert!(shown.contains("\\u{1b}"), "{shown:?}");
            }
        }
    }
}
