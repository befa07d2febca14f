//! Finding where a field path is in a TOML or JSON file, for `file:line:column` in
//! diagnostics.

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

/// The spans of a JSON file, from jsonc-parser's syntax tree (serde_json, which reads the
/// file, keeps none). Made, as [`TomlLocator`], only when there are diagnostics to place.
pub(crate) struct JsonLocator<'t> {
    text: &'t str,
    root: jsonc_parser::ast::Value<'t>,
}

impl<'t> JsonLocator<'t> {
    /// `None` when `text` is not JSON (which the caller parsed already).
    pub(crate) fn new(text: &'t str) -> Option<JsonLocator<'t>> {
        let parsed = jsonc_parser::parse_to_ast(
            text,
            &jsonc_parser::CollectOptions::default(),
            &jsonc_parser::ParseOptions::default(),
        )
        .ok()?;
        Some(JsonLocator {
            text,
            root: parsed.value?,
        })
    }

    /// As [`TomlLocator::locate`]: the key of the deepest field of `path` the file spells
    /// out, or the start of the object that a defaulted field belongs to.
    pub(crate) fn locate(&self, path: &FieldPath) -> (u32, u32) {
        use jsonc_parser::ast::Value;
        use jsonc_parser::common::Ranged;

        let mut best = self.root.start();
        let mut value = &self.root;
        for segment in path.segments() {
            let next = match (segment, value) {
                (Segment::Key(key), Value::Object(object)) => {
                    object.get(key).map(|prop| (prop.name.start(), &prop.value))
                }
                (Segment::Entry(name), Value::Object(object)) => object
                    .get(name)
                    .map(|prop| (prop.name.start(), &prop.value)),
                (Segment::Elem { index, .. }, Value::Array(array)) => {
                    array.elements.get(*index).map(|v| (v.start(), v))
                }
                _ => None,
            };
            let Some((start, next)) = next else { break };
            best = start;
            value = next;
        }
        line_column(self.text, best)
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
    fn finds_json_keys_elements_and_entries() {
        let text = "{\n  \"version\": 1,\n  \"dom0s\": [\n    {\"name\": \"xen01\",\n     \"guests\": [{\"name\": \"a\"}, {\"name\": \"b\", \"ip\": \"1.2.3.4\"}]}\n  ],\n  \"hardware\": {\"pe1950\": {\"ram\": \"16G\"}}\n}\n";
        let at = |path: &FieldPath| Some(JsonLocator::new(text).unwrap().locate(path));
        let dom0 = FieldPath::root().key("dom0s").elem(0, Some("xen01"));
        let b = dom0.key("guests").elem(1, Some("b"));
        assert_eq!(at(&b.key("ip")), Some((5, 46)));
        assert_eq!(at(&dom0.key("name")), Some((4, 6)));
        assert_eq!(
            at(&FieldPath::root().key("hardware").entry("pe1950").key("ram")),
            Some((7, 27))
        );
        // `ip` is not written for guest `a`: point at its object.
        assert_eq!(
            at(&dom0.key("guests").elem(0, Some("a")).key("ip")),
            Some((5, 17))
        );
        assert!(JsonLocator::new("{").is_none());
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_column("é = 1\nab", 7), (2, 1));
        assert_eq!(line_column("é = 1\nab", 8), (2, 2));
    }
}
