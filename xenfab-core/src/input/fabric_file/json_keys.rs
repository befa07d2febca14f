//! A pass over JSON that refuses an object with the same key twice.
//!
//! serde_json, like most JSON readers, keeps the last of two equal keys silently (RFC 8259
//! section 4 leaves it to the reader); a fabric file that says `"memory"` twice is a mistake
//! to report, not a choice to make for the user.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Any JSON value whose objects each have distinct keys; deserializing it fails at the second
/// of two equal keys, with serde_json's line and column of it.
pub(crate) struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<UniqueKeys, D::Error> {
        deserializer.deserialize_any(UniqueKeys)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_i64<E>(self, _: i64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_u64<E>(self, _: u64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_f64<E>(self, _: f64) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_str<E>(self, _: &str) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_unit<E>(self) -> Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if seen.contains(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key `{}`: each key may be given once",
                    crate::input::fabric_file::lower::shown(&key)
                )));
            }
            map.next_value::<UniqueKeys>()?;
            seen.insert(key);
        }
        Ok(UniqueKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), serde_json::Error> {
        serde_json::from_str::<UniqueKeys>(text).map(|_| ())
    }

    #[test]
    fn refuses_a_key_given_twice_with_its_place() {
        assert!(check(r#"{"a": 1, "b": {"a": [1, {"c": null}]}, "c": "x"}"#).is_ok());
        let e = check("{\n  \"site\": {\"name\": \"a\",\n  \"name\": \"b\"}\n}").unwrap_err();
        assert!(e.to_string().starts_with("duplicate key `name`"), "{e}");
        assert_eq!(e.line(), 3);
        // In a list of objects, each object has its own keys.
        assert!(check(r#"[{"a": 1}, {"a": 2}]"#).is_ok());
        assert!(check(r#"[{"a": 1, "a": 2}]"#).is_err());
        // Escaped spellings of one key are one key.
        assert!(check(r#"{"a": 1, "\u0061": 2}"#).is_err());
        let e = check("{\"\\u001b[2J\": 1, \"\\u001b[2J\": 2}").unwrap_err();
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
    }
}
