//! Finding where a field path is in a TOML file, for `file:line:column` in diagnostics.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{FieldPath, Segment};

/// The spans of a TOML file, as toml's own parser gives them. Made only when there are
/// diagnostics to place: a fabric without any never parses its file twice (at 110,000 hosts
/// a second parse is a third of the load).
pub(crate) struct TomlLocator<'t> {
    text: &'t str,
    root: Spanned<DeTable<'t>>,
}

impl<'t> TomlLocator<'t> {
    /// `None` when `text` is not TOML (which the caller parsed already).
    pub(crate) fn new(text: &'t str) -> Option<TomlLocator<'t>> {
        let root = DeTable::parse(text).ok()?;
        Some(TomlLocator { text, root })
    }

    /// The line and column (both from 1) of the deepest part of `path` the file spells out:
    /// the key of a field, or the header of the table that a defaulted field belongs to.
    pub(crate) fn locate(&self, path: &FieldPath) -> Option<(u32, u32)> {
        let mut best: Option<Range<usize>> = None;
        let mut table: Option<&DeTable<'t>> = Some(self.root.get_ref());
        let mut value: Option<&DeValue<'t>> = None;
        for segment in path.segments() {
            let field = |key: &str| match table.and_then(|t| t.get_key_value(key)) {
                Some((k, v)) => (Some(k.span()), Some(v)),
                None => (None, None),
            };
            let (key_span, next) = match segment {
                Segment::Key(key) => field(key),
                Segment::Entry(name) => field(name),
                Segment::Elem { index, .. } => (None, value.and_then(|v| v.get(*index))),
            };
            let Some(next) = next else { break };
            best = key_span.or_else(|| Some(next.span())).or(best);
            value = Some(next.get_ref());
            table = match next.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        best.map(|span| line_column(self.text, span.start))
    }
}

/// The line and column (in characters), both from 1, of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version = 1\n\n[[dom0s]]\nname = \"xen01\"\nip = \"10.0.0.1\"\n\n[[dom0s.guests]]\nname = \"a\"\n\n[[dom0s.guests]]\nname = \"b\"\nip = \"1.2.3.4\"\ndisks = [{ size = \"1G\" }, { size = \"2G\" }]\n\n[hardware.pe1950]\nram = \"16G\"\n";

    fn at(path: &FieldPath) -> Option<(u32, u32)> {
        TomlLocator::new(TEXT).unwrap().locate(path)
    }

    #[test]
    fn finds_keys_elements_and_entries() {
        let dom0 = FieldPath::root().key("dom0s").elem(0, Some("xen01"));
        assert_eq!(at(&dom0.key("ip")), Some((5, 1)));
        let b = dom0.key("guests").elem(1, Some("b"));
        assert_eq!(at(&b.key("ip")), Some((12, 1)));
        assert_eq!(
            at(&b.key("disks").elem(1, None).key("size")),
            Some((13, 29))
        );
        assert_eq!(
            at(&FieldPath::root().key("hardware").entry("pe1950").key("ram")),
            Some((16, 1))
        );
    }

    #[test]
    fn falls_back_to_the_enclosing_table() {
        let a = FieldPath::root()
            .key("dom0s")
            .elem(0, None)
            .key("guests")
            .elem(0, Some("a"));
        // `ip` is not written for guest `a`: point at its table.
        assert_eq!(at(&a.key("ip")).map(|(l, _)| l), Some(7));
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_column("é = 1\nab", 7), (2, 1));
        assert_eq!(line_column("é = 1\nab", 8), (2, 2));
    }
}
