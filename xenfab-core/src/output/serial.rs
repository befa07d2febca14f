//! SOA serials of the zone files in a tree ([`Tree::insert_zone`]): kept while a zone's
//! records stay the same, raised by one when they change.
//!
//! A secondary name server transfers a zone again only when the master's serial is greater
//! than its own (RFC 1982 serial number arithmetic; RFC 1035 section 3.3.13), so the serial
//! must move exactly when the records do. A rendered zone has serial 1; [`reconcile`] reads
//! the zone on disk (an owned regular file behind real directories only) and decides.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use super::OutputError;
use super::fsops::{self, Node};
use super::manifest::ManifestEntry;
use super::path::RelPath;
use super::tree::{Entry, Tree};

/// Sets the serial of each zone file of `tree` as decided against the zone on disk under `root`:
/// the contents on disk when they differ from the tree's only in the serial, the tree's
/// contents with the disk's serial plus one when the records differ. Zones that are not on
/// disk, not owned (`owned`), or whose file on disk has no readable SOA serial keep the
/// tree's.
pub(crate) fn reconcile(
    root: &Path,
    tree: &mut Tree,
    owned: &BTreeMap<RelPath, ManifestEntry>,
) -> Result<(), OutputError> {
    let mut decided = Vec::new();
    for path in tree.zones() {
        let Some(Entry::File { contents, .. }) = tree.get(path) else {
            continue;
        };
        if !owned.contains_key(path) || !fsops::parents_are_dirs(root, path)? {
            continue;
        }
        let full = root.join(path.as_str());
        if !matches!(fsops::node(&full)?, Node::File { .. }) {
            continue;
        }
        let bytes = fsops::read_file(&full)?;
        let Ok(old) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Some(new) = decide(old, contents) {
            decided.push((path.clone(), new));
        }
    }
    for (path, new) in decided {
        tree.set_contents(&path, new);
    }
    Ok(())
}

/// The contents to write instead of `new` given the zone `old` on disk, if not `new`
/// itself: `old` when only the serial differs, `new` with `old`'s serial plus one when more
/// does. None when they are equal or either has no readable serial.
pub(crate) fn decide(old: &str, new: &str) -> Option<String> {
    if old == new {
        return None;
    }
    let old_span = serial_span(old)?;
    let new_span = serial_span(new)?;
    if old[..old_span.start] == new[..new_span.start] && old[old_span.end..] == new[new_span.end..]
    {
        return Some(old.to_owned());
    }
    let serial: u32 = old[old_span].parse().ok()?;
    Some(format!(
        "{}{}{}",
        &new[..new_span.start],
        next_serial(serial),
        &new[new_span.end..]
    ))
}

/// The serial after `serial`: plus one modulo 2^32 (RFC 1982 section 3.1: adding 1 always
/// gives a greater serial), skipping 0, which some tools read as "no serial" (BIND's
/// `serial-update-method unixtime` and nsupdate leave 0 alone).
pub(crate) fn next_serial(serial: u32) -> u32 {
    match serial.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// The byte range of the SOA record's serial in a master file (RFC 1035 section 5.1): the
/// third field after the first `SOA` token, outside comments (`;` to the end of the line)
/// and quoted strings, with `(` and `)` only grouping lines. None when there is no such
/// field or it is not a decimal number that fits 32 bits.
pub(crate) fn serial_span(text: &str) -> Option<Range<usize>> {
    let mut after_soa: Option<usize> = None;
    for (start, end) in tokens(text) {
        let token = &text[start..end];
        match after_soa {
            None if token.eq_ignore_ascii_case("SOA") => after_soa = Some(0),
            None => {}
            // MNAME, RNAME, then the serial.
            Some(n) if n < 2 => after_soa = Some(n + 1),
            Some(_) => {
                let number =
                    token.bytes().all(|b| b.is_ascii_digit()) && token.parse::<u32>().is_ok();
                return number.then_some(start..end);
            }
        }
    }
    None
}

/// The byte ranges of a master file's tokens: white space, parentheses and comments
/// separate them; a quoted string is one token.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' => i += 1,
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                out.push((start, i));
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n' | b'(' | b')' | b';')
                {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = i.min(bytes.len());
                out.push((start, i));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = "; a comment with SOA in it\n$ORIGIN example.org.\n$TTL 3600\n@\tIN\tSOA\tns.example.org. hostmaster.example.org. (\n\t\t1\t; serial\n\t\t7200 900 1209600 3600 )\n@\tIN\tNS\tns.example.org.\nullr\tIN\tA\t192.168.96.43\n";

    fn with_serial(zone: &str, serial: &str) -> String {
        zone.replacen("\t\t1\t; serial", &format!("\t\t{serial}\t; serial"), 1)
    }

    #[test]
    fn finds_the_serial_after_soa_outside_comments() {
        let span = serial_span(ZONE).unwrap();
        assert_eq!(&ZONE[span], "1");
        let one_line = "@ 3600 IN SOA ns. host. 2024010101 1 2 3 4\n";
        assert_eq!(&one_line[serial_span(one_line).unwrap()], "2024010101");
        assert_eq!(serial_span("@ IN SOA ns. host. (x 1 2 3 4)"), None);
        assert_eq!(serial_span("@ IN SOA ns. host. 4294967296 1 2 3 4"), None);
        assert_eq!(serial_span("no soa here"), None);
    }

    #[test]
    fn keeps_the_file_when_only_the_serial_differs() {
        let old = with_serial(ZONE, "2024010107");
        assert_eq!(decide(&old, ZONE), Some(old.clone()));
        assert_eq!(decide(ZONE, ZONE), None);
    }

    #[test]
    fn raises_the_serial_when_records_change() {
        let old = with_serial(ZONE, "41");
        let new = ZONE.replace("192.168.96.43", "192.168.96.44");
        let decided = decide(&old, &new).unwrap();
        assert_eq!(decided, with_serial(&new, "42"));
    }

    #[test]
    fn serials_wrap_past_zero() {
        assert_eq!(next_serial(1), 2);
        assert_eq!(next_serial(u32::MAX), 1);
        assert_eq!(next_serial(u32::MAX - 1), u32::MAX);
    }

    #[test]
    fn an_unreadable_serial_on_disk_leaves_the_new_zone() {
        assert_eq!(decide("garbage", ZONE), None);
    }
}
