//! Finding where a field path is in a TOML file, for `file:line:column` in diagnostics.

use std::ops::Range;

use toml_edit::{Document, Item};

use crate::diagnostic::{FieldPath, Segment};

/// The spans of a parsed TOML file.
pub(crate) struct TomlLocator {
    doc: Document<String>,
}

impl std::fmt::Debug for TomlLocator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TomlLocator")
    }
}

impl TomlLocator {
    pub(crate) fn new(text: &str) -> Option<TomlLocator> {
        Document::parse(text.to_owned())
            .ok()
            .map(|doc| TomlLocator { doc })
    }

    /// The line and column (both from 1) of the deepest part of `path` the file spells out:
    /// the key of a field, or the header of the table that a defaulted field belongs to.
    pub(crate) fn locate(&self, path: &FieldPath) -> Option<(u32, u32)> {
        let mut best: Option<Range<usize>> = None;
        let mut item: Option<&Item> = None;
        for segment in path.segments() {
            let (key_span, next) = match segment {
                Segment::Key(key) => self.field(item, key),
                Segment::Entry(name) => self.field(item, name),
                Segment::Elem { index, .. } => (None, item.and_then(|i| i.get(*index))),
            };
            let Some(next) = next else { break };
            best = key_span.or_else(|| next.span()).or(best);
            item = Some(next);
        }
        best.map(|span| line_column(self.doc.raw(), span.start))
    }

    /// Looks `key` up in `item` (the document root when `None`): the key's span and its value.
    fn field<'a>(
        &'a self,
        item: Option<&'a Item>,
        key: &str,
    ) -> (Option<Range<usize>>, Option<&'a Item>) {
        let table = match item {
            None => Some(self.doc.as_table() as &dyn toml_edit::TableLike),
            Some(item) => item.as_table_like(),
        };
        match table.and_then(|t| t.get_key_value(key)) {
            Some((k, value)) => (k.span(), Some(value)),
            None => (None, None),
        }
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
