//! An entry's line of the manifest, read without serde when it is laid out exactly as
//! [`ManifestLines`](super::ManifestLines) writes it: keys in the writer's order, no spaces,
//! strings without escapes, integers without sign or leading zero where JSON has none.
//!
//! A rerun of a 110,000-host site reads 900,000 such lines: with `serde_json` for each (a
//! struct's keys matched by name, every string checked for escapes twice) the manifest took
//! 0.58-0.60 s to read, with this 0.38-0.45 s (its lines parsed on both cores, beside the
//! fabric's load). Any other line (an escape, another order, a key added by hand) gives
//! `None`, and is read by `serde_json` as before: so this reader accepts a subset of what
//! `serde_json` accepts, and gives what it gives (the tests compare the two on written and
//! mangled lines).

use super::{ManifestEntry, Stamp};
use crate::output::path::RelPath;

/// The entry of the line `"path":{…}` (the comma after it taken off); `None` when it is not
/// one.
pub(super) fn read(line: &[u8]) -> Option<(RelPath, ManifestEntry)> {
    fast(line).or_else(|| by_serde(line))
}

/// [`read`] by `serde_json`.
fn by_serde(line: &[u8]) -> Option<(RelPath, ManifestEntry)> {
    // a path has no `"` or `\\` (RelPath), so its string ends at the first `":`
    let colon = line.windows(2).position(|w| w == b"\":")? + 1;
    let path: RelPath = serde_json::from_slice(&line[..colon]).ok()?;
    let entry: ManifestEntry = serde_json::from_slice(&line[colon + 1..]).ok()?;
    Some((path, entry))
}

/// [`read`] without serde: `None` when the line is not laid out as xenfab writes it.
fn fast(line: &[u8]) -> Option<(RelPath, ManifestEntry)> {
    let mut at = Cursor(line);
    at.tag(b"\"")?;
    let path = RelPath::new(at.string()?).ok()?;
    at.tag(b":{\"kind\":\"")?;
    let entry = if at.tag(b"file\",\"executable\":").is_some() {
        let executable = if at.tag(b"false").is_some() {
            false
        } else {
            at.tag(b"true")?;
            true
        };
        let stamp = if at.tag(b",\"stamp\":{\"size\":").is_some() {
            let size = at.unsigned()?;
            at.tag(b",\"ino\":")?;
            let ino = at.unsigned()?;
            at.tag(b",\"mtime\":")?;
            let mtime = at.signed()?;
            at.tag(b",\"ctime\":")?;
            let ctime = at.signed()?;
            at.tag(b",\"xxh3\":\"")?;
            let xxh3 = at.hex128()?;
            at.tag(b"\"}")?;
            Some(Stamp {
                size,
                ino,
                mtime,
                ctime,
                xxh3,
            })
        } else {
            None
        };
        ManifestEntry::File {
            executable,
            stamp,
            dom0: at.dom0().ok()?,
        }
    } else {
        at.tag(b"symlink\",\"target\":\"")?;
        let target = at.string()?.to_owned();
        ManifestEntry::Symlink {
            target,
            dom0: at.dom0().ok()?,
        }
    };
    at.tag(b"}")?;
    at.0.is_empty().then_some((path, entry))
}

/// A line not laid out as xenfab writes it.
struct Unusual;

/// The rest of a line.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    /// Steps over `tag`, if the line goes on with it.
    fn tag(&mut self, tag: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(tag)?;
        Some(())
    }

    /// A string's characters up to its closing quote, stepped over; `None` if one must be
    /// unescaped (a backslash) or is not allowed bare in JSON (a control character).
    fn string(&mut self) -> Option<&'a str> {
        let end = self
            .0
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if self.0[end] != b'"' {
            return None;
        }
        let text = std::str::from_utf8(&self.0[..end]).ok()?;
        self.0 = &self.0[end + 1..];
        Some(text)
    }

    /// `,"dom0":"name"` if the line goes on with it: `Ok(None)` when it does not, `Err` when
    /// it does but the name is not a plain string.
    fn dom0(&mut self) -> Result<Option<String>, Unusual> {
        if self.tag(b",\"dom0\":\"").is_none() {
            return Ok(None);
        }
        self.string()
            .map(|name| Some(name.to_owned()))
            .ok_or(Unusual)
    }

    /// A JSON integer without sign, that fits.
    fn unsigned(&mut self) -> Option<u64> {
        let len = self.0.iter().take_while(|b| b.is_ascii_digit()).count();
        let (digits, rest) = self.0.split_at(len);
        // JSON has no leading zeros (`07`), and a number goes on with `.` or `e`
        if digits.is_empty()
            || digits.len() > 1 && digits[0] == b'0'
            || matches!(rest.first(), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let value = digits.iter().try_fold(0u64, |value, &d| {
            value.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })?;
        self.0 = rest;
        Some(value)
    }

    /// A JSON integer, maybe negative (a time before 1970), that fits.
    fn signed(&mut self) -> Option<i64> {
        if self.tag(b"-").is_some() {
            let value = self.unsigned()?;
            // (`-0` is not written; it reads as 0, as serde reads it)
            return 0i64.checked_sub_unsigned(value);
        }
        i64::try_from(self.unsigned()?).ok()
    }

    /// 32 lower-case hex digits, as `hex128` writes a hash.
    fn hex128(&mut self) -> Option<u128> {
        let digits = self.0.get(..32)?;
        if !digits
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let value = u128::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()?;
        self.0 = &self.0[32..];
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line the manifest's writer makes for an entry.
    fn written(path: &str, entry: &ManifestEntry) -> Vec<u8> {
        let mut line = serde_json::to_vec(path).unwrap();
        line.push(b':');
        line.extend(serde_json::to_vec(entry).unwrap());
        line
    }

    fn entries() -> Vec<(&'static str, ManifestEntry)> {
        let stamp = |size, mtime| Stamp {
            size,
            ino: 4_464_827,
            mtime,
            ctime: 1_796_604_457_494_279_792,
            xxh3: 0x32bf_7412_0d6e_7d61_2e6f_88e0_7360_8339,
        };
        vec![
            (
                "dhcp/dhcpd.conf",
                ManifestEntry::File {
                    executable: false,
                    stamp: Some(stamp(21_985_516, 1_796_604_434_758_278_743)),
                    dom0: None,
                },
            ),
            (
                "dom0s/xen01.example.org/provision.sh",
                ManifestEntry::File {
                    executable: true,
                    stamp: Some(stamp(0, -1_000_000_007)),
                    dom0: Some("xen01".to_owned()),
                },
            ),
            (
                "dom0s/xen01.example.org/xl/ullr.cfg",
                ManifestEntry::File {
                    executable: false,
                    stamp: None,
                    dom0: Some("xen01".to_owned()),
                },
            ),
            (
                "tftpboot/pxelinux.cfg/01-00-16-3e-00-00-01",
                ManifestEntry::Symlink {
                    target: "ullr.cfg".to_owned(),
                    dom0: Some("xen01".to_owned()),
                },
            ),
            (
                "tftpboot/pxelinux.cfg/default",
                ManifestEntry::Symlink {
                    target: "../menus/ünïcode menu".to_owned(),
                    dom0: None,
                },
            ),
            (
                "max/values",
                ManifestEntry::File {
                    executable: false,
                    stamp: Some(Stamp {
                        size: u64::MAX,
                        ino: 0,
                        mtime: i64::MIN,
                        ctime: i64::MAX,
                        xxh3: u128::MAX,
                    }),
                    dom0: None,
                },
            ),
        ]
    }

    #[test]
    fn a_written_line_reads_as_serde_reads_it() {
        for (path, entry) in entries() {
            let line = written(path, &entry);
            let read = fast(&line);
            assert_eq!(read, Some((RelPath::new(path).unwrap(), entry)), "{path}");
            assert_eq!(read, by_serde(&line));
        }
    }

    #[test]
    fn a_line_laid_out_otherwise_is_left_to_serde() {
        let lines: &[&[u8]] = &[
            // an escape, in the path, a target, a dom0
            br#""a\u0062":{"kind":"symlink","target":"t"}"#,
            br#""a":{"kind":"symlink","target":"t\"q"}"#,
            br#""a":{"kind":"symlink","target":"t","dom0":"x\/y"}"#,
            // spaces, another order, another key
            br#""a": {"kind":"symlink","target":"t"}"#,
            br#""a":{"target":"t","kind":"symlink"}"#,
            br#""a":{"kind":"file","executable":false,"comment":"x"}"#,
            // numbers JSON spells otherwise, or that do not fit
            br#""a":{"kind":"file","executable":false,"stamp":{"size":1e3,"ino":1,"mtime":1,"ctime":1,"xxh3":"00000000000000000000000000000000"}}"#,
            br#""a":{"kind":"file","executable":false,"stamp":{"size":18446744073709551616,"ino":1,"mtime":1,"ctime":1,"xxh3":"00000000000000000000000000000000"}}"#,
            br#""a":{"kind":"file","executable":false,"stamp":{"size":1,"ino":1,"mtime":1.5,"ctime":1,"xxh3":"00000000000000000000000000000000"}}"#,
            // a hash in capitals
            br#""a":{"kind":"file","executable":false,"stamp":{"size":1,"ino":1,"mtime":1,"ctime":1,"xxh3":"0000000000000000000000000000000A"}}"#,
        ];
        for line in lines {
            assert_eq!(fast(line), None, "{}", String::from_utf8_lossy(line));
        }
        // and serde reads some of them, as before
        assert!(by_serde(lines[0]).is_some());
        assert!(by_serde(lines[3]).is_some());
    }

    #[test]
    fn a_mangled_line_reads_as_serde_reads_it_or_is_left_to_serde() {
        // Every line of `entries`, with each byte in turn replaced by each of a few bytes,
        // removed, or doubled: the fast reader never reads what serde would not, or reads
        // otherwise.
        let replacements = b"\"\\:,{}0179-aefxz .\n\x01";
        let mut tried = 0;
        for (path, entry) in entries() {
            let line = written(path, &entry);
            for at in 0..line.len() {
                let mut variants: Vec<Vec<u8>> = replacements
                    .iter()
                    .map(|&b| {
                        let mut v = line.clone();
                        v[at] = b;
                        v
                    })
                    .collect();
                let mut removed = line.clone();
                removed.remove(at);
                variants.push(removed);
                let mut doubled = line.clone();
                doubled.insert(at, line[at]);
                variants.push(doubled);
                for variant in variants {
                    if let Some(read) = fast(&variant) {
                        assert_eq!(
                            Some(read),
                            by_serde(&variant),
                            "{}",
                            String::from_utf8_lossy(&variant)
                        );
                    }
                    tried += 1;
                }
            }
        }
        assert!(tried > 10_000, "{tried}");
    }
}
