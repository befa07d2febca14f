//! Diagnostics: what is wrong (or doubtful) with a fabric, where, and how badly.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// True for a character a terminal or a line-based reader may act on: a control character
/// (C0, DEL, C1: ESC, BEL, CR, NEL…), a line or paragraph separator (U+2028, U+2029), or a
/// bidirectional override or isolate, which reorders what a terminal shows.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Hostile or long input quoted in a message: its first 40 characters, escaped
/// (`escape_debug`), and `…` when there was more.
pub(crate) fn shown(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    let more = if short.len() < text.len() { "…" } else { "" };
    format!("{}{more}", short.escape_debug())
}

/// `text` with every control character, line separator and bidirectional control written as
/// an escape (`\u{1b}`), so that a message quoting hostile input cannot move the cursor,
/// ring the bell, overwrite a line or start a new one. Everything else is kept as it is.
///
/// ```
/// # use xenfab_core::escape_controls;
/// assert_eq!(escape_controls("a\u{1b}[2Jb\r"), "a\\u{1b}[2Jb\\r");
/// assert_eq!(escape_controls("plain `text` é"), "plain `text` é");
/// ```
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// How bad a diagnostic is: errors stop rendering, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Doubtful but renderable.
    Warning,
    /// Wrong: nothing is rendered.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A path to a field of the fabric, such as `dom0s[xen01].guests[ullr].ip`.
///
/// List elements are shown by their name where they have one, and remember their index so
/// that a location in the input file can be found even when two elements share a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Segment {
    /// A field of a table.
    Key(&'static str),
    /// An entry of a table keyed by name (`hardware[pe1950]`).
    Entry(String),
    /// An element of a list, with its name where it has one.
    Elem { index: usize, name: Option<String> },
}

impl FieldPath {
    /// The empty path: the fabric as a whole.
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// This path followed by the field `key`.
    #[must_use]
    pub fn key(&self, key: &'static str) -> FieldPath {
        self.with(Segment::Key(key))
    }

    /// This path followed by the entry `name` of a table keyed by name.
    #[must_use]
    pub fn entry(&self, name: &str) -> FieldPath {
        self.with(Segment::Entry(name.to_owned()))
    }

    /// This path followed by element `index` of a list, shown by `name` where it has one.
    #[must_use]
    pub fn elem(&self, index: usize, name: Option<&str>) -> FieldPath {
        self.with(Segment::Elem {
            index,
            name: name.map(str::to_owned),
        })
    }

    fn with(&self, segment: Segment) -> FieldPath {
        let mut segments = Vec::with_capacity(self.0.len() + 1);
        segments.extend_from_slice(&self.0);
        segments.push(segment);
        FieldPath(segments)
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.0
    }
}

/// Writes a name inside `[...]`, quoted and escaped unless it is made of plain characters, so
/// that a hostile name cannot break a diagnostic line.
fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let plain = !name.is_empty()
        && name.len() <= 80
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if plain {
        write!(f, "[{name}]")
    } else {
        let short: String = name.chars().take(40).collect();
        let more = if short.len() < name.len() { "…" } else { "" };
        write!(f, "[\"{}{more}\"]", short.escape_debug())
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Entry(name)
                | Segment::Elem {
                    name: Some(name), ..
                } => write_name(f, name)?,
                Segment::Elem { index, name: None } => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for FieldPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where in an input file a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file, as the user named it.
    pub file: Arc<str>,
    /// The line, counted from 1, where known.
    pub line: Option<u32>,
    /// The column, in characters counted from 1, where known.
    pub column: Option<u32>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.file))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// One problem with a fabric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How bad it is.
    pub severity: Severity,
    /// A stable, kebab-case name of the rule (`duplicate-mac`), for scripts and docs.
    pub code: &'static str,
    /// The field it is about.
    pub path: FieldPath,
    /// What is wrong, in lower case, without a trailing period.
    pub message: String,
    /// Where the field is in the input file, where known.
    pub location: Option<Location>,
    /// The other place involved, such as the first use of a duplicated name.
    pub related: Option<Related>,
}

/// The other place a diagnostic involves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    /// Its field path.
    pub path: FieldPath,
    /// Where it is in the input file, where known.
    pub location: Option<Location>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}[{}]: ", self.severity, self.code)?;
        if !self.path.0.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&escape_controls(&self.message))?;
        if let Some(Related {
            location: Some(at), ..
        }) = &self.related
        {
            match (&self.location, at.line) {
                (Some(here), Some(line)) if here.file == at.file => write!(f, " (line {line})")?,
                (_, Some(_)) => write!(f, " ({at})")?,
                (_, None) => {}
            }
        }
        Ok(())
    }
}

/// Every diagnostic of one fabric, in a deterministic order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    /// Adds an error.
    pub fn error(&mut self, code: &'static str, path: FieldPath, message: impl Into<String>) {
        self.push(Severity::Error, code, path, message.into());
    }

    /// Adds a warning.
    pub fn warning(&mut self, code: &'static str, path: FieldPath, message: impl Into<String>) {
        self.push(Severity::Warning, code, path, message.into());
    }

    /// Adds an error that involves a second place, such as the first use of a duplicate.
    pub fn error_related(
        &mut self,
        code: &'static str,
        path: FieldPath,
        related: &FieldPath,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, code, path, message.into());
        if let Some(d) = self.0.last_mut() {
            d.related = Some(Related {
                path: related.clone(),
                location: None,
            });
        }
    }

    fn push(&mut self, severity: Severity, code: &'static str, path: FieldPath, message: String) {
        self.0.push(Diagnostic {
            severity,
            code,
            path,
            message,
            location: None,
            related: None,
        });
    }

    /// True when there is at least one error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// The number of errors.
    pub fn error_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    /// All diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// The number of diagnostics.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub(crate) fn items_mut(&mut self) -> std::slice::IterMut<'_, Diagnostic> {
        self.0.iter_mut()
    }

    /// Orders diagnostics by their place in the input file; those without a line keep their
    /// order after those with one. The order is the same for the same input.
    pub(crate) fn sort(&mut self) {
        self.0.sort_by_key(|d| {
            let line = d.location.as_ref().and_then(|l| l.line).unwrap_or(u32::MAX);
            let column = d.location.as_ref().and_then(|l| l.column).unwrap_or(0);
            (line, column)
        });
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    /// One diagnostic a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_names_and_escape_hostile_ones() {
        let guest = FieldPath::root()
            .key("dom0s")
            .elem(0, Some("xen01"))
            .key("guests")
            .elem(3, Some("ullr"));
        assert_eq!(guest.key("ip").to_string(), "dom0s[xen01].guests[ullr].ip");
        assert_eq!(
            FieldPath::root()
                .key("hardware")
                .entry("pe1950")
                .key("disks")
                .elem(1, None)
                .to_string(),
            "hardware[pe1950].disks[1]"
        );
        let hostile = FieldPath::root()
            .key("dom0s")
            .elem(0, Some("x\";\n}"))
            .key("ip");
        assert_eq!(hostile.to_string(), "dom0s[\"x\\\";\\n}\"].ip");
    }

    #[test]
    fn messages_and_file_names_are_printed_escaped() {
        let mut d = Diagnostics::new();
        d.error(
            "invalid-value",
            FieldPath::root().key("site"),
            "bad `\u{1b}]0;pwned\u{7}\r\u{2028}\u{202e}x`",
        );
        for d in d.items_mut() {
            d.location = Some(Location {
                file: "f\u{1b}[2J.toml".into(),
                line: Some(1),
                column: None,
            });
        }
        let line = d.to_string();
        assert_eq!(
            line,
            "f\\u{1b}[2J.toml:1: error[invalid-value]: site: bad `\\u{1b}]0;pwned\\u{7}\\r\\u{2028}\\u{202e}x`\n"
        );
        assert!(!line.trim_end().chars().any(unsafe_char), "{line:?}");
    }

    #[test]
    fn diagnostic_lines() {
        let mut d = Diagnostics::new();
        d.error("duplicate-ip", FieldPath::root().key("site"), "boom");
        for d in d.items_mut() {
            d.location = Some(Location {
                file: "f.toml".into(),
                line: Some(3),
                column: Some(7),
            });
        }
        d.warning("w", FieldPath::root(), "hm");
        assert_eq!(
            d.to_string(),
            "f.toml:3:7: error[duplicate-ip]: site: boom\nwarning[w]: hm\n"
        );
        assert!(d.has_errors());
        assert_eq!((d.error_count(), d.warning_count()), (1, 1));
    }
}
