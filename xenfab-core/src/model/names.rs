//! Names that end up in configuration files: host names, domains, LVM names, identifiers.
//!
//! Each type accepts only what every artefact can carry without quoting, so a hostile string
//! (a quote, `;`, `}`, a newline, `../`) is refused here and never reaches a renderer.

use std::str::FromStr;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{shown}`: {reason}")]
pub struct NameError {
    what: &'static str,
    shown: String,
    reason: &'static str,
}

impl NameError {
    pub(crate) fn new(what: &'static str, input: &str, reason: &'static str) -> NameError {
        // Show hostile input escaped and cut short, so that it cannot break the message itself.
        NameError {
            what,
            shown: crate::diagnostic::shown(input),
            reason,
        }
    }
}

/// Checks one DNS label (RFC 1123): 1–63 characters of `a-z`, `0-9` and `-`, not beginning
/// or ending with `-`. Upper-case letters are accepted by the caller lower-casing first.
fn check_label(what: &'static str, whole: &str, label: &str) -> Result<(), NameError> {
    if label.is_empty() {
        return Err(NameError::new(what, whole, "a label is empty"));
    }
    if label.len() > 63 {
        return Err(NameError::new(
            what,
            whole,
            "a label is longer than 63 characters",
        ));
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(NameError::new(
            what,
            whole,
            "only letters, digits and `-` are allowed (RFC 1123)",
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(NameError::new(
            what,
            whole,
            "a label cannot begin or end with `-`",
        ));
    }
    Ok(())
}

/// A host name: one RFC 1123 label, kept in lower case (DNS names are case-insensitive).
///
/// ```
/// use xenfab_core::HostName;
/// assert_eq!("Ullr".parse::<HostName>().unwrap().as_str(), "ullr");
/// assert!("ullr;reboot".parse::<HostName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostName(String);

impl HostName {
    /// The name, lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for HostName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<HostName, NameError> {
        let lower = s.to_ascii_lowercase();
        check_label("host name", s, &lower)?;
        Ok(HostName(lower))
    }
}

/// A DNS domain: dot-separated RFC 1123 labels, at most 253 characters, kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// The domain, lower case, without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DomainName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<DomainName, NameError> {
        let lower = s.to_ascii_lowercase();
        if lower.len() > 253 {
            return Err(NameError::new("domain", s, "longer than 253 characters"));
        }
        for label in lower.split('.') {
            check_label("domain", s, label)?;
        }
        // A top-level label of digits only would make `<host>.<domain>` read as an IPv4
        // address (`1` in `2.3.4` is `1.2.3.4`): RFC 3696 section 2 rules such names out.
        if lower
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(NameError::new(
                "domain",
                s,
                "the last label cannot be all digits (RFC 3696): a host's name would read as an address",
            ));
        }
        Ok(DomainName(lower))
    }
}

/// A volume group or logical volume name, as LVM accepts it and as a device path can carry it:
/// `A-Z a-z 0-9 + _ . -`, not beginning with `-`, not `.` or `..`, not LVM's reserved
/// `snapshot`/`pvmove` prefixes or `_mlog`-style suffixes, at most 127 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LvmName(String);

impl LvmName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LvmName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<LvmName, NameError> {
        const WHAT: &str = "LVM name";
        const RESERVED: [&str; 8] = [
            "_cdata", "_cmeta", "_corig", "_mlog", "_mimage", "_pmspare", "_rimage", "_tdata",
        ];
        if s.is_empty() || s.len() > 127 {
            return Err(NameError::new(WHAT, s, "must be 1 to 127 characters"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'_' | b'.' | b'-'))
        {
            return Err(NameError::new(
                WHAT,
                s,
                "only letters, digits and `+_.-` are allowed",
            ));
        }
        if s.starts_with('-') || s == "." || s == ".." {
            return Err(NameError::new(
                WHAT,
                s,
                "cannot begin with `-` or be `.` or `..`",
            ));
        }
        if s.starts_with("snapshot") || s.starts_with("pvmove") {
            return Err(NameError::new(
                WHAT,
                s,
                "`snapshot` and `pvmove` prefixes are reserved",
            ));
        }
        if RESERVED.iter().any(|r| s.contains(r)) {
            return Err(NameError::new(WHAT, s, "contains a suffix LVM reserves"));
        }
        Ok(LvmName(s.to_owned()))
    }
}

/// The name of a site object (a network, hardware profile, OS release, boot image, partition
/// scheme): `A-Z a-z 0-9 . _ -`, 1–64 characters, beginning with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ident(String);

impl Ident {
    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Ident {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Ident, NameError> {
        const WHAT: &str = "name";
        if s.is_empty() || s.len() > 64 {
            return Err(NameError::new(WHAT, s, "must be 1 to 64 characters"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(NameError::new(
                WHAT,
                s,
                "only letters, digits and `._-` are allowed",
            ));
        }
        if !s.as_bytes()[0].is_ascii_alphanumeric() {
            return Err(NameError::new(WHAT, s, "must begin with a letter or digit"));
        }
        Ok(Ident(s.to_owned()))
    }
}

/// A relative path below the TFTP root or the installation tree, such as
/// `xen-domU-c4.6/i386/vmlinuz`: `/`-separated components of `A-Z a-z 0-9 . _ + -`, none of
/// them `.` or `..` or empty, no leading `/`, at most 255 characters (syslinux's
/// `FILENAME_MAX` is 256 with the NUL, com32/include/stdio.h: pxelinux cannot load a longer
/// kernel or initrd).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BootPath(String);

impl BootPath {
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BootPath {
    type Err = NameError;

    fn from_str(s: &str) -> Result<BootPath, NameError> {
        const WHAT: &str = "path";
        if s.is_empty() || s.len() > 255 {
            return Err(NameError::new(WHAT, s, "must be 1 to 255 characters"));
        }
        for part in s.split('/') {
            if part.is_empty() || part == "." || part == ".." {
                return Err(NameError::new(
                    WHAT,
                    s,
                    "must be relative, without empty, `.` or `..` components",
                ));
            }
            if part.starts_with('-') {
                return Err(NameError::new(
                    WHAT,
                    s,
                    "a component cannot begin with `-`: it would be read as an option",
                ));
            }
            if !part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
            {
                return Err(NameError::new(
                    WHAT,
                    s,
                    "only letters, digits and `._+-/` are allowed",
                ));
            }
        }
        Ok(BootPath(s.to_owned()))
    }
}

/// An absolute directory on the install server, such as `/tftpboot`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbsPath(String);

impl AbsPath {
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AbsPath {
    type Err = NameError;

    fn from_str(s: &str) -> Result<AbsPath, NameError> {
        match s.strip_prefix('/') {
            Some("") => Ok(AbsPath(s.to_owned())),
            Some(rest) => {
                let rest = rest.strip_suffix('/').unwrap_or(rest);
                BootPath::from_str(rest)
                    .map(|_| AbsPath(format!("/{rest}")))
                    .map_err(|_| {
                        NameError::new(
                            "directory",
                            s,
                            "must be an absolute path of `A-Za-z0-9._+-/`",
                        )
                    })
            }
            None => Err(NameError::new("directory", s, "must be an absolute path")),
        }
    }
}

/// An absolute path of a file in dom0, such as `/boot/vmlinuz`: `/` and then what a
/// [`BootPath`] takes (`A-Za-z0-9._+-` components, none empty, `.`, `..` or beginning with `-`,
/// at most 255 characters in all after the `/`), so that it is one word in xl's and xm's
/// quoted strings and libvirt's XML.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbsFile(String);

impl AbsFile {
    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AbsFile {
    type Err = NameError;

    fn from_str(s: &str) -> Result<AbsFile, NameError> {
        let Some(rest) = s.strip_prefix('/') else {
            return Err(NameError::new("path", s, "must be an absolute path"));
        };
        BootPath::from_str(rest)
            .map(|_| AbsFile(s.to_owned()))
            .map_err(|_| {
                NameError::new(
                    "path",
                    s,
                    "must be an absolute path of a file, of `A-Za-z0-9._+-/`, without empty, `.` or `..` components or one beginning with `-`",
                )
            })
    }
}

/// `Display`, `Serialize` and `AsRef<str>` for newtypes over a `String` (here and in
/// `kickstart.rs`).
macro_rules! text_impls {
    ($($t:ident),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}
pub(crate) use text_impls;
text_impls!(
    HostName, DomainName, LvmName, Ident, BootPath, AbsPath, AbsFile
);

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [&str; 9] = [
        "a;b", "a}b", "a\"b", "a'b", "a\nb", "../etc", "a b", "-ab", "a/b",
    ];

    #[test]
    fn host_names() {
        assert_eq!("XEN01".parse::<HostName>().unwrap().as_str(), "xen01");
        assert!("a".repeat(63).parse::<HostName>().is_ok());
        assert!("a".repeat(64).parse::<HostName>().is_err());
        assert!("a".repeat(300).parse::<HostName>().is_err());
        assert!("".parse::<HostName>().is_err());
        assert!("xen01.example.org".parse::<HostName>().is_err());
        for bad in HOSTILE {
            assert!(bad.parse::<HostName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hostile_input_is_escaped_in_messages() {
        let err = "a\nb\"; filename \"evil"
            .parse::<HostName>()
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.contains("a\\nb"), "{err}");
    }

    #[test]
    fn domains() {
        assert!("example.org".parse::<DomainName>().is_ok());
        assert!("example..org".parse::<DomainName>().is_err());
        assert!("example.org.".parse::<DomainName>().is_err());
        assert!("2.3.4".parse::<DomainName>().is_err());
        assert!("example.123".parse::<DomainName>().is_err());
        assert!("123.example".parse::<DomainName>().is_ok());
        for bad in HOSTILE {
            assert!(bad.parse::<DomainName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lvm_names() {
        assert!("xenvg".parse::<LvmName>().is_ok());
        assert!("ullr-xvdb".parse::<LvmName>().is_ok());
        for bad in ["-x", ".", "..", "snapshot1", "a_mlog", "a/b", "a b", ""] {
            assert!(bad.parse::<LvmName>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn boot_paths() {
        assert!("xen-domU-c4.6/i386/vmlinuz".parse::<BootPath>().is_ok());
        for bad in [
            "/abs", "../x", "a/../b", "a//b", "a b", "a;b", "a\nb", "", "-x", "a/-x",
        ] {
            assert!(bad.parse::<BootPath>().is_err(), "{bad:?}");
        }
        assert!("a".repeat(255).parse::<BootPath>().is_ok());
        assert!("a".repeat(256).parse::<BootPath>().is_err());
        assert_eq!(
            "/tftpboot/".parse::<AbsPath>().unwrap().as_str(),
            "/tftpboot"
        );
        assert!("/".parse::<AbsPath>().is_ok());
        assert!("/a/../b".parse::<AbsPath>().is_err());
        assert!("tftpboot".parse::<AbsPath>().is_err());
        assert_eq!(
            "/boot/vmlinuz".parse::<AbsFile>().unwrap().as_str(),
            "/boot/vmlinuz"
        );
        for bad in [
            "vmlinuz",
            "/",
            "/boot/",
            "/boot/../x",
            "/-x",
            "/a b",
            "/a\"b",
            "//x",
        ] {
            assert!(bad.parse::<AbsFile>().is_err(), "{bad:?}");
        }
    }
}
