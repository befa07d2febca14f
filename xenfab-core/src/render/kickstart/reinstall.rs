//! The reinstall variant of a dom0's kickstart: the dom0's own system is reformatted, every
//! guest's logical volume is kept.
//!
//! The seed's site did this with `ks2reinst.sh`, which commented out every `part` line,
//! `/boot` included. Here the partitioning commands are rewritten so that anaconda reuses
//! what exists:
//!
//! - `clearpart` and `zerombr` go;
//! - `part raid.NN` / `part pv.NN` (RAID members, physical volumes) go: pykickstart rejects
//!   members on a preexisting RAID device or volume group;
//! - `part /boot …` becomes `part /boot --onpart=sdaN …`, where N is computed only when it is
//!   unambiguous (every earlier `part` on that disk is `--asprimary`);
//! - `raid` loses its members: a physical volume (`raid pv.NN`) gets `--noformat`, since its
//!   volume group is reused (kept or not) and reformatting the array would wipe it; every
//!   other array gets `--useexisting` (reused, reformatted);
//! - `volgroup` loses its physical volumes: a kept group gets `--noformat`, the others
//!   `--useexisting`;
//! - `logvol` gets `--useexisting`; one in a kept group is refused unless it is `--noformat`
//!   or named in [`Options::reformat_lvs`] (xenfab cannot tell dom0's own volumes there from a
//!   guest's).
//!
//! The file is read as anaconda reads it ([`crate::model::ks_lines`]): lines end at `\n` only
//! (any other separator Python's `splitlines` knows, CR included, is refused with its line),
//! there are no continuation lines (a command line ending in a backslash is refused: anaconda
//! would read the next line as a command of its own), and sections end where pykickstart ends
//! them. Every other line (and everything inside `%packages`, `%post`, …) is kept byte for
//! byte.
//!
//! Refused, with the line to look at: `%include` and `%ksappend` anywhere (they pull in text
//! this cannot see), `%pre` (see [`PRE_REFUSED`]), and the commands that lay out or wipe
//! disks in a way that cannot be made to reuse them: `autopart` and `reqpart` (new
//! partitions), `btrfs` (pykickstart's RHEL9 handler has it; not rewritten), `dmraid` (writes
//! a BIOS RAID set's metadata; RHEL5), `mount --reformat` (RHEL8 and later) and `nvdimm
//! reconfigure` (reformats a namespace). These are every disk command of pykickstart 3.78's
//! RHEL3, RHEL4, RHEL5 and RHEL9 handlers (`pykickstart/handlers/rhel*.py`) that can destroy
//! data; the others (`bootloader`, `ignoredisk`, `iscsi`, `zfcp`, `multipath`, `device`,
//! `snapshot`, `harddrive`, `upgrade`) are kept as written.
//!
//! Before it returns, [`reinstall`] reads its own output again with the same model and
//! refuses it ([`ReinstallError::Output`]) if it still wipes or reformats anything it must
//! keep ([`check`]).
//!
//! Converting a converted file gives the same text: a file whose partitioning already only
//! reuses (no `clearpart`, no members, `--useexisting`/`--noformat`/`--onpart` only) converts
//! to itself, unchanged.

use crate::model::ks_lines::{self, Item, Kind as LineKind, ReadError};

/// Why a `%pre` section is refused: it runs before anaconda lays out the disks, as a shell
/// script that xenfab cannot judge. Its usual work in an install kickstart is exactly what a
/// reinstall must not do: zero a disk's first sectors, clear RAID superblocks, write a
/// partition layout for `%include`. Keeping it could wipe the guests' volumes with no line of
/// the kickstart saying so; dropping it silently could lose what else it does. So the user
/// decides: remove it, or move what it must still do to `%post`.
pub const PRE_REFUSED: &str = "a %pre script runs before the disks are laid out and cannot be checked (it may wipe them): remove it from the file to convert, or move what it must do to %post";

/// What [`reinstall`] must keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Volume groups whose contents must survive the reinstall: the guests' group (`xenvg`
    /// in the seed). Empty: every `volgroup` that no `logvol` of the file uses (the guests'
    /// volumes are not in the dom0's kickstart).
    pub keep_vgs: Vec<String>,
    /// Logical volumes of dom0's own in a kept group, as `VG/NAME`, that may be reused and
    /// reformatted (`--useexisting`). Any other `logvol` in a kept group must be
    /// `--noformat`: xenfab cannot tell dom0's volumes there from a guest's. The rendered
    /// reinstall variant names dom0's volumes of its scheme (validation keeps guests' disks
    /// off them).
    pub reformat_lvs: Vec<String>,
}

/// A converted kickstart file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The reinstall variant.
    pub text: String,
    /// What changed, one human-readable line each (`line 3: removed …`); empty when the
    /// file already was a reinstall variant.
    pub notes: Vec<String>,
    /// The volume groups kept, in order.
    pub kept: Vec<String>,
}

/// Why a kickstart file cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReinstallError {
    /// A line anaconda would read differently from xenfab (a line separator other than `\n`,
    /// a control character) or cannot read at all (an unterminated quote, an unknown
    /// section).
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong, lowercase, no trailing period.
        message: String,
    },
    /// A line that cannot be made safe for a reinstall.
    #[error("line {line}: {message}")]
    Refused {
        /// 1-based line number.
        line: usize,
        /// What is wrong, lowercase, no trailing period.
        message: String,
    },
    /// The file as a whole cannot be made safe (no single line to point at).
    #[error("{message}")]
    Unsafe {
        /// What is wrong, lowercase, no trailing period.
        message: String,
    },
    /// The converted text failed xenfab's own check of it ([`check`]): it would still wipe
    /// or reformat something it must keep. A bug in xenfab; nothing is written.
    #[error(
        "line {line} of the result: {message}: the reinstall variant fails its own safety check"
    )]
    Output {
        /// 1-based line number in the converted text.
        line: usize,
        /// What is wrong, lowercase, no trailing period.
        message: String,
    },
}

impl ReinstallError {
    /// The 1-based line the error is about, if it is about one (for [`Self::Output`], a
    /// line of the converted text).
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Parse { line, .. } | Self::Refused { line, .. } | Self::Output { line, .. } => {
                Some(*line)
            }
            Self::Unsafe { .. } => None,
        }
    }
}

impl From<ReadError> for ReinstallError {
    fn from(e: ReadError) -> Self {
        let line = e.line();
        let text = e.to_string();
        let message = text
            .strip_prefix(&format!("line {line}: "))
            .unwrap_or(&text)
            .to_owned();
        ReinstallError::Parse { line, message }
    }
}

/// The first words of the comment [`reinstall`] adds.
const HEADER_PREFIX: &str = "# reinstall variant made by xenfab:";

/// Converts a kickstart file into its reinstall variant (see the module documentation).
pub fn reinstall(text: &str, opts: &Options) -> Result<Converted, ReinstallError> {
    let items = ks_lines::read(text)?;
    let cmds = scan(&items)?;
    let keep = kept_vgs(&cmds, opts)?;
    let actions = plan(&cmds, &keep, &opts.reformat_lvs)?;
    let header = format!(
        "{HEADER_PREFIX} dom0's system is reformatted, volume group(s) {} kept",
        keep.join(", ")
    );
    let at = usize::from(
        items
            .first()
            .is_some_and(|i| i.line.content.starts_with("#version=")),
    );
    // A comment of ours that names other groups (the file was edited since) is rewritten.
    let stale_header = items
        .get(at)
        .is_some_and(|i| i.line.content.starts_with(HEADER_PREFIX) && i.line.content != header);
    if actions.iter().all(|a| matches!(a, Action::Keep)) && !stale_header {
        check(text, &keep, &opts.reformat_lvs).map_err(to_output_error)?;
        return Ok(Converted {
            text: text.to_owned(),
            notes: Vec::new(),
            kept: keep,
        });
    }
    let mut notes = Vec::new();
    // What becomes of each line.
    let mut out_lines: Vec<Out<'_>> = vec![Out::Same; items.len()];
    for (cmd, action) in cmds.iter().zip(&actions) {
        out_lines[cmd.index] = match action {
            Action::Keep => continue,
            Action::Remove { .. } => Out::Drop,
            Action::Replace { text, .. } => Out::Write(text),
        };
        notes.push(note(cmd, action));
    }

    let mut out = String::with_capacity(text.len() + header.len() + 2);
    for (i, (item, new)) in items.iter().zip(&out_lines).enumerate() {
        let line = item.line;
        if i == at {
            out.push_str(&header);
            out.push('\n');
            if line.content.starts_with(HEADER_PREFIX) {
                continue; // an earlier header of ours: replaced
            }
        }
        match new {
            Out::Same => {
                out.push_str(line.content);
                // the `#version=` line before the header needs an ending
                let ending = if i + 1 == at && line.ending.is_empty() {
                    "\n"
                } else {
                    line.ending
                };
                out.push_str(ending);
            }
            Out::Drop => {}
            Out::Write(new) => {
                out.push_str(new);
                out.push_str(line.ending);
            }
        }
    }
    if at >= items.len() {
        out.push_str(&header);
        out.push('\n');
    }
    check(&out, &keep, &opts.reformat_lvs).map_err(to_output_error)?;
    Ok(Converted {
        text: out,
        notes,
        kept: keep,
    })
}

/// A failed [`check`] of xenfab's own output.
fn to_output_error(e: ReinstallError) -> ReinstallError {
    match e {
        ReinstallError::Parse { line, message }
        | ReinstallError::Refused { line, message }
        | ReinstallError::Output { line, message } => ReinstallError::Output { line, message },
        ReinstallError::Unsafe { message } => ReinstallError::Output { line: 0, message },
    }
}

/// What becomes of a line.
#[derive(Debug, Clone, Copy)]
enum Out<'a> {
    Same,
    Drop,
    Write(&'a str),
}

/// Checks that a kickstart file, read as anaconda reads it, wipes and reformats nothing that
/// a reinstall keeping `keep` must keep: no `clearpart`, `zerombr`, `autopart`, `reqpart`,
/// `btrfs`, `dmraid`, `mount --reformat` or `nvdimm reconfigure`; every `part` reuses a
/// partition (`--onpart`) and is no RAID member, physical volume or btrfs volume; every
/// `raid` and `volgroup` is reused without members (an array holding a physical volume, and
/// a kept group, with `--noformat`); every `logvol` is reused, and `--noformat` in a kept
/// group unless `reformat_lvs` names it (`VG/NAME`); every kept group is defined; no `%pre`,
/// `%include` or `%ksappend`.
///
/// [`reinstall`] runs it on its own output; it is public so that tests and callers can run it
/// on any file.
pub fn check(text: &str, keep: &[String], reformat_lvs: &[String]) -> Result<(), ReinstallError> {
    let items = ks_lines::read(text)?;
    let cmds = scan(&items)?;
    let bad = |cmd: &Command, what: String| Err(refused(cmd.line, what));
    let mut defined: Vec<&str> = Vec::new();
    for cmd in &cmds {
        match cmd.kind {
            Kind::Wipe => return bad(cmd, format!("`{}` wipes disks", cmd.name_raw)),
            Kind::Part => {
                let mnt = cmd.first_word("a mount point")?;
                if ["raid.", "pv.", "btrfs."]
                    .iter()
                    .any(|p| mnt.starts_with(p))
                {
                    return bad(cmd, format!("part {mnt} makes a new partition"));
                }
                if cmd.words().count() > 1 {
                    return bad(cmd, format!("part {mnt} has more than one mount point"));
                }
                if !(cmd.has("--onpart") || cmd.has("--usepart")) {
                    return bad(
                        cmd,
                        format!("part {mnt} has no --onpart: it makes a new partition"),
                    );
                }
            }
            Kind::Raid => {
                let mnt = cmd.first_word("a mount point")?;
                if cmd.words().count() > 1 {
                    return bad(
                        cmd,
                        format!("raid {mnt} has members: it builds a new array"),
                    );
                }
                if mnt.starts_with("pv.") && !cmd.has("--noformat") {
                    return bad(
                        cmd,
                        format!("raid {mnt} holds a physical volume but is not --noformat"),
                    );
                }
                if !(cmd.has("--useexisting") || cmd.has("--noformat")) {
                    return bad(
                        cmd,
                        format!(
                            "raid {mnt} is neither --useexisting nor --noformat: it builds a new array"
                        ),
                    );
                }
            }
            Kind::VolGroup => {
                let name = cmd.first_word("a volume group name")?;
                defined.push(name);
                if cmd.words().count() > 1 {
                    return bad(
                        cmd,
                        format!("volgroup {name} has physical volumes: it makes a new group"),
                    );
                }
                if keep.iter().any(|k| k == name) {
                    if !cmd.has("--noformat") {
                        return bad(
                            cmd,
                            format!("volume group {name} is kept but not --noformat"),
                        );
                    }
                } else if !(cmd.has("--useexisting") || cmd.has("--noformat")) {
                    return bad(
                        cmd,
                        format!(
                            "volgroup {name} is neither --useexisting nor --noformat: it makes a new group"
                        ),
                    );
                }
            }
            Kind::LogVol => {
                let vg = cmd.opt("--vgname").unwrap_or("");
                let named = cmd
                    .opt("--name")
                    .is_some_and(|n| reformat_lvs.iter().any(|r| *r == format!("{vg}/{n}")));
                if keep.iter().any(|k| k == vg) && !named {
                    if !cmd.has("--noformat") {
                        return bad(
                            cmd,
                            format!("a logvol in the kept volume group {vg} is not --noformat"),
                        );
                    }
                } else if !(cmd.has("--useexisting") || cmd.has("--noformat")) {
                    return bad(
                        cmd,
                        "logvol is neither --useexisting nor --noformat: it makes a new volume"
                            .to_owned(),
                    );
                }
            }
        }
    }
    for vg in keep {
        if !defined.contains(&vg.as_str()) {
            return Err(ReinstallError::Unsafe {
                message: format!("volume group {vg} is to be kept but no volgroup line defines it"),
            });
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Commands

/// The partitioning commands this module rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `clearpart`, `zerombr`: removed.
    Wipe,
    /// `part`, `partition`.
    Part,
    /// `raid`.
    Raid,
    /// `volgroup`.
    VolGroup,
    /// `logvol`.
    LogVol,
}

/// The long options pykickstart knows for a command (every RHEL and Fedora version):
/// those without a value and those with one.
struct Spec {
    flags: &'static [&'static str],
    values: &'static [&'static str],
}

const PART_SPEC: Spec = Spec {
    flags: &[
        "--active",
        "--asprimary",
        "--backuppassphrase",
        "--encrypted",
        "--grow",
        "--hibernation",
        "--noformat",
        "--recommended",
        "--resize",
    ],
    values: &[
        "--bytes-per-inode",
        "--cipher",
        "--end",
        "--escrowcert",
        "--fsoptions",
        "--fsprofile",
        "--fstype",
        "--hw-passphrase",
        "--label",
        "--luks-version",
        "--maxsize",
        "--mkfsoptions",
        "--onbiosdisk",
        "--ondisk",
        "--ondrive",
        "--onpart",
        "--passphrase",
        "--pbkdf",
        "--pbkdf-iterations",
        "--pbkdf-memory",
        "--pbkdf-time",
        "--size",
        "--start",
        "--type",
        "--usepart",
    ],
};

const RAID_SPEC: Spec = Spec {
    flags: &[
        "--backuppassphrase",
        "--encrypted",
        "--noformat",
        "--useexisting",
    ],
    values: &[
        "--bytes-per-inode",
        "--chunksize",
        "--cipher",
        "--device",
        "--escrowcert",
        "--fsoptions",
        "--fsprofile",
        "--fstype",
        "--label",
        "--level",
        "--luks-version",
        "--mkfsoptions",
        "--passphrase",
        "--pbkdf",
        "--pbkdf-iterations",
        "--pbkdf-memory",
        "--pbkdf-time",
        "--spares",
    ],
};

const VOLGROUP_SPEC: Spec = Spec {
    flags: &["--noformat", "--useexisting"],
    values: &["--pesize", "--reserved-percent", "--reserved-space"],
};

const LOGVOL_SPEC: Spec = Spec {
    flags: &[
        "--backuppassphrase",
        "--encrypted",
        "--grow",
        "--hibernation",
        "--noformat",
        "--recommended",
        "--resize",
        "--thin",
        "--thinpool",
        "--useexisting",
    ],
    values: &[
        "--bytes-per-inode",
        "--cachemode",
        "--cachepvs",
        "--cachesize",
        "--chunksize",
        "--cipher",
        "--escrowcert",
        "--fsoptions",
        "--fsprofile",
        "--fstype",
        "--label",
        "--luks-version",
        "--maxsize",
        "--metadatasize",
        "--mkfsoptions",
        "--name",
        "--passphrase",
        "--pbkdf",
        "--pbkdf-iterations",
        "--pbkdf-memory",
        "--pbkdf-time",
        "--percent",
        "--poolname",
        "--profile",
        "--size",
        "--vgname",
    ],
};

/// Options a reused `part` loses: they describe a partition still to be made.
const PART_NEW_ONLY: &[&str] = &[
    "--size",
    "--grow",
    "--asprimary",
    "--ondisk",
    "--ondrive",
    "--maxsize",
    "--start",
    "--end",
    "--recommended",
    "--hibernation",
    "--resize",
    "--onbiosdisk",
];

/// One word or option of a command, in the order written.
#[derive(Debug, Clone)]
struct Piece {
    /// As written: `--fstype "physical volume (LVM)"`, `--size=512`, `raid.01`.
    raw: String,
    kind: PieceKind,
}

#[derive(Debug, Clone)]
enum PieceKind {
    /// A positional word.
    Word(String),
    /// An option and its value.
    Opt { name: String, value: Option<String> },
}

/// A word of a command line: as pykickstart sees it and as written (quotes included).
#[derive(Debug, Clone)]
struct Word {
    value: String,
    raw: String,
}

/// A partitioning command, its place in the file and its parsed arguments.
#[derive(Debug, Clone)]
struct Command {
    kind: Kind,
    /// 1-based line number.
    line: usize,
    /// Its index among the file's lines.
    index: usize,
    /// The command as written, trimmed.
    text: String,
    indent: String,
    /// The command word as written.
    name_raw: String,
    pieces: Vec<Piece>,
    comment: Option<String>,
}

impl Command {
    /// The positional words.
    fn words(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match &p.kind {
            PieceKind::Word(w) => Some(w.as_str()),
            PieceKind::Opt { .. } => None,
        })
    }

    /// The first positional word (mount point, VG name), or a refusal.
    fn first_word(&self, what: &str) -> Result<&str, ReinstallError> {
        self.words()
            .next()
            .ok_or_else(|| refused(self.line, format!("{} without {what}", self.name_raw)))
    }

    /// The value of the last occurrence of an option.
    fn opt(&self, name: &str) -> Option<&str> {
        self.pieces.iter().rev().find_map(|p| match &p.kind {
            PieceKind::Opt { name: n, value } if n == name => value.as_deref(),
            _ => None,
        })
    }

    fn has(&self, name: &str) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(&p.kind, PieceKind::Opt { name: n, .. } if n == name))
    }

    /// The command written on one line: its word, the given pieces, then `extra`.
    fn render<'a>(&self, pieces: impl IntoIterator<Item = &'a str>, extra: &[&'a str]) -> String {
        let mut out = format!("{}{}", self.indent, self.name_raw);
        for raw in pieces.into_iter().chain(extra.iter().copied()) {
            out.push(' ');
            out.push_str(raw);
        }
        if let Some(comment) = &self.comment {
            out.push(' ');
            out.push_str(comment);
        }
        out
    }
}

fn refused(line: usize, message: impl Into<String>) -> ReinstallError {
    ReinstallError::Refused {
        line,
        message: message.into(),
    }
}

/// Finds the partitioning commands outside sections and parses them; refuses what cannot
/// be seen (`%include`, `%ksappend`, `%pre`) or made to reuse the disks.
fn scan(items: &[Item<'_>]) -> Result<Vec<Command>, ReinstallError> {
    let mut cmds = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let line = item.line.number;
        let words = match &item.kind {
            LineKind::KsAppend => {
                // pykickstart pastes it in before parsing, wherever it is
                return Err(refused(
                    line,
                    "%ksappend pulls in a file this cannot see: put its text in the file",
                ));
            }
            LineKind::Include => {
                // followed inside sections too: its text may end the section
                return Err(refused(
                    line,
                    "%include pulls in a file this cannot see: put its text in the file",
                ));
            }
            LineKind::Section(words) => {
                if words.words.first().is_some_and(|w| w.value == "%pre") {
                    return Err(refused(line, PRE_REFUSED));
                }
                continue;
            }
            LineKind::Command(words) => words,
            LineKind::Blank | LineKind::Body | LineKind::End => continue,
        };
        let whole = item.line.whole();
        let content = item.line.content;
        if words.words.iter().any(|w| w.value.contains('\n')) {
            return Err(refused(
                line,
                format!(
                    "the backslash at the end does not continue the command: kickstart has no continuation lines, and anaconda reads line {} as a command of its own; write the command on one line",
                    line + 1
                ),
            ));
        }
        let comment = words
            .comment
            .and_then(|at| content.get(at..))
            .map(str::to_owned);
        let start = words.words.first().map_or(0, |w| w.start);
        let words: Vec<Word> = words
            .words
            .iter()
            .map(|w| Word {
                value: w.value.clone(),
                raw: whole[w.start..w.end].to_owned(),
            })
            .collect();
        let Some(first) = words.first() else {
            continue;
        };
        let cannot = |what: &str| -> ReinstallError {
            refused(
                line,
                format!(
                    "{} {what}: write the layout with part, raid, volgroup and logvol that reuse the disks",
                    first.value
                ),
            )
        };
        let kind = match first.value.as_str() {
            "autopart" => return Err(cannot("lays out the disks anew")),
            "reqpart" => return Err(cannot("makes new partitions")),
            "btrfs" => return Err(cannot("is not rewritten for a reinstall")),
            "dmraid" => return Err(cannot("writes a RAID set's metadata on the disks")),
            "mount" if words[1..].iter().any(|w| w.value.starts_with("--r")) => {
                return Err(cannot("--reformat reformats a device this cannot judge"));
            }
            "nvdimm" if words[1..].iter().any(|w| w.value == "reconfigure") => {
                return Err(cannot("reconfigure reformats an NVDIMM namespace"));
            }
            "clearpart" | "zerombr" => Some((Kind::Wipe, None)),
            "part" | "partition" => Some((Kind::Part, Some(&PART_SPEC))),
            "raid" => Some((Kind::Raid, Some(&RAID_SPEC))),
            "volgroup" => Some((Kind::VolGroup, Some(&VOLGROUP_SPEC))),
            "logvol" => Some((Kind::LogVol, Some(&LOGVOL_SPEC))),
            _ => None,
        };
        let Some((kind, spec)) = kind else {
            continue;
        };
        let pieces = match spec {
            Some(spec) => parse_pieces(&words[1..], spec, line, &first.value)?,
            None => Vec::new(),
        };
        cmds.push(Command {
            kind,
            line,
            index,
            text: content.trim().to_owned(),
            indent: content[..start.min(content.len())].to_owned(),
            name_raw: first.raw.clone(),
            pieces,
            comment,
        });
    }
    Ok(cmds)
}

/// Sorts a command's words into positional words and options, as argparse would.
fn parse_pieces(
    words: &[Word],
    spec: &Spec,
    line: usize,
    command: &str,
) -> Result<Vec<Piece>, ReinstallError> {
    let mut pieces = Vec::with_capacity(words.len());
    let mut rest = words.iter();
    while let Some(word) = rest.next() {
        let v = word.value.as_str();
        if !(v.starts_with('-') && v.len() > 1) {
            pieces.push(Piece {
                raw: word.raw.clone(),
                kind: PieceKind::Word(word.value.clone()),
            });
            continue;
        }
        let (name, inline) = match v.split_once('=') {
            Some((n, val)) if n.starts_with("--") => (n, Some(val)),
            _ => (v, None),
        };
        if spec.flags.contains(&name) {
            if inline.is_some() {
                return Err(refused(
                    line,
                    format!("option {name} of {command} takes no value"),
                ));
            }
            pieces.push(Piece {
                raw: word.raw.clone(),
                kind: PieceKind::Opt {
                    name: name.to_owned(),
                    value: None,
                },
            });
        } else if spec.values.contains(&name) {
            let (value, raw) = if let Some(val) = inline {
                (val.to_owned(), word.raw.clone())
            } else {
                let next = rest.next().ok_or_else(|| {
                    refused(line, format!("option {name} of {command} needs a value"))
                })?;
                (next.value.clone(), format!("{} {}", word.raw, next.raw))
            };
            pieces.push(Piece {
                raw,
                kind: PieceKind::Opt {
                    name: name.to_owned(),
                    value: Some(value),
                },
            });
        } else {
            return Err(refused(
                line,
                format!("unknown option {name} of {command}: write pykickstart's options in full"),
            ));
        }
    }
    Ok(pieces)
}

/// The volume groups to keep, in the order named (or defined).
fn kept_vgs(cmds: &[Command], opts: &Options) -> Result<Vec<String>, ReinstallError> {
    let mut defined: Vec<&str> = Vec::new();
    let mut used: Vec<&str> = Vec::new();
    for cmd in cmds {
        match cmd.kind {
            Kind::VolGroup => defined.push(cmd.first_word("a volume group name")?),
            Kind::LogVol => used.extend(cmd.opt("--vgname")),
            _ => {}
        }
    }
    let mut keep: Vec<String> = Vec::new();
    if opts.keep_vgs.is_empty() {
        if defined.is_empty() {
            return Err(ReinstallError::Unsafe {
                message: "the file defines no volume group, so none can hold the guests' volumes"
                    .to_owned(),
            });
        }
        for vg in &defined {
            if !used.contains(vg) && !keep.iter().any(|k| k == vg) {
                keep.push((*vg).to_owned());
            }
        }
        if keep.is_empty() {
            return Err(ReinstallError::Unsafe {
                message: "cannot tell which volume group holds the guests: name it".to_owned(),
            });
        }
    } else {
        for vg in &opts.keep_vgs {
            if !defined.contains(&vg.as_str()) {
                return Err(ReinstallError::Unsafe {
                    message: format!(
                        "volume group {vg} is to be kept but no volgroup line defines it"
                    ),
                });
            }
            if !keep.contains(vg) {
                keep.push(vg.clone());
            }
        }
    }
    Ok(keep)
}

// ---------------------------------------------------------------------------------------
// The plan

/// What happens to one item.
#[derive(Debug, Clone)]
enum Action {
    Keep,
    Remove { why: Option<&'static str> },
    Replace { text: String, why: String },
}

/// An earlier `part` line, for numbering partitions.
#[derive(Debug)]
struct SeenPart {
    line: usize,
    disk: Option<String>,
    primary: bool,
    reuses: bool,
}

fn plan(
    cmds: &[Command],
    keep: &[String],
    reformat_lvs: &[String],
) -> Result<Vec<Action>, ReinstallError> {
    let mut seen: Vec<SeenPart> = Vec::new();
    let mut actions = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        let action = match cmd.kind {
            Kind::Wipe => Action::Remove { why: None },
            Kind::Part => {
                let action = plan_part(cmd, &seen)?;
                seen.push(SeenPart {
                    line: cmd.line,
                    disk: cmd.opt("--ondisk").or(cmd.opt("--ondrive")).map(disk_name),
                    primary: cmd.has("--asprimary"),
                    reuses: cmd.has("--onpart") || cmd.has("--usepart"),
                });
                action
            }
            Kind::Raid => plan_raid(cmd)?,
            Kind::VolGroup => plan_volgroup(cmd, keep)?,
            Kind::LogVol => plan_logvol(cmd, keep, reformat_lvs)?,
        };
        actions.push(action);
    }
    Ok(actions)
}

/// `sda`, `/dev/sda` → `sda`.
fn disk_name(disk: &str) -> String {
    disk.strip_prefix("/dev/").unwrap_or(disk).to_owned()
}

/// The name of partition `n` of a disk: `sda1`, `nvme0n1p1`, `disk/by-id/…-part1`.
fn partition_name(disk: &str, n: usize) -> String {
    if disk.starts_with("disk/by-") {
        format!("{disk}-part{n}")
    } else if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("{disk}p{n}")
    } else {
        format!("{disk}{n}")
    }
}

fn plan_part(cmd: &Command, seen: &[SeenPart]) -> Result<Action, ReinstallError> {
    let mnt = cmd.first_word("a mount point")?;
    if mnt.starts_with("raid.") {
        return Ok(Action::Remove {
            why: Some("a RAID member: its array is reused"),
        });
    }
    if mnt.starts_with("pv.") {
        return Ok(Action::Remove {
            why: Some("a physical volume: its volume group is reused"),
        });
    }
    if cmd.has("--onpart") || cmd.has("--usepart") {
        return Ok(Action::Keep);
    }
    let line = cmd.line;
    let Some(disk) = cmd.opt("--ondisk").or(cmd.opt("--ondrive")).map(disk_name) else {
        return Err(refused(
            line,
            format!("part {mnt} has no --ondisk: cannot tell which partition to reuse"),
        ));
    };
    // The partition's name is written into `--onpart=` unquoted: a plain word only.
    if disk.is_empty()
        || !disk
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:/-".contains(&b))
        || disk.starts_with('-')
    {
        return Err(refused(
            line,
            format!(
                "part {mnt}: `{}` is not a disk name xenfab can name a partition of",
                ks_lines::shown(&disk)
            ),
        ));
    }
    let cannot = |why: String| {
        refused(
            line,
            format!("cannot tell the partition number of {mnt}: {why}"),
        )
    };
    let mut n = 1;
    for p in seen {
        if p.reuses {
            return Err(cannot(format!("line {} reuses a partition", p.line)));
        }
        match &p.disk {
            None => {
                return Err(cannot(format!(
                    "line {} has no --ondisk and may be on {disk}",
                    p.line
                )));
            }
            Some(d) if *d == disk => {
                if !p.primary {
                    return Err(cannot(format!(
                        "line {} before it on {disk} is not --asprimary",
                        p.line
                    )));
                }
                n += 1;
            }
            Some(_) => {}
        }
    }
    if n > 4 || (n == 4 && !cmd.has("--asprimary")) {
        return Err(cannot(format!(
            "it is not among the first primary partitions of {disk}"
        )));
    }
    let part = partition_name(&disk, n);
    let onpart = format!("--onpart={part}");
    let mut first = true;
    let mut kept = vec![];
    for p in &cmd.pieces {
        match &p.kind {
            PieceKind::Word(_) if first => {
                first = false;
                kept.push(p.raw.as_str());
                kept.push(onpart.as_str());
            }
            PieceKind::Opt { name, .. } if PART_NEW_ONLY.contains(&name.as_str()) => {}
            _ => kept.push(p.raw.as_str()),
        }
    }
    let text = cmd.render(kept, &[]);
    let why = if cmd.has("--noformat") {
        format!("reuses {part} as it is")
    } else {
        format!("reuses {part} and reformats it")
    };
    Ok(Action::Replace { text, why })
}

fn plan_raid(cmd: &Command) -> Result<Action, ReinstallError> {
    let mnt = cmd.first_word("a mount point")?;
    let members = cmd.words().count() - 1;
    // A physical volume keeps its contents: its volume group is reused (kept or not), and
    // reformatting the array would destroy it.
    let noformat = mnt.starts_with("pv.") || cmd.has("--noformat");
    let done = if noformat {
        cmd.has("--noformat")
    } else {
        cmd.has("--useexisting")
    };
    if members == 0 && done {
        return Ok(Action::Keep);
    }
    let Some(device) = cmd.opt("--device") else {
        return Err(refused(
            cmd.line,
            format!("raid {mnt} has no --device: cannot name the existing array"),
        ));
    };
    let kept = without_members(cmd, |name| {
        matches!(name, "--noformat" | "--useexisting" | "--spares")
            || (noformat && name == "--mkfsoptions")
    });
    let (flag, why) = if noformat {
        ("--noformat", format!("array {device} is kept as it is"))
    } else {
        (
            "--useexisting",
            format!("array {device} is reused and reformatted"),
        )
    };
    Ok(Action::Replace {
        text: cmd.render(kept, &[flag]),
        why,
    })
}

/// The pieces of a `raid` or `volgroup` line without its members (every word after the first)
/// and without the options `drop` names: what a reused array or group keeps.
fn without_members(cmd: &Command, drop: impl Fn(&str) -> bool) -> Vec<&str> {
    let mut first = true;
    let mut kept = vec![];
    for p in &cmd.pieces {
        match &p.kind {
            PieceKind::Word(_) if first => {
                first = false;
                kept.push(p.raw.as_str());
            }
            PieceKind::Word(_) => {}
            PieceKind::Opt { name, .. } if drop(name) => {}
            PieceKind::Opt { .. } => kept.push(p.raw.as_str()),
        }
    }
    kept
}

fn plan_volgroup(cmd: &Command, keep: &[String]) -> Result<Action, ReinstallError> {
    let name = cmd.first_word("a volume group name")?;
    let kept_vg = keep.iter().any(|k| k == name);
    let pvs = cmd.words().count() - 1;
    let done = if kept_vg {
        cmd.has("--noformat")
    } else {
        cmd.has("--noformat") || cmd.has("--useexisting")
    };
    if pvs == 0 && done {
        return Ok(Action::Keep);
    }
    let kept = without_members(cmd, |name| name == "--noformat" || name == "--useexisting");
    let (flag, why) = if kept_vg {
        (
            "--noformat",
            format!("volume group {name} is kept with its volumes"),
        )
    } else {
        ("--useexisting", format!("volume group {name} is reused"))
    };
    Ok(Action::Replace {
        text: cmd.render(kept, &[flag]),
        why,
    })
}

fn plan_logvol(
    cmd: &Command,
    keep: &[String],
    reformat_lvs: &[String],
) -> Result<Action, ReinstallError> {
    let Some(vg) = cmd.opt("--vgname") else {
        return Err(refused(cmd.line, "logvol without --vgname"));
    };
    let lv = cmd.opt("--name");
    let name = lv.or_else(|| cmd.words().next()).unwrap_or("?");
    let kept = keep.iter().any(|k| k == vg);
    let own = lv.is_some_and(|n| reformat_lvs.iter().any(|r| *r == format!("{vg}/{n}")));
    if kept && !own && !cmd.has("--noformat") {
        // A kept group holds the guests' volumes, and a name says nothing of whose a volume
        // is: reformatting one (`--useexisting`) could wipe a guest's disk.
        return Err(refused(
            cmd.line,
            format!(
                "logvol {vg}/{name} is in the kept volume group {vg}: reformatting it could wipe a guest's volume; give it --noformat, name it as dom0's own (--reformat-lv {vg}/{name}), or keep only the guests' group (--keep-vg)"
            ),
        ));
    }
    if cmd.has("--useexisting") || cmd.has("--noformat") {
        return Ok(Action::Keep);
    }
    let text = cmd.render(
        cmd.pieces.iter().map(|p| p.raw.as_str()),
        &["--useexisting"],
    );
    let why = if kept {
        format!(
            "dom0's own {vg}/{name} is reused and reformatted; the group's other volumes are kept"
        )
    } else {
        format!("logical volume {vg}/{name} is reused and reformatted")
    };
    Ok(Action::Replace { text, why })
}

fn note(cmd: &Command, action: &Action) -> String {
    match action {
        Action::Keep => format!("line {}: kept `{}`", cmd.line, cmd.text),
        Action::Remove { why: None } => format!("line {}: removed `{}`", cmd.line, cmd.text),
        Action::Remove { why: Some(why) } => {
            format!("line {}: removed `{}` ({why})", cmd.line, cmd.text)
        }
        Action::Replace { text, why } => format!(
            "line {}: `{}` -> `{}` ({why})",
            cmd.line,
            cmd.text,
            text.trim()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOFTRAID1: &str = include_str!("../../../../tests/fixtures/kickstart/seed-softraid1.ks");
    const SOFTRAID1_OUT: &str =
        include_str!("../../../../tests/fixtures/kickstart/seed-softraid1.reinstall.ks");
    const HWRAID10: &str = include_str!("../../../../tests/fixtures/kickstart/seed-hwraid10.ks");
    const HWRAID10_OUT: &str =
        include_str!("../../../../tests/fixtures/kickstart/seed-hwraid10.reinstall.ks");
    const SOFTRAID1_EL9: &str =
        include_str!("../../../../tests/fixtures/kickstart/seed-softraid1-el9.ks");
    const SOFTRAID1_EL9_OUT: &str =
        include_str!("../../../../tests/fixtures/kickstart/seed-softraid1-el9.reinstall.ks");

    const FIXTURES: [(&str, &str, &str); 3] = [
        ("seed-softraid1", SOFTRAID1, SOFTRAID1_OUT),
        ("seed-hwraid10", HWRAID10, HWRAID10_OUT),
        ("seed-softraid1-el9", SOFTRAID1_EL9, SOFTRAID1_EL9_OUT),
    ];

    const HEADER: &str = "# reinstall variant made by xenfab: dom0's system is reformatted, volume group(s) xenvg kept";

    fn convert(text: &str) -> Result<Converted, ReinstallError> {
        reinstall(text, &Options::default())
    }

    fn keeping(text: &str, vgs: &[&str]) -> Result<Converted, ReinstallError> {
        let opts = Options {
            keep_vgs: vgs.iter().map(|v| (*v).to_owned()).collect(),
            reformat_lvs: Vec::new(),
        };
        reinstall(text, &opts)
    }

    fn refusal(line: usize, message: &str) -> ReinstallError {
        ReinstallError::Refused {
            line,
            message: message.to_owned(),
        }
    }

    /// A small RHEL5 file around a layout.
    fn ks(layout: &str) -> String {
        format!(
            "install\nlang en_US.UTF-8\nclearpart --all --initlabel\n{layout}reboot\n%packages\nxen\n"
        )
    }

    /// With `XENFAB_KS_OUT=DIR`, writes every fixture's reinstall variant into DIR, for
    /// checking with pykickstart (`tests/validators/check_kickstart.py FILE RHEL5`).
    #[test]
    fn write_outputs_when_asked() {
        let Some(dir) = std::env::var_os("XENFAB_KS_OUT") else {
            return;
        };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text, _) in FIXTURES {
            let out = convert(text).unwrap();
            std::fs::write(dir.join(format!("{name}.reinstall.ks")), &out.text).unwrap();
        }
    }

    #[test]
    fn hwraid10_converts_to_the_expected_text() {
        let out = convert(HWRAID10).unwrap();
        assert_eq!(out.text, HWRAID10_OUT);
        let expected_head = format!(
            "#version=RHEL5\n{HEADER}\n# xen02 (Dell PE-2950, hardware RAID-10 seen as sda): dom0 with the seed's layout.\n"
        );
        assert!(out.text.starts_with(&expected_head), "{}", out.text);
        let layout = "\
bootloader --location=mbr --driveorder=sda,sdb
part /boot --onpart=sda1 --fstype=ext2
volgroup systemvg --useexisting
volgroup xenvg --noformat
logvol / --fstype ext3 --size=8192 --name=sysroot --vgname=systemvg --useexisting
logvol /var/lib/xen/save --fstype ext3 --size=16384 --name=sysxensave --vgname=systemvg --useexisting
logvol /var --fstype ext3 --size=4096 --name=sysvar --vgname=systemvg --useexisting
logvol /tmp --fstype ext3 --size=2048 --name=systmp --vgname=systemvg --useexisting
logvol swap --fstype swap --size=4096 --name=sysswap --vgname=systemvg --useexisting
reboot
";
        assert!(out.text.contains(layout), "{}", out.text);
        assert_eq!(out.notes.len(), 11);
        assert_eq!(
            out.notes[0],
            "line 13: removed `clearpart --all --initlabel`"
        );
        assert_eq!(
            out.notes[1],
            "line 14: `part /boot --size=256 --asprimary --fstype=ext2 --ondisk=sda` -> \
             `part /boot --onpart=sda1 --fstype=ext2` (reuses sda1 and reformats it)"
        );
        assert_eq!(
            out.notes[2],
            "line 15: removed `part pv.01 --size=73728 --asprimary --fstype=ext3 --ondisk=sda` \
             (a physical volume: its volume group is reused)"
        );
        assert_eq!(
            out.notes[5],
            "line 18: `volgroup xenvg pv.02` -> `volgroup xenvg --noformat` \
             (volume group xenvg is kept with its volumes)"
        );
    }

    #[test]
    fn softraid1_converts_to_the_expected_text() {
        let out = convert(SOFTRAID1).unwrap();
        assert_eq!(out.text, SOFTRAID1_OUT);
        for line in [
            "raid /boot --level=RAID1 --device=md0 --fstype=ext2 --useexisting\n",
            "raid / --level=RAID1 --device=md1 --fstype=ext3 --useexisting\n",
            "raid pv.01 --fstype \"physical volume (LVM)\" --level=RAID1 --device=md2 --noformat\n",
            "raid pv.02 --fstype \"physical volume (LVM)\" --level=RAID1 --device=md3 --noformat\n",
            "volgroup systemvg --useexisting\nvolgroup xenvg --noformat\n",
        ] {
            assert!(out.text.contains(line), "{line}");
        }
        assert!(!out.text.contains("raid."));
        assert!(!out.text.contains("clearpart"));
        assert_eq!(out.notes.len(), 19);
        assert_eq!(convert(SOFTRAID1_EL9).unwrap().text, SOFTRAID1_EL9_OUT);
    }

    /// The lines of a text that are not partitioning commands, with their endings.
    fn other_lines(text: &str) -> Vec<&str> {
        text.split_inclusive('\n')
            .filter(|l| {
                let word = l.split_whitespace().next().unwrap_or("");
                !matches!(
                    word,
                    "clearpart" | "zerombr" | "part" | "raid" | "volgroup" | "logvol"
                ) && !l.starts_with(HEADER_PREFIX)
            })
            .collect()
    }

    #[test]
    fn every_other_line_is_kept_byte_for_byte() {
        for (name, text, _) in FIXTURES {
            let out = convert(text).unwrap();
            assert_eq!(other_lines(&out.text), other_lines(text), "{name}");
            assert_eq!(
                out.text
                    .split_inclusive('\n')
                    .filter(|l| l.starts_with(HEADER_PREFIX))
                    .count(),
                1
            );
        }
    }

    #[test]
    fn line_breaks_other_than_newline_are_refused_with_their_line() {
        // CRLF: anaconda splits at `\r` too; xenfab refuses rather than guess
        let crlf = HWRAID10.replace('\n', "\r\n");
        let err = convert(&crlf).unwrap_err();
        assert_eq!(err.line(), Some(1));
        assert!(err.to_string().contains("dos2unix"), "{err}");
        // a lone CR before clearpart: one line to xenfab's old reader, two to anaconda's
        for sep in [
            "\r", "\u{b}", "\u{c}", "\u{1c}", "\u{1d}", "\u{1e}", "\u{85}", "\u{2028}", "\u{2029}",
        ] {
            let text = ks(&format!(
                "lang en_US{sep}clearpart --all\npart pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n"
            ));
            assert!(
                matches!(convert(&text), Err(ReinstallError::Parse { line: 4, .. })),
                "{sep:?}"
            );
        }
        // inside a section just the same: `\u{2028}%end` would end %post
        let text = format!(
            "{}%post\necho\u{2028}%end\n",
            ks("part pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n")
        );
        assert_eq!(convert(&text).unwrap_err().line(), Some(10));
        // a control character in a command line
        let text = ks("lang en\u{1b}[2J\npart pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n");
        assert_eq!(convert(&text).unwrap_err().line(), Some(4));
    }

    #[test]
    fn a_missing_final_newline_is_kept() {
        let no_final_newline = HWRAID10.trim_end_matches('\n');
        assert_eq!(
            convert(no_final_newline).unwrap().text,
            HWRAID10_OUT.trim_end_matches('\n')
        );
        // no `#version=` line: the comment comes first
        let text = ks("part pv.01 --size=1 --grow --ondisk=sda\nvolgroup xenvg pv.01\n");
        let out = convert(&text).unwrap().text;
        assert_eq!(
            out,
            format!(
                "{HEADER}\ninstall\nlang en_US.UTF-8\nvolgroup xenvg --noformat\nreboot\n%packages\nxen\n"
            )
        );
        // a lone `#version=` line without a line ending
        let only = "#version=RHEL5";
        assert_eq!(convert(only).unwrap_err().line(), None);
    }

    #[test]
    fn converting_twice_changes_nothing() {
        for (name, text, expected) in FIXTURES {
            let once = convert(text).unwrap();
            let twice = convert(&once.text).unwrap();
            assert_eq!(twice.text, expected, "{name}");
            assert!(twice.notes.is_empty(), "{name}: {:?}", twice.notes);
            assert_eq!(keeping(&once.text, &["xenvg"]).unwrap().text, expected);
        }
        // a hand-written reinstall file (no comment of ours) is left as it is
        let text = "install\npart /boot --onpart=sda1 --fstype=ext2\nraid / --device=md1 --useexisting\n\
                    raid pv.02 --device=md3 --noformat\nvolgroup systemvg --useexisting\n\
                    volgroup xenvg --noformat\nlogvol / --vgname=systemvg --name=root --useexisting\n";
        let out = convert(text).unwrap();
        assert_eq!(out.text, text);
        assert!(out.notes.is_empty());
    }

    #[test]
    fn an_older_comment_of_ours_is_replaced() {
        let text = format!(
            "#version=RHEL5\n{HEADER_PREFIX} whatever\n{}",
            ks("part pv.01 --size=1 --ondisk=sda\nvolgroup guests pv.01\n")
        );
        let out = convert(&text).unwrap().text;
        assert_eq!(
            out.lines().take(3).collect::<Vec<_>>(),
            [
                "#version=RHEL5",
                "# reinstall variant made by xenfab: dom0's system is reformatted, volume group(s) guests kept",
                "install"
            ]
        );
    }

    #[test]
    fn the_kept_volume_groups_default_to_those_without_logvol() {
        // explicit and detected agree on the seed
        for (_, text, expected) in FIXTURES {
            assert_eq!(keeping(text, &["xenvg"]).unwrap().text, expected);
        }
        // two groups without logvol: both kept, in file order
        let text = ks(
            "part pv.01 --size=1 --ondisk=sda\npart pv.02 --size=1 --ondisk=sdb\n\
                       volgroup b pv.01\nvolgroup a pv.02\n",
        );
        let out = convert(&text).unwrap().text;
        assert!(out.starts_with("# reinstall variant made by xenfab: dom0's system is reformatted, volume group(s) b, a kept\n"));
        assert!(out.contains("volgroup b --noformat\nvolgroup a --noformat\n"));
        // every group has a logical volume in the file: ask
        let text = ks("part pv.01 --size=1 --ondisk=sda\nvolgroup sys pv.01\n\
                       logvol / --vgname=sys --size=100 --name=root\n");
        assert_eq!(
            convert(&text).unwrap_err(),
            ReinstallError::Unsafe {
                message: "cannot tell which volume group holds the guests: name it".to_owned()
            }
        );
        // no volume group at all
        let text = ks("part / --size=1000 --ondisk=sda --asprimary\n");
        assert!(matches!(convert(&text), Err(ReinstallError::Unsafe { .. })));
        // a named group that is not defined
        assert_eq!(
            keeping(HWRAID10, &["guests"]).unwrap_err().to_string(),
            "volume group guests is to be kept but no volgroup line defines it"
        );
    }

    #[test]
    fn a_logvol_in_a_kept_group_is_refused_unless_noformat() {
        assert_eq!(
            keeping(HWRAID10, &["xenvg", "systemvg"]).unwrap_err(),
            refusal(
                19,
                "logvol systemvg/sysroot is in the kept volume group systemvg: reformatting it could wipe a guest's volume; give it --noformat, name it as dom0's own (--reformat-lv systemvg/sysroot), or keep only the guests' group (--keep-vg)"
            )
        );
        // --useexisting is a reformat too
        let text =
            ks("volgroup xenvg --noformat\nlogvol /srv --vgname=xenvg --name=ullr --useexisting\n");
        assert_eq!(convert_keeping_xenvg(&text).unwrap_err().line(), Some(5));
        let text =
            ks("volgroup xenvg --noformat\nlogvol /srv --vgname=xenvg --name=ullr --noformat\n");
        let out = convert_keeping_xenvg(&text).unwrap().text;
        assert!(
            out.contains("logvol /srv --vgname=xenvg --name=ullr --noformat\n"),
            "{out}"
        );
        // named as dom0's own: reused and reformatted, the group kept
        let opts = Options {
            keep_vgs: vec!["xenvg".to_owned(), "systemvg".to_owned()],
            reformat_lvs: ["sysroot", "sysxensave", "sysvar", "systmp", "sysswap"]
                .iter()
                .map(|n| format!("systemvg/{n}"))
                .collect(),
        };
        let out = reinstall(HWRAID10, &opts).unwrap().text;
        assert!(out.contains("volgroup systemvg --noformat"), "{out}");
        assert!(
            out.contains(
                "logvol / --fstype ext3 --size=8192 --name=sysroot --vgname=systemvg --useexisting"
            ),
            "{out}"
        );
        assert_eq!(reinstall(&out, &opts).unwrap().text, out);
        // only the one named
        let opts = Options {
            keep_vgs: vec!["xenvg".to_owned(), "systemvg".to_owned()],
            reformat_lvs: vec!["systemvg/sysroot".to_owned()],
        };
        assert_eq!(reinstall(HWRAID10, &opts).unwrap_err().line(), Some(20));
    }

    fn convert_keeping_xenvg(text: &str) -> Result<Converted, ReinstallError> {
        keeping(text, &["xenvg"])
    }

    #[test]
    fn a_partition_is_reused_only_when_its_number_is_certain() {
        // not --asprimary before /boot on the same disk
        let text = ks("part pv.01 --size=1000 --ondisk=sda\n\
                       part /boot --size=256 --asprimary --fstype=ext2 --ondisk=sda\n\
                       volgroup xenvg pv.01\n");
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(
                5,
                "cannot tell the partition number of /boot: line 4 before it on sda is not --asprimary"
            )
        );
        // an earlier part that may be on the same disk
        let text = ks("part pv.01 --size=1000 --asprimary\n\
                       part /boot --size=256 --asprimary --ondisk=sda\nvolgroup xenvg pv.01\n");
        assert_eq!(
            convert(&text).unwrap_err().to_string(),
            "line 5: cannot tell the partition number of /boot: line 4 has no --ondisk and may be on sda"
        );
        // no disk at all
        let text = ks(
            "part /boot --size=256 --asprimary\npart pv.01 --size=1 --ondisk=sda\n\
                       volgroup xenvg pv.01\n",
        );
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(
                4,
                "part /boot has no --ondisk: cannot tell which partition to reuse"
            )
        );
        // a fourth partition that is not --asprimary may be a logical one
        let text = ks("part raid.01 --size=1 --ondisk=sda --asprimary\n\
                       part raid.02 --size=1 --ondisk=sda --asprimary\n\
                       part pv.01 --size=1 --ondisk=sda --asprimary\n\
                       part /boot --size=256 --ondisk=sda\nvolgroup xenvg pv.01\n");
        assert_eq!(convert(&text).unwrap_err().line(), Some(7));
        // other disks do not count; --ondrive and /dev/ are understood; NVMe names get a `p`
        let text = ks("part raid.01 --size=1 --ondisk=sdb\n\
                       part /boot --size=256 --asprimary --ondrive=/dev/sda --label=boot\n\
                       part / --size=8000 --ondisk sda --asprimary --fstype ext3\n\
                       part swap --size=2000 --ondisk=nvme0n1 --fstype=swap\n\
                       part pv.01 --size=1 --grow --ondisk=sda\nvolgroup xenvg pv.01\n");
        let out = convert(&text).unwrap().text;
        assert!(
            out.contains(
                "part /boot --onpart=sda1 --label=boot\npart / --onpart=sda2 --fstype ext3\n\
             part swap --onpart=nvme0n1p1 --fstype=swap\nvolgroup xenvg --noformat\n"
            ),
            "{out}"
        );
        assert_eq!(
            partition_name("disk/by-id/wwn-0x5000c5", 2),
            "disk/by-id/wwn-0x5000c5-part2"
        );
        assert_eq!(partition_name("cciss/c0d0", 1), "cciss/c0d0p1");
        // a disk name that is no plain word (found by the differential test: `sda\ `)
        let text = ks(
            "part /boot --size=256 --asprimary --ondisk=sda\\ \npart pv.01 --size=1 --ondisk=sdb\nvolgroup xenvg pv.01\n",
        );
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(
                4,
                "part /boot: `sda ` is not a disk name xenfab can name a partition of"
            )
        );
    }

    #[test]
    fn what_cannot_be_seen_or_reused_is_refused() {
        let text = ks("%include /tmp/part-include\n");
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(
                4,
                "%include pulls in a file this cannot see: put its text in the file"
            )
        );
        let text = ks("autopart\n");
        assert_eq!(convert(&text).unwrap_err().line(), Some(4));
        assert!(
            convert(&text)
                .unwrap_err()
                .to_string()
                .starts_with("line 4: autopart ")
        );
        let text = format!("{}%post\n%ksappend http://x/y\n", ks(""));
        assert_eq!(convert(&text).unwrap_err().line(), Some(8));
        let text = ks(
            "part pv.01 --size=1 --ondisk=sda\nraid / --level=1 raid.01 raid.02\nvolgroup xenvg pv.01\n",
        );
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(5, "raid / has no --device: cannot name the existing array")
        );
        let text = ks("part pv.01 --size=1 --ondisk=sda --ondi=sdb\nvolgroup xenvg pv.01\n");
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(
                4,
                "unknown option --ondi of part: write pykickstart's options in full"
            )
        );
        let text = ks("part pv.01 --ondisk=sda --size\nvolgroup xenvg pv.01\n");
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(4, "option --size of part needs a value")
        );
        let text = ks("part pv.01 --grow=yes --ondisk=sda\nvolgroup xenvg pv.01\n");
        assert_eq!(convert(&text).unwrap_err().line(), Some(4));
        // %include inside a section is followed too (its text may end the section)
        let text = format!(
            "{}%include /tmp/packages\n",
            ks("part pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n")
        );
        assert_eq!(convert(&text).unwrap_err().line(), Some(9));
        // a %pre script cannot be judged
        let text = format!(
            "%pre\ntrue\n%end\n{}",
            ks("part pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n")
        );
        assert_eq!(convert(&text).unwrap_err(), refusal(1, PRE_REFUSED));
        // every command that lays out or wipes disks otherwise
        for (cmd, line) in [
            ("reqpart --add-boot", 4),
            ("btrfs / --data=1 btrfs.01", 4),
            ("dmraid --name=x --dev=sda", 4),
            ("mount /dev/sdb1 /srv --reformat=xfs", 4),
            ("mount /dev/sdb1 /srv --ref", 4),
            ("nvdimm reconfigure --namespace=n --mode=sector", 4),
        ] {
            let text = ks(&format!(
                "{cmd}\npart pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n"
            ));
            assert_eq!(convert(&text).unwrap_err().line(), Some(line), "{cmd}");
        }
        // the harmless forms are kept
        let text = ks(
            "mount /dev/sdb1 /srv\nnvdimm use --namespace=n\npart pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n",
        );
        let out = convert(&text).unwrap().text;
        assert!(
            out.contains("mount /dev/sdb1 /srv\nnvdimm use --namespace=n\n"),
            "{out}"
        );
    }

    #[test]
    fn an_unterminated_quote_is_a_parse_error() {
        let text = ks(
            "part pv.01 --size=1 --ondisk=sda\nraid pv.02 --fstype \"physical volume --device=md3\n",
        );
        assert_eq!(
            convert(&text).unwrap_err(),
            ReinstallError::Parse {
                line: 5,
                message: "no closing quotation mark".to_owned()
            }
        );
        // on any command line, as pykickstart splits them all
        let text = ks("rootpw 'secret\n");
        assert_eq!(convert(&text).unwrap_err().line(), Some(4));
        assert_eq!(
            convert(&text).unwrap_err().to_string(),
            "line 4: no closing quotation mark"
        );
    }

    #[test]
    fn no_continuation_lines_quotes_and_comments() {
        // a trailing backslash escapes the line break; the next line is a command of its own
        let text = ks("part pv.02 --size=1 \\\n    --ondisk sda\nvolgroup xenvg pv.02\n");
        assert_eq!(
            convert(&text).unwrap_err(),
            refusal(
                4,
                "the backslash at the end does not continue the command: kickstart has no continuation lines, and anaconda reads line 5 as a command of its own; write the command on one line"
            )
        );
        // the old reader joined `lang en_US \` and `clearpart --all` and kept both lines
        let text = "lang en_US \\\nclearpart --all\npart pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n";
        assert_eq!(convert(text).unwrap_err().line(), Some(1));
        // a backslash in a comment or a %post script is no concern
        let text = ks(
            "part pv.02 --size=1 --ondisk sda # a \\\nraid pv.03 --fstype 'physical volume (LVM)' --level RAID1 --device md3 raid.04 raid.14  # the guests\n\
                       volgroup xenvg pv.02 pv.03\n",
        ) + "%post\necho a \\\n  b\n";
        let out = convert(&text).unwrap();
        assert_eq!(
            out.text,
            format!(
                "{HEADER}\ninstall\nlang en_US.UTF-8\n\
                 raid pv.03 --fstype 'physical volume (LVM)' --level RAID1 --device md3 --noformat # the guests\n\
                 volgroup xenvg --noformat\nreboot\n%packages\nxen\n%post\necho a \\\n  b\n"
            )
        );
        assert_eq!(
            out.notes[1],
            "line 4: removed `part pv.02 --size=1 --ondisk sda # a \\` (a physical volume: its volume group is reused)"
        );
        assert!(out.notes[2].starts_with("line 5: "), "{:?}", out.notes);
        assert!(out.notes[3].starts_with("line 6: "), "{:?}", out.notes);
    }

    #[test]
    fn sections_are_left_alone() {
        // RHEL5: %packages runs into %post without %end; nothing in them is a command
        let text = ks("part pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n")
            + "%post\nclearpart --all\npart /boot --size=1\nlogvol / --vgname=xenvg --name=x\n";
        let out = convert(&text).unwrap().text;
        assert!(out.ends_with(
            "%packages\nxen\n%post\nclearpart --all\npart /boot --size=1\nlogvol / --vgname=xenvg --name=x\n"
        ));
        // after %end, commands again
        let text = "%post\nzerombr\n%end\nzerombr\npart pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n\
                    %post --nochroot\n  %end  \nclearpart --all\n";
        let out = convert(text).unwrap();
        assert_eq!(
            out.text,
            format!(
                "{HEADER}\n%post\nzerombr\n%end\nvolgroup xenvg --noformat\n%post --nochroot\n  %end  \n"
            )
        );
        // Python's white space before `%end` ends nothing: `\u{1f}%end` stays in the script,
        // and the `clearpart` after it is the script's text, not a command
        let text = ks("part pv.01 --size=1 --ondisk=sda\nvolgroup xenvg pv.01\n")
            + "%post\n\u{a0}%end\nclearpart --all\n%end\nzerombr\n";
        let after = convert(&text).unwrap().text;
        assert!(
            after.ends_with("%post\n\u{a0}%end\nclearpart --all\n%end\n"),
            "{after:?}"
        );
        assert_eq!(out.notes[0], "line 4: removed `zerombr`");
    }

    #[test]
    fn preexisting_lines_are_respected() {
        // a kept group marked --useexisting is given --noformat; an array kept with
        // --noformat stays so, one with --useexisting under a PV gets --noformat
        let text = ks(
            "raid /home --device=md4 --noformat\nraid pv.02 --device=md3 --useexisting\n\
                       raid /boot --device=md0 --level=1 --spares=1 raid.01 raid.11\n\
                       volgroup xenvg --useexisting --pesize=4096\n",
        );
        let out = convert(&text).unwrap();
        assert_eq!(
            out.text,
            format!(
                "{HEADER}\ninstall\nlang en_US.UTF-8\nraid /home --device=md4 --noformat\n\
                 raid pv.02 --device=md3 --noformat\nraid /boot --device=md0 --level=1 --useexisting\n\
                 volgroup xenvg --pesize=4096 --noformat\nreboot\n%packages\nxen\n"
            )
        );
        assert_eq!(out.notes.len(), 4);
    }

    #[test]
    fn the_output_check_catches_what_would_wipe() {
        let keep = ["xenvg".to_owned()];
        for (name, _, expected) in FIXTURES {
            assert_eq!(check(expected, &keep, &[]), Ok(()), "{name}");
        }
        for (text, line, what) in [
            (
                "clearpart --all\nvolgroup xenvg --noformat\n",
                1,
                "`clearpart` wipes disks",
            ),
            (
                "volgroup xenvg --noformat\nzerombr\n",
                2,
                "`zerombr` wipes disks",
            ),
            (
                "part / --size=1\nvolgroup xenvg --noformat\n",
                1,
                "part / has no --onpart: it makes a new partition",
            ),
            (
                "part pv.01 --onpart=sda2\nvolgroup xenvg --noformat\n",
                1,
                "part pv.01 makes a new partition",
            ),
            (
                "raid / --device=md1 raid.01\nvolgroup xenvg --noformat\n",
                1,
                "raid / has members: it builds a new array",
            ),
            (
                "raid / --device=md1\nvolgroup xenvg --noformat\n",
                1,
                "raid / is neither --useexisting nor --noformat: it builds a new array",
            ),
            (
                "raid pv.01 --device=md1 --useexisting\nvolgroup xenvg --noformat\n",
                1,
                "raid pv.01 holds a physical volume but is not --noformat",
            ),
            (
                "volgroup xenvg --useexisting\n",
                1,
                "volume group xenvg is kept but not --noformat",
            ),
            (
                "volgroup xenvg pv.01 --noformat\n",
                1,
                "volgroup xenvg has physical volumes: it makes a new group",
            ),
            (
                "volgroup sys\nvolgroup xenvg --noformat\n",
                1,
                "volgroup sys is neither --useexisting nor --noformat: it makes a new group",
            ),
            (
                "volgroup xenvg --noformat\nlogvol / --vgname=xenvg --name=a --useexisting\n",
                2,
                "a logvol in the kept volume group xenvg is not --noformat",
            ),
            (
                "volgroup xenvg --noformat\nlogvol / --vgname=sys --name=a\n",
                2,
                "logvol is neither --useexisting nor --noformat: it makes a new volume",
            ),
        ] {
            assert_eq!(check(text, &keep, &[]), Err(refusal(line, what)), "{text}");
        }
        assert!(matches!(
            check("install\n", &keep, &[]),
            Err(ReinstallError::Unsafe { .. })
        ));
        let own = ["xenvg/a".to_owned()];
        let text = "volgroup xenvg --noformat\nlogvol / --vgname=xenvg --name=a --useexisting\n";
        assert_eq!(check(text, &keep, &own), Ok(()));
        let text = "volgroup xenvg --noformat\nlogvol / --vgname=xenvg --name=b --useexisting\n";
        assert!(check(text, &keep, &own).is_err());
        assert!(check("autopart\nvolgroup xenvg --noformat\n", &keep, &[]).is_err());
        assert!(check("%pre\n%end\nvolgroup xenvg --noformat\n", &keep, &[]).is_err());
        assert_eq!(
            to_output_error(refusal(3, "x")).to_string(),
            "line 3 of the result: x: the reinstall variant fails its own safety check"
        );
    }

    #[test]
    fn a_stale_comment_of_ours_is_rewritten() {
        // found by the differential test: the group was renamed after the conversion
        let text = HWRAID10_OUT.replace("volgroup xenvg --noformat", "volgroup guests --noformat");
        let out = convert(&text).unwrap();
        assert!(
            out.text.contains("volume group(s) guests kept\n"),
            "{}",
            out.text
        );
        assert_eq!(convert(&out.text).unwrap().text, out.text);
    }

    #[test]
    fn the_kept_groups_are_reported() {
        assert_eq!(convert(HWRAID10).unwrap().kept, ["xenvg"]);
        assert_eq!(convert(HWRAID10_OUT).unwrap().kept, ["xenvg"]);
    }
}
