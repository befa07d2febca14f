//! Validated relative paths inside the output tree, and symlink targets.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use super::OutputError;

/// Longest allowed path component, in bytes.
pub const MAX_COMPONENT_LEN: usize = 255;

/// Longest allowed path (or symlink target), in bytes.
pub const MAX_PATH_LEN: usize = 4096;

/// A validated relative path inside the output tree.
///
/// The path is non-empty, `/`-separated, has no leading `/`, no empty
/// component, no `.` or `..` component and no component beginning with `.`
/// (such names are reserved for the manifest and temporary files). Each
/// component consists only of `[A-Za-z0-9._+@=-]` and is at most 255 bytes
/// long; the whole path is at most 4096 bytes long.
///
/// Ordering is the byte order of the string.
///
/// The text is shared: a clone costs no allocation (a plan of a million entries names each
/// path in its changes, its summary and its manifest).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(Arc<str>);

impl RelPath {
    /// Validates `path` and wraps it.
    pub fn new(path: &str) -> Result<Self, OutputError> {
        validate(path)?;
        Ok(Self(Arc::from(path)))
    }

    /// The path as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The components of the path, in order.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last component of the path.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The directory holding this path, as text (no allocation: the plan asks it of every
    /// entry), or `None` when it is directly in the root of the tree.
    pub fn parent_str(&self) -> Option<&str> {
        self.0.rsplit_once('/').map(|(dir, _)| dir)
    }

    /// The directory holding this path, or `None` when it is directly in the
    /// root of the tree.
    pub fn parent(&self) -> Option<RelPath> {
        self.0
            .rfind('/')
            .map(|index| RelPath(Arc::from(&self.0[..index])))
    }

    /// The proper ancestors of this path, outermost first (`a`, `a/b` for
    /// `a/b/c`).
    pub fn ancestors(&self) -> impl Iterator<Item = RelPath> + '_ {
        self.0
            .match_indices('/')
            .map(|(index, _)| RelPath(Arc::from(&self.0[..index])))
    }

    /// The number of components.
    pub fn depth(&self) -> usize {
        self.components().count()
    }
}

fn invalid(path: &str, reason: impl Into<String>) -> OutputError {
    OutputError::InvalidPath {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn validate(path: &str) -> Result<(), OutputError> {
    if path.is_empty() {
        return Err(invalid(path, "the path is empty"));
    }
    if path.len() > MAX_PATH_LEN {
        return Err(invalid(
            path,
            format!("the path is longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    if path.starts_with('/') {
        return Err(invalid(path, "the path is absolute"));
    }
    for component in path.split('/') {
        match component {
            "" => return Err(invalid(path, "the path has an empty component")),
            "." | ".." => {
                return Err(invalid(
                    path,
                    format!("the path has a `{component}` component"),
                ));
            }
            _ if component.starts_with('.') => {
                return Err(invalid(
                    path,
                    format!(
                        "component `{component}` begins with `.` (reserved for xenfab's own files)"
                    ),
                ));
            }
            _ => check_component(path, component)?,
        }
    }
    Ok(())
}

fn check_component(path: &str, component: &str) -> Result<(), OutputError> {
    if let Some(bad) = component.chars().find(|&c| !is_allowed_char(c)) {
        return Err(invalid(
            path,
            format!("character {bad:?} is not allowed (allowed: A-Z a-z 0-9 . _ + @ = -)"),
        ));
    }
    if component.len() > MAX_COMPONENT_LEN {
        return Err(invalid(
            path,
            format!("a component is longer than {MAX_COMPONENT_LEN} bytes"),
        ));
    }
    Ok(())
}

fn is_allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '@' | '=' | '-')
}

/// Validates the target of a symlink placed at `link`.
///
/// The target must be relative, use the same character set as [`RelPath`],
/// and may only use `..` as leading components (`../../x/y`, not `x/../y`);
/// no other component may begin with `.`. Resolved from the link's own
/// directory it must stay inside the tree root. Because `..` only appears in
/// front, the lexical resolution is also what the kernel does, whatever the
/// other entries of the tree are.
pub(crate) fn validate_symlink_target(link: &RelPath, target: &str) -> Result<(), OutputError> {
    let bad = |reason: String| OutputError::InvalidSymlinkTarget {
        path: link.clone(),
        target: target.to_owned(),
        reason,
    };
    if target.is_empty() {
        return Err(bad("the target is empty".to_owned()));
    }
    if target.len() > MAX_PATH_LEN {
        return Err(bad(format!(
            "the target is longer than {MAX_PATH_LEN} bytes"
        )));
    }
    if target.starts_with('/') {
        return Err(bad("the target is absolute".to_owned()));
    }
    let mut ups = 0usize;
    let mut seen_name = false;
    for component in target.split('/') {
        match component {
            "" => return Err(bad("the target has an empty component".to_owned())),
            ".." if seen_name => {
                return Err(bad(
                    "`..` may only appear at the start of the target".to_owned()
                ));
            }
            ".." => ups += 1,
            _ if component.starts_with('.') => {
                return Err(bad(format!("component `{component}` begins with `.`")));
            }
            _ => {
                if let Some(c) = component.chars().find(|&c| !is_allowed_char(c)) {
                    return Err(bad(format!("character {c:?} is not allowed")));
                }
                if component.len() > MAX_COMPONENT_LEN {
                    return Err(bad(format!(
                        "a component is longer than {MAX_COMPONENT_LEN} bytes"
                    )));
                }
                seen_name = true;
            }
        }
    }
    // The link's directory is `depth - 1` levels below the root.
    if ups > link.depth().saturating_sub(1) {
        return Err(OutputError::SymlinkEscapes {
            path: link.clone(),
            target: target.to_owned(),
        });
    }
    Ok(())
}

impl FromStr for RelPath {
    type Err = OutputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for RelPath {
    type Error = OutputError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        validate(&value)?;
        Ok(Self(Arc::from(value)))
    }
}

impl TryFrom<&str> for RelPath {
    type Error = OutputError;

    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<RelPath> for String {
    fn from(value: RelPath) -> Self {
        value.0.as_ref().to_owned()
    }
}

impl Serialize for RelPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Read straight from the text being parsed, validated, with no `String` in between (a
/// manifest has a path on each of its million lines).
impl<'de> Deserialize<'de> for RelPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl de::Visitor<'_> for Visitor {
            type Value = RelPath;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a relative path in the output tree")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<RelPath, E> {
                RelPath::new(value).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(Visitor)
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RelPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for RelPath {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&*self.0)
    }
}

impl Borrow<str> for RelPath {
    fn borrow(&self) -> &str {
        &self.0
    }
}
