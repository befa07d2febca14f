//! How anaconda reads a kickstart file: its lines, its words, its sections. One model, used
//! by the `%post` guard ([`super::PostScript`]) and by `ks reinstall`
//! ([`crate::render::kickstart::reinstall`]), so that what xenfab checks is what the installer
//! runs.
//!
//! Every fact here is pykickstart 3.78's (`pykickstart/parser.py`), the parser anaconda uses
//! from RHEL5 on (RHEL3 and RHEL4 anaconda had the same reader in its own tree):
//!
//! - a file is decoded as UTF-8 without newline translation (`load.py`, `_load_file`: `open(…,
//!   'rb')…decode("utf-8")`) and split with `s.splitlines(True)` (`readKickstartFromString`,
//!   parser.py line 838; `preprocessFromStringToString`, line 107): a line ends at `\n`, `\r`,
//!   `\r\n`, `\v`, `\f`, `\x1c`, `\x1d`, `\x1e`, U+0085, U+2028 and U+2029. xenfab splits on
//!   `\n` only and refuses every other separator ([`lines`]), so that both count the same
//!   lines;
//! - there are no continuation lines: a backslash before the line break escapes the break
//!   itself, which becomes part of a word (`shlex` below), and the next line is read on its own;
//! - blank lines and comments are skipped with `line.isspace() or line.lstrip()[0] == '#'`
//!   (`_isBlankOrComment`, line 741): Python's whitespace, which counts `\x1c`–`\x1f` as well
//!   as Rust's [`char::is_whitespace`] ([`is_py_space`]);
//! - a command line is split with `shlex.split(line, comments=True)` (line 783), the line
//!   ending included ([`shlex_split`]); a first word beginning with `%` opens a section;
//! - inside a section a line ends it, opens another or includes a file only if
//!   `line.lstrip().startswith("%")` and `line.split()[0]` is `%end`, `%include` or a known
//!   section, and then `shlex.split(line)` (no comments) says which (`_readSection`, lines
//!   680–693); every other line belongs to the section;
//! - `%ksappend` is pasted in before parsing wherever `line.strip()` begins with it
//!   (`_preprocessStateMachine`, line 76).

use std::fmt;

/// The sections pykickstart 3.78 registers (`setupSections`, parser.py line 870): anaconda adds
/// nothing that changes where a section ends.
pub const SECTIONS: &[&str] = &[
    "%certificate",
    "%pre",
    "%pre-install",
    "%post",
    "%onerror",
    "%traceback",
    "%packages",
    "%addon",
    "%anaconda",
];

/// Whether Python's `str.isspace()` holds for a character: Unicode's `White_Space` (what
/// [`char::is_whitespace`] tests) and the four ASCII separators `\x1c`–`\x1f`, which Python
/// counts too (checked against CPython 3.11 over every code point).
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.lstrip()`.
pub fn py_lstrip(s: &str) -> &str {
    s.trim_start_matches(is_py_space)
}

/// Python's `s.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `s.split()[0]`, `None` for a blank string.
pub fn py_first_word(s: &str) -> Option<&str> {
    s.split(is_py_space).find(|w| !w.is_empty())
}

/// Whether Python's `str.splitlines` ends a line at this character (besides `\n`).
pub fn is_other_line_break(c: char) -> bool {
    matches!(
        c,
        '\r' | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Whether a character is a control character other than tab and newline: C0, DEL and C1.
pub fn is_control(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// The name of a character that breaks or controls a line, for messages.
fn char_name(c: char) -> String {
    let name = match c {
        '\r' => "a carriage return",
        '\u{b}' => "a vertical tab",
        '\u{c}' => "a form feed",
        '\u{1c}' => "a file separator",
        '\u{1d}' => "a group separator",
        '\u{1e}' => "a record separator",
        '\u{85}' => "a next-line character",
        '\u{2028}' => "a line separator",
        '\u{2029}' => "a paragraph separator",
        '\0' => "a NUL",
        '\u{1b}' => "an escape",
        _ => "a control character",
    };
    format!("{name} ({})", c.escape_unicode())
}

/// Text that anaconda would read differently from xenfab.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// A line separator other than `\n`.
    #[error(
        "line {line}: {} ends a line for anaconda (pykickstart splits lines like Python's splitlines): use only \\n line endings (dos2unix converts a file)",
        char_name(*ch)
    )]
    Separator {
        /// 1-based line (lines end at `\n`).
        line: usize,
        /// The separator.
        ch: char,
    },
    /// A control character other than tab and newline.
    #[error("line {line}: {} is not allowed", char_name(*ch))]
    Control {
        /// 1-based line.
        line: usize,
        /// The character.
        ch: char,
    },
    /// A script line that anaconda would read as the end of the section or a new one.
    #[error(
        "line {line}: `{shown}` begins with `%` (after white space), which anaconda reads as the end of the section"
    )]
    Percent {
        /// 1-based line.
        line: usize,
        /// The line, escaped and cut short.
        shown: String,
    },
}

impl LineError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> usize {
        match self {
            LineError::Separator { line, .. }
            | LineError::Control { line, .. }
            | LineError::Percent { line, .. } => *line,
        }
    }
}

/// One line: its text and its ending (`"\n"`, or `""` for a last line without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The text without its ending.
    pub content: &'a str,
    /// `"\n"` or `""`.
    pub ending: &'a str,
}

impl Line<'_> {
    /// The line as pykickstart hands it to `shlex`: with its ending.
    pub fn whole(&self) -> String {
        format!("{}{}", self.content, self.ending)
    }
}

/// Splits text into lines at `\n`, refusing every other line separator Python's
/// `splitlines` knows (so that xenfab and anaconda count the same lines).
pub fn lines(text: &str) -> Result<Vec<Line<'_>>, LineError> {
    let mut out = Vec::new();
    for (i, l) in text.split_inclusive('\n').enumerate() {
        let (content, ending) = match l.strip_suffix('\n') {
            Some(c) => (c, "\n"),
            None => (l, ""),
        };
        if let Some(ch) = content.chars().find(|&c| is_other_line_break(c)) {
            return Err(LineError::Separator { line: i + 1, ch });
        }
        out.push(Line {
            number: i + 1,
            content,
            ending,
        });
    }
    Ok(out)
}

/// Checks the text of a script that goes into a section (`%post`): lines end at `\n` only, no
/// control character but tab, and no line that pykickstart reads as the end of the section or
/// the start of another (a line beginning with `%` after Python's white space).
pub fn check_script(text: &str) -> Result<(), LineError> {
    for line in lines(text)? {
        if py_lstrip(line.content).starts_with('%') {
            return Err(LineError::Percent {
                line: line.number,
                shown: shown(line.content),
            });
        }
        if let Some(ch) = line.content.chars().find(|&c| is_control(c)) {
            return Err(LineError::Control {
                line: line.number,
                ch,
            });
        }
    }
    Ok(())
}

pub(crate) use crate::diagnostic::shown;

// ---------------------------------------------------------------------------------------
// Words

/// A word as pykickstart sees it (`value`) and where it is written (`start..end`, bytes of
/// the line, quotes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word after quotes and escapes.
    pub value: String,
    /// Where it begins in the line.
    pub start: usize,
    /// Where it ends in the line.
    pub end: usize,
}

/// The words of a line, and where its comment begins (`#`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Words {
    /// The words.
    pub words: Vec<Word>,
    /// The byte offset of the `#` that begins a comment.
    pub comment: Option<usize>,
}

/// Why `shlex` refuses a line (Python raises `ValueError`, which stops pykickstart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShlexError {
    /// A quote is not closed: `No closing quotation`.
    NoClosingQuotation,
    /// A backslash ends the text: `No escaped character`.
    NoEscapedCharacter,
}

impl fmt::Display for ShlexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShlexError::NoClosingQuotation => "no closing quotation mark",
            ShlexError::NoEscapedCharacter => "nothing after the backslash at the end",
        })
    }
}

/// Python's `shlex.split(s, comments)` (POSIX mode, `whitespace_split`): words separated by
/// space, tab, `\r` and `\n`; `'…'` literal; `"…"` where a backslash escapes only `"` and
/// `\`; a backslash outside quotes escapes any character, a line break included; with
/// `comments`, a `#` outside quotes ends the word before it and the line (Python 3.11's
/// `shlex.read_token`).
pub fn shlex_split(s: &str, comments: bool) -> Result<Words, ShlexError> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        Space,
        Word,
        Quote(char),
        Escape { back: Option<char> },
    }
    let mut out = Words::default();
    let mut state = State::Space;
    let mut token = String::new();
    let mut start = 0;
    let mut chars = s.char_indices();
    let is_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    loop {
        let next = chars.next();
        match state {
            State::Space | State::Word => {
                let Some((i, c)) = next else {
                    break;
                };
                if is_ws(c) || (comments && c == '#') {
                    if state == State::Word {
                        out.words.push(Word {
                            value: std::mem::take(&mut token),
                            start,
                            end: i,
                        });
                        state = State::Space;
                    }
                    if c == '#' {
                        // `readline()`: the comment runs to the next `\n`
                        out.comment.get_or_insert(i);
                        for (_, c) in chars.by_ref() {
                            if c == '\n' {
                                break;
                            }
                        }
                    }
                    continue;
                }
                if state == State::Space {
                    start = i;
                    state = State::Word;
                }
                match c {
                    '\\' => state = State::Escape { back: None },
                    '\'' | '"' => state = State::Quote(c),
                    _ => token.push(c),
                }
            }
            State::Quote(q) => {
                let Some((_, c)) = next else {
                    return Err(ShlexError::NoClosingQuotation);
                };
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    state = State::Escape { back: Some(q) };
                } else {
                    token.push(c);
                }
            }
            State::Escape { back } => {
                let Some((_, c)) = next else {
                    return Err(ShlexError::NoEscapedCharacter);
                };
                if let Some(q) = back
                    && c != q
                    && c != '\\'
                {
                    token.push('\\');
                }
                token.push(c);
                state = match back {
                    Some(q) => State::Quote(q),
                    None => State::Word,
                };
            }
        }
    }
    // a word begun is a word, empty only when quoted (`''`)
    if state == State::Word {
        out.words.push(Word {
            value: token,
            start,
            end: s.len(),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The reader

/// What a line is to pykickstart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Outside sections: blank, white space or a comment.
    Blank,
    /// A command line outside sections, with its words (the first is the command).
    Command(Words),
    /// A line that opens a section (`%post --nochroot`): its words, the first is the name.
    Section(Words),
    /// A line inside a section (its text is the section's).
    Body,
    /// `%end`.
    End,
    /// `%include FILE`, outside or inside a section.
    Include,
    /// `%ksappend URL`: pasted in before parsing, wherever it is.
    KsAppend,
}

/// A line and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    /// The line.
    pub line: Line<'a>,
    /// What it is.
    pub kind: Kind,
    /// The section it belongs to (its header's name), `None` outside sections.
    pub section: Option<String>,
}

/// Why a kickstart file cannot be read as pykickstart would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// A line separator other than `\n`, or a control character in a command line.
    #[error(transparent)]
    Line(#[from] LineError),
    /// A line `shlex` refuses.
    #[error("line {line}: {error}")]
    Shlex {
        /// 1-based line.
        line: usize,
        /// Why.
        error: ShlexError,
    },
    /// A `%name` pykickstart does not know.
    #[error("line {line}: unknown section `{shown}`")]
    UnknownSection {
        /// 1-based line.
        line: usize,
        /// Its name, escaped.
        shown: String,
    },
}

impl ReadError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> usize {
        match self {
            ReadError::Line(e) => e.line(),
            ReadError::Shlex { line, .. } | ReadError::UnknownSection { line, .. } => *line,
        }
    }
}

/// Reads a kickstart file line by line as pykickstart's state machine does (see the module
/// documentation). A line separator other than `\n` anywhere, and a control character other
/// than tab in a command line, are refused.
pub fn read(text: &str) -> Result<Vec<Item<'_>>, ReadError> {
    let lines = lines(text)?;
    let mut items = Vec::with_capacity(lines.len());
    let mut section: Option<String> = None;
    for line in lines {
        let n = line.number;
        let shlex = |comments| {
            shlex_split(&line.whole(), comments)
                .map_err(|error| ReadError::Shlex { line: n, error })
        };
        let kind = if py_strip(line.content).starts_with("%ksappend") {
            Kind::KsAppend
        } else if section.is_some() {
            let trimmed = py_lstrip(line.content);
            let first = py_first_word(line.content).unwrap_or("");
            if trimmed.starts_with('%')
                && (first == "%end" || first == "%include" || SECTIONS.contains(&first))
            {
                let words = shlex(false)?;
                match words.words.first().map(|w| w.value.as_str()) {
                    Some("%end") => Kind::End,
                    Some("%include") => Kind::Include,
                    Some(name) if SECTIONS.contains(&name) => Kind::Section(words),
                    // `\x1f%end`: not a section line, and not handed to the section either
                    _ => Kind::Body,
                }
            } else {
                Kind::Body
            }
        } else if line.content.chars().all(is_py_space) || py_lstrip(line.content).starts_with('#')
        {
            Kind::Blank
        } else {
            if let Some(ch) = line.content.chars().find(|&c| is_control(c)) {
                return Err(LineError::Control { line: n, ch }.into());
            }
            let words = shlex(true)?;
            match words.words.first().map(|w| w.value.as_str()) {
                // a line of only a comment after quotes cannot be blank here: shlex gives
                // a word for `''`, and white space alone was caught above
                None => Kind::Blank,
                Some("%include") => Kind::Include,
                Some(name) if name.starts_with('%') => {
                    if !SECTIONS.contains(&name) {
                        return Err(ReadError::UnknownSection {
                            line: n,
                            shown: shown(name),
                        });
                    }
                    Kind::Section(words)
                }
                Some(_) => Kind::Command(words),
            }
        };
        let belongs = match &kind {
            Kind::Section(words) => words.words.first().map(|w| w.value.clone()),
            Kind::Blank | Kind::Command(_) => None,
            Kind::Body | Kind::End | Kind::Include | Kind::KsAppend => section.clone(),
        };
        match &kind {
            Kind::Section(_) => section.clone_from(&belongs),
            Kind::End => section = None,
            _ => {}
        }
        items.push(Item {
            line,
            kind,
            section: belongs,
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(s: &str, comments: bool) -> Vec<String> {
        shlex_split(s, comments)
            .unwrap()
            .words
            .into_iter()
            .map(|w| w.value)
            .collect()
    }

    /// Each case checked against Python 3.11: `shlex.split(s, comments=True)`.
    #[test]
    fn words_are_split_like_python_shlex() {
        let cases: &[(&str, &[&str])] = &[
            ("a \\\n", &["a", "\n"]),
            ("a#b c\n", &["a"]),
            ("x \"a#b\" c", &["x", "a#b", "c"]),
            (
                "\"a\\$b\" 'c\\d' x\"y\"z '' ",
                &["a\\$b", "c\\d", "xyz", ""],
            ),
            ("a \\#b", &["a", "#b"]),
            ("\"x\"#y z", &["x"]),
            ("a''#b", &["a"]),
            ("\\\n", &["\n"]),
            ("''", &[""]),
            ("a\u{1f}b c", &["a\u{1f}b", "c"]),
            ("a\u{a0}b", &["a\u{a0}b"]),
            ("#x", &[]),
            (" \\ a", &[" a"]),
            ("a\\ b \"c\\\"d\" e", &["a b", "c\"d", "e"]),
            (" \t", &[]),
            ("'a'\"b\"c", &["abc"]),
        ];
        for (s, expected) in cases {
            assert_eq!(values(s, true), *expected, "{s:?}");
        }
        assert_eq!(values("a#b c", false), ["a#b", "c"]);
        assert_eq!(
            shlex_split("a \\", true),
            Err(ShlexError::NoEscapedCharacter)
        );
        assert_eq!(
            shlex_split("a \"b\\", true),
            Err(ShlexError::NoEscapedCharacter)
        );
        assert_eq!(
            shlex_split("a 'b", true),
            Err(ShlexError::NoClosingQuotation)
        );
        let w = shlex_split("--fstype \"physical volume (LVM)\" # c", true).unwrap();
        assert_eq!(w.words[1].value, "physical volume (LVM)");
        assert_eq!(
            &"--fstype \"physical volume (LVM)\" # c"[w.words[1].start..w.words[1].end],
            "\"physical volume (LVM)\""
        );
        assert_eq!(w.comment, Some(33));
    }

    #[test]
    fn python_whitespace() {
        for c in [
            '\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}', '\u{a0}', '\u{3000}', ' ',
        ] {
            assert!(is_py_space(c), "{c:?}");
        }
        assert!(!is_py_space('\u{180e}') && !is_py_space('\u{200b}') && !is_py_space('a'));
        assert_eq!(py_lstrip("\u{1f}\u{a0} %end"), "%end");
        assert_eq!(py_first_word("\u{1f}%end\u{1f}x"), Some("%end"));
        assert_eq!(py_first_word(" \t"), None);
    }

    #[test]
    fn every_other_line_separator_is_refused_with_its_line() {
        for sep in [
            "\r\n", "\r", "\u{b}", "\u{c}", "\u{1c}", "\u{1d}", "\u{1e}", "\u{85}", "\u{2028}",
            "\u{2029}",
        ] {
            let text = format!("a\nb{sep}c\n");
            let err = lines(&text).unwrap_err();
            assert_eq!(err.line(), 2, "{sep:?}");
            assert!(err.to_string().contains("dos2unix"), "{err}");
        }
        let err = lines("install\r\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "line 1: a carriage return (\\u{d}) ends a line for anaconda (pykickstart splits lines like Python's splitlines): use only \\n line endings (dos2unix converts a file)"
        );
        let l = lines("a\nb").unwrap();
        assert_eq!((l[1].content, l[1].ending, l[1].number), ("b", "", 2));
        assert!(lines("").unwrap().is_empty());
    }

    #[test]
    fn scripts_cannot_end_their_section() {
        assert!(check_script("echo hi\n  echo 50%\nprintf '%s'\n").is_ok());
        for (bad, line) in [
            ("echo\n%end\nrm -rf /", 2),
            ("  %packages", 1),
            ("x\n\u{1f}%end", 2),
            ("\u{a0}%pre", 1),
            ("\u{3000}%include /tmp/x", 1),
        ] {
            let err = check_script(bad).unwrap_err();
            assert!(matches!(err, LineError::Percent { .. }), "{bad:?}: {err}");
            assert_eq!(err.line(), line);
        }
        for (bad, line) in [("a\r\nb", 1), ("a\nb\u{2028}%end", 2), ("a\n\nb\u{1e}c", 3)] {
            assert!(matches!(
                check_script(bad),
                Err(LineError::Separator { line: l, .. }) if l == line
            ));
        }
        for bad in ["a\0", "\u{1b}[31m", "\u{7}", "\u{9b}", "\u{7f}"] {
            assert!(
                matches!(check_script(bad), Err(LineError::Control { .. })),
                "{bad:?}"
            );
        }
        let err = check_script("%end\u{1b}]0;x").unwrap_err().to_string();
        assert!(
            !err.contains('\u{1b}') && err.contains("%end\\u{1b}]0;x"),
            "{err}"
        );
    }

    fn kinds(text: &str) -> Vec<(Kind, Option<String>)> {
        read(text)
            .unwrap()
            .into_iter()
            .map(|i| {
                let k = match i.kind {
                    Kind::Command(_) => Kind::Command(Words::default()),
                    Kind::Section(_) => Kind::Section(Words::default()),
                    k => k,
                };
                (k, i.section)
            })
            .collect()
    }

    #[test]
    fn sections_begin_and_end_where_pykickstart_says() {
        use Kind::{Blank, Body, Command, End, Include, KsAppend, Section};
        let c = || Command(Words::default());
        let s = || Section(Words::default());
        let post = Some("%post".to_owned());
        let text = "install\n \u{1f}# comment\n\u{a0}\n%post\n%end\u{1f}\n\u{1f}%end\n  %end  # x\n\
                    clearpart --all\n%packages\n%post --nochroot\n%include /x\n%ksappend y\n";
        let pkgs = Some("%packages".to_owned());
        assert_eq!(
            kinds(text),
            [
                (c(), None),
                (Blank, None),
                (Blank, None),
                (s(), post.clone()),
                (Body, post.clone()),
                (Body, post.clone()),
                (End, post.clone()),
                (c(), None),
                (s(), pkgs),
                (s(), post.clone()),
                (Include, post.clone()),
                (KsAppend, post.clone()),
            ]
        );
        // %end with a comment word is not %end to shlex without comments: `%end#`
        assert_eq!(kinds("%post\n%end#\nx\n")[1].0, Body);
        assert!(matches!(
            read("%bogus\n"),
            Err(ReadError::UnknownSection { line: 1, .. })
        ));
        assert!(matches!(
            read("x\nrootpw 'a\n"),
            Err(ReadError::Shlex { line: 2, .. })
        ));
        assert!(matches!(
            read("%post\n%end 'a\n"),
            Err(ReadError::Shlex { line: 2, .. })
        ));
        // a quote in a script body is not a command's
        assert!(read("%post\necho 'a\n").is_ok());
        assert!(matches!(
            read("lang \u{1b}x\n"),
            Err(ReadError::Line(LineError::Control { line: 1, .. }))
        ));
        assert_eq!(kinds("  %include /x\n")[0].0, Include);
    }
}
