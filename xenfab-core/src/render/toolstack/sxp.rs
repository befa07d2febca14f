//! A small, lossless reader and writer for the S-expression dialect of xend's
//! `xend-config.sxp` (Xen 3.x, as read by `xen/xend/sxp.py`).
//!
//! The grammar is that of xend's own reader, as re-implemented by the project's checker
//! `tests/validators/check_xend_sxp.py` (change both together):
//!
//! - `(` `)` delimit lists; lists nest;
//! - `"..."` and `'...'` are strings, with backslash escapes (`\n`, `\t`, `\\`, `\'`, `\"`,
//!   `\x41`, `\101`, …); an unknown escape keeps its backslash;
//! - `#` starts a comment that runs to the end of the line (outside strings);
//! - whitespace is space, tab, newline, carriage return, vertical tab and form feed;
//! - anything else is an atom, which ends at whitespace, `#` or one of `{}()<>[]!;`; each of
//!   those separators other than `(` `)` is an atom of its own, so a value like `[0-9]` is
//!   three atoms, and only a quoted string keeps a regex in one piece.
//!
//! [`parse`] keeps every byte of the input (whitespace, comments, the quoting and escapes of
//! each string), so a [`Document`] prints back exactly the text it was read from, and
//! [`Document::set`] changes one setting while leaving every other line alone:
//!
//! ```
//! use xenfab_core::render::toolstack::sxp;
//! let mut doc = sxp::parse("# xend\n(dom0-min-mem 256) # MiB\n")?;
//! doc.set("dom0-min-mem", &sxp::Value::Atom("512".into()))?;
//! assert_eq!(doc.to_string(), "# xend\n(dom0-min-mem 512) # MiB\n");
//! # Ok::<(), sxp::SxpError>(())
//! ```

use std::fmt;

/// Lists nested deeper than this are refused, so that hostile input cannot exhaust the
/// stack when a document is printed or dropped (xend's own files nest at most three deep).
const MAX_DEPTH: usize = 64;

/// Characters that end an atom besides whitespace and `#`; each one but `(` `)` is an atom of
/// its own.
const SEPARATORS: &[u8] = b"{}()<>[]!;";

/// An error reading an sxp text, or a setting that cannot be written safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SxpError {
    /// A `)` with no `(` open.
    #[error("line {line}, column {column}: unbalanced `)`")]
    UnbalancedClose {
        /// 1-based line of the `)`.
        line: usize,
        /// 1-based column (in characters) of the `)`.
        column: usize,
    },
    /// A `(` that is still open at the end of the text.
    #[error("line {line}, column {column}: unterminated list: this `(` is never closed")]
    UnterminatedList {
        /// 1-based line of the `(` (the innermost one left open, as xend reports it).
        line: usize,
        /// 1-based column (in characters) of the `(`.
        column: usize,
    },
    /// A quoted string that is still open at the end of the text.
    #[error("line {line}, column {column}: unterminated string")]
    UnterminatedString {
        /// 1-based line of the opening quote.
        line: usize,
        /// 1-based column (in characters) of the opening quote.
        column: usize,
    },
    /// A character xend refuses outside strings and comments (not printable ASCII).
    #[error("line {line}, column {column}: invalid character {character:?}")]
    InvalidCharacter {
        /// The character.
        character: char,
        /// 1-based line of the character.
        line: usize,
        /// 1-based column (in characters) of the character.
        column: usize,
    },
    /// Lists nested deeper than xenfab reads.
    #[error("line {line}, column {column}: lists nested more than {MAX_DEPTH} deep")]
    TooDeep {
        /// 1-based line of the `(` that is one too deep.
        line: usize,
        /// 1-based column (in characters) of that `(`.
        column: usize,
    },
    /// A key given to [`Document::set`] that is not `[A-Za-z0-9_.:/-]+`.
    #[error("invalid key {key:?}: a key is one or more of `A-Z a-z 0-9 _ . : / -`")]
    InvalidKey {
        /// The key as given.
        key: String,
    },
    /// An atom value given to [`Document::set`] that is not `[A-Za-z0-9_.:/-]+`.
    #[error(
        "invalid value {value:?} for `{key}`: an atom is one or more of `A-Z a-z 0-9 _ . : / -`; use a string for anything else"
    )]
    InvalidAtom {
        /// The key the value was for.
        key: String,
        /// The value as given.
        value: String,
    },
}

/// A value to write with [`Document::set`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A bare atom such as `256`, `yes` or `/var/log/xen/xend.log`; only
    /// `[A-Za-z0-9_.:/-]+` is accepted, anything else is refused by [`Document::set`].
    Atom(String),
    /// A string, written in single quotes with `\`, `'` and control characters escaped, so
    /// any text is safe (xend reads an atom and a string with the same text alike).
    Str(String),
}

impl Value {
    /// The text xend reads: the atom, or the string without quotes and escapes.
    pub fn as_str(&self) -> &str {
        match self {
            Value::Atom(s) | Value::Str(s) => s,
        }
    }

    fn to_node(&self) -> Node {
        match self {
            Value::Atom(s) => Node::Atom(s.clone()),
            Value::Str(s) => Node::Str {
                raw: quote(s),
                value: s.clone(),
            },
        }
    }
}

/// One piece of a document. Printing the pieces in order gives back the text exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// A run of whitespace.
    Space(String),
    /// A comment from `#` up to, not including, the `\n` (a `\r` before it is included).
    Comment(String),
    /// An atom.
    Atom(String),
    /// A string: `raw` as written with its quotes, `value` as xend reads it.
    Str { raw: String, value: String },
    /// A list: everything between its parentheses.
    List(Vec<Node>),
}

impl Node {
    /// Whitespace and comments, which xend skips.
    fn is_trivia(&self) -> bool {
        matches!(self, Node::Space(_) | Node::Comment(_))
    }

    /// The text of an atom or string as xend reads it.
    fn text(&self) -> Option<&str> {
        match self {
            Node::Atom(s) | Node::Str { value: s, .. } => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Space(s) | Node::Comment(s) | Node::Atom(s) | Node::Str { raw: s, .. } => {
                f.write_str(s)
            }
            Node::List(items) => {
                f.write_str("(")?;
                for item in items {
                    item.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A parsed sxp text that prints back (with [`Display`](fmt::Display)) exactly as it was
/// read, plus the edits made with [`Document::set`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    nodes: Vec<Node>,
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for node in &self.nodes {
            node.fmt(f)?;
        }
        Ok(())
    }
}

/// Reads an sxp text, keeping every byte of it.
pub fn parse(text: &str) -> Result<Document, SxpError> {
    Parser { text, pos: 0 }.document()
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn ends_atom(b: u8) -> bool {
    is_space(b) || b == b'#' || SEPARATORS.contains(&b)
}

impl Parser<'_> {
    fn document(mut self) -> Result<Document, SxpError> {
        let bytes = self.text.as_bytes();
        // The lists being read, each with the offset of its `(`.
        let mut open: Vec<(Vec<Node>, usize)> = Vec::new();
        let mut current: Vec<Node> = Vec::new();
        while let Some(&b) = bytes.get(self.pos) {
            let start = self.pos;
            match b {
                _ if is_space(b) => {
                    while bytes.get(self.pos).is_some_and(|&b| is_space(b)) {
                        self.pos += 1;
                    }
                    current.push(Node::Space(self.text[start..self.pos].to_owned()));
                }
                b'#' => {
                    self.pos = self.text[start..]
                        .find('\n')
                        .map_or(bytes.len(), |n| start + n);
                    current.push(Node::Comment(self.text[start..self.pos].to_owned()));
                }
                b'(' => {
                    if open.len() >= MAX_DEPTH {
                        let (line, column) = self.location(start);
                        return Err(SxpError::TooDeep { line, column });
                    }
                    open.push((std::mem::take(&mut current), start));
                    self.pos += 1;
                }
                b')' => {
                    let Some((parent, _)) = open.pop() else {
                        let (line, column) = self.location(start);
                        return Err(SxpError::UnbalancedClose { line, column });
                    };
                    let list = std::mem::replace(&mut current, parent);
                    current.push(Node::List(list));
                    self.pos += 1;
                }
                b'"' | b'\'' => current.push(self.string(b)?),
                _ if b.is_ascii_graphic() => {
                    self.pos += 1;
                    if !SEPARATORS.contains(&b) {
                        while bytes.get(self.pos).is_some_and(|&b| !ends_atom(b)) {
                            self.pos += 1;
                        }
                    }
                    current.push(Node::Atom(self.text[start..self.pos].to_owned()));
                }
                _ => {
                    let character = self.text[start..].chars().next().unwrap_or_default();
                    let (line, column) = self.location(start);
                    return Err(SxpError::InvalidCharacter {
                        character,
                        line,
                        column,
                    });
                }
            }
        }
        if let Some(&(_, start)) = open.last() {
            let (line, column) = self.location(start);
            return Err(SxpError::UnterminatedList { line, column });
        }
        Ok(Document { nodes: current })
    }

    /// Reads a string opened by `quote` at `self.pos`, decoding escapes as xend does.
    fn string(&mut self, quote: u8) -> Result<Node, SxpError> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut value = String::new();
        let mut j = start + 1;
        loop {
            let Some(&b) = bytes.get(j) else {
                let (line, column) = self.location(start);
                return Err(SxpError::UnterminatedString { line, column });
            };
            if b == quote {
                break;
            }
            if b == b'\\' && j + 1 < bytes.len() {
                let (decoded, used) = unescape(&bytes[j + 1..]);
                value.push(decoded);
                j += 1 + used;
                continue;
            }
            let c = self.text[j..].chars().next().unwrap_or_default();
            value.push(c);
            j += c.len_utf8();
        }
        self.pos = j + 1;
        Ok(Node::Str {
            raw: self.text[start..self.pos].to_owned(),
            value,
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn location(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset];
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |n| n + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

/// Decodes the escape after a backslash (`rest` starts after it, and is not empty): the
/// character and how many bytes of `rest` it used. An unknown escape is the backslash
/// itself, using nothing, as in xend.
fn unescape(rest: &[u8]) -> (char, usize) {
    let named = match rest[0] {
        b'a' => Some('\x07'),
        b'b' => Some('\x08'),
        b't' => Some('\t'),
        b'n' => Some('\n'),
        b'v' => Some('\x0b'),
        b'f' => Some('\x0c'),
        b'r' => Some('\r'),
        c @ (b'\\' | b'\'' | b'"') => Some(char::from(c)),
        _ => None,
    };
    if let Some(c) = named {
        return (c, 1);
    }
    let digits = |from: usize, max: usize, radix: u32| {
        rest.iter()
            .skip(from)
            .take(max)
            .take_while(|&&b| char::from(b).is_digit(radix))
            .count()
    };
    let (from, len, radix) = if rest[0] == b'x' {
        (1, digits(1, 2, 16), 16)
    } else {
        (0, digits(0, 3, 8), 8)
    };
    if len == 0 {
        return ('\\', 0);
    }
    let code = rest[from..from + len].iter().fold(0u32, |acc, &b| {
        acc * radix + char::from(b).to_digit(radix).unwrap_or(0)
    });
    (
        char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
        from + len,
    )
}

/// Writes `s` as a single-quoted string that xend reads back as `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && u32::from(c) < 0x100 => {
                let code = u32::from(c);
                out.push_str("\\x");
                out.extend([code >> 4, code & 0xf].map(|d| char::from_digit(d, 16).unwrap_or('0')));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `[A-Za-z0-9_.:/-]+`: safe to write bare, cannot open a list, string or comment.
fn is_safe_atom(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'/' | b'-'))
}

/// The elements of a list, skipping whitespace and comments: (index in the list, node).
fn elements(items: &[Node]) -> impl Iterator<Item = (usize, &Node)> {
    items.iter().enumerate().filter(|(_, n)| !n.is_trivia())
}

/// Whether a top-level list is a `(key ...)` setting.
fn is_setting(node: &Node, key: &str) -> bool {
    match node {
        Node::List(items) => {
            matches!(elements(items).next(), Some((_, Node::Atom(k))) if k == key)
        }
        _ => false,
    }
}

/// Whether a comment is a commented-out `#(key ...)` setting.
fn is_commented_setting(comment: &str, key: &str) -> bool {
    let Some(rest) = comment.strip_prefix('#') else {
        return false;
    };
    let Some(rest) = rest.trim_start_matches([' ', '\t']).strip_prefix('(') else {
        return false;
    };
    rest.strip_prefix(key)
        .is_some_and(|after| after.starts_with([' ', '\t', ')']))
}

impl Document {
    /// The top-level `(key value)` settings in file order: every top-level list of exactly
    /// two elements whose first is an atom. The value is as xend reads it: an atom as
    /// written, a string without its quotes and escapes, a list as written.
    pub fn top_level_settings(&self) -> Vec<(String, String)> {
        self.nodes
            .iter()
            .filter_map(|node| {
                let Node::List(items) = node else {
                    return None;
                };
                let mut it = elements(items).map(|(_, n)| n);
                let (Some(Node::Atom(key)), Some(value), None) = (it.next(), it.next(), it.next())
                else {
                    return None;
                };
                let value = value
                    .text()
                    .map_or_else(|| value.to_string(), str::to_owned);
                Some((key.clone(), value))
            })
            .collect()
    }

    /// Sets the top-level setting `(key value)`, changing as little text as possible.
    ///
    /// - Every uncommented top-level `(key ...)` gets `value` in place of its value(s); the
    ///   key, the whitespace and comments around it are kept. A value that xend already reads
    ///   as `value` is left as written.
    /// - Otherwise, when a line is a commented-out `#(key ...)` (xend-config's way to show a
    ///   default), `(key value)` is inserted on its own line after the last such line, with
    ///   the same indentation.
    /// - Otherwise `(key value)` is appended on a line of its own at the end.
    ///
    /// Refuses a key, or a [`Value::Atom`], that is not `[A-Za-z0-9_.:/-]+`, so nothing can
    /// bring a parenthesis, quote, `#` or newline into the file; a [`Value::Str`] is escaped.
    pub fn set(&mut self, key: &str, value: &Value) -> Result<(), SxpError> {
        if !is_safe_atom(key) {
            return Err(SxpError::InvalidKey {
                key: key.to_owned(),
            });
        }
        if let Value::Atom(atom) = value {
            if !is_safe_atom(atom) {
                return Err(SxpError::InvalidAtom {
                    key: key.to_owned(),
                    value: atom.clone(),
                });
            }
        }
        let mut found = false;
        for node in &mut self.nodes {
            if is_setting(node, key) {
                if let Node::List(items) = node {
                    replace_value(items, value);
                }
                found = true;
            }
        }
        if found {
            return Ok(());
        }
        let newline = self.newline();
        let line = Node::List(vec![
            Node::Atom(key.to_owned()),
            Node::Space(" ".to_owned()),
            value.to_node(),
        ]);
        if let Some(at) = self.last_commented(key) {
            self.insert_after_comment(at, line, newline);
        } else if self.nodes.is_empty() || self.to_string().ends_with('\n') {
            self.nodes.push(line);
            self.nodes.push(Node::Space(newline.to_owned()));
        } else {
            self.nodes.push(Node::Space(newline.to_owned()));
            self.nodes.push(line);
        }
        Ok(())
    }

    /// `"\r\n"` when the text uses it, else `"\n"`.
    fn newline(&self) -> &'static str {
        if self.to_string().contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// The index of the last top-level comment that is a line of its own commenting out
    /// `(key ...)`.
    fn last_commented(&self, key: &str) -> Option<usize> {
        (0..self.nodes.len()).rev().find(|&i| {
            let Node::Comment(c) = &self.nodes[i] else {
                return false;
            };
            is_commented_setting(c, key) && self.indent_before(i).is_some()
        })
    }

    /// The indentation before node `i` when only whitespace precedes it on its line.
    fn indent_before(&self, i: usize) -> Option<&str> {
        match i.checked_sub(1).map(|p| &self.nodes[p]) {
            None => Some(""),
            Some(Node::Space(s)) => match s.rfind('\n') {
                Some(n) => Some(&s[n + 1..]),
                None if i == 1 => Some(s),
                None => None,
            },
            Some(_) => None,
        }
    }

    /// Inserts `line` on a new line after the comment at index `at`.
    fn insert_after_comment(&mut self, at: usize, line: Node, newline: &'static str) {
        let indent = self.indent_before(at).unwrap_or_default().to_owned();
        let comment_has_cr = matches!(&self.nodes[at], Node::Comment(c) if c.ends_with('\r'));
        let mut new = Vec::new();
        let rest = match self.nodes.get(at + 1) {
            // A comment always ends at a `\n`, which starts the whitespace after it.
            Some(Node::Space(s)) if s.starts_with('\n') => {
                new.push(Node::Space("\n".to_owned()));
                Some(s[1..].to_owned())
            }
            _ => {
                let nl = if comment_has_cr { "\n" } else { newline };
                new.push(Node::Space(nl.to_owned()));
                None
            }
        };
        if !indent.is_empty() {
            new.push(Node::Space(indent));
        }
        new.push(line);
        let end = match rest {
            Some(rest) => {
                let nl = if comment_has_cr { "\r\n" } else { "\n" };
                new.push(Node::Space(nl.to_owned()));
                if !rest.is_empty() {
                    new.push(Node::Space(rest));
                }
                at + 2
            }
            None => at + 1,
        };
        self.nodes.splice(at + 1..end, new);
    }
}

/// Puts `value` in place of the value(s) of the `(key ...)` list `items`.
fn replace_value(items: &mut Vec<Node>, value: &Value) {
    let idx: Vec<usize> = elements(items).map(|(i, _)| i).collect();
    match idx.as_slice() {
        [] => {}
        [key] => {
            let at = key + 1;
            items.splice(at..at, [Node::Space(" ".to_owned()), value.to_node()]);
        }
        [_, first, rest @ ..] => {
            let last = rest.last().unwrap_or(first);
            if first == last && items[*first].text() == Some(value.as_str()) {
                return;
            }
            items.splice(*first..=*last, [value.to_node()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOCK: &str = include_str!("../../../../tests/fixtures/xend-config/centos5-stock.sxp");
    const DEFAULT: &str =
        include_str!("../../../../tests/fixtures/xend-config/xen-3.4-default.sxp");

    fn atom(s: &str) -> Value {
        Value::Atom(s.to_owned())
    }

    fn roundtrip(text: &str) {
        let doc = parse(text).unwrap();
        assert_eq!(doc.to_string(), text);
    }

    fn setting(doc: &Document, key: &str) -> Option<String> {
        doc.top_level_settings()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    #[test]
    fn fixtures_round_trip() {
        roundtrip(STOCK);
        roundtrip(DEFAULT);
        roundtrip(&STOCK.replace('\n', "\r\n"));
    }

    #[test]
    fn edge_cases_round_trip() {
        for text in [
            "",
            "   \n\n",
            "(a b)",
            "(a b)\r\n(c d)\r\n",
            "(a b) # after\n(c (d (e)) ())#x",
            "()",
            "(a \"x ( ) # y\" 'p)q#r')\n",
            "(a 'it\\'s \\\\ \\x41\\101\\q')\n",
            "(r [0-9]+ <x> {y} !z; w)\n",
            "# only a comment",
            "\t(a\n  b\n  # inside\n  c)\x0b\x0c\n",
            "(a xé 'ü')\n",
            "abc'def\n",
        ] {
            roundtrip(text);
        }
    }

    #[test]
    fn settings_of_the_stock_file() {
        let doc = parse(STOCK).unwrap();
        let settings = doc.top_level_settings();
        assert_eq!(
            settings,
            [
                ("xend-unix-server", "yes"),
                ("xend-relocation-server", "no"),
                (
                    "xend-relocation-hosts-allow",
                    "^localhost$ ^localhost\\.localdomain$"
                ),
                ("network-script", "network-bridge"),
                ("vif-script", "vif-bridge"),
                ("dom0-min-mem", "256"),
                ("dom0-cpus", "0"),
                ("vncpasswd", ""),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let doc = parse(DEFAULT).unwrap();
        assert_eq!(setting(&doc, "xen-api-server").as_deref(), Some("((unix))"));
    }

    #[test]
    fn settings_skip_other_shapes() {
        let doc = parse("(a)\n(b 1 2)\n((c) 1)\n'd'\n(e # c\n 'x\\ty')\n").unwrap();
        assert_eq!(doc.top_level_settings(), [("e".into(), "x\ty".into())]);
    }

    #[test]
    fn errors_have_locations() {
        let err = |t: &str| parse(t).unwrap_err().to_string();
        assert_eq!(err("(a b)\n  (c d))\n"), "line 2, column 8: unbalanced `)`");
        assert_eq!(
            err("(a b)\n(c\n(d e)\n"),
            "line 2, column 1: unterminated list: this `(` is never closed"
        );
        assert_eq!(
            err("(a 'b)\n(c d)\n"),
            "line 1, column 4: unterminated string"
        );
        assert_eq!(err("(a 'b\\"), "line 1, column 4: unterminated string");
        assert_eq!(
            err("(a xé)\n(b ü)"),
            "line 2, column 4: invalid character 'ü'"
        );
        let missing = DEFAULT.replace("(dom0-cpus 0)", "(dom0-cpus 0");
        assert!(matches!(
            parse(&missing),
            Err(SxpError::UnterminatedList {
                line: 12,
                column: 1
            })
        ));
        assert!(matches!(
            parse(&"(".repeat(100_000)),
            Err(SxpError::TooDeep {
                line: 1,
                column: 65
            })
        ));
    }

    #[test]
    fn set_replaces_in_place() {
        // The example of the module docs.
        let mut doc = parse("# xend\n(dom0-min-mem 256) # MiB\n").unwrap();
        doc.set("dom0-min-mem", &Value::Atom("512".into())).unwrap();
        assert_eq!(doc.to_string(), "# xend\n(dom0-min-mem 512) # MiB\n");

        let mut doc = parse("  (dom0-min-mem   256)  # MiB\n(x 1)\n").unwrap();
        doc.set("dom0-min-mem", &atom("0")).unwrap();
        assert_eq!(doc.to_string(), "  (dom0-min-mem   0)  # MiB\n(x 1)\n");
    }

    #[test]
    fn set_replaces_every_copy_and_all_values() {
        let mut doc = parse("(k 1)\n(k a b c) # x\n(k)\n(k (l))\n").unwrap();
        doc.set("k", &atom("2")).unwrap();
        assert_eq!(doc.to_string(), "(k 2)\n(k 2) # x\n(k 2)\n(k 2)\n");
    }

    #[test]
    fn set_keeps_an_equivalent_value() {
        let text = "(keymap \"en-us\")\n(a 'yes')\n";
        let mut doc = parse(text).unwrap();
        doc.set("keymap", &Value::Str("en-us".into())).unwrap();
        doc.set("a", &atom("yes")).unwrap();
        assert_eq!(doc.to_string(), text);
    }

    #[test]
    fn set_inserts_after_the_last_commented_default() {
        let mut doc = parse("#(k 1)\n# (k 2)\n\n(x (k 3)) # (k 4)\n").unwrap();
        doc.set("k", &atom("5")).unwrap();
        assert_eq!(
            doc.to_string(),
            "#(k 1)\n# (k 2)\n(k 5)\n\n(x (k 3)) # (k 4)\n"
        );

        let mut doc = parse("a\r\n  #(k 1)\r\n(x 1)").unwrap();
        doc.set("k", &atom("5")).unwrap();
        assert_eq!(doc.to_string(), "a\r\n  #(k 1)\r\n  (k 5)\r\n(x 1)");

        let mut doc = parse("#(k 1)").unwrap();
        doc.set("k", &atom("5")).unwrap();
        assert_eq!(doc.to_string(), "#(k 1)\n(k 5)");

        // `#(key-more ...)` and prose are not `#(key ...)`.
        let mut doc = parse("#(k-2 1)\n# k is (k 1)\n").unwrap();
        doc.set("k", &atom("5")).unwrap();
        assert_eq!(doc.to_string(), "#(k-2 1)\n# k is (k 1)\n(k 5)\n");
    }

    #[test]
    fn set_appends_on_a_line_of_its_own() {
        for (text, expected) in [
            ("", "(k 5)\n"),
            ("(a 1)\n", "(a 1)\n(k 5)\n"),
            ("(a 1)", "(a 1)\n(k 5)"),
            ("(a 1) # c", "(a 1) # c\n(k 5)"),
            ("(a 1)\r\n", "(a 1)\r\n(k 5)\r\n"),
        ] {
            let mut doc = parse(text).unwrap();
            doc.set("k", &atom("5")).unwrap();
            assert_eq!(doc.to_string(), expected, "{text:?}");
        }
    }

    #[test]
    fn strings_are_escaped() {
        let hostile = "a'b\\c\"d)(#e\nf\r\tg\x07h é ' ) (k x)\n";
        let mut doc = parse("(k old)\n").unwrap();
        doc.set("k", &Value::Str(hostile.to_owned())).unwrap();
        let text = doc.to_string();
        assert_eq!(text.lines().count(), 1);
        let reread = parse(&text).unwrap();
        assert_eq!(reread.top_level_settings(), [("k".into(), hostile.into())]);
        assert_eq!(
            quote("it's \\ \x01\x7f"),
            "'it\\'s \\\\ \\x01\\x7f'".to_owned()
        );
    }

    #[test]
    fn hostile_keys_and_atoms_are_refused() {
        let mut doc = parse("(k 1)\n").unwrap();
        for key in ["", "k)", "k (x", "k\n(x 1", "k#", "k'", "k v", "ké"] {
            assert!(matches!(
                doc.set(key, &atom("1")),
                Err(SxpError::InvalidKey { .. })
            ));
        }
        for value in ["", "1)", "1 (x 2", "1\n(x 2)", "'1", "\"1", "1#", "[0-9]"] {
            assert!(matches!(
                doc.set("k", &atom(value)),
                Err(SxpError::InvalidAtom { .. })
            ));
        }
        assert_eq!(doc.to_string(), "(k 1)\n");
        assert_eq!(
            doc.set("k", &atom("1)\n(x")).unwrap_err().to_string(),
            "invalid value \"1)\\n(x\" for `k`: an atom is one or more of `A-Z a-z 0-9 _ . : / -`; use a string for anything else"
        );
    }

    #[test]
    fn separators_are_atoms_of_their_own() {
        let doc = parse("(a [)\n(b x;)\n(c 'x;y')\n").unwrap();
        assert_eq!(
            doc.top_level_settings(),
            [("a".into(), "[".into()), ("c".into(), "x;y".into())]
        );
    }
}
