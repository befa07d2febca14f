//! Reading an input file as text, bounded: what every reader of a user's file goes through
//! (the fabric file, a kickstart file, a dhcpd.conf, a xend-config.sxp).
//!
//! At most [`MAX_INPUT_BYTES`] are read (one more byte tells that there was more), so that
//! `xenfab validate /dev/zero` stops at once instead of eating all memory; and the text must be
//! UTF-8, or the error names the line and column of the first bad byte.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use crate::error::ParseError;

/// The largest input accepted, in bytes (64 MiB). The largest fabric file benchmarked (10,000
/// dom0s with 10 guests each) is about 12 MiB.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Why an input file could not be read as text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read `{}`", origin.escape_debug())]
    Io {
        /// The file as the user named it.
        origin: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file is too large, or not UTF-8: bad input, with its location.
    #[error(transparent)]
    Invalid(#[from] ParseError),
}

/// Reads `reader` to the end as UTF-8 text of at most [`MAX_INPUT_BYTES`]; `origin` names it
/// in errors.
pub fn read_text(reader: impl Read, origin: &str) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            origin: origin.to_owned(),
            source,
        })?;
    let file: Arc<str> = Arc::from(origin);
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(ParseError::new(
            &file,
            None,
            None,
            &format!(
                "larger than {} MiB: refusing it (is it the right file?)",
                MAX_INPUT_BYTES >> 20
            ),
        )
        .into());
    }
    String::from_utf8(bytes).map_err(|err| {
        let bytes = err.as_bytes();
        let at = err.utf8_error().valid_up_to();
        let (line, column) = line_column(&bytes[..at]);
        ParseError::new(
            &file,
            Some(line),
            Some(column),
            &format!(
                "not UTF-8 text: byte 0x{:02x} at offset {at}; xenfab reads UTF-8 only",
                bytes[at]
            ),
        )
        .into()
    })
}

/// Reads the file at `path` with [`read_text`], named as `path` is displayed.
pub fn read_path(path: &Path) -> Result<String, ReadError> {
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ReadError::Io {
        origin: origin.clone(),
        source,
    })?;
    read_text(file, &origin)
}

/// The line and column (both from 1, the column in characters) just after the valid UTF-8
/// text `before`.
fn line_column(before: &[u8]) -> (u32, u32) {
    // `before` is the valid prefix, so this cannot fail; an empty text is the fallback.
    let text = std::str::from_utf8(before).unwrap_or_default();
    let line = text.matches('\n').count() + 1;
    let last = text.rfind('\n').map_or(text, |i| &text[i + 1..]);
    let column = last.chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_read() {
        assert_eq!(
            read_text("a = 1\n".as_bytes(), "f.toml").unwrap(),
            "a = 1\n"
        );
    }

    #[test]
    fn a_bad_byte_is_located() {
        let err = read_text(&b"a = 1\nname = \"\xc3\xa9t\xe9\"\n"[..], "f.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:2:11: not UTF-8 text: byte 0xe9 at offset 17; xenfab reads UTF-8 only"
        );
        let ReadError::Invalid(e) = err else {
            panic!("not a parse error")
        };
        assert_eq!((e.location.line, e.location.column), (Some(2), Some(11)));
        // A sequence cut short at the end.
        let err = read_text(&b"ab\xc3"[..], "f").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f:1:3: not UTF-8 text: byte 0xc3 at offset 2; xenfab reads UTF-8 only"
        );
    }

    #[test]
    fn input_is_capped_without_reading_it_all() {
        // An endless stream: only the cap and one byte are read.
        let err = read_text(io::repeat(b'a'), "/dev/zero").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: larger than 64 MiB: refusing it (is it the right file?)"
        );
        let exactly = io::repeat(b'a').take(MAX_INPUT_BYTES);
        assert_eq!(
            read_text(exactly, "f").unwrap().len() as u64,
            MAX_INPUT_BYTES
        );
    }

    #[test]
    fn io_errors_name_the_file_escaped() {
        let err = read_path(Path::new("/nonexistent/\u{1b}[2Jx")).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
        assert_eq!(err.to_string(), "cannot read `/nonexistent/\\u{1b}[2Jx`");
    }
}
