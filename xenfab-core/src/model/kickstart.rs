//! What every kickstart file of the site shares: the root password, locale, packages, hooks.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

use super::ks_lines::{LineError, check_script};
use super::names::NameError;

/// Kickstart settings of the site, for dom0s and for guests.
#[derive(Debug, Clone, Serialize)]
pub struct KickstartSettings {
    /// The root password, crypted (`rootpw --iscrypted`).
    pub root_password: CryptHash,
    /// The time zone (`Europe/Berlin`), the hardware clock in UTC.
    pub timezone: Token,
    /// The installer's language (`en_US.UTF-8`).
    pub lang: Token,
    /// The keyboard layout (`us`).
    pub keyboard: Token,
    /// Whether `%packages` asks for `--resolvedeps`: meaningful for EL3 and EL4 only, a
    /// deprecated no-op since Fedora Core 4 and so on EL5 (validation warns and it is left out).
    pub resolvedeps: bool,
    /// Extra package repositories (`repo --name --baseurl`).
    pub repos: Vec<Repo>,
    /// What dom0s get.
    pub dom0: RoleSettings,
    /// What guests get.
    pub guest: RoleSettings,
}

/// Packages and `%post` hooks for one role (dom0 or guest).
#[derive(Debug, Clone, Serialize)]
pub struct RoleSettings {
    /// `%packages`, when the fabric file gives them; otherwise the family's defaults.
    pub packages: Option<Vec<Token>>,
    /// `%post` scripts, each its own section, in order.
    pub post: Vec<PostScript>,
}

/// A package repository for the installer.
#[derive(Debug, Clone, Serialize)]
pub struct Repo {
    /// Its name.
    pub name: Token,
    /// Its URL.
    pub baseurl: url::Url,
}

/// A word of a command line: a package, group (`@core`), time zone, locale or keyboard name,
/// a kernel argument (`ramdisk=32768`, `console=ttyS0,115200`). `A-Z a-z 0-9` and
/// `_ . + - @ / : * = ,`: nothing a kickstart, pxelinux, GRUB or iPXE line treats specially.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(String);

impl Token {
    /// The word.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Token {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Token, NameError> {
        if s.is_empty() || s.len() > 200 {
            return Err(NameError::new("word", s, "must be 1 to 200 characters"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.+-@/:*=,".contains(&b))
        {
            return Err(NameError::new(
                "word",
                s,
                "only letters, digits and `_.+-@/:*=,` are allowed",
            ));
        }
        Ok(Token(s.to_owned()))
    }
}

/// A crypted password as `crypt(3)` writes it: `$1$` (MD5, what EL3 to EL5 know), `$5$`,
/// `$6$` (SHA-256/512, EL5.2 and later), `$y$` (yescrypt) or `$2b$`.
#[derive(Clone, PartialEq, Eq)]
pub struct CryptHash(String);

impl CryptHash {
    /// The hash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CryptHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CryptHash(…)")
    }
}

impl FromStr for CryptHash {
    type Err = NameError;

    fn from_str(s: &str) -> Result<CryptHash, NameError> {
        const WHAT: &str = "crypted password";
        let known = ["$1$", "$5$", "$6$", "$y$", "$2a$", "$2b$", "$2y$"];
        if !known.iter().any(|p| s.starts_with(p)) {
            return Err(NameError::new(
                WHAT,
                "(hidden)",
                "expected a crypt(3) hash beginning with $1$, $5$, $6$, $y$ or $2b$ (e.g. from `openssl passwd -6`), never the password itself",
            ));
        }
        if s.len() > 256
            || !s
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"$./=,".contains(&b))
        {
            return Err(NameError::new(
                WHAT,
                "(hidden)",
                "only letters, digits and `$./=,` are allowed",
            ));
        }
        Ok(CryptHash(s.to_owned()))
    }
}

impl Serialize for CryptHash {
    /// Never written out in full: inventories and JSON dumps show only that there is one.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("(crypted)")
    }
}

/// A `%post` script: any shell, but nothing that anaconda would read as the end of the
/// section: no line beginning with `%` (after Python's white space, which pykickstart strips),
/// no line separator but `\n` (pykickstart splits lines where Python's `splitlines` does), no
/// control character but tab. See [`super::ks_lines`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostScript(String);

impl PostScript {
    /// The script, ending with a newline.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a `%post` script was refused: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid %post script: {0}")]
pub struct PostScriptError(#[from] pub LineError);

impl FromStr for PostScript {
    type Err = PostScriptError;

    fn from_str(s: &str) -> Result<PostScript, PostScriptError> {
        check_script(s)?;
        let mut text = s.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(PostScript(text))
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crypt_hashes() {
        assert!(
            "$1$xenfab$Ke3y1sQ2Xv0fXwT1p0iYc/"
                .parse::<CryptHash>()
                .is_ok()
        );
        assert!("$6$salt$abc./DEF".parse::<CryptHash>().is_ok());
        let err = "hunter2".parse::<CryptHash>().unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!("$6$a b".parse::<CryptHash>().is_err());
        assert!("$6$a\"\n".parse::<CryptHash>().is_err());
        assert_eq!(
            format!("{:?}", "$6$x".parse::<CryptHash>().unwrap()),
            "CryptHash(…)"
        );
    }

    #[test]
    fn post_scripts_cannot_end_their_section() {
        assert!("echo hi\n%end\nrm -rf /".parse::<PostScript>().is_err());
        assert!("  %packages".parse::<PostScript>().is_err());
        assert_eq!(
            "echo hi".parse::<PostScript>().unwrap().as_str(),
            "echo hi\n"
        );
        // what Rust's trim_start and lines() missed: Python's white space, its line breaks
        for bad in [
            "true\n\u{1f}%end\nrootpw x",
            "true\u{1e}%end",
            "true\r%end",
            "true\u{2028}%pre",
            "true\u{85}%end",
            "true\u{b}%end",
            "true\u{c}%end",
        ] {
            assert!(bad.parse::<PostScript>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "a\nb\n\u{1f}%end\n"
                .parse::<PostScript>()
                .unwrap_err()
                .to_string(),
            "invalid %post script: line 3: `\\u{1f}%end` begins with `%` (after white space), which anaconda reads as the end of the section"
        );
        assert_eq!("a\r\nb".parse::<PostScript>().unwrap_err().0.line(), 1);
        assert!("a\0".parse::<PostScript>().is_err());
        assert!("printf '%s\\n' 50%".parse::<PostScript>().is_ok());
    }

    #[test]
    fn tokens() {
        for ok in [
            "@core",
            "kernel-xen",
            "Europe/Berlin",
            "en_US.UTF-8",
            "-firewalld",
            "perl-*",
        ] {
            assert!(ok.parse::<Token>().is_ok(), "{ok}");
        }
        for bad in ["a b", "a;b", "a\"b", "a\nb", ""] {
            assert!(bad.parse::<Token>().is_err(), "{bad:?}");
        }
    }
}
