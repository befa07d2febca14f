//! How the command speaks to a person: `--quiet`, `--verbose` and `--color` (every command
//! takes them), colours where they are wanted, a progress bar on a terminal, and the line of
//! the fabric file below a diagnostic there.
//!
//! What a pipe or a file gets is the same as without this module, byte for byte, unless
//! `--color always` is given: colours are decided once (anstream: `--color`, `NO_COLOR`,
//! `CLICOLOR`, `CLICOLOR_FORCE`, whether the stream is a terminal), and nothing is written
//! through a filter that strips them.

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::sync::{Mutex, OnceLock, PoisonError};

use anstyle::{AnsiColor, Effects, Style};
use xenfab_core::{Diagnostic, Location, Severity};

/// The options every command takes.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct GlobalArgs {
    /// Print only errors: no warnings, no summaries, no list of the files written, no
    /// progress. Data asked for (a diff, JSON, a MAC) is still printed.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more: how long each step of a render took, and how many parts it rendered.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// When to colour the output (diffs, `--stat`, diagnostics): `auto` on a terminal unless
    /// NO_COLOR is set (or CLICOLOR=0; CLICOLOR_FORCE forces it), `always`, `never`.
    #[arg(
        long,
        value_enum,
        global = true,
        value_name = "WHEN",
        default_value_t = ColorWhen::Auto
    )]
    color: ColorWhen,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// What `--color` says of clap's own output (help, usage, errors), found in `args` (the
/// program's name first) before they are parsed: its `--color WHEN` or `--color=WHEN` before
/// a `--`, `auto` without one (an unknown WHEN, or a second `--color`, is left to clap to
/// refuse).
pub fn clap_color(args: &[std::ffi::OsString]) -> clap::ColorChoice {
    let mut choice = clap::ColorChoice::Auto;
    let mut args = args.iter().skip(1).map(|a| a.to_str());
    while let Some(arg) = args.next() {
        let value = match arg {
            Some("--") => break,
            Some("--color") => args.next().flatten(),
            Some(arg) => arg.strip_prefix("--color="),
            None => None,
        };
        choice = match value {
            Some("auto") => clap::ColorChoice::Auto,
            Some("always") => clap::ColorChoice::Always,
            Some("never") => clap::ColorChoice::Never,
            _ => choice,
        };
    }
    choice
}

/// What the options and the streams decided, once for the run.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// `--quiet`.
    pub quiet: bool,
    /// `--verbose`.
    pub verbose: bool,
    /// Whether stdout gets colours.
    pub color_out: bool,
    /// Whether stderr gets colours.
    pub color_err: bool,
    /// Whether stderr is a terminal: a person reads it (progress, the lines of the file).
    pub err_terminal: bool,
}

static UI: OnceLock<Ui> = OnceLock::new();

/// Decides, from the options and the streams, how this run speaks; call it once, first.
pub fn init(args: GlobalArgs) {
    let choice = match args.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    let colored = |choice: anstream::ColorChoice| {
        matches!(
            choice,
            anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi
        )
    };
    let ui = Ui {
        quiet: args.quiet,
        verbose: args.verbose,
        color_out: colored(anstream::AutoStream::choice(&std::io::stdout())),
        color_err: colored(anstream::AutoStream::choice(&std::io::stderr())),
        err_terminal: std::io::stderr().is_terminal(),
    };
    let _ = UI.set(ui);
}

/// How this run speaks (plain, not quiet, when [`init`] was not called).
pub fn get() -> Ui {
    UI.get().copied().unwrap_or(Ui {
        quiet: false,
        verbose: false,
        color_out: false,
        color_err: false,
        err_terminal: false,
    })
}

/// The progress bar on stderr, while there is one: lines printed on stderr meanwhile clear
/// it first and draw it again after.
static BAR: Mutex<Option<indicatif::ProgressBar>> = Mutex::new(None);

/// Makes `bar` the one [`eprint_line`] clears (`None`: there is none any more).
pub fn set_bar(bar: Option<indicatif::ProgressBar>) {
    *BAR.lock().unwrap_or_else(PoisonError::into_inner) = bar;
}

/// Prints `text` and a line break on stderr, the progress bar cleared meanwhile.
pub fn eprint_line(text: &str) {
    let bar = BAR.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match bar {
        Some(bar) => bar.suspend(|| eprintln!("{text}")),
        None => eprintln!("{text}"),
    }
}

/// A summary or a note on stderr: not with `--quiet`.
pub fn note(text: &str) {
    if !get().quiet {
        eprint_line(text);
    }
}

/// `text` in `style` when `color`, else as it is.
pub fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

/// The style of an error's tag (`error`, `error[rule]`).
pub const ERROR: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
/// The style of a warning's tag (`warning[rule]`).
pub const WARNING: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
/// The style of a diff's added lines, and of `--stat`'s `+`.
pub const ADDED: Style = AnsiColor::Green.on_default();
/// The style of a diff's removed lines, and of `--stat`'s `-`.
pub const REMOVED: Style = AnsiColor::Red.on_default();
/// The style of a diff's file headers.
pub const HEADER: Style = Style::new().effects(Effects::BOLD);
/// The style of a diff's hunk headers (`@@ … @@`).
pub const HUNK: Style = AnsiColor::Cyan.on_default();

/// `message` (a failure's, `error: …`) with its leading `error` or `warning` coloured when
/// stderr is.
pub fn tagged(message: &str) -> String {
    if !get().color_err {
        return message.to_owned();
    }
    for (tag, style) in [("error", ERROR), ("warning", WARNING)] {
        if let Some(rest) = message.strip_prefix(tag) {
            if rest.starts_with(':') {
                return format!("{}{rest}", paint(tag, style, true));
            }
        }
    }
    message.to_owned()
}

/// The text a fabric was read from, to show a diagnostic's line of it.
#[derive(Debug)]
pub struct Source<'a> {
    /// The file's name as diagnostics give it.
    origin: &'a str,
    /// Its text.
    text: &'a str,
    /// Where each line starts, found at the first line asked for: each diagnostic's line is
    /// then found at once, however many there are.
    starts: OnceCell<Vec<usize>>,
}

impl<'a> Source<'a> {
    /// The text `text` of the file named `origin`.
    pub fn new(origin: &'a str, text: &'a str) -> Source<'a> {
        Source {
            origin,
            text,
            starts: OnceCell::new(),
        }
    }

    /// Line `n` (from 1), without its line break.
    fn line(&self, n: usize) -> Option<&'a str> {
        let text = self.text;
        let starts = self.starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let start = *starts.get(n.checked_sub(1)?)?;
        let end = starts.get(n).map_or(text.len(), |next| next - 1);
        Some(&text[start..end])
    }
}

/// Prints a diagnostic on stderr: its line (`file:line:col: error[rule]: path: message`),
/// the tag coloured when stderr is; on a terminal, the line of `source` it points at below
/// it. With `--quiet`, only errors.
pub fn diagnostic(d: &Diagnostic, source: Option<&Source<'_>>) {
    let ui = get();
    if ui.quiet && d.severity != Severity::Error {
        return;
    }
    let mut text = d.to_string();
    if ui.color_err {
        // The tag comes right after the location, as `Diagnostic`'s Display writes it.
        let at = d.location.as_ref().map_or(0, |l| format!("{l}: ").len());
        let tag = format!("{}[{}]", d.severity, d.code);
        if text.get(at..).is_some_and(|rest| rest.starts_with(&tag)) {
            let style = match d.severity {
                Severity::Error => ERROR,
                Severity::Warning => WARNING,
            };
            text.replace_range(at..at + tag.len(), &paint(&tag, style, true));
        }
    }
    if ui.err_terminal {
        if let Some(snippet) = source.and_then(|s| snippet(d, s, ui.color_err)) {
            let _ = write!(text, "\n{}", snippet.trim_end());
        }
    }
    eprint_line(&text);
}

/// Prints every diagnostic of `diags` as [`diagnostic`] does.
pub fn diagnostics<'a>(
    diags: impl IntoIterator<Item = &'a Diagnostic>,
    source: Option<&Source<'_>>,
) {
    for d in diags {
        diagnostic(d, source);
    }
}

/// The line `location` points at in `source`, with the column marked: `None` when the
/// location is in another file, has no line, or is past the end, or when the line holds a
/// control character (a terminal would act on it).
fn source_line<'a>(location: &Location, source: &Source<'a>) -> Option<(usize, &'a str, usize)> {
    if *location.file != *source.origin {
        return None;
    }
    let line = usize::try_from(location.line?).ok()?;
    let text = source.line(line)?;
    let text = text.strip_suffix('\r').unwrap_or(text);
    if xenfab_core::escape_controls(text).len() != text.len() {
        return None;
    }
    // The column counts characters from 1; the span is in bytes, to the end of the line.
    let column = location
        .column
        .and_then(|c| usize::try_from(c).ok())
        .unwrap_or(1)
        .max(1);
    let start = text
        .char_indices()
        .nth(column - 1)
        .map_or(text.len(), |(i, _)| i);
    Some((line, text, start))
}

/// Where the item at the start of `text` ends, in bytes: a quoted string, a table or list
/// to its closing bracket, or a bare word (a key, a number, `true`); a key with its `=` (or
/// JSON's `:`) and value. The whole rest of the line when it is none of them.
fn item_end(text: &str) -> usize {
    let end = token_end(text);
    let after = &text[end..];
    let rest = after.trim_start();
    match rest.strip_prefix(['=', ':']) {
        Some(value) if end > 0 => {
            let value_at = text.len() - value.trim_start().len();
            value_at + token_end(&text[value_at..])
        }
        _ => end,
    }
}

/// Where the token at the start of `text` ends (see [`item_end`]).
fn token_end(text: &str) -> usize {
    let mut chars = text.char_indices();
    let Some((_, first)) = chars.next() else {
        return 0;
    };
    match first {
        '"' | '\'' => {
            let mut escaped = false;
            for (i, c) in chars {
                match c {
                    '\\' if first == '"' && !escaped => escaped = true,
                    c if c == first && !escaped => return i + 1,
                    _ => escaped = false,
                }
            }
            text.len()
        }
        '[' | '{' => {
            let (mut depth, mut quote, mut escaped) = (1_usize, None, false);
            for (i, c) in chars {
                match (quote, c) {
                    (Some(_), '\\') if !escaped => {
                        escaped = true;
                        continue;
                    }
                    (Some(q), c) if c == q && !escaped => quote = None,
                    (None, '"' | '\'') => quote = Some(c),
                    (None, '[' | '{') => depth += 1,
                    (None, ']' | '}') => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    // inside a string, or any other character
                    _ => {}
                }
                escaped = false;
            }
            text.len()
        }
        _ => text
            .find(|c: char| !(c.is_alphanumeric() || "_-.:+".contains(c)))
            .filter(|&end| end > 0)
            .unwrap_or(text.len()),
    }
}

/// The snippet of `d` (its line, underlined from its column; the line of the place it
/// relates to, labelled with that place's path), as rustc shows one.
pub fn snippet(d: &Diagnostic, source: &Source<'_>, color: bool) -> Option<String> {
    use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
    let (line, text, start) = source_line(d.location.as_ref()?, source)?;
    let end = start + item_end(&text[start..]);
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let mut group = Group::with_level(level).element(
        Snippet::source(text)
            .line_start(line)
            .annotation(AnnotationKind::Primary.span(start..end)),
    );
    let related = d.related.as_ref().and_then(|r| {
        let (line, text, start) = source_line(r.location.as_ref()?, source)?;
        Some((r.path.to_string(), line, text, start))
    });
    // the second snippet names its place (`::: file:line:col`)
    let origin = xenfab_core::escape_controls(source.origin);
    if let Some((path, line, text, start)) = &related {
        let end = *start + item_end(&text[*start..]);
        group = group.element(
            Snippet::source(*text)
                .line_start(*line)
                .path(origin.as_ref())
                .annotation(AnnotationKind::Context.span(*start..end).label(path)),
        );
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    Some(renderer.render(&[group]))
}

/// Writes a unified diff into `out` coloured as git colours it: file headers bold, hunk
/// headers cyan, added lines green, removed lines red. A hunk's lines are told from the
/// next file's header by the counts of its `@@` line, so that a removed line `-- x`
/// (shown `--- x`) is not taken for a header.
#[derive(Debug)]
pub struct ColoredDiff<W> {
    out: W,
    /// A line not ended yet.
    pending: Vec<u8>,
    /// In a hunk: how many of its old and new lines are still to come.
    hunk: Option<(u64, u64)>,
}

impl<W: std::io::Write> ColoredDiff<W> {
    pub fn new(out: W) -> ColoredDiff<W> {
        ColoredDiff {
            out,
            pending: Vec::new(),
            hunk: None,
        }
    }

    /// Writes what is left of a line not ended.
    pub fn finish(mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.pending);
        self.line(&rest)
    }

    /// One line, with its line break if it has one.
    fn line(&mut self, line: &[u8]) -> std::io::Result<()> {
        if line.is_empty() {
            return Ok(());
        }
        let style = match (self.hunk, line[0]) {
            (Some((old, new)), first) => {
                let (old, new, style) = match first {
                    b'-' => (old.saturating_sub(1), new, Some(REMOVED)),
                    b'+' => (old, new.saturating_sub(1), Some(ADDED)),
                    b' ' => (old.saturating_sub(1), new.saturating_sub(1), None),
                    _ => (old, new, None),
                };
                self.hunk = (old > 0 || new > 0).then_some((old, new));
                style
            }
            (None, b'@') if line.starts_with(b"@@") => {
                self.hunk = hunk_counts(line).filter(|&(old, new)| old > 0 || new > 0);
                Some(HUNK)
            }
            (None, b'\\') => None,
            (None, _) => Some(HEADER),
        };
        match style {
            None => self.out.write_all(line),
            Some(style) => {
                let (text, end) = match line.strip_suffix(b"\n") {
                    Some(text) => (text, &b"\n"[..]),
                    None => (line, &b""[..]),
                };
                write!(self.out, "{style}")?;
                self.out.write_all(text)?;
                write!(self.out, "{style:#}")?;
                self.out.write_all(end)
            }
        }
    }
}

/// The old and new line counts of a hunk header `@@ -a,b +c,d @@` (a count left out is 1).
fn hunk_counts(line: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split(' ').skip(1);
    let count = |word: Option<&str>, sign: char| -> Option<u64> {
        let range = word?.strip_prefix(sign)?;
        match range.split_once(',') {
            Some((_, n)) => n.parse().ok(),
            None => Some(1),
        }
    };
    Some((count(words.next(), '-')?, count(words.next(), '+')?))
}

impl<W: std::io::Write> std::io::Write for ColoredDiff<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (line, after) = rest.split_at(end + 1);
            if self.pending.is_empty() {
                self.line(line)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.line(&whole)?;
            }
            rest = after;
        }
        self.pending.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn a_diff_is_coloured_line_by_line() {
        let diff = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-- x\n+a\n b\n--- /dev/null\n+++ b/y\n@@ -0,0 +1 @@\n+y\n";
        let mut out = Vec::new();
        let mut colored = ColoredDiff::new(&mut out);
        // in pieces that split lines
        for piece in diff.as_bytes().chunks(5) {
            colored.write_all(piece).unwrap();
        }
        colored.finish().unwrap();
        let out = String::from_utf8(out).unwrap();
        let (h, k, r, a) = (HEADER, HUNK, REMOVED, ADDED);
        assert_eq!(
            out,
            format!(
                "{h}--- a/x{h:#}\n{h}+++ b/x{h:#}\n{k}@@ -1,2 +1,2 @@{k:#}\n{r}-- x{r:#}\n\
                 {a}+a{a:#}\n b\n{h}--- /dev/null{h:#}\n{h}+++ b/y{h:#}\n{k}@@ -0,0 +1 @@{k:#}\n\
                 {a}+y{a:#}\n"
            )
        );
        assert_eq!(anstream::adapter::strip_str(&out).to_string(), diff);
    }

    #[test]
    fn a_snippet_marks_the_item_at_the_column() {
        fn item(text: &str) -> &str {
            &text[..item_end(text)]
        }
        assert_eq!(
            item(r#"gateway = "10.0.0.1"   # a comment"#),
            r#"gateway = "10.0.0.1""#
        );
        assert_eq!(item(r#""pv.99"] }]"#), r#""pv.99""#);
        assert_eq!(
            item(r#"members = ["a", "b]"], mount = "/""#),
            r#"members = ["a", "b]"]"#
        );
        assert_eq!(item("grow = true, use = 1"), "grow = true");
        assert_eq!(item(r#"{ name = "x" }, 2"#), r#"{ name = "x" }"#);
        assert_eq!(item(r#""ip": "10.0.0.1","#), r#""ip": "10.0.0.1""#);
        assert_eq!(item("size = 20"), "size = 20");
        assert_eq!(item(""), "");
    }

    #[test]
    fn a_source_gives_its_lines() {
        let source = Source::new("f.toml", "a = 1\nb = 2\r\n\nlast");
        assert_eq!(source.line(1), Some("a = 1"));
        assert_eq!(source.line(2), Some("b = 2\r"));
        assert_eq!(source.line(3), Some(""));
        assert_eq!(source.line(4), Some("last"));
        assert_eq!(source.line(5), None);
        assert_eq!(source.line(0), None);
        let at = |line, column| Location {
            file: "f.toml".into(),
            line: Some(line),
            column,
        };
        assert_eq!(source_line(&at(2, Some(5)), &source), Some((2, "b = 2", 4)));
        assert_eq!(source_line(&at(1, None), &source), Some((1, "a = 1", 0)));
        let elsewhere = Location {
            file: "g.toml".into(),
            ..at(1, None)
        };
        assert_eq!(source_line(&elsewhere, &source), None);
        let hostile = Source::new("f.toml", "name = \"\u{1b}[2J\"\n");
        assert_eq!(source_line(&at(1, None), &hostile), None);
    }

    #[test]
    fn hunk_headers_give_their_counts() {
        assert_eq!(hunk_counts(b"@@ -1,2 +3,4 @@\n"), Some((2, 4)));
        assert_eq!(hunk_counts(b"@@ -0,0 +1 @@\n"), Some((0, 1)));
        assert_eq!(hunk_counts(b"@@ nonsense\n"), None);
    }
}
