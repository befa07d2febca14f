//! Compiled Quattor profiles: pan's XML and JSON output read into one [`Value`] tree.
//!
//! `panc` compiles a host's templates into one profile, written as pan XML
//! (`<nlist format="pan" name="profile">…`) or JSON, often gzip-compressed as AII serves
//! them. [`read_xml`] and [`read_json`] read either (gzip is recognised by its magic bytes)
//! into the same [`Value`]; [`read_file`] picks the format from the content.
//!
//! ```
//! use xenfab_core::input::quattor::profile::{read_json, read_xml};
//!
//! let xml = br#"<?xml version="1.0" encoding="UTF-8"?><nlist format="pan" name="profile">
//!     <nlist name="system"><nlist name="network">
//!         <string name="hostname">xen01</string>
//!     </nlist></nlist>
//!     <nlist name="d"><long name="_2fdev_2fsda">1</long></nlist>
//! </nlist>"#;
//! let profile = read_xml(xml)?;
//! assert_eq!(profile.get_path("/system/network/hostname").and_then(|v| v.as_str()), Some("xen01"));
//! // Escaped keys are unescaped; a path may name them either way.
//! assert!(profile.get_path("/d").and_then(|d| d.as_nlist()).is_some_and(|d| d.get("/dev/sda").is_some()));
//! assert_eq!(profile.get_path("/d/_2fdev_2fsda").and_then(|v| v.as_i64()), Some(1));
//!
//! let json = br#"{ "system": { "network": { "hostname": "xen01" } }, "d": { "_2fdev_2fsda": 1 } }"#;
//! assert_eq!(read_json(json)?, profile);
//! # Ok::<(), xenfab_core::input::quattor::profile::ProfileError>(())
//! ```
//!
//! # Keys
//!
//! Pan's `escape()` writes any character other than an ASCII letter or digit (and a digit in
//! first place) as `_` and two lowercase hex digits: `escape("/dev/sda")` is `_2fdev_2fsda`.
//! Keys written directly in templates are not escaped and may hold `_` of their own
//! (`holding_dev`, `part_prefix`), so a key is unescaped only when it is exactly what
//! `escape()` makes of an ASCII string: `_2fdev_2fsda` gives `/dev/sda` and `kernel_2dfirmware`
//! gives `kernel-firmware`, while `holding_dev` stays as it is (`_de` would be a non-ASCII
//! character, which no ASCII key escapes to). See [`unescape_key`].
//!
//! # Limits
//!
//! Reading is one pass with an explicit stack, so hostile input cannot exhaust the call
//! stack: nesting deeper than [`MAX_DEPTH`] is refused, and so is input (or gzip output)
//! larger than [`MAX_DECOMPRESSED`]. Errors carry the line and column, and the path inside the
//! profile where it is known.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use quick_xml::XmlVersion;
use quick_xml::errors::{IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};

/// Decompressed gzip input (and plain input from [`read_file`]) larger than this is refused:
/// a typical profile is well under 1 MiB. The same 64 MiB as the `xenfab` command's cap on a
/// fabric file.
pub const MAX_DECOMPRESSED: u64 = 64 * 1024 * 1024;

/// Values nested deeper than this (the root nlist is level 1) are refused.
pub const MAX_DEPTH: usize = 512;

/// Above this many keys, an nlist under construction checks for duplicate keys with a hash
/// set instead of a linear scan.
const LINEAR_KEYS: usize = 16;

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// A value of a compiled profile: pan's types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A dict (pan's `nlist`): keys in document order.
    Nlist(Nlist),
    /// A list.
    List(Vec<Value>),
    /// A string.
    String(String),
    /// A 64-bit integer (pan's `long`).
    Long(i64),
    /// A finite double.
    Double(f64),
    /// A boolean.
    Boolean(bool),
}

impl Value {
    /// The value at `path` below this one: `/`-separated components, each an nlist key
    /// (unescaped, or as pan writes it escaped) or a list index. Empty components are
    /// skipped, so `""` and `"/"` are this value.
    ///
    /// ```
    /// # use xenfab_core::input::quattor::profile::read_json;
    /// let p = read_json(br#"{"hardware": {"cpu": [{"cores": 4}]}}"#)?;
    /// assert_eq!(p.get_path("/hardware/cpu/0/cores").and_then(|v| v.as_i64()), Some(4));
    /// # Ok::<(), xenfab_core::input::quattor::profile::ProfileError>(())
    /// ```
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        path.split('/')
            .filter(|c| !c.is_empty())
            .try_fold(self, |value, component| match value {
                Value::Nlist(nlist) => {
                    nlist
                        .get(component)
                        .or_else(|| match unescape_key(component) {
                            Cow::Owned(key) => nlist.get(&key),
                            Cow::Borrowed(_) => None,
                        })
                }
                Value::List(items) if component.bytes().all(|b| b.is_ascii_digit()) => {
                    component.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                _ => None,
            })
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The long, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Long(n) => Some(*n),
            _ => None,
        }
    }

    /// The double, if this is one (a long is not: pan keeps the two apart).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(x) => Some(*x),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The nlist, if this is one.
    pub fn as_nlist(&self) -> Option<&Nlist> {
        match self {
            Value::Nlist(n) => Some(n),
            _ => None,
        }
    }

    /// The list's items, if this is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// Pan's name of this value's type: `nlist`, `list`, `string`, `long`, `double` or
    /// `boolean`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nlist(_) => "nlist",
            Value::List(_) => "list",
            Value::String(_) => "string",
            Value::Long(_) => "long",
            Value::Double(_) => "double",
            Value::Boolean(_) => "boolean",
        }
    }
}

/// An nlist: unescaped keys in document order, each once.
///
/// Lookups scan the keys, which suits the few keys of most nlists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Nlist(Vec<(String, Value)>);

impl Nlist {
    /// An empty nlist.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key` (unescaped, as [`keys`](Self::keys) gives them).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` to `value`, in place if the key is there (returning the old value), else
    /// at the end.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        if let Some((_, old)) = self.0.iter_mut().find(|(k, _)| *k == key) {
            return Some(std::mem::replace(old, value));
        }
        self.0.push((key, value));
        None
    }

    /// The entries in document order.
    pub fn iter(&self) -> std::slice::Iter<'_, (String, Value)> {
        self.0.iter()
    }

    /// The keys in document order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The values in document order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value> + '_ {
        self.0.iter().map(|(_, v)| v)
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries, in document order.
    pub fn into_vec(self) -> Vec<(String, Value)> {
        self.0
    }
}

impl<'a> IntoIterator for &'a Nlist {
    type Item = &'a (String, Value);
    type IntoIter = std::slice::Iter<'a, (String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Nlist {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Undoes pan's `escape()` on a key that is exactly what `escape()` makes of an ASCII string
/// (letters, digits after the first place, `_` and two lowercase hex digits for any other
/// character; `_` alone is the empty string), and returns any other key as it is.
///
/// ```
/// # use xenfab_core::input::quattor::profile::unescape_key;
/// assert_eq!(unescape_key("_2fdev_2fsda"), "/dev/sda");
/// assert_eq!(unescape_key("_32_2e6_2e32"), "2.6.32");
/// assert_eq!(unescape_key("holding_dev"), "holding_dev"); // written as is, not escaped
/// assert_eq!(unescape_key("eth0"), "eth0");
/// ```
pub fn unescape_key(raw: &str) -> Cow<'_, str> {
    if !raw.contains('_') {
        return Cow::Borrowed(raw);
    }
    if raw == "_" {
        return Cow::Borrowed("");
    }
    // Most keys with `_` are written as they are: find out before allocating.
    let decoded = || {
        let bytes = raw.as_bytes();
        let mut i = 0;
        std::iter::from_fn(move || {
            let first = i == 0;
            let b = *bytes.get(i)?;
            if b != b'_' {
                i += 1;
                let plain = b.is_ascii_alphabetic() || (b.is_ascii_digit() && !first);
                return Some(plain.then_some(b));
            }
            let hex = |j: usize| bytes.get(j).and_then(|&h| lower_hex(h));
            let c = hex(i + 1).zip(hex(i + 2)).map(|(hi, lo)| hi * 16 + lo);
            i += 3;
            // escape() writes `_xx` only for what it must escape, and only ASCII is a key
            // anyone escapes on purpose.
            Some(c.filter(|c| {
                c.is_ascii() && (!c.is_ascii_alphanumeric() || (first && c.is_ascii_digit()))
            }))
        })
    };
    if decoded().any(|c| c.is_none()) {
        return Cow::Borrowed(raw);
    }
    Cow::Owned(decoded().flatten().map(char::from).collect())
}

fn lower_hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Where in a profile something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The line, from 1.
    pub line: u64,
    /// The column, from 1, in characters.
    pub column: u64,
    /// The path inside the profile, keys as written in the file (`/system/network/hostname`);
    /// empty where no path applies.
    pub path: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, ", at {}", self.path)?;
        }
        Ok(())
    }
}

/// Why a profile could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The XML is not well-formed.
    #[error("{location}: malformed xml")]
    Xml {
        /// Where.
        location: Location,
        /// What quick-xml found.
        #[source]
        source: quick_xml::Error,
    },
    /// The JSON is not well-formed.
    #[error("{location}: malformed json: {reason}")]
    Json {
        /// Where.
        location: Location,
        /// What is wrong.
        reason: &'static str,
    },
    /// The input ends before the profile does.
    #[error("{location}: unexpected end of input (a truncated profile?)")]
    Truncated {
        /// Where the input ends, or the markup it ends in starts.
        location: Location,
    },
    /// The input is not a pan profile: its root is not `<nlist format="pan">` (a JSON
    /// object), or it is neither XML nor JSON.
    #[error("{location}: not a pan profile: {reason}")]
    NotAProfile {
        /// Where.
        location: Location,
        /// Why.
        reason: String,
    },
    /// An element that is not one of pan's types.
    #[error("{location}: unknown element `<{name}>`")]
    UnknownElement {
        /// Where.
        location: Location,
        /// The element's name.
        name: String,
    },
    /// A child of an nlist without a `name` attribute.
    #[error("{location}: `<{element}>` in an nlist has no `name` attribute")]
    MissingName {
        /// Where.
        location: Location,
        /// The element's name.
        element: String,
    },
    /// A key that is already in its nlist.
    #[error("{location}: duplicate key `{key}`")]
    DuplicateKey {
        /// Where the second one is.
        location: Location,
        /// The key, as written in the file.
        key: String,
    },
    /// A scalar whose text is not a value of its type (`<long>abc</long>`).
    #[error("{location}: `{text}` is not a {type_name}")]
    InvalidValue {
        /// Where the element (or JSON token) starts.
        location: Location,
        /// `long`, `double`, `boolean` or `number`.
        type_name: &'static str,
        /// The text, shortened to 64 characters.
        text: String,
    },
    /// A string with `encoding="base64"` that is not base64.
    #[error("{location}: invalid base64")]
    InvalidBase64 {
        /// Where the element starts.
        location: Location,
        /// What the decoder found.
        #[source]
        source: base64::DecodeError,
    },
    /// Bytes that are not UTF-8, in the input or in a decoded base64 string.
    #[error("{location}: invalid utf-8")]
    InvalidUtf8 {
        /// Where.
        location: Location,
    },
    /// Something pan never writes where it is: text between elements, an element inside a
    /// scalar, a second root, JSON's `null`.
    #[error("{location}: unexpected {what}")]
    Unexpected {
        /// Where.
        location: Location,
        /// What.
        what: String,
    },
    /// Values nested deeper than [`MAX_DEPTH`].
    #[error("{location}: nested deeper than {limit} levels: refusing it")]
    TooDeep {
        /// Where the first value too deep starts.
        location: Location,
        /// [`MAX_DEPTH`].
        limit: usize,
    },
    /// Input that starts like gzip but is not valid gzip.
    #[error("invalid gzip data")]
    Gzip {
        /// What the decompressor found.
        #[source]
        source: std::io::Error,
    },
    /// Gzip input that decompresses to more than [`MAX_DECOMPRESSED`] bytes.
    #[error("gzip data decompresses to more than {limit_mib} MiB: refusing it (a gzip bomb?)")]
    GzipBomb {
        /// [`MAX_DECOMPRESSED`] in MiB.
        limit_mib: u64,
    },
    /// A file larger than [`MAX_DECOMPRESSED`] bytes.
    #[error("the file is larger than {limit_mib} MiB: refusing it")]
    TooLarge {
        /// [`MAX_DECOMPRESSED`] in MiB.
        limit_mib: u64,
    },
    /// A file that cannot be read.
    #[error("cannot read `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The arms of [`ProfileError`] that carry a [`Location`].
macro_rules! with_location {
    ($error:expr, $location:ident => $some:expr, $none:expr) => {
        match $error {
            ProfileError::Xml { $location, .. }
            | ProfileError::Json { $location, .. }
            | ProfileError::Truncated { $location }
            | ProfileError::NotAProfile { $location, .. }
            | ProfileError::UnknownElement { $location, .. }
            | ProfileError::MissingName { $location, .. }
            | ProfileError::DuplicateKey { $location, .. }
            | ProfileError::InvalidValue { $location, .. }
            | ProfileError::InvalidBase64 { $location, .. }
            | ProfileError::InvalidUtf8 { $location }
            | ProfileError::Unexpected { $location, .. }
            | ProfileError::TooDeep { $location, .. } => $some,
            ProfileError::Gzip { .. }
            | ProfileError::GzipBomb { .. }
            | ProfileError::TooLarge { .. }
            | ProfileError::Io { .. } => $none,
        }
    };
}

impl ProfileError {
    /// Where in the profile the error is, for errors about its content.
    pub fn location(&self) -> Option<&Location> {
        with_location!(self, location => Some(location), None)
    }

    fn location_mut(&mut self) -> Option<&mut Location> {
        with_location!(self, location => Some(location), None)
    }
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// Reads a profile in pan's XML format (gzip-compressed or not).
///
/// The root is `<nlist format="pan">`; its descendants are `nlist`, `list`, `string`, `long`,
/// `double` and `boolean` elements, those in an nlist with a `name`. Strings with
/// `encoding="base64"` are decoded (and must be UTF-8); entities and `CDATA` are resolved;
/// whitespace between elements is ignored, and so are attributes other than `name`,
/// `encoding` and the root's `format` (old CCM profiles carry `derivation`, `acl`,
/// `checksum`; pan writes links as `<string type="link">`).
pub fn read_xml(bytes: &[u8]) -> Result<Value, ProfileError> {
    let input = gunzip(bytes)?;
    parse_xml(&input)
}

/// Reads a profile in panc's JSON format (gzip-compressed or not).
///
/// The root is an object. Objects are nlists (keys unescaped as in XML), arrays lists; a
/// number without fraction or exponent that fits 64 bits is a long, any other a double;
/// `null` is refused, as pan has none. Nesting is limited as in XML.
pub fn read_json(bytes: &[u8]) -> Result<Value, ProfileError> {
    let input = gunzip(bytes)?;
    parse_json(&input)
}

/// Reads every file of `paths`, on as many threads as the machine has cores (profiles are
/// independent files), and gives each result in the order of `paths`.
pub fn read_files(paths: &[std::path::PathBuf]) -> Vec<Result<Value, ProfileError>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(paths.len().max(1));
    let chunk = paths.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|p| read_file(p)).collect::<Vec<_>>()))
            .collect();
        // A worker only runs `read_file`, which does not panic; were it to, its panic is
        // carried on here rather than swallowed.
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Reads a profile file: gzip-compressed or not, XML if its first non-blank character is `<`
/// and JSON if it is `{`, whatever the file is called.
pub fn read_file(path: &Path) -> Result<Value, ProfileError> {
    let io = |source| ProfileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_or(0, |m| m.len()).min(MAX_DECOMPRESSED) + 1;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_DECOMPRESSED {
        return Err(ProfileError::TooLarge {
            limit_mib: MAX_DECOMPRESSED >> 20,
        });
    }
    let input = gunzip(&bytes)?;
    let text = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&input);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => parse_xml(&input),
        Some(b'{') => parse_json(&input),
        _ => {
            let at = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
            Err(ProfileError::NotAProfile {
                location: locate(&input, input.len() - text.len() + at, String::new()),
                reason: "neither xml (`<`) nor json (`{`)".into(),
            })
        }
    }
}

/// Decompresses gzip input (recognised by its magic bytes), at most [`MAX_DECOMPRESSED`]
/// bytes of it; other input is returned as it is.
fn gunzip(bytes: &[u8]) -> Result<Cow<'_, [u8]>, ProfileError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(Cow::Borrowed(bytes));
    }
    // The trailer gives the size of the last member modulo 2^32: a hint for the capacity
    // (a truncated file's is garbage, so no more than a hint), bounded by deflate's best ratio.
    let hint = bytes
        .last_chunk::<4>()
        .map_or(0, |t| u64::from(u32::from_le_bytes(*t)));
    let hint = hint
        .min((bytes.len() as u64).saturating_mul(1032))
        .min(MAX_DECOMPRESSED)
        + 1;
    let mut out = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_DECOMPRESSED + 1)
        .read_to_end(&mut out)
        .map_err(|source| ProfileError::Gzip { source })?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(ProfileError::GzipBomb {
            limit_mib: MAX_DECOMPRESSED >> 20,
        });
    }
    Ok(Cow::Owned(out))
}

/// The line and column of byte `offset` of `input`, with `path`.
fn locate(input: &[u8], offset: usize, path: String) -> Location {
    let before = input.get(..offset).unwrap_or(input);
    let (mut line, mut line_start) = (1_u64, 0);
    for (i, &b) in before.iter().enumerate() {
        if b == b'\n' {
            line += 1;
            line_start = i + 1;
        }
    }
    // Count characters, not bytes: skip UTF-8 continuation bytes.
    let column = before[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count()
        + 1;
    Location {
        line,
        column: column as u64,
        path,
    }
}

/// The offset of the first byte of `input` that is not UTF-8.
fn utf8_error_offset(input: &[u8]) -> usize {
    std::str::from_utf8(input)
        .err()
        .map_or(0, |e| e.valid_up_to())
}

// ---------------------------------------------------------------------------------------------
// The tree under construction, shared by both formats
// ---------------------------------------------------------------------------------------------

/// A key of an nlist entry under construction.
struct Key {
    /// Unescaped.
    key: String,
    /// As written, when it differs from `key`.
    raw: Option<Box<str>>,
}

impl Key {
    fn new(raw: &str) -> Self {
        match unescape_key(raw) {
            Cow::Borrowed(key) => Key {
                key: key.to_owned(),
                // Borrowed: `raw` itself, or "" for `_`.
                raw: (key.len() != raw.len()).then(|| raw.into()),
            },
            Cow::Owned(key) => Key {
                key,
                raw: Some(raw.into()),
            },
        }
    }

    fn raw(&self) -> &str {
        self.raw.as_deref().unwrap_or(&self.key)
    }
}

/// An nlist or list under construction: where its children start on [`Tree`]'s stacks.
enum Body {
    Nlist {
        start: usize,
        /// Hashes of the keys, once there are more than [`LINEAR_KEYS`].
        hashes: Option<HashSet<u64>>,
    },
    List {
        start: usize,
    },
}

/// An nlist or list under construction, and its key in its parent (if that is an nlist).
struct Frame {
    key: Option<Key>,
    body: Body,
}

/// Why a child cannot be added where it is.
enum ChildError {
    MissingName,
    Duplicate,
    TooDeep,
}

/// The tree under construction. The children of the open containers wait on two stacks,
/// innermost last, and move into a vector of their exact size when their container closes.
#[derive(Default)]
struct Tree {
    frames: Vec<Frame>,
    /// The entries of the open nlists.
    entries: Vec<(String, Value)>,
    /// The items of the open lists.
    items: Vec<Value>,
    root: Option<Value>,
    hasher: RandomState,
}

impl Tree {
    fn new() -> Self {
        // Room for a typical profile's open containers, so that the stacks seldom grow.
        Tree {
            frames: Vec::with_capacity(16),
            entries: Vec::with_capacity(256),
            items: Vec::with_capacity(64),
            ..Tree::default()
        }
    }

    /// Whether the root value is complete.
    fn done(&self) -> bool {
        self.root.is_some()
    }

    fn in_list(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame {
                body: Body::List { .. },
                ..
            })
        )
    }

    /// Checks that a child (an nlist entry named `raw` or a list item) may be added to the
    /// innermost container and gives its key. Must be followed by [`Tree::attach`] or
    /// [`Tree::open`] for that child before the next call.
    fn child(&mut self, raw: Option<&str>) -> Result<Option<Key>, ChildError> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(ChildError::TooDeep);
        }
        let Tree {
            frames,
            entries,
            hasher,
            ..
        } = self;
        let Some(Frame {
            body: Body::Nlist { start, hashes },
            ..
        }) = frames.last_mut()
        else {
            return Ok(None);
        };
        let key = Key::new(raw.ok_or(ChildError::MissingName)?);
        let siblings = entries.get(*start..).unwrap_or_default();
        let duplicate = if let Some(set) = hashes {
            // A hash seen before is a duplicate key, or (rarely) a collision.
            !set.insert(hasher.hash_one(&key.key)) && siblings.iter().any(|(k, _)| *k == key.key)
        } else {
            let linear = siblings.iter().any(|(k, _)| *k == key.key);
            if siblings.len() >= LINEAR_KEYS {
                let mut set: HashSet<u64> =
                    siblings.iter().map(|(k, _)| hasher.hash_one(k)).collect();
                set.insert(hasher.hash_one(&key.key));
                *hashes = Some(set);
            }
            linear
        };
        if duplicate {
            Err(ChildError::Duplicate)
        } else {
            Ok(Some(key))
        }
    }

    /// Opens a container as the child `key` gave.
    fn open(&mut self, key: Option<Key>, nlist: bool) {
        let body = if nlist {
            Body::Nlist {
                start: self.entries.len(),
                hashes: None,
            }
        } else {
            Body::List {
                start: self.items.len(),
            }
        };
        self.frames.push(Frame { key, body });
    }

    /// Adds a complete value as the child `key` gave (or as the root).
    fn attach(&mut self, key: Option<Key>, value: Value) {
        match self.frames.last() {
            Some(Frame {
                body: Body::Nlist { .. },
                ..
            }) => {
                self.entries
                    .push((key.map(|k| k.key).unwrap_or_default(), value));
            }
            Some(Frame {
                body: Body::List { .. },
                ..
            }) => self.items.push(value),
            None => self.root = Some(value),
        }
    }

    /// Closes the innermost container.
    fn close(&mut self) {
        if let Some(frame) = self.frames.pop() {
            let value = match frame.body {
                Body::Nlist { start, .. } => {
                    Value::Nlist(Nlist(self.entries.drain(start..).collect()))
                }
                Body::List { start } => Value::List(self.items.drain(start..).collect()),
            };
            self.attach(frame.key, value);
        }
    }

    /// How many children `frames[i]` has so far.
    fn children(&self, i: usize) -> usize {
        let nlist = |f: &Frame| matches!(f.body, Body::Nlist { .. });
        let (start, stack) = match self.frames[i].body {
            Body::Nlist { start, .. } => (start, self.entries.len()),
            Body::List { start } => (start, self.items.len()),
        };
        // Its children end where the next container of its kind starts.
        let end = self.frames[i + 1..]
            .iter()
            .find(|f| nlist(f) == nlist(&self.frames[i]))
            .map_or(stack, |f| match f.body {
                Body::Nlist { start, .. } | Body::List { start } => start,
            });
        end.saturating_sub(start)
    }

    /// The path of the innermost container (`/` for the root; empty before it), and with
    /// `child` the path of its child named `child` (as written), or of its next item if it
    /// is a list.
    fn path(&self, child: Option<&str>) -> String {
        let mut path = String::new();
        for (i, frame) in self.frames.iter().enumerate().skip(1) {
            path.push('/');
            match (&self.frames[i - 1].body, &frame.key) {
                (Body::List { .. }, _) => path.push_str(&self.children(i - 1).to_string()),
                (Body::Nlist { .. }, Some(key)) => path.push_str(key.raw()),
                (Body::Nlist { .. }, None) => {}
            }
        }
        let last = self.frames.len().checked_sub(1);
        match (last, child) {
            (Some(i), Some(_)) if self.in_list() => {
                path.push('/');
                path.push_str(&self.children(i).to_string());
            }
            (Some(_), Some(raw)) => {
                path.push('/');
                path.push_str(raw);
            }
            (Some(_), None) if path.is_empty() => path.push('/'),
            _ => {}
        }
        path
    }
}

/// At most 64 characters of `text`, for a message.
fn excerpt(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(64).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Pan XML
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scalar {
    String,
    Long,
    Double,
    Boolean,
}

impl Scalar {
    fn name(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::Long => "long",
            Scalar::Double => "double",
            Scalar::Boolean => "boolean",
        }
    }
}

enum Kind {
    Nlist,
    List,
    Scalar(Scalar),
}

/// The scalar element being read.
struct OpenScalar {
    kind: Scalar,
    base64: bool,
    key: Option<Key>,
    /// Where its start tag starts.
    start: usize,
}

struct XmlReader<'a> {
    input: &'a [u8],
    tree: Tree,
    scalar: Option<OpenScalar>,
    /// The scalar's text so far (reused from one scalar to the next).
    text: String,
}

fn parse_xml(input: &[u8]) -> Result<Value, ProfileError> {
    let mut reader = quick_xml::Reader::from_reader(input);
    // End tags are checked against the reader's own stack (see `XmlReader::end`).
    reader.config_mut().check_end_names = false;
    let mut r = XmlReader {
        input,
        tree: Tree::new(),
        scalar: None,
        text: String::new(),
    };
    let mut buf = Vec::with_capacity(256);
    loop {
        // Whitespace is its own text event, so this is where the next markup starts.
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                return Err(r.xml_error(at, e));
            }
        };
        match event {
            Event::Start(e) => r.open(&e, start, false)?,
            Event::Empty(e) => r.open(&e, start, true)?,
            Event::End(e) => r.end(e.name().as_ref(), start)?,
            Event::Text(t) => {
                if r.scalar.is_some() {
                    r.text.push_str(&t.xml10_content());
                } else {
                    r.blank(&t, start)?;
                }
            }
            Event::CData(t) => {
                if r.scalar.is_some() {
                    r.text.push_str(&t.xml10_content());
                } else {
                    r.blank(&t, start + "<![CDATA[".len())?;
                }
            }
            Event::GeneralRef(e) => {
                if r.scalar.is_none() {
                    r.blank(&format!("&{};", &*e), start)?;
                }
                match e.resolve_char_ref() {
                    Ok(Some(c)) => r.text.push(c),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(&e) {
                        Some(s) => r.text.push_str(s),
                        None => return Err(r.unexpected(start, format!("entity `&{};`", &*e))),
                    },
                    Err(err) => return Err(r.xml_error(start, err)),
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
        buf.clear();
    }
    match r.tree.root.take() {
        Some(root) => Ok(root),
        None if r.tree.frames.is_empty() => Err(ProfileError::NotAProfile {
            location: locate(input, input.len(), String::new()),
            reason: "no root element".into(),
        }),
        None => Err(ProfileError::Truncated {
            location: r.location(input.len()),
        }),
    }
}

impl XmlReader<'_> {
    /// Where `at` is, with the path of the open scalar or else of the innermost container.
    fn location(&self, at: usize) -> Location {
        let path = match &self.scalar {
            Some(s) => self.scalar_path(s),
            None => self.tree.path(None),
        };
        locate(self.input, at, path)
    }

    fn scalar_path(&self, s: &OpenScalar) -> String {
        // Its parent is as it was when it opened: it is not attached yet.
        self.tree.path(Some(s.key.as_ref().map_or("", Key::raw)))
    }

    fn xml_error(&self, at: usize, source: quick_xml::Error) -> ProfileError {
        let location = self.location(at);
        match source {
            quick_xml::Error::Syntax(e) if !matches!(e, SyntaxError::InvalidBangMarkup) => {
                ProfileError::Truncated { location }
            }
            quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => {
                ProfileError::Truncated { location }
            }
            quick_xml::Error::Encoding(_) => ProfileError::InvalidUtf8 {
                location: locate(self.input, utf8_error_offset(self.input), location.path),
            },
            source => ProfileError::Xml { location, source },
        }
    }

    fn unexpected(&self, at: usize, what: String) -> ProfileError {
        ProfileError::Unexpected {
            location: self.location(at),
            what,
        }
    }

    /// Text outside a scalar: only whitespace is allowed.
    fn blank(&self, text: &str, start: usize) -> Result<(), ProfileError> {
        let Some(first) = text
            .bytes()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        else {
            return Ok(());
        };
        let place = match self.tree.frames.last() {
            Some(Frame {
                body: Body::Nlist { .. },
                ..
            }) => "in an nlist",
            Some(Frame {
                body: Body::List { .. },
                ..
            }) => "in a list",
            None if self.tree.done() => "after the root element",
            None => "before the root element",
        };
        Err(self.unexpected(
            start + first,
            format!("text `{}` {place}", excerpt(text[first..].trim_end())),
        ))
    }

    fn open(&mut self, e: &BytesStart<'_>, start: usize, empty: bool) -> Result<(), ProfileError> {
        let name = e.name();
        let name = name.as_ref();
        if let Some(s) = &self.scalar {
            return Err(self.unexpected(
                start,
                format!("element `<{name}>` in a `<{}>`", s.kind.name()),
            ));
        }
        if self.tree.done() {
            return Err(
                self.unexpected(start, format!("element `<{name}>` after the root element"))
            );
        }
        let kind = match name {
            "nlist" => Kind::Nlist,
            "list" => Kind::List,
            "string" => Kind::Scalar(Scalar::String),
            "long" => Kind::Scalar(Scalar::Long),
            "double" => Kind::Scalar(Scalar::Double),
            "boolean" => Kind::Scalar(Scalar::Boolean),
            _ => {
                if self.tree.frames.is_empty() {
                    return Err(self.not_a_profile(start, name, None));
                }
                return Err(ProfileError::UnknownElement {
                    location: self.location(start),
                    name: name.to_owned(),
                });
            }
        };
        // Old CCM profiles carry more attributes (`derivation`, `acl`, `checksum`, `type`…):
        // they are ignored.
        let (mut key_attr, mut encoding, mut format) = (None, None, None);
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.xml_error(start, err.into()))?;
            let slot = match attr.key.as_ref() {
                "name" => &mut key_attr,
                "encoding" => &mut encoding,
                "format" => &mut format,
                _ => continue,
            };
            let value = if attr.value.contains(['&', '\t', '\n', '\r']) {
                attr.normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| self.xml_error(start, err))?
            } else {
                attr.value
            };
            *slot = Some(value);
        }
        if self.tree.frames.is_empty() {
            if !matches!(kind, Kind::Nlist) || format.as_deref() != Some("pan") {
                return Err(self.not_a_profile(start, name, format.as_deref()));
            }
            self.tree.open(None, true);
            return if empty { self.close() } else { Ok(()) };
        }
        let raw = key_attr.as_deref();
        let key = match self.tree.child(raw) {
            Ok(key) => key,
            Err(err) => {
                let path = self.tree.path(raw.or(self.tree.in_list().then_some("")));
                let location = locate(self.input, start, path);
                return Err(match err {
                    ChildError::MissingName => ProfileError::MissingName {
                        location,
                        element: name.to_owned(),
                    },
                    ChildError::Duplicate => ProfileError::DuplicateKey {
                        location,
                        key: raw.unwrap_or_default().to_owned(),
                    },
                    ChildError::TooDeep => ProfileError::TooDeep {
                        location,
                        limit: MAX_DEPTH,
                    },
                });
            }
        };
        match kind {
            Kind::Nlist | Kind::List => self.tree.open(key, matches!(kind, Kind::Nlist)),
            Kind::Scalar(kind) => {
                let base64 = match encoding.as_deref() {
                    None => false,
                    Some("base64") => true,
                    Some(other) => {
                        let what = format!("encoding `{}`", excerpt(other));
                        return Err(ProfileError::Unexpected {
                            location: locate(
                                self.input,
                                start,
                                self.tree.path(Some(raw.unwrap_or_default())),
                            ),
                            what,
                        });
                    }
                };
                self.text.clear();
                self.scalar = Some(OpenScalar {
                    kind,
                    base64,
                    key,
                    start,
                });
            }
        }
        if empty { self.close() } else { Ok(()) }
    }

    fn not_a_profile(&self, start: usize, name: &str, format: Option<&str>) -> ProfileError {
        let reason = match format {
            _ if name != "nlist" => {
                format!("the root element is `<{name}>`, not `<nlist format=\"pan\">`")
            }
            Some(format) => format!(
                "the root nlist's format is `{}`, not `pan`",
                excerpt(format)
            ),
            None => "the root nlist has no `format=\"pan\"`".to_owned(),
        };
        ProfileError::NotAProfile {
            location: locate(self.input, start, String::new()),
            reason,
        }
    }

    /// An end tag: it must close the innermost open element.
    fn end(&mut self, name: &str, start: usize) -> Result<(), ProfileError> {
        let expected = match (&self.scalar, self.tree.frames.last()) {
            (Some(s), _) => s.kind.name(),
            (
                None,
                Some(Frame {
                    body: Body::Nlist { .. },
                    ..
                }),
            ) => "nlist",
            (
                None,
                Some(Frame {
                    body: Body::List { .. },
                    ..
                }),
            ) => "list",
            (None, None) => {
                let e = IllFormedError::UnmatchedEndTag(name.to_owned());
                return Err(self.xml_error(start, e.into()));
            }
        };
        if name != expected {
            let e = IllFormedError::MismatchedEndTag {
                expected: expected.to_owned(),
                found: name.to_owned(),
            };
            return Err(self.xml_error(start, e.into()));
        }
        self.close()
    }

    fn close(&mut self) -> Result<(), ProfileError> {
        let Some(scalar) = self.scalar.take() else {
            self.tree.close();
            return Ok(());
        };
        let value = if scalar.kind == Scalar::String && !scalar.base64 {
            // The text moves into the value: no copy.
            Value::String(std::mem::take(&mut self.text))
        } else {
            self.scalar_value(&scalar)?
        };
        self.tree.attach(scalar.key, value);
        Ok(())
    }

    fn scalar_value(&self, s: &OpenScalar) -> Result<Value, ProfileError> {
        let location = || locate(self.input, s.start, self.scalar_path(s));
        let decoded;
        let text: &str = if s.base64 {
            let compact: Vec<u8> = self
                .text
                .bytes()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT
                .decode(compact)
                .map_err(|source| ProfileError::InvalidBase64 {
                    location: location(),
                    source,
                })?;
            decoded = String::from_utf8(bytes).map_err(|_| ProfileError::InvalidUtf8 {
                location: location(),
            })?;
            &decoded
        } else {
            &self.text
        };
        if s.kind == Scalar::String {
            return Ok(Value::String(text.to_owned()));
        }
        let trimmed = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        let value = match s.kind {
            Scalar::Long => trimmed.parse().ok().map(Value::Long),
            Scalar::Double => trimmed
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Value::Double),
            Scalar::Boolean => match trimmed {
                "true" => Some(Value::Boolean(true)),
                "false" => Some(Value::Boolean(false)),
                _ => None,
            },
            Scalar::String => None,
        };
        value.ok_or_else(|| ProfileError::InvalidValue {
            location: location(),
            type_name: s.kind.name(),
            text: excerpt(text),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

/// What the JSON reader expects next.
enum State {
    /// A value, for the child `key` gave (or the root).
    Value(Option<Key>),
    /// A key or `}` right after `{`.
    FirstKey,
    /// A key after `,`.
    Key,
    /// A value or `]` right after `[`.
    FirstItem,
    /// `,` or the end of the innermost container, or the end of input after the root.
    Next,
}

struct JsonReader<'a> {
    input: &'a [u8],
    pos: usize,
    tree: Tree,
}

fn parse_json(input: &[u8]) -> Result<Value, ProfileError> {
    let mut r = JsonReader {
        input,
        pos: 0,
        tree: Tree::new(),
    };
    if input.starts_with(b"\xEF\xBB\xBF") {
        r.pos = 3;
    }
    r.skip_blank();
    match r.peek() {
        Some(b'{') => {}
        None => return Err(r.not_a_profile("no value")),
        Some(b'[') => return Err(r.not_a_profile("the root is an array, not an object")),
        Some(_) => return Err(r.not_a_profile("the root is not an object")),
    }
    let mut state = State::Value(None);
    loop {
        state = match state {
            State::Value(key) => r.value(key)?,
            State::FirstKey | State::Key => {
                r.skip_blank();
                if matches!(state, State::FirstKey) && r.peek() == Some(b'}') {
                    r.pos += 1;
                    r.tree.close();
                    State::Next
                } else {
                    r.key()?
                }
            }
            State::FirstItem => {
                r.skip_blank();
                if r.peek() == Some(b']') {
                    r.pos += 1;
                    r.tree.close();
                    State::Next
                } else {
                    let at = r.pos;
                    State::Value(r.child(None, at)?)
                }
            }
            State::Next => {
                r.skip_blank();
                if r.tree.frames.is_empty() {
                    if r.pos < input.len() {
                        return Err(r.err_unexpected("content after the root object".into()));
                    }
                    break;
                }
                let list = r.tree.in_list();
                match (r.peek(), list) {
                    (Some(b','), false) => {
                        r.pos += 1;
                        State::Key
                    }
                    (Some(b','), true) => {
                        r.pos += 1;
                        r.skip_blank();
                        let at = r.pos;
                        State::Value(r.child(None, at)?)
                    }
                    (Some(b'}'), false) | (Some(b']'), true) => {
                        r.pos += 1;
                        r.tree.close();
                        State::Next
                    }
                    (None, _) => return Err(r.truncated()),
                    (Some(_), false) => return Err(r.syntax("expected `,` or `}`")),
                    (Some(_), true) => return Err(r.syntax("expected `,` or `]`")),
                }
            }
        };
    }
    match r.tree.root.take() {
        Some(root) => Ok(root),
        None => Err(r.truncated()),
    }
}

impl JsonReader<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn location(&self, at: usize) -> Location {
        locate(self.input, at, self.tree.path(None))
    }

    fn syntax(&self, reason: &'static str) -> ProfileError {
        ProfileError::Json {
            location: self.location(self.pos),
            reason,
        }
    }

    fn truncated(&self) -> ProfileError {
        ProfileError::Truncated {
            location: self.location(self.input.len()),
        }
    }

    fn err_unexpected(&self, what: String) -> ProfileError {
        ProfileError::Unexpected {
            location: self.location(self.pos),
            what,
        }
    }

    fn not_a_profile(&self, reason: &str) -> ProfileError {
        ProfileError::NotAProfile {
            location: locate(self.input, self.pos, String::new()),
            reason: reason.into(),
        }
    }

    /// `"key" :`, then the value's state.
    fn key(&mut self) -> Result<State, ProfileError> {
        let at = self.pos;
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.truncated()),
            Some(_) => return Err(self.syntax("expected a key")),
        }
        let raw = self.string()?;
        self.skip_blank();
        match self.peek() {
            Some(b':') => self.pos += 1,
            None => return Err(self.truncated()),
            Some(_) => return Err(self.syntax("expected `:` after a key")),
        }
        self.skip_blank();
        let key = self.child(Some(&raw), at)?;
        Ok(State::Value(key))
    }

    /// Checks a new child of the innermost container (see [`Tree::child`]); `at` is where
    /// it starts.
    fn child(&mut self, raw: Option<&str>, at: usize) -> Result<Option<Key>, ProfileError> {
        match self.tree.child(raw) {
            Ok(key) => Ok(key),
            Err(err) => {
                let path = self.tree.path(Some(raw.unwrap_or_default()));
                let location = locate(self.input, at, path);
                Err(match err {
                    ChildError::MissingName => ProfileError::Json {
                        location,
                        reason: "expected a key",
                    },
                    ChildError::Duplicate => ProfileError::DuplicateKey {
                        location,
                        key: raw.unwrap_or_default().to_owned(),
                    },
                    ChildError::TooDeep => ProfileError::TooDeep {
                        location,
                        limit: MAX_DEPTH,
                    },
                })
            }
        }
    }

    /// A value starting at `self.pos`, as the child `key` gave.
    fn value(&mut self, key: Option<Key>) -> Result<State, ProfileError> {
        let value = match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.tree.open(key, true);
                return Ok(State::FirstKey);
            }
            Some(b'[') => {
                self.pos += 1;
                self.tree.open(key, false);
                return Ok(State::FirstItem);
            }
            _ => self.scalar(),
        };
        match value {
            Ok(value) => {
                self.tree.attach(key, value);
                Ok(State::Next)
            }
            Err(mut err) => {
                let path = self.tree.path(Some(key.as_ref().map_or("", Key::raw)));
                if let Some(location) = err.location_mut() {
                    location.path = path;
                }
                Err(err)
            }
        }
    }

    /// A string, number or boolean starting at `self.pos`.
    fn scalar(&mut self) -> Result<Value, ProfileError> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Boolean(true)),
            Some(b'f') => self.literal("false", Value::Boolean(false)),
            Some(b'n') => {
                let at = self.pos;
                self.literal("null", Value::Boolean(false))?;
                Err(ProfileError::Unexpected {
                    location: self.location(at),
                    what: "`null`: pan has no null value".into(),
                })
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            None => Err(self.truncated()),
            Some(_) => Err(self.syntax("expected a value")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Value, ProfileError> {
        let rest = &self.input[self.pos..];
        if rest.starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else if word.as_bytes().starts_with(rest) {
            Err(self.truncated())
        } else {
            Err(self.syntax("expected a value"))
        }
    }

    /// A number: a long if it has no fraction or exponent and fits, else a double.
    fn number(&mut self) -> Result<Value, ProfileError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while matches!(r.peek(), Some(b'0'..=b'9')) {
                r.pos += 1;
            }
            r.pos - from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_digits = digits(self);
        if int_digits == 0 {
            return Err(self.number_error());
        }
        if int_digits > 1 && self.input[int_start] == b'0' {
            self.pos = int_start + 1;
            return Err(self.syntax("a number has a leading zero"));
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            integral = false;
            if digits(self) == 0 {
                return Err(self.number_error());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            integral = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.number_error());
            }
        }
        // Only ASCII digits, signs, `.` and `e` were taken.
        let text = std::str::from_utf8(&self.input[start..self.pos]).unwrap_or_default();
        if let (true, Ok(n)) = (integral, text.parse::<i64>()) {
            return Ok(Value::Long(n));
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Double(x)),
            _ => Err(ProfileError::InvalidValue {
                location: self.location(start),
                type_name: "number",
                text: excerpt(text),
            }),
        }
    }

    fn number_error(&self) -> ProfileError {
        if self.pos >= self.input.len() {
            return self.truncated();
        }
        self.syntax("expected a digit")
    }

    /// A string starting at the `"` at `self.pos`.
    fn string(&mut self) -> Result<String, ProfileError> {
        let start = self.pos;
        self.pos += 1;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return Err(self.truncated()),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 2;
                }
                Some(0..0x20) => return Err(self.syntax("a control character in a string")),
                Some(_) => self.pos += 1,
            }
        }
        self.pos += 1;
        // Between the quotes.
        let body = self.input.get(start + 1..self.pos - 1).unwrap_or_default();
        let text = std::str::from_utf8(body).map_err(|e| ProfileError::InvalidUtf8 {
            location: self.location(start + 1 + e.valid_up_to()),
        })?;
        if !escaped {
            return Ok(text.to_owned());
        }
        unescape_json(text).ok_or_else(|| ProfileError::Json {
            location: self.location(start),
            reason: "invalid escape in a string",
        })
    }
}

/// The text of a JSON string literal with escapes, or `None` if one is invalid.
fn unescape_json(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let c = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hex4 = |chars: &mut std::str::Chars<'_>| -> Option<u32> {
                    let s = chars.as_str().get(..4)?;
                    let n = u32::from_str_radix(s, 16)
                        .ok()
                        .filter(|_| s.bytes().all(|b| b.is_ascii_hexdigit()))?;
                    chars.nth(3);
                    Some(n)
                };
                let hi = hex4(&mut chars)?;
                if (0xD800..0xDC00).contains(&hi) {
                    if chars.next()? != '\\' || chars.next()? != 'u' {
                        return None;
                    }
                    let lo = hex4(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                } else {
                    char::from_u32(hi)?
                }
            }
            _ => return None,
        };
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    macro_rules! fixture {
        ($path:literal) => {
            (
                $path,
                include_bytes!(concat!("../../../../tests/fixtures/quattor/", $path)) as &[u8],
            )
        };
    }

    /// A fixture: its path below `tests/fixtures/quattor/` and its bytes.
    type Fixture = (&'static str, &'static [u8]);

    /// Every compiled profile with both formats: (XML, JSON).
    const PAIRS: [(Fixture, Fixture); 9] = [
        (
            fixture!("xenfab-scenario/xen-host.example.org.xml"),
            fixture!("xenfab-scenario/xen-host.example.org.json"),
        ),
        (
            fixture!("xenfab-scenario/xen-guest.example.org.xml"),
            fixture!("xenfab-scenario/xen-guest.example.org.json"),
        ),
        (
            fixture!("compiled-upstream-fixtures/aii-dhcp_host1.example.com.xml"),
            fixture!("compiled-upstream-fixtures/aii-dhcp_host1.example.com.json"),
        ),
        (
            fixture!("compiled-upstream-fixtures/aii-ks_kickstart_pre_blocksize.xml"),
            fixture!("compiled-upstream-fixtures/aii-ks_kickstart_pre_blocksize.json"),
        ),
        (
            fixture!("compiled-upstream-fixtures/aii-pxelinux_pxelinux_grub2.xml"),
            fixture!("compiled-upstream-fixtures/aii-pxelinux_pxelinux_grub2.json"),
        ),
        (
            fixture!("compiled-upstream-fixtures/aii-pxelinux_pxelinux_ks_block.xml"),
            fixture!("compiled-upstream-fixtures/aii-pxelinux_pxelinux_ks_block.json"),
        ),
        (
            fixture!("compiled-upstream-fixtures/aii-pxelinux_pxelinux_ks_bonding.xml"),
            fixture!("compiled-upstream-fixtures/aii-pxelinux_pxelinux_ks_bonding.json"),
        ),
        (
            fixture!("compiled-upstream-fixtures/ncm-lib-blockdevices_raid.xml"),
            fixture!("compiled-upstream-fixtures/ncm-lib-blockdevices_raid.json"),
        ),
        (
            fixture!("format-features/escaping_and_types.xml"),
            fixture!("format-features/escaping_and_types.json"),
        ),
    ];

    /// XML only.
    const VERBATIM: [Fixture; 3] = [
        fixture!("upstream-verbatim/CCM_profile.xml"),
        fixture!("upstream-verbatim/template-library-core_is_choice_of.xml"),
        fixture!("upstream-verbatim/template-library-core_pan_functions.xml"),
    ];

    fn all_fixtures() -> impl Iterator<Item = Fixture> {
        PAIRS.into_iter().flat_map(|(x, j)| [x, j]).chain(VERBATIM)
    }

    fn read(name: &str, bytes: &[u8]) -> Result<Value, ProfileError> {
        if name.contains(".json") {
            read_json(bytes)
        } else {
            read_xml(bytes)
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn host() -> Value {
        read_xml(PAIRS[0].0.1).unwrap()
    }

    #[test]
    fn every_fixture_reads() {
        for (name, bytes) in all_fixtures() {
            let value = read(name, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(value.type_name(), "nlist", "{name}");
        }
    }

    #[test]
    fn xml_and_json_of_a_profile_are_equal() {
        for ((xml_name, xml), (json_name, json)) in PAIRS {
            let (xml, json) = (read_xml(xml).unwrap(), read_json(json).unwrap());
            assert_eq!(xml, json, "{xml_name} and {json_name}");
        }
    }

    /// The JSON reader agrees with serde_json on every fixture (keys unescaped, order kept).
    #[test]
    fn json_reader_agrees_with_serde_json() {
        fn convert(v: &serde_json::Value) -> Value {
            match v {
                serde_json::Value::Object(map) => {
                    let mut entries: Vec<_> = map
                        .iter()
                        .map(|(k, v)| (unescape_key(k).into_owned(), convert(v)))
                        .collect();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    Value::Nlist(Nlist(entries))
                }
                serde_json::Value::Array(items) => Value::List(items.iter().map(convert).collect()),
                serde_json::Value::String(s) => Value::String(s.clone()),
                serde_json::Value::Number(n) => n
                    .as_i64()
                    .map_or_else(|| Value::Double(n.as_f64().unwrap()), Value::Long),
                serde_json::Value::Bool(b) => Value::Boolean(*b),
                serde_json::Value::Null => unreachable!(),
            }
        }
        fn sorted(v: Value) -> Value {
            match v {
                Value::Nlist(n) => {
                    let mut entries: Vec<_> = n.into_iter().map(|(k, v)| (k, sorted(v))).collect();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    Value::Nlist(Nlist(entries))
                }
                Value::List(items) => Value::List(items.into_iter().map(sorted).collect()),
                other => other,
            }
        }
        let extra: &[u8] = br#"{"s": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\u0000", "n": [0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1.0, 1e2, -2.5E-3]}"#;
        for (name, bytes) in PAIRS.iter().map(|(_, j)| *j).chain([("extra.json", extra)]) {
            let ours = sorted(read_json(bytes).unwrap());
            let theirs = convert(&serde_json::from_slice(bytes).unwrap());
            assert_eq!(ours, theirs, "{name}");
        }
    }

    #[test]
    fn escaped_keys_are_unescaped() {
        let p = read_xml(fixture!("format-features/escaping_and_types.xml").1).unwrap();
        let a = p.get_path("/d/a").and_then(Value::as_nlist).unwrap();
        assert_eq!(a.keys().collect::<Vec<_>>(), ["/dev/sda"]);
        assert_eq!(a.get("/dev/sda"), Some(&Value::Long(1)));
        // A path may name the key as pan writes it.
        assert_eq!(p.get_path("/d/a/_2fdev_2fsda"), Some(&Value::Long(1)));

        let raid = read_xml(fixture!("compiled-upstream-fixtures/ncm-lib-blockdevices_raid.xml").1)
            .unwrap();
        let md = raid
            .get_path("/system/blockdevices/md")
            .and_then(Value::as_nlist)
            .unwrap();
        assert!(
            md.get("md/myname").is_some(),
            "{:?}",
            md.keys().collect::<Vec<_>>()
        );
        // Keys written as they are keep their underscores.
        assert!(
            raid.get_path("/system/blockdevices/partitions/sdb1/holding_dev")
                .is_some()
        );

        let host = host();
        let accounts = host.get_path("/software/packages/ncm-accounts/24.10.0-1/arch/noarch");
        assert_eq!(accounts.and_then(Value::as_str), Some(""));
        assert_eq!(
            host.get_path("/software/packages/ncm_2daccounts/_324_2e10_2e0_2d1"),
            host.get_path("/software/packages/ncm-accounts/24.10.0-1"),
        );
    }

    #[test]
    fn unescape_key_undoes_only_what_escape_makes() {
        for (raw, key) in [
            ("_2fdev_2fsda", "/dev/sda"),
            ("_32_2e6_2e32_2d358_2e1_2eel6", "2.6.32-358.1.el6"),
            ("kernel_2dfirmware", "kernel-firmware"),
            ("kernel_2a", "kernel*"),
            ("a_5fb", "a_b"),
            ("_", ""),
            ("eth0", "eth0"),
            ("holding_dev", "holding_dev"), // `_de` is not ASCII
            ("part_prefix", "part_prefix"), // `_pr` is not hex
            ("a_31", "a_31"),               // escape() keeps a digit after the first place
            ("_41b", "_41b"),               // nor does it escape a letter
            ("x_2F", "x_2F"),               // escape() writes lowercase hex
            ("eth0.100", "eth0.100"),
            ("a_2", "a_2"),
            ("é_2f", "é_2f"),
        ] {
            assert_eq!(unescape_key(raw), key, "{raw}");
        }
    }

    #[test]
    fn base64_strings_are_decoded() {
        let p = read_xml(fixture!("format-features/escaping_and_types.xml").1).unwrap();
        assert_eq!(p.get_path("/ctl").and_then(Value::as_str), Some("a\u{1}b"));
        // panc breaks base64 lines at 76 characters.
        let long = "x".repeat(100);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&long);
        let wrapped = format!("{}\n{}", &encoded[..76], &encoded[76..]);
        let xml = format!(
            r#"<nlist format="pan" name="profile"><string name="s" encoding="base64">{wrapped}</string></nlist>"#
        );
        assert_eq!(
            read_xml(xml.as_bytes())
                .unwrap()
                .get_path("/s")
                .and_then(Value::as_str),
            Some(long.as_str())
        );
    }

    #[test]
    fn types() {
        let p = read_xml(fixture!("format-features/escaping_and_types.xml").1).unwrap();
        let l = p.get_path("/l").and_then(Value::as_list).unwrap();
        assert_eq!(
            l,
            [
                Value::Long(1),
                Value::Double(2.5),
                Value::Boolean(true),
                Value::String("x".into())
            ]
        );
        assert_eq!(
            l.iter().map(Value::type_name).collect::<Vec<_>>(),
            ["long", "double", "boolean", "string"]
        );
        assert_eq!(
            p.get_path("/message").and_then(Value::as_str),
            Some("Hello World!")
        );
        assert_eq!(l[0].as_f64(), None);
        assert_eq!(l[1].as_f64(), Some(2.5));
        assert_eq!(l[2].as_bool(), Some(true));
        assert_eq!(p.type_name(), "nlist");
        assert_eq!(p.get_path("/l").unwrap().type_name(), "list");

        let json = read_json(
            br#"{"a": 9223372036854775807, "b": 9223372036854775808, "c": 1.0, "d": -0, "e": 1E2}"#,
        )
        .unwrap();
        assert_eq!(json.get_path("a"), Some(&Value::Long(i64::MAX)));
        assert!(matches!(json.get_path("b"), Some(Value::Double(_))));
        assert_eq!(json.get_path("c"), Some(&Value::Double(1.0)));
        assert_eq!(json.get_path("d"), Some(&Value::Long(0)));
        assert_eq!(json.get_path("e"), Some(&Value::Double(100.0)));
    }

    #[test]
    fn get_path_on_the_scenario() {
        let p = host();
        assert_eq!(
            p.get_path("/system/network/hostname")
                .and_then(Value::as_str),
            Some("xen-host")
        );
        assert_eq!(
            p.get_path("/hardware/cards/nic/eth0/hwaddr")
                .and_then(Value::as_str),
            Some("00:1c:c4:aa:bb:01")
        );
        assert_eq!(
            p.get_path("/hardware/cpu/1/cores").and_then(Value::as_i64),
            Some(4)
        );
        assert_eq!(
            p.get_path("/hardware/harddisks/sda/part_prefix")
                .and_then(Value::as_str),
            Some("")
        );
        assert_eq!(p.get_path("hardware/model"), p.get_path("/hardware/model/"));
        assert_eq!(p.get_path("/"), Some(&p));
        assert_eq!(p.get_path("/hardware/cpu/2"), None);
        assert_eq!(p.get_path("/hardware/cpu/+1"), None);
        assert_eq!(p.get_path("/hardware/cpu/cores"), None);
        assert_eq!(p.get_path("/hardware/model/x"), None);
        assert_eq!(p.get_path("/nowhere"), None);
        let nic = p
            .get_path("/hardware/cards/nic")
            .and_then(Value::as_nlist)
            .unwrap();
        assert_eq!(nic.keys().collect::<Vec<_>>(), ["eth0", "eth1"]);
        assert_eq!(nic.len(), 2);
        assert!(!nic.is_empty());
        assert_eq!(
            nic.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["eth0", "eth1"]
        );
        assert_eq!(nic.values().count(), 2);
    }

    #[test]
    fn gzip_reads_the_same() {
        for (name, bytes) in all_fixtures() {
            assert_eq!(
                read(name, &gzip(bytes)).unwrap(),
                read(name, bytes).unwrap(),
                "{name}"
            );
        }
        // Several members, as `cat a.gz b.gz` makes.
        let xml = PAIRS[0].0.1;
        let (head, tail) = xml.split_at(xml.len() / 2);
        let two = [gzip(head), gzip(tail)].concat();
        assert_eq!(read_xml(&two).unwrap(), host());
    }

    #[test]
    fn read_file_goes_by_content() {
        let dir = std::env::temp_dir().join(format!("xenfab-profile-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ((_, xml), (_, json)) = PAIRS[0];
        // Names that lie about the format do not matter.
        for (name, bytes) in [
            ("a.json", xml.to_vec()),
            ("b.xml", json.to_vec()),
            ("c", gzip(xml)),
            ("d.xml", gzip(json)),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, &bytes).unwrap();
            assert_eq!(read_file(&path).unwrap(), host(), "{name}");
        }
        std::fs::write(dir.join("e"), b"  \n hostname: xen01").unwrap();
        let err = read_file(&dir.join("e")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 2, column 2: not a pan profile: neither xml (`<`) nor json (`{`)"
        );
        let err = read_file(&dir.join("missing")).unwrap_err();
        assert!(matches!(err, ProfileError::Io { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// 100 MiB of zeros: 100 gzip members of 1 MiB each (a stream `gzip -d` reads whole),
    /// a few hundred KiB in all.
    #[test]
    fn a_gzip_bomb_is_refused() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0; 1 << 20]).unwrap();
        let member = enc.finish().unwrap();
        let bomb = member.repeat(100);
        assert!(bomb.len() < 1 << 20);
        for result in [read_xml(&bomb), read_json(&bomb)] {
            let err = result.unwrap_err();
            assert!(
                matches!(err, ProfileError::GzipBomb { limit_mib: 64 }),
                "{err}"
            );
            assert_eq!(
                err.to_string(),
                "gzip data decompresses to more than 64 MiB: refusing it (a gzip bomb?)"
            );
        }
    }

    #[test]
    fn bad_fixtures_give_their_errors() {
        let cases: &[(Fixture, &str)] = &[
            (
                fixture!("bad/mismatched-end.xml"),
                "line 5, column 9, at /system/nameserver: malformed xml",
            ),
            (
                fixture!("bad/unknown-element.xml"),
                "line 3, column 9, at /system: unknown element `<integer>`",
            ),
            (
                fixture!("bad/missing-name.xml"),
                "line 3, column 9, at /hardware: `<string>` in an nlist has no `name` attribute",
            ),
            (
                fixture!("bad/bad-long.xml"),
                "line 5, column 17, at /hardware/ram/0/size: `abc` is not a long",
            ),
            (
                fixture!("bad/bad-boolean.xml"),
                "line 6, column 21, at /hardware/cards/nic/eth0/boot: `maybe` is not a boolean",
            ),
            (
                fixture!("bad/bad-double.xml"),
                "line 3, column 9, at /l/0: `2.5.1` is not a double",
            ),
            (
                fixture!("bad/bad-base64.xml"),
                "line 2, column 5, at /ctl: invalid base64",
            ),
            (
                fixture!("bad/base64-not-utf8.xml"),
                "line 3, column 5, at /ctl: invalid utf-8",
            ),
            (
                fixture!("bad/invalid-utf8.xml"),
                "line 2, column 35, at /model: invalid utf-8",
            ),
            (
                fixture!("bad/duplicate-key.xml"),
                "line 5, column 13, at /system/network/hostname: duplicate key `hostname`",
            ),
            (
                fixture!("bad/duplicate-escaped-key.xml"),
                "line 4, column 9, at /packages/kernel-firmware: duplicate key `kernel-firmware`",
            ),
            (
                fixture!("bad/truncated.xml"),
                "line 9, column 21, at /hardware/cards/nic/eth0: unexpected end of input (a truncated profile?)",
            ),
            (
                fixture!("bad/truncated-in-tag.xml"),
                "line 3, column 9, at /system: unexpected end of input (a truncated profile?)",
            ),
            (
                fixture!("bad/not-pan-root.xml"),
                "line 2, column 1: not a pan profile: the root element is `<profile>`, not `<nlist format=\"pan\">`",
            ),
            (
                fixture!("bad/not-pan-format.xml"),
                "line 2, column 1: not a pan profile: the root nlist's format is `xmldb`, not `pan`",
            ),
            (
                fixture!("bad/text-in-nlist.xml"),
                "line 3, column 9, at /system: unexpected text `stray text` in an nlist",
            ),
            (
                fixture!("bad/element-in-scalar.xml"),
                "line 2, column 32, at /hostname: unexpected element `<long>` in a `<string>`",
            ),
            (
                fixture!("bad/second-root.xml"),
                "line 4, column 1: unexpected element `<nlist>` after the root element",
            ),
            (
                fixture!("bad/unknown-entity.xml"),
                "line 2, column 28, at /motd: unexpected entity `&eacute;`",
            ),
            (
                fixture!("bad/empty.xml"),
                "line 1, column 1: not a pan profile: no root element",
            ),
            (
                fixture!("bad/duplicate-key.json"),
                "line 5, column 7, at /system/network/hostname: duplicate key `hostname`",
            ),
            (
                fixture!("bad/trailing-comma.json"),
                "line 5, column 5, at /system/network: malformed json: expected a key",
            ),
            (
                fixture!("bad/null.json"),
                "line 4, column 19, at /system/network/hostname: unexpected `null`: pan has no null value",
            ),
            (
                fixture!("bad/root-array.json"),
                "line 1, column 1: not a pan profile: the root is an array, not an object",
            ),
            (
                fixture!("bad/truncated.json"),
                "line 14, column 38, at /hardware/cards/nic/eth1/hwaddr: unexpected end of input (a truncated profile?)",
            ),
            (
                fixture!("bad/invalid-utf8.json"),
                "line 3, column 24, at /hardware/model: invalid utf-8",
            ),
            (
                fixture!("bad/bad-escape.json"),
                "line 2, column 11, at /motd: malformed json: invalid escape in a string",
            ),
            (
                fixture!("bad/bad-number.json"),
                "line 4, column 17, at /hardware/ram/0/size: `1e999` is not a number",
            ),
            (
                fixture!("bad/leading-zero.json"),
                "line 2, column 12, at /size: malformed json: a number has a leading zero",
            ),
            (fixture!("bad/truncated.xml.gz"), "invalid gzip data"),
            (fixture!("bad/corrupt.json.gz"), "invalid gzip data"),
        ];
        for ((name, bytes), expected) in cases {
            let err = read(name, bytes).unwrap_err();
            assert_eq!(err.to_string(), *expected, "{name}");
            if !name.contains(".gz") {
                assert!(err.location().is_some(), "{name}");
            }
        }
        assert!(matches!(
            read_xml(fixture!("bad/mismatched-end.xml").1),
            Err(ProfileError::Xml { .. })
        ));
        assert!(matches!(
            read_xml(fixture!("bad/bad-long.xml").1),
            Err(ProfileError::InvalidValue {
                type_name: "long",
                ..
            })
        ));
        let err = read_xml(fixture!("bad/duplicate-key.xml").1).unwrap_err();
        let location = err.location().unwrap();
        assert_eq!(
            (location.line, location.column, location.path.as_str()),
            (5, 13, "/system/network/hostname")
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let xml = |depth: usize| {
            let mut s = String::from(r#"<nlist format="pan" name="profile">"#);
            s.push_str(&"<list name=\"l\">".repeat(1.min(depth - 1)));
            s.push_str(&"<list>".repeat(depth.saturating_sub(2)));
            s.push_str(&"</list>".repeat(depth - 1));
            s.push_str("</nlist>");
            s
        };
        let json = |depth: usize| {
            format!(
                "{{\"l\": {}{}}}",
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            )
        };
        assert!(read_xml(xml(MAX_DEPTH).as_bytes()).is_ok());
        assert!(read_json(json(MAX_DEPTH).as_bytes()).is_ok());
        for depth in [MAX_DEPTH + 1, 100_000] {
            let err = read_xml(xml(depth).as_bytes()).unwrap_err();
            assert!(
                matches!(err, ProfileError::TooDeep { limit: 512, .. }),
                "{err}"
            );
            assert!(
                err.to_string()
                    .ends_with("nested deeper than 512 levels: refusing it"),
                "{err}"
            );
            let err = read_json(json(depth).as_bytes()).unwrap_err();
            assert!(
                matches!(err, ProfileError::TooDeep { limit: 512, .. }),
                "{err}"
            );
        }
        // A scalar counts as a level too.
        let scalar = format!(
            "{{\"l\": {}1{}}}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(matches!(
            read_json(scalar.as_bytes()),
            Err(ProfileError::TooDeep { .. })
        ));
    }

    #[test]
    fn duplicate_keys_are_found_in_large_nlists() {
        let xml = |extra: &str| {
            let entries = (0..200).map(|i| format!(r#"<long name="k{i}">1</long>"#));
            let entries = entries.collect::<Vec<_>>().concat();
            format!(
                r#"<nlist format="pan" name="profile"><nlist name="n">{entries}{extra}</nlist></nlist>"#
            )
        };
        let ok = read_xml(xml("").as_bytes()).unwrap();
        assert_eq!(
            ok.get_path("/n").and_then(Value::as_nlist).map(Nlist::len),
            Some(200)
        );
        assert_eq!(ok.get_path("/n/k199"), Some(&Value::Long(1)));
        let err = read_xml(xml(r#"<string name="k17">x</string>"#).as_bytes()).unwrap_err();
        assert!(
            matches!(&err, ProfileError::DuplicateKey { key, .. } if key == "k17"),
            "{err}"
        );
    }

    #[test]
    fn xml_text_entities_and_lenient_attributes() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand -->
<nlist format="pan" name="profile" derivation="a.tpl,b.tpl" checksum="0f">
    <string name="s" acl="x">a &amp; b &lt;c&gt; &#x41;&#66; <![CDATA[<raw>]]></string>
    <string name="link" type="link">/system/x</string>
    <string name="empty"/>
    <long name="n"> 42
    </long>
    <list name="l"><string name="ignored">x</string></list>
    <nlist name="e"/>
    <list name="f"></list>
</nlist>
"#;
        let p = read_xml(xml).unwrap();
        assert_eq!(
            p.get_path("/s").and_then(Value::as_str),
            Some("a & b <c> AB <raw>")
        );
        assert_eq!(
            p.get_path("/link").and_then(Value::as_str),
            Some("/system/x")
        );
        assert_eq!(p.get_path("/empty").and_then(Value::as_str), Some(""));
        assert_eq!(p.get_path("/n").and_then(Value::as_i64), Some(42));
        assert_eq!(p.get_path("/l/0").and_then(Value::as_str), Some("x"));
        assert_eq!(p.get_path("/e"), Some(&Value::Nlist(Nlist::new())));
        assert_eq!(p.get_path("/f"), Some(&Value::List(Vec::new())));
    }

    #[test]
    fn nlist_insert_replaces_or_appends() {
        let mut n = Nlist::new();
        assert_eq!(n.insert("a", Value::Long(1)), None);
        assert_eq!(n.insert("b", Value::Long(2)), None);
        assert_eq!(n.insert("a", Value::Long(3)), Some(Value::Long(1)));
        assert_eq!(
            n.into_vec(),
            [
                ("a".to_owned(), Value::Long(3)),
                ("b".to_owned(), Value::Long(2))
            ]
        );
    }

    #[test]
    fn locate_counts_lines_and_characters() {
        let input = "ab\ncé\nxyz".as_bytes();
        assert_eq!(
            locate(input, 0, String::new()),
            Location {
                line: 1,
                column: 1,
                path: String::new()
            }
        );
        assert_eq!(locate(input, 3, String::new()).line, 2);
        // `é` is two bytes and one column.
        assert_eq!(
            (
                locate(input, 6, String::new()).line,
                locate(input, 6, String::new()).column
            ),
            (2, 3)
        );
        assert_eq!(locate(input, 99, String::new()).line, 3);
    }

    /// Every prefix and many one-byte changes of the fixtures read or fail, never panic.
    #[test]
    fn damaged_fixtures_never_panic() {
        for (name, bytes) in all_fixtures() {
            let step = (bytes.len() / 40).max(1);
            for end in (0..bytes.len()).step_by(step) {
                let _ = read(name, &bytes[..end]);
            }
            let mut damaged = bytes.to_vec();
            for i in (0..bytes.len()).step_by(step) {
                for b in [b'<', b'"', b'/', b'&', b'{', b']', 0xff] {
                    let old = std::mem::replace(&mut damaged[i], b);
                    let _ = read(name, &damaged);
                    damaged[i] = old;
                }
            }
        }
    }
}
