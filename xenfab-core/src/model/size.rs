//! Sizes of memory, disks and volumes, kept in MiB as Quattor keeps them.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A size in MiB.
///
/// Parsed from `512M`, `24G`, `2T` (binary units: `M`/`MiB`, `G`/`GiB`, `T`/`TiB`), from
/// `500GB` or `146MB` (decimal units, as disk vendors count: rounded down to whole MiB), or
/// from a bare number of MiB (`1024`). Displayed in the largest binary unit that divides it
/// exactly, so `Size::from_mib(24576)` shows as `24G`.
///
/// ```
/// use xenfab_core::Size;
/// assert_eq!("24G".parse::<Size>().unwrap().mib(), 24576);
/// assert_eq!("500GB".parse::<Size>().unwrap().mib(), 476837);
/// assert_eq!(Size::from_mib(512).to_string(), "512M");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Size(u64);

/// Why a size could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size `{input}`: {reason}")]
pub struct SizeError {
    input: String,
    reason: &'static str,
}

const MIB: u64 = 1 << 20;

impl Size {
    /// The largest size accepted: 1 EiB (2^40 MiB). Any size in bytes fits a signed 64-bit
    /// integer (pan's `long`, JSON numbers, LVM's byte counts) with room to add sizes up.
    pub const MAX: Size = Size(1 << 40);

    /// A size of `mib` MiB.
    pub const fn from_mib(mib: u64) -> Size {
        Size(mib)
    }

    /// The size in MiB.
    pub const fn mib(self) -> u64 {
        self.0
    }

    /// `self - other`, or zero when `other` is larger.
    #[must_use]
    pub const fn saturating_sub(self, other: Size) -> Size {
        Size(self.0.saturating_sub(other.0))
    }

    /// `self + other`, saturating at the largest size.
    #[must_use]
    pub const fn saturating_add(self, other: Size) -> Size {
        Size(self.0.saturating_add(other.0))
    }
}

impl std::iter::Sum for Size {
    fn sum<I: Iterator<Item = Size>>(iter: I) -> Size {
        iter.fold(Size(0), Size::saturating_add)
    }
}

impl FromStr for Size {
    type Err = SizeError;

    fn from_str(s: &str) -> Result<Size, SizeError> {
        let shown = || crate::diagnostic::shown(s);
        let err = || SizeError {
            input: shown(),
            reason: "expected a whole number with an optional unit (M, G, T, MB, GB, TB)",
        };
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 15 {
            return Err(err());
        }
        let (number, unit) = s.split_at(digits);
        let n: u64 = number.parse().map_err(|_| err())?;
        // Binary units are multiples of MiB; decimal units are bytes, rounded down.
        let mib = match unit {
            "" | "M" | "MiB" => Some(n),
            "G" | "GiB" => n.checked_mul(1 << 10),
            "T" | "TiB" => n.checked_mul(1 << 20),
            "MB" => n.checked_mul(1_000_000).map(|b| b / MIB),
            "GB" => n.checked_mul(1_000_000_000).map(|b| b / MIB),
            "TB" => n.checked_mul(1_000_000_000_000).map(|b| b / MIB),
            _ => None,
        };
        match mib {
            Some(mib) if mib > Size::MAX.0 => Err(SizeError {
                input: shown(),
                reason: "larger than 1 EiB (1048576T), the most xenfab accepts",
            }),
            Some(mib) => Ok(Size(mib)),
            None => Err(err()),
        }
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n != 0 && n % (1 << 20) == 0 {
            write!(f, "{}T", n >> 20)
        } else if n != 0 && n % (1 << 10) == 0 {
            write!(f, "{}G", n >> 10)
        } else {
            write!(f, "{n}M")
        }
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        for (text, mib) in [
            ("512M", 512),
            ("512", 512),
            ("512MiB", 512),
            ("24G", 24576),
            ("1T", 1 << 20),
            ("500GB", 476_837),
            ("146MB", 139),
            ("0", 0),
        ] {
            assert_eq!(text.parse::<Size>().unwrap().mib(), mib, "{text}");
        }
    }

    #[test]
    fn refuses_garbage() {
        for text in [
            "",
            "M",
            "12 G",
            "1.5G",
            "-1G",
            "12g",
            "lots",
            "99999999999999999T",
            "1G;",
            "2000000T",
            "1048577T",
            "999999999999999",
        ] {
            assert!(text.parse::<Size>().is_err(), "{text}");
        }
        assert_eq!("1048576T".parse::<Size>().unwrap(), Size::MAX);
        let err = "1G\u{1b}[2J".parse::<Size>().unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
        let err = "2000000T".parse::<Size>().unwrap_err().to_string();
        assert!(err.contains("larger than 1 EiB"), "{err}");
    }

    #[test]
    fn displays_in_largest_exact_unit() {
        assert_eq!(Size::from_mib(24576).to_string(), "24G");
        assert_eq!(Size::from_mib(1 << 20).to_string(), "1T");
        assert_eq!(Size::from_mib(1536).to_string(), "1536M");
        assert_eq!(Size::from_mib(0).to_string(), "0M");
    }
}
