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
    pub timezone: Timezone,
    /// The installer's language (`en_US.UTF-8`).
    pub lang: Locale,
    /// The keyboard layout (`us`).
    pub keyboard: Keymap,
    /// Whether `%packages` asks for `--resolvedeps`: meaningful for EL3 and EL4 only, a
    /// deprecated no-op since Fedora Core 4 and so on EL5 (validation warns and it is left out).
    pub resolvedeps: bool,
    /// Extra package repositories (`repo --name --baseurl`).
    pub repos: Vec<Repo>,
    /// What dom0s get.
    pub dom0: RoleSettings,
    /// What guests get.
    pub guest: RoleSettings,
    /// Whether a root password hash known to the world ([`DEFAULT_HASHES`]) is allowed: only
    /// the built-in example says so (`kickstart.allow_default_password`).
    pub allow_default_password: bool,
}

/// Root password hashes whose password is known to the world, with what they are: a fabric
/// that uses one gives every host a root password anyone can read in xenfab's sources.
/// The example's: `openssl passwd -1 -salt xenfab changeme` (xenfab-core/examples/seed-site.toml).
pub const DEFAULT_HASHES: &[(&str, &str)] = &[(
    "$1$xenfab$sluoPgn275QVu60NZstPb.",
    "the example's hash of `changeme`",
)];

/// What a root password hash is known as, when it is one of [`DEFAULT_HASHES`].
pub fn known_default(hash: &CryptHash) -> Option<&'static str> {
    DEFAULT_HASHES
        .iter()
        .find(|(h, _)| *h == hash.as_str())
        .map(|(_, what)| *what)
}

/// Kickstart settings of one OS release (`[os.<name>.kickstart]`) or one host
/// (`[dom0s.kickstart]`, `[dom0s.guests.kickstart]`), over the site's: each setting given
/// replaces the one below it, a list as a whole (host over OS over site; see
/// [`KickstartSettings::merged`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct KickstartOverride {
    /// The root password, crypted.
    pub root_password: Option<CryptHash>,
    /// The time zone.
    pub timezone: Option<Timezone>,
    /// The installer's language.
    pub lang: Option<Locale>,
    /// The keyboard layout.
    pub keyboard: Option<Keymap>,
    /// The installer's package repositories, instead of the site's.
    pub repos: Option<Vec<Repo>>,
    /// `%packages`, instead of the role's.
    pub packages: Option<Vec<Package>>,
    /// `%post` scripts, instead of the role's.
    pub post: Option<Vec<PostScript>>,
    /// `%pre` scripts, instead of the role's.
    pub pre: Option<Vec<PreScript>>,
    /// Services enabled and disabled, each list instead of the role's.
    pub services: ServicesOverride,
}

impl KickstartOverride {
    /// True when it sets nothing.
    pub fn is_empty(&self) -> bool {
        self.root_password.is_none()
            && self.timezone.is_none()
            && self.lang.is_none()
            && self.keyboard.is_none()
            && self.repos.is_none()
            && self.packages.is_none()
            && self.post.is_none()
            && self.pre.is_none()
            && self.services.enabled.is_none()
            && self.services.disabled.is_none()
    }
}

/// Where a merged setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// `[kickstart]` (or its `dom0`/`guest` role).
    Site,
    /// The host's OS release: `[os.<name>.kickstart]`.
    Os,
    /// The host itself.
    Host,
}

/// The kickstart settings one host gets: references into the site's, its OS's and its own,
/// nothing copied (validation merges them for every one of 110,000 hosts).
#[derive(Debug, Clone, Copy)]
pub struct Merged<'a> {
    /// The root password, crypted.
    pub root_password: &'a CryptHash,
    /// Where the root password came from.
    pub root_password_from: Level,
    /// The time zone.
    pub timezone: &'a Timezone,
    /// The installer's language.
    pub lang: &'a Locale,
    /// The keyboard layout.
    pub keyboard: &'a Keymap,
    /// The installer's package repositories.
    pub repos: &'a [Repo],
    /// Where the repositories came from.
    pub repos_from: Level,
    /// `%packages`, or `None` for the family's defaults.
    pub packages: Option<&'a [Package]>,
    /// `%post` scripts.
    pub post: &'a [PostScript],
    /// `%pre` scripts.
    pub pre: &'a [PreScript],
    /// Services enabled at install (`services --enabled`, or `chkconfig … on`).
    pub enabled: &'a [Service],
    /// Where the enabled services came from.
    pub enabled_from: Level,
    /// Services disabled at install (`services --disabled`, or `chkconfig … off`).
    pub disabled: &'a [Service],
    /// Where the disabled services came from.
    pub disabled_from: Level,
}

/// The host's setting if it has one, else its OS's, else the site's.
fn layer<'a, T: ?Sized>(site: &'a T, os: Option<&'a T>, host: Option<&'a T>) -> (&'a T, Level) {
    match (host, os) {
        (Some(h), _) => (h, Level::Host),
        (None, Some(o)) => (o, Level::Os),
        (None, None) => (site, Level::Site),
    }
}

impl KickstartSettings {
    /// The settings of a host: `host` over `os` over the site's (its `dom0` or `guest` role
    /// for packages, `%pre`, `%post` and services; `services.enabled` and `.disabled` are two
    /// settings, each from its nearest level). Scalars and lists alike are replaced whole by the nearest
    /// level that gives them: a host's `packages` is its whole `%packages`.
    pub fn merged<'a>(
        &'a self,
        os: Option<&'a KickstartOverride>,
        host: Option<&'a KickstartOverride>,
        dom0: bool,
    ) -> Merged<'a> {
        let role = if dom0 { &self.dom0 } else { &self.guest };
        let (root_password, root_password_from) = layer(
            &self.root_password,
            os.and_then(|o| o.root_password.as_ref()),
            host.and_then(|h| h.root_password.as_ref()),
        );
        let (repos, repos_from) = layer(
            self.repos.as_slice(),
            os.and_then(|o| o.repos.as_deref()),
            host.and_then(|h| h.repos.as_deref()),
        );
        let packages = host
            .and_then(|h| h.packages.as_deref())
            .or_else(|| os.and_then(|o| o.packages.as_deref()))
            .or(role.packages.as_deref());
        let (enabled, enabled_from) = layer(
            role.services.enabled.as_slice(),
            os.and_then(|o| o.services.enabled.as_deref()),
            host.and_then(|h| h.services.enabled.as_deref()),
        );
        let (disabled, disabled_from) = layer(
            role.services.disabled.as_slice(),
            os.and_then(|o| o.services.disabled.as_deref()),
            host.and_then(|h| h.services.disabled.as_deref()),
        );
        Merged {
            root_password,
            root_password_from,
            timezone: layer(
                &self.timezone,
                os.and_then(|o| o.timezone.as_ref()),
                host.and_then(|h| h.timezone.as_ref()),
            )
            .0,
            lang: layer(
                &self.lang,
                os.and_then(|o| o.lang.as_ref()),
                host.and_then(|h| h.lang.as_ref()),
            )
            .0,
            keyboard: layer(
                &self.keyboard,
                os.and_then(|o| o.keyboard.as_ref()),
                host.and_then(|h| h.keyboard.as_ref()),
            )
            .0,
            repos,
            repos_from,
            packages,
            post: layer(
                role.post.as_slice(),
                os.and_then(|o| o.post.as_deref()),
                host.and_then(|h| h.post.as_deref()),
            )
            .0,
            pre: layer(
                role.pre.as_slice(),
                os.and_then(|o| o.pre.as_deref()),
                host.and_then(|h| h.pre.as_deref()),
            )
            .0,
            enabled,
            enabled_from,
            disabled,
            disabled_from,
        }
    }
}

impl super::Fabric {
    /// The kickstart settings of a dom0: its own over its OS's over the site's.
    pub fn kickstart_of_dom0<'a>(&'a self, dom0: &'a super::Dom0) -> Merged<'a> {
        self.kickstart.merged(
            self.os.get(&dom0.os).and_then(|o| o.kickstart.as_ref()),
            dom0.kickstart.as_deref(),
            true,
        )
    }

    /// The kickstart settings of a dom0 or a guest.
    pub fn kickstart_of<'a>(&'a self, host: super::HostRef<'a>) -> Merged<'a> {
        match host {
            super::HostRef::Dom0(d) => self.kickstart_of_dom0(d),
            super::HostRef::Guest(_, g) => self.kickstart_of_guest(g),
        }
    }

    /// The kickstart settings of a guest: its own over its OS's over the site's.
    pub fn kickstart_of_guest<'a>(&'a self, guest: &'a super::Guest) -> Merged<'a> {
        self.kickstart.merged(
            self.os.get(&guest.os).and_then(|o| o.kickstart.as_ref()),
            guest.kickstart.as_deref(),
            false,
        )
    }
}

/// Packages, services and `%pre`/`%post` hooks for one role (dom0 or guest).
#[derive(Debug, Clone, Serialize)]
pub struct RoleSettings {
    /// `%packages`, when the fabric file gives them; otherwise the family's defaults.
    pub packages: Option<Vec<Package>>,
    /// `%post` scripts, each its own section, in order.
    pub post: Vec<PostScript>,
    /// `%pre` scripts, each its own section, in order.
    pub pre: Vec<PreScript>,
    /// Services enabled and disabled at install.
    pub services: Services,
}

/// Services a role's hosts get enabled and disabled at install: the kickstart command
/// `services --enabled=… --disabled=…` where the release's installer has it, `chkconfig`
/// lines in `%post` where it does not ([`super::release::ReleaseInfo::services`]).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Services {
    /// Enabled, in order.
    pub enabled: Vec<Service>,
    /// Disabled, in order.
    pub disabled: Vec<Service>,
}

/// Services of an OS release or a host, each list instead of the one below it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServicesOverride {
    /// Enabled, instead of the role's (or the OS's).
    pub enabled: Option<Vec<Service>>,
    /// Disabled, instead of the role's (or the OS's).
    pub disabled: Option<Vec<Service>>,
}

/// A service to enable or disable: a systemd unit (`xenstored`, `getty@tty1`,
/// `xen-init-dom0.service`) or a SysV init script (`xend`). Letters, digits and `-_.@:`
/// (systemd's `VALID_CHARS` and `@` of a template, src/basic/unit-name.c, without `\\`),
/// beginning with a letter or digit (so never an option of `services` or `chkconfig`), at
/// most 255 bytes: systemd's `UNIT_NAME_MAX` is 256 with the terminating NUL
/// (src/basic/unit-name.h; `unit_name_is_valid` refuses `strlen(n) >= UNIT_NAME_MAX`), and a
/// SysV script is a file name in /etc/init.d (`NAME_MAX`, 255). No `,`: anaconda splits
/// `--enabled=` at commas (pykickstart's `FC6_Services`, `commaSplit`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Service(String);

impl Service {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Service {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Service, NameError> {
        check_word(
            "service",
            s,
            s,
            255,
            alnum,
            |b| b.is_ascii_alphanumeric() || b"-_.@:".contains(&b),
            "a service is letters, digits and `-_.@:`, beginning with a letter or digit (`sshd`, `xen-init-dom0`, `getty@tty1`)",
        )?;
        Ok(Service(s.to_owned()))
    }
}

/// A package repository for the installer.
#[derive(Debug, Clone, Serialize)]
pub struct Repo {
    /// Its name (`repo --name=`).
    pub name: super::names::Ident,
    /// Its URL.
    pub baseurl: url::Url,
}

/// Checks one word of a command line for its position: 1 to `max` bytes, a first byte that
/// `first` accepts (so never `-`, which would make the word an option of the command it
/// follows), and only bytes that `rest` accepts after it. Nothing here is whitespace, a
/// control character, a quote, `;`, `{}`, `$`, `#`, `%` or `\\`: no kickstart, pxelinux,
/// GRUB, iPXE, dhcpd or shell line treats a word made of the rest specially.
fn check_word(
    what: &'static str,
    whole: &str,
    s: &str,
    max: usize,
    first: fn(u8) -> bool,
    rest: fn(u8) -> bool,
    allowed: &'static str,
) -> Result<(), NameError> {
    if s.is_empty() || s.len() > max {
        return Err(NameError::new(what, whole, length_reason(max)));
    }
    if s.starts_with('-') {
        return Err(NameError::new(
            what,
            s,
            "cannot begin with `-`: it would be read as an option",
        ));
    }
    if !s.bytes().all(rest) {
        return Err(NameError::new(what, whole, allowed));
    }
    if !first(s.as_bytes()[0]) {
        return Err(NameError::new(
            what,
            whole,
            "must begin with a letter or digit",
        ));
    }
    Ok(())
}

/// The reason for a word that is empty or too long, for the limits in use.
fn length_reason(max: usize) -> &'static str {
    match max {
        64 => "must be 1 to 64 characters",
        128 => "must be 1 to 128 characters",
        _ => "must be 1 to 255 characters",
    }
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// A kernel argument of a boot image's `append` (`ramdisk=32768`, `console=ttyS0,115200`):
/// `A-Z a-z 0-9` and `_ . + - @ / : = ,`, beginning with a letter or digit (a word beginning
/// with `-` is passed to init as an option), at most 255 bytes (the whole command line of an
/// EL3 to EL5 kernel; validation checks the whole line too).
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
        check_word(
            "kernel argument",
            s,
            s,
            255,
            alnum,
            |b| b.is_ascii_alphanumeric() || b"_.+-@/:=,".contains(&b),
            "only letters, digits and `_.+-@/:=,` are allowed",
        )?;
        Ok(Token(s.to_owned()))
    }
}

/// A line of `%packages`: a package (`kernel-xen`, `perl-*`), a group (`@core`), an
/// environment (`@^minimal-environment`), a module stream (`@nodejs:18/common`), or one of
/// these after a single `-`, which leaves it out (`-firewalld`, `-@dial-up`): the exclusion
/// syntax of pykickstart's `Packages.add()` (pykickstart/parser.py). Nothing else may begin
/// with `-` (`--nobase` is an option of the section, not a package), and a name begins with a
/// letter or digit. `A-Z a-z 0-9` and `_ . + - * ? : /` after it, at most 255 bytes (RPM
/// names are far shorter).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Package(String);

impl Package {
    /// The line, as `%packages` holds it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for an exclusion (`-firewalld`).
    pub fn is_exclusion(&self) -> bool {
        self.0.starts_with('-')
    }
}

impl FromStr for Package {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Package, NameError> {
        const WHAT: &str = "package";
        let name = s.strip_prefix('-').unwrap_or(s);
        if name.starts_with('-') {
            return Err(NameError::new(
                WHAT,
                s,
                "only one leading `-` (an exclusion, `-firewalld`) is allowed: `--` begins an option",
            ));
        }
        let name = name
            .strip_prefix("@^")
            .or_else(|| name.strip_prefix('@'))
            .unwrap_or(name);
        if s.len() > 255 {
            return Err(NameError::new(WHAT, s, "must be 1 to 255 characters"));
        }
        if name.is_empty() && !s.is_empty() {
            return Err(NameError::new(
                WHAT,
                s,
                "a package or group name must follow `-`, `@` or `@^`",
            ));
        }
        check_word(
            WHAT,
            s,
            name,
            255,
            alnum,
            |b| b.is_ascii_alphanumeric() || b"_.+-*?:/".contains(&b),
            "a package is `-`, `@` or `@^` at most, then a letter or digit, then only letters, digits and `_.+-*?:/`",
        )?;
        Ok(Package(s.to_owned()))
    }
}

/// A time zone as the tz database names it (`UTC`, `Europe/Berlin`, `Etc/GMT-5`):
/// `/`-separated components of `A-Z a-z 0-9 _ + -`, each beginning with a letter, at most 64
/// bytes. No `.` or `..`: EL3 to EL5 anaconda copies `/usr/share/zoneinfo/<zone>` to
/// `/etc/localtime` (anaconda's `timezone.py`), so the name is a path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timezone(String);

impl FromStr for Timezone {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Timezone, NameError> {
        const WHAT: &str = "time zone";
        if s.is_empty() || s.len() > 64 {
            return Err(NameError::new(WHAT, s, "must be 1 to 64 characters"));
        }
        if s.starts_with('-') {
            return Err(NameError::new(
                WHAT,
                s,
                "cannot begin with `-`: it would be read as an option",
            ));
        }
        for part in s.split('/') {
            check_word(
                WHAT,
                s,
                part,
                64,
                |b| b.is_ascii_alphabetic(),
                |b| b.is_ascii_alphanumeric() || b"_+-".contains(&b),
                "a time zone is `/`-separated names of letters, digits and `_+-`, each beginning with a letter (`Europe/Berlin`)",
            )?;
        }
        Ok(Timezone(s.to_owned()))
    }
}

/// A locale (`en_US.UTF-8`, `de_DE@euro`, `C`): `A-Z a-z 0-9 _ . @ -`, beginning with a
/// letter, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Locale(String);

impl FromStr for Locale {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Locale, NameError> {
        check_word(
            "locale",
            s,
            s,
            64,
            |b| b.is_ascii_alphabetic(),
            |b| b.is_ascii_alphanumeric() || b"_.@-".contains(&b),
            "a locale is letters, digits and `_.@-`, beginning with a letter (`en_US.UTF-8`)",
        )?;
        Ok(Locale(s.to_owned()))
    }
}

/// A console keyboard layout (`us`, `de-latin1-nodeadkeys`, `fr_CH`): `A-Z a-z 0-9 _ . -`,
/// beginning with a letter or digit, at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keymap(String);

impl FromStr for Keymap {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Keymap, NameError> {
        check_word(
            "keyboard layout",
            s,
            s,
            64,
            alnum,
            |b| b.is_ascii_alphanumeric() || b"_.-".contains(&b),
            "a keyboard layout is letters, digits and `_.-` (`de-latin1`)",
        )?;
        Ok(Keymap(s.to_owned()))
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

/// A `%pre` script: the same rules as a `%post` script ([`PostScript`], [`super::ks_lines`]):
/// nothing in it may end its section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreScript(String);

impl PreScript {
    /// The script, ending with a newline.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a `%pre` script was refused: the line (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid %pre script: {0}")]
pub struct PreScriptError(#[from] pub LineError);

impl FromStr for PreScript {
    type Err = PreScriptError;

    fn from_str(s: &str) -> Result<PreScript, PreScriptError> {
        check_script(s)?;
        let mut text = s.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(PreScript(text))
    }
}

super::names::text_impls!(Token, Package, Timezone, Locale, Keymap, Service);

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> KickstartSettings {
        KickstartSettings {
            root_password: "$1$site$x".parse().unwrap(),
            timezone: "Europe/Berlin".parse().unwrap(),
            lang: "en_US.UTF-8".parse().unwrap(),
            keyboard: "us".parse().unwrap(),
            resolvedeps: false,
            repos: vec![Repo {
                name: "site".parse().unwrap(),
                baseurl: "http://a/site".parse().unwrap(),
            }],
            dom0: RoleSettings {
                packages: Some(vec!["xen".parse().unwrap()]),
                post: vec!["echo dom0".parse().unwrap()],
                pre: vec!["echo dom0-pre".parse().unwrap()],
                services: Services {
                    enabled: vec!["xend".parse().unwrap(), "xendomains".parse().unwrap()],
                    disabled: vec!["cups".parse().unwrap()],
                },
            },
            guest: RoleSettings {
                packages: None,
                post: vec!["echo guest".parse().unwrap()],
                pre: Vec::new(),
                services: Services::default(),
            },
            allow_default_password: false,
        }
    }

    #[test]
    fn merged_is_the_site_without_overrides() {
        let site = site();
        let m = site.merged(None, None, true);
        assert_eq!(m.root_password_from, Level::Site);
        assert_eq!(m.repos_from, Level::Site);
        assert_eq!(m.repos.len(), 1);
        assert_eq!(m.timezone.to_string(), "Europe/Berlin");
        assert_eq!(m.packages.map(<[Package]>::len), Some(1));
        assert_eq!(m.post[0].as_str(), "echo dom0\n");
        let g = site.merged(None, None, false);
        assert!(g.packages.is_none(), "guests keep their family's defaults");
        assert_eq!(g.post[0].as_str(), "echo guest\n");
    }

    #[test]
    fn host_over_os_over_site_each_setting_and_lists_whole() {
        let site = site();
        let os = KickstartOverride {
            root_password: Some("$6$os$y".parse().unwrap()),
            lang: Some("de_DE.UTF-8".parse().unwrap()),
            repos: Some(Vec::new()),
            packages: Some(vec!["@core".parse().unwrap(), "lsof".parse().unwrap()]),
            ..KickstartOverride::default()
        };
        let host = KickstartOverride {
            timezone: Some("UTC".parse().unwrap()),
            lang: Some("fr_FR".parse().unwrap()),
            post: Some(Vec::new()),
            ..KickstartOverride::default()
        };
        let m = site.merged(Some(&os), Some(&host), false);
        assert_eq!(m.root_password.as_str(), "$6$os$y");
        assert_eq!(m.root_password_from, Level::Os);
        assert_eq!(m.lang.to_string(), "fr_FR", "the host's over its OS's");
        assert_eq!(m.timezone.to_string(), "UTC");
        assert_eq!(m.keyboard.to_string(), "us", "the site's where nobody says");
        assert!(
            m.repos.is_empty(),
            "`repos = []` on the OS: none, not the site's"
        );
        assert_eq!(m.repos_from, Level::Os);
        // lists are replaced, never appended to
        let packages: Vec<&str> = m.packages.unwrap().iter().map(Package::as_str).collect();
        assert_eq!(packages, ["@core", "lsof"]);
        assert!(
            m.post.is_empty(),
            "`post = []` on the host: no %post of the site's"
        );
        let host_pw = KickstartOverride {
            root_password: Some("$1$own$z".parse().unwrap()),
            ..KickstartOverride::default()
        };
        let m = site.merged(Some(&os), Some(&host_pw), true);
        assert_eq!(m.root_password_from, Level::Host);
        assert_eq!(m.root_password.as_str(), "$1$own$z");
        assert_eq!(
            m.post[0].as_str(),
            "echo dom0\n",
            "the role's %post, nobody overrode it"
        );
        assert!(KickstartOverride::default().is_empty());
        assert!(!host_pw.is_empty());
    }

    fn names(list: &[Service]) -> Vec<&str> {
        list.iter().map(Service::as_str).collect()
    }

    #[test]
    fn services_and_pre_merge_host_over_os_over_role_each_list_whole() {
        let site = site();
        let m = site.merged(None, None, true);
        assert_eq!(names(m.enabled), ["xend", "xendomains"]);
        assert_eq!(names(m.disabled), ["cups"]);
        assert_eq!(
            (m.enabled_from, m.disabled_from),
            (Level::Site, Level::Site)
        );
        assert_eq!(m.pre[0].as_str(), "echo dom0-pre\n");
        let g = site.merged(None, None, false);
        assert!(g.enabled.is_empty() && g.disabled.is_empty() && g.pre.is_empty());
        // the OS replaces `enabled` only: `disabled` stays the role's
        let os = KickstartOverride {
            services: ServicesOverride {
                enabled: Some(vec!["sshd".parse().unwrap()]),
                disabled: None,
            },
            pre: Some(vec!["echo os-pre".parse().unwrap()]),
            ..KickstartOverride::default()
        };
        let m = site.merged(Some(&os), None, true);
        assert_eq!(names(m.enabled), ["sshd"], "replaced, not appended to");
        assert_eq!(m.enabled_from, Level::Os);
        assert_eq!(names(m.disabled), ["cups"]);
        assert_eq!(m.disabled_from, Level::Site);
        assert_eq!(m.pre[0].as_str(), "echo os-pre\n");
        // the host's empty lists: none, not the OS's or the site's
        let host = KickstartOverride {
            services: ServicesOverride {
                enabled: Some(Vec::new()),
                disabled: Some(vec!["kudzu".parse().unwrap()]),
            },
            pre: Some(Vec::new()),
            ..KickstartOverride::default()
        };
        assert!(!host.is_empty());
        let m = site.merged(Some(&os), Some(&host), true);
        assert!(m.enabled.is_empty());
        assert_eq!(m.enabled_from, Level::Host);
        assert_eq!(names(m.disabled), ["kudzu"]);
        assert_eq!(m.disabled_from, Level::Host);
        assert!(m.pre.is_empty());
        let only_services = KickstartOverride {
            services: ServicesOverride {
                enabled: None,
                disabled: Some(Vec::new()),
            },
            ..KickstartOverride::default()
        };
        assert!(!only_services.is_empty());
    }

    #[test]
    fn service_names_are_words_of_their_position() {
        for ok in [
            "sshd",
            "xen-init-dom0",
            "xen-qemu-dom0-disk-backend.service",
            "getty@tty1",
            "systemd-fsck@dev-sda1.service",
            "NetworkManager",
            "a:b",
            "0anacron",
        ] {
            assert!(ok.parse::<Service>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "--enabled=evil",
            "a,b",
            "a b",
            "a;reboot",
            "$(reboot)",
            "a\\x2d",
            "a\nb",
            "a'b",
            "a/b",
            ".hidden",
            "@x",
            "a\u{2028}b",
        ] {
            assert!(bad.parse::<Service>().is_err(), "{bad:?}");
        }
        assert!("a".repeat(255).parse::<Service>().is_ok());
        assert!("a".repeat(256).parse::<Service>().is_err());
        let err = "--enabled=x".parse::<Service>().unwrap_err().to_string();
        assert!(err.contains("cannot begin with `-`"), "{err}");
    }

    #[test]
    fn pre_scripts_cannot_end_their_section() {
        assert!("true\n%end\nclearpart --all".parse::<PreScript>().is_err());
        assert!("true\n\u{1f}%packages".parse::<PreScript>().is_err());
        assert_eq!(
            "echo hi".parse::<PreScript>().unwrap().as_str(),
            "echo hi\n"
        );
        let err = "a\n %end".parse::<PreScript>().unwrap_err().to_string();
        assert!(err.starts_with("invalid %pre script: line 2:"), "{err}");
    }

    #[test]
    fn the_examples_hash_is_known() {
        let example: CryptHash = "$1$xenfab$sluoPgn275QVu60NZstPb.".parse().unwrap();
        assert!(known_default(&example).unwrap().contains("changeme"));
        assert!(crate::EXAMPLE.contains(example.as_str()));
        let other: CryptHash = "$1$xenfab$sluoPgn275QVu60NZstPc.".parse().unwrap();
        assert!(known_default(&other).is_none());
    }

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
    fn kernel_arguments() {
        for ok in [
            "ramdisk=32768",
            "console=ttyS0,115200",
            "ip=dhcp",
            "nomodeset",
        ] {
            assert!(ok.parse::<Token>().is_ok(), "{ok}");
        }
        for bad in [
            "a b",
            "a;b",
            "a\"b",
            "a\nb",
            "",
            "-s",
            "--",
            "$(reboot)",
            "a*",
            "a\u{2028}b",
            "a\u{1b}b",
        ] {
            assert!(bad.parse::<Token>().is_err(), "{bad:?}");
        }
        assert!("a".repeat(255).parse::<Token>().is_ok());
        assert!("a".repeat(256).parse::<Token>().is_err());
    }

    #[test]
    fn packages_allow_one_leading_dash_for_exclusions() {
        for ok in [
            "@core",
            "@^minimal-environment",
            "@nodejs:18/common",
            "kernel-xen",
            "-firewalld",
            "-@dial-up",
            "perl-*",
            "xen-libs.x86_64",
        ] {
            assert!(ok.parse::<Package>().is_ok(), "{ok}");
        }
        assert!("-firewalld".parse::<Package>().unwrap().is_exclusion());
        for bad in [
            "--nobase", "-", "@", "-@", "--", "---x", "-@-x", "@-x", "a b", "a;b", "%end", "",
            "#x", "a\rb", "a\u{85}b",
        ] {
            assert!(bad.parse::<Package>().is_err(), "{bad:?}");
        }
        let err = "--ignoremissing"
            .parse::<Package>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("only one leading `-`"), "{err}");
    }

    #[test]
    fn time_zones_are_names_not_options_or_paths() {
        for ok in [
            "UTC",
            "Europe/Berlin",
            "Etc/GMT-5",
            "America/Argentina/Buenos_Aires",
        ] {
            assert!(ok.parse::<Timezone>().is_ok(), "{ok}");
        }
        for bad in [
            "--ntpservers=evil.example.org",
            "-x",
            "../../etc/shadow",
            "Europe/../x",
            "/etc/localtime",
            "Europe//Berlin",
            "Europe/Berlin ",
            "",
            "UTC\u{1b}[2J",
        ] {
            assert!(bad.parse::<Timezone>().is_err(), "{bad:?}");
        }
        let err = "--ntpservers=x"
            .parse::<Timezone>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot begin with `-`"), "{err}");
    }

    #[test]
    fn locales_and_keymaps() {
        for ok in ["en_US.UTF-8", "de_DE@euro", "C"] {
            assert!(ok.parse::<Locale>().is_ok(), "{ok}");
        }
        for bad in ["--addsupport=x", "-C", "en US", "en_US;x", ""] {
            assert!(bad.parse::<Locale>().is_err(), "{bad:?}");
        }
        for ok in ["us", "de-latin1-nodeadkeys", "fr_CH", "3l"] {
            assert!(ok.parse::<Keymap>().is_ok(), "{ok}");
        }
        for bad in ["--vckeymap=x", "-us", "us x", "us'", &"a".repeat(65)] {
            assert!(bad.parse::<Keymap>().is_err(), "{bad:?}");
        }
    }
}
