//! "Did you mean": the name closest to a misspelt one.
//!
//! serde reports an unknown key or enum value with the names it expected (`unknown field
//! `memroy`, expected one of `name`, `ip`, …`); with twenty names in the list the one meant
//! is hard to see. [`did_you_mean`] adds it to such a message.

use std::borrow::Cow;

/// The candidate closest to `name`, when one is close enough to be what was meant: equal but
/// for case, or at most one edit (insertion, deletion, substitution, transposition) for each
/// three characters (at least one). Ties go to the first candidate.
pub fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            return None;
        }
        let distance = if candidate.to_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &candidate.to_lowercase())
        };
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `message` with `(did you mean `x`?)` after the unknown name, when it is serde's message for
/// an unknown field or variant (`unknown field `a`, expected one of `b`, `c``, or `expected
/// `b``) and one expected name is [`closest`] to it; otherwise `message` as it is.
pub fn did_you_mean(message: &str) -> Cow<'_, str> {
    let Some((head, rest)) = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|prefix| {
            message
                .find(prefix)
                .map(|at| message.split_at(at + prefix.len()))
        })
    else {
        return Cow::Borrowed(message);
    };
    let Some((name, expected)) = rest.split_once("`, expected ") else {
        return Cow::Borrowed(message);
    };
    let list = expected.strip_prefix("one of ").unwrap_or(expected);
    let candidates = list
        .split(", ")
        .filter_map(|c| c.strip_prefix('`').and_then(|c| c.strip_suffix('`')));
    match closest(name, candidates) {
        Some(meant) => Cow::Owned(format!(
            "{head}{name}` (did you mean `{meant}`?), expected {expected}"
        )),
        None => Cow::Borrowed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_name_meant() {
        let names = ["name", "ip", "memory", "vcpus", "mode"];
        assert_eq!(closest("memroy", names), Some("memory"));
        assert_eq!(closest("vcpu", names), Some("vcpus"));
        assert_eq!(closest("Memory", names), Some("memory"));
        assert_eq!(closest("ipp", names), Some("ip"));
        // Too far from every name, or the name itself: nothing to suggest.
        assert_eq!(closest("kernel", names), None);
        assert_eq!(closest("x", ["abc"]), None);
        assert_eq!(closest("mode", names), None);
    }

    #[test]
    fn adds_the_suggestion_to_serdes_messages() {
        assert_eq!(
            did_you_mean("unknown field `memroy`, expected one of `name`, `memory`"),
            "unknown field `memroy` (did you mean `memory`?), expected one of `name`, `memory`"
        );
        assert_eq!(
            did_you_mean("unknown variant `pv-pygrb`, expected `pv-pygrub`"),
            "unknown variant `pv-pygrb` (did you mean `pv-pygrub`?), expected `pv-pygrub`"
        );
        for unchanged in [
            "unknown field `zzzzzz`, expected one of `name`, `memory`",
            "unknown field `a`, there are no fields",
            "invalid type: integer `1`, expected a string",
            "unknown field `memroy",
        ] {
            assert_eq!(did_you_mean(unchanged), unchanged);
        }
    }
}
