//! Edit an existing ISC `dhcpd.conf` in place: xenfab's host entries live in marked regions
//! inside the `subnet` declarations, and every other byte of the file is kept.
//!
//! Quattor's aii-dhcp inserts each host's entry into the `subnet` declaration of an existing
//! `dhcpd.conf`. xenfab does the same, but keeps its entries between two marker comments it
//! owns:
//!
//! ```text
//! subnet 192.168.96.0 netmask 255.255.255.0 {
//!   option routers 192.168.96.1;
//!   # BEGIN xenfab managed hosts (do not edit: rendered from the fabric file)
//!   host ullr.example.org {
//!     hardware ethernet 00:16:3e:a8:60:2b;
//!     fixed-address 192.168.96.43;
//!   }
//!   # END xenfab managed hosts
//! }
//! ```
//!
//! [`edit`] rewrites the region of every subnet it is given (inserting it before the subnet's
//! closing `}` the first time), leaves the regions of other subnets alone, and is idempotent.
//! The file's line endings (LF or CRLF) and a missing final newline are kept.
//!
//! The scanner knows just enough of the dhcpd.conf grammar to find declarations: `#` comments
//! to the end of the line, double-quoted strings with backslash escapes, and the `{`, `}` and
//! `;` that delimit statements. Braces and the word `subnet` inside comments or strings are
//! not structure.
//!
//! ## Declarations that conflict with the fabric's hosts
//!
//! dhcpd's host declarations are global, wherever they stand in the file (top level, in a
//! `subnet`, `shared-network` or `group`): dhcpd says so itself, "WARNING: Host declarations are
//! global". So every `host NAME { … }` of the file outside the regions this run rewrites is
//! compared with the fabric's hosts, by what ISC dhcpd 4.4 makes of it (`server/mdb.c`
//! `enter_host`, `find_host_for_network`; `server/dhcp.c` `find_lease`; isc-projects/dhcp
//! v4_4_3):
//!
//! | the file's declaration has | dhcpd | here |
//! |---|---|---|
//! | the fabric host's declaration name, byte for byte | refuses the file: `host NAME: already exists` (the name hash compares with `memcmp`) | error |
//! | that name in another case | takes it: names are compared byte for byte | warning |
//! | its MAC, and a `fixed-address` in the host's shared network (or a name dhcpd resolves) | takes it, and answers the MAC with the first of the two declarations it read | error |
//! | its MAC, and no `fixed-address`, or one only outside the host's shared network | takes it, and answers the host from its own declaration: fixed addresses are looked up in the client's shared network, and a declaration without one is for dynamic leases only | warning |
//! | its address in `fixed-address` (or its name, which dhcpd resolves to it) | takes it, and gives the address to two machines (hosts are hashed by name, MAC and client id, never by address) | error |
//! | its short or full name in `option host-name` | takes it: two machines are told one name | warning |
//!
//! An error stops the edit ([`EditError::Conflicts`], every conflict listed), unless
//! [`OnConflict::Replace`] takes the declarations over: each is cut out of the file, from its
//! `host` keyword to its closing `}` (whole lines when it stands on lines of its own, with the
//! comments inside and after its `}`), and every other byte stays. Warnings never change the
//! file. A declaration inside the managed region of a subnet this run does not rewrite (another
//! fabric's, or a network the fabric no longer has) is compared too.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// The comment line that opens a managed region.
pub const BEGIN_MARKER: &str =
    "# BEGIN xenfab managed hosts (do not edit: rendered from the fabric file)";
/// The comment line that closes a managed region.
pub const END_MARKER: &str = "# END xenfab managed hosts";

/// A comment is a marker when its text, after `#` and blanks, starts with one of these.
const BEGIN_KEY: &str = "BEGIN xenfab managed hosts";
const END_KEY: &str = "END xenfab managed hosts";

/// The host declarations xenfab manages in one subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetHosts {
    /// The subnet, as declared by `subnet A.B.C.D netmask M.M.M.M { … }` in the file.
    pub subnet: Ipv4Net,
    /// The rendered `host` declarations: unindented lines, each ending in `\n`. Empty to keep
    /// an empty region (the hosts of a network removed from the fabric disappear).
    pub hosts: String,
    /// Where each `host` declaration of `hosts` comes from, in order, for messages (the fabric
    /// path, `dom0s[xen01].guests[ullr]`); a declaration without one is named by its name.
    pub origins: Vec<String>,
}

/// What to do with a declaration of the file that dhcpd would refuse, or that would give a
/// fabric host a wrong lease, next to the fabric's hosts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// Stop with [`EditError::Conflicts`]: the file is not edited.
    #[default]
    Refuse,
    /// Cut the declaration out of the file: the fabric takes it over.
    Replace,
}

/// What a declaration of the file shares with a host of the fabric.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shared {
    /// The declaration name, byte for byte: dhcpd refuses the file.
    Name,
    /// The declaration name in another case: dhcpd takes it, DNS does not tell them apart.
    NameCase,
    /// The MAC. `fatal` when the declaration's `fixed-address` may lie in the fabric host's
    /// shared network: dhcpd then answers the MAC with the first declaration it read.
    Mac {
        /// Whether dhcpd may answer the fabric host from this declaration.
        fatal: bool,
    },
    /// The fabric host's address, in `fixed-address`.
    Address,
    /// The fabric host's name (as written), in `fixed-address`: dhcpd resolves it to the address.
    AddressName(String),
    /// The fabric host's short or full name (as written), in `option host-name`.
    HostName(String),
}

impl Shared {
    fn fatal(&self) -> bool {
        matches!(
            self,
            Shared::Name | Shared::Mac { fatal: true } | Shared::Address | Shared::AddressName(_)
        )
    }
}

/// A `host` declaration of the file that shares a name, MAC or address with a host of the
/// fabric.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Conflict {
    /// The line of the declaration's `host` keyword (1-based).
    pub line: usize,
    /// The line of its closing `}`.
    pub end_line: usize,
    /// Its name, as dhcpd reads it.
    pub name: String,
    /// The begin and end lines of the managed region of another subnet it stands in.
    pub region: Option<(usize, usize)>,
    /// The fabric host's declaration name (`ullr.example.org`).
    pub host: String,
    /// Where the fabric host comes from (`dom0s[xen01].guests[ullr]`).
    pub origin: String,
    /// The fabric host's MAC, as its declaration writes it.
    pub mac: String,
    /// The fabric host's address.
    pub address: String,
    /// What they share; never empty.
    pub shared: Vec<Shared>,
    /// Whether the declaration was cut out of the file ([`OnConflict::Replace`]).
    pub removed: bool,
}

impl Conflict {
    /// Whether dhcpd refuses the file with both declarations, or may answer the fabric host
    /// from the file's: an error unless replaced. Otherwise a warning.
    pub fn is_fatal(&self) -> bool {
        self.shared.iter().any(Shared::fatal)
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "host `{}`", shown(&self.name))?;
        if let Some((begin, end)) = self.region {
            write!(
                f,
                " (in the managed hosts of lines {begin}-{end}, of a subnet this fabric does not manage)"
            )?;
        }
        let what: Vec<String> = self
            .shared
            .iter()
            .map(|s| match s {
                Shared::Name => "the name".to_owned(),
                Shared::NameCase => "the name in another case".to_owned(),
                Shared::Mac { .. } => format!("MAC {}", self.mac),
                Shared::Address => format!("address {}", self.address),
                Shared::AddressName(n) => {
                    format!(
                        "address {} by name (`fixed-address {}`)",
                        self.address,
                        shown(n)
                    )
                }
                Shared::HostName(n) => format!("host name `{}`", shown(n)),
            })
            .collect();
        write!(
            f,
            " has {} of {} (host {})",
            what.join(", "),
            self.origin,
            shown(&self.host)
        )?;
        let why = if self.shared.contains(&Shared::Name) {
            "dhcpd refuses two host declarations of one name"
        } else if self.shared.contains(&Shared::Mac { fatal: true }) {
            "dhcpd answers that MAC with whichever of the two declarations it read first"
        } else if self.is_fatal() {
            "dhcpd would give that address to two machines"
        } else if self.shared.contains(&Shared::Mac { fatal: false }) {
            "dhcpd still answers the fabric's host from its own declaration, as this one has no fixed address in its network"
        } else if self.shared.contains(&Shared::NameCase) {
            "dhcpd takes it (it compares names byte for byte), DNS does not tell them apart"
        } else {
            "two machines are told one host name"
        };
        let what_now = if self.removed {
            "removed: the fabric's declaration replaces it"
        } else if self.is_fatal() {
            "remove it, or let xenfab replace it (--replace)"
        } else {
            "kept"
        };
        write!(f, ": {why}; {what_now}")
    }
}

/// The edited file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The whole new content of the file.
    pub text: String,
    /// What was done, one line per subnet, for the user (`subnet 192.168.96.0/24 (line 12): …`).
    pub notes: Vec<String>,
    /// The declarations of the file that share something with the fabric's hosts: warnings,
    /// and with [`OnConflict::Replace`] the declarations removed. In file order.
    pub conflicts: Vec<Conflict>,
}

/// Why a `dhcpd.conf` cannot be edited. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// A subnet to edit is not declared in the file.
    #[error(
        "dhcpd.conf declares no `subnet {} netmask {}`: add it, with its routers and options, then run again",
        .subnet.network(),
        .subnet.netmask()
    )]
    MissingSubnet {
        /// The subnet.
        subnet: Ipv4Net,
    },
    /// A subnet to edit is declared more than once.
    #[error(
        "line {line}: `subnet {} netmask {}` is also declared on line {first_line}: xenfab cannot tell which one to edit",
        .subnet.network(),
        .subnet.netmask()
    )]
    DuplicateSubnet {
        /// The subnet.
        subnet: Ipv4Net,
        /// The line of the first declaration.
        first_line: usize,
        /// The line of the second declaration.
        line: usize,
    },
    /// The same subnet is given twice to [`edit`].
    #[error("subnet {subnet} is given twice")]
    DuplicateRequest {
        /// The subnet.
        subnet: Ipv4Net,
    },
    /// A `subnet` statement is not `subnet A.B.C.D netmask M.M.M.M {`.
    #[error(
        "line {line}: malformed subnet declaration: expected `subnet A.B.C.D netmask M.M.M.M {{`"
    )]
    MalformedSubnet {
        /// The line of the `subnet` keyword.
        line: usize,
    },
    /// A `subnet` declaration inside another one.
    #[error("line {line}: subnet declared inside the subnet of line {outer_line}")]
    NestedSubnet {
        /// The line of the inner `subnet` keyword.
        line: usize,
        /// The line of the outer `subnet` keyword.
        outer_line: usize,
    },
    /// A `}` that closes nothing.
    #[error("line {line}: `}}` closes nothing")]
    UnexpectedClose {
        /// The line of the `}`.
        line: usize,
    },
    /// A `{` that is never closed.
    #[error("line {line}: `{{` is never closed")]
    Unclosed {
        /// The line of the `{`.
        line: usize,
    },
    /// The last statement of a subnet the hosts go into has no `;`: they would join it.
    #[error(
        "line {line}: statement without its `;` before the `}}` of the subnet of line {subnet_line}"
    )]
    Unfinished {
        /// The line where the statement begins.
        line: usize,
        /// The line of the `subnet` keyword.
        subnet_line: usize,
    },
    /// A string without its closing quote.
    #[error("line {line}: string is not terminated")]
    UnterminatedString {
        /// The line of the opening quote.
        line: usize,
    },
    /// A BEGIN marker without its END marker in the same subnet.
    #[error("line {line}: `{BEGIN_KEY}` has no matching `{END_MARKER}` in its subnet")]
    UnterminatedRegion {
        /// The line of the BEGIN marker.
        line: usize,
    },
    /// An END marker without a BEGIN marker before it.
    #[error("line {line}: `{END_MARKER}` without a `{BEGIN_KEY}` before it")]
    EndWithoutBegin {
        /// The line of the END marker.
        line: usize,
    },
    /// A BEGIN marker inside an open managed region.
    #[error("line {line}: `{BEGIN_KEY}` inside the managed region opened on line {open_line}")]
    NestedRegion {
        /// The line of the inner BEGIN marker.
        line: usize,
        /// The line of the BEGIN marker of the open region.
        open_line: usize,
    },
    /// A marker that is not on a line of its own directly in the body of a subnet.
    #[error(
        "line {line}: a xenfab marker must stand on a line of its own, between statements, directly in the body of a subnet declaration"
    )]
    MisplacedMarker {
        /// The line of the marker.
        line: usize,
    },
    /// Two managed regions in one subnet.
    #[error(
        "line {line}: second xenfab managed region in the subnet of line {subnet_line}: the first begins on line {first_line}"
    )]
    TwoRegions {
        /// The line of the second BEGIN marker.
        line: usize,
        /// The line of the first BEGIN marker.
        first_line: usize,
        /// The line of the `subnet` keyword.
        subnet_line: usize,
    },
    /// The rendered hosts of a subnet would break the file's structure.
    #[error("hosts for subnet {subnet}: {reason}")]
    InvalidHosts {
        /// The subnet.
        subnet: Ipv4Net,
        /// What is wrong.
        reason: &'static str,
    },
    /// Declarations of the file that dhcpd would refuse, or that would give a fabric host a
    /// wrong lease, next to the fabric's hosts ([`OnConflict::Refuse`]). Every one is listed,
    /// warnings among them.
    #[error("{}", conflict_list(.0))]
    Conflicts(Vec<Conflict>),
    /// The edited text does not read back as it should (a bug in xenfab).
    #[error("the edited file does not read back (a bug in xenfab): {reason}")]
    ReadBack {
        /// What is wrong with it.
        reason: String,
    },
}

fn conflict_list(conflicts: &[Conflict]) -> String {
    let fatal: Vec<String> = conflicts
        .iter()
        .filter(|c| c.is_fatal())
        .map(|c| format!("line {}: {c}", c.line))
        .collect();
    format!(
        "{} host declaration(s) conflict with the fabric's hosts: {}",
        fatal.len(),
        fatal.join("; ")
    )
}

/// Hostile or long text, cut short and escaped for a message.
fn shown(text: &str) -> String {
    let short: String = text.chars().take(64).collect();
    let more = if short.len() < text.len() { "…" } else { "" };
    format!("{}{more}", short.escape_debug())
}

/// Insert or replace the managed host region of each subnet in `subnets` in the dhcpd.conf
/// `text`, keeping the rest of the file byte for byte; [`edit_with`] with
/// [`OnConflict::Refuse`].
///
/// Managed regions of subnets not in `subnets` are left untouched. Each subnet of `subnets`
/// must be declared exactly once in `text`; its region is replaced, or inserted before the
/// subnet's closing `}` with the indentation of the subnet's first statement line.
pub fn edit(text: &str, subnets: &[SubnetHosts]) -> Result<Edited, EditError> {
    edit_with(text, subnets, OnConflict::Refuse)
}

/// [`edit`], with a choice for the declarations of the file that conflict with the hosts of
/// `subnets` (see the [module docs](self)): refuse them, or cut them out of the file.
pub fn edit_with(
    text: &str,
    subnets: &[SubnetHosts],
    on_conflict: OnConflict,
) -> Result<Edited, EditError> {
    let mut managed: Vec<Managed> = Vec::new();
    for (i, wanted) in subnets.iter().enumerate() {
        let net = wanted.subnet.trunc();
        if subnets[..i].iter().any(|s| s.subnet.trunc() == net) {
            return Err(EditError::DuplicateRequest { subnet: net });
        }
        managed.extend(managed_hosts(i, wanted)?);
    }
    let mut names: HashMap<&str, &Managed> = HashMap::new();
    for m in &managed {
        if names.insert(&m.name, m).is_some() {
            return Err(EditError::InvalidHosts {
                subnet: subnets[m.wanted].subnet.trunc(),
                reason: "two host declarations of one name",
            });
        }
    }

    let found = scan(text)?;
    let rewritten = match_subnets(&found, subnets)?;
    let decls = &found.subnets;
    let eol = if text.find('\n').is_some_and(|p| text[..p].ends_with('\r')) {
        "\r\n"
    } else {
        "\n"
    };

    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut notes = Vec::new();
    for (wanted, &idx) in subnets.iter().zip(&rewritten) {
        let net = wanted.subnet.trunc();
        let decl = &decls[idx];
        if let Some(region) = &decl.region {
            let indent = &text[region.indent.0..region.indent.1];
            let new = render_region(indent, &wanted.hosts, eol);
            let verb = if text[region.start..region.end] == new {
                "unchanged"
            } else {
                "replaced"
            };
            notes.push(format!(
                "subnet {net} (line {}): managed hosts {verb} (lines {}-{})",
                decl.line, region.begin_line, region.end_line
            ));
            edits.push((region.start, region.end, new));
        } else {
            if let Some(line) = decl.unfinished {
                return Err(EditError::Unfinished {
                    line,
                    subnet_line: decl.line,
                });
            }
            let indent = decl.body_indent.map_or_else(
                || format!("{}  ", &text[decl.indent.0..decl.indent.1]),
                |(a, b)| text[a..b].to_string(),
            );
            let new = render_region(&indent, &wanted.hosts, eol);
            let close_start = line_start(text, decl.close);
            if is_blank(&text[close_start..decl.close]) {
                edits.push((close_start, close_start, new));
            } else {
                // `… }` on one line: break the line before the `}`.
                let before = text[close_start..decl.close].trim_end_matches([' ', '\t']);
                let at = close_start + before.len();
                let decl_indent = &text[decl.indent.0..decl.indent.1];
                edits.push((at, decl.close, format!("{eol}{new}{decl_indent}")));
            }
            notes.push(format!(
                "subnet {net} (line {}): managed hosts inserted before line {}",
                decl.line, decl.close_line
            ));
        }
    }
    let foreign = decls
        .iter()
        .enumerate()
        .filter(|(i, _)| !rewritten.contains(i))
        .filter_map(|(_, d)| d.region.as_ref().map(|r| (d, r)));
    for (decl, region) in foreign {
        notes.push(format!(
            "subnet {} (line {}): managed hosts (lines {}-{}) left untouched: the fabric does not manage this subnet",
            decl.net, decl.line, region.begin_line, region.end_line
        ));
    }

    let (hosts, mut conflicts): (Vec<usize>, Vec<Conflict>) =
        find_conflicts(&found, &rewritten, &managed)
            .into_iter()
            .unzip();
    if conflicts.iter().any(Conflict::is_fatal) {
        if on_conflict == OnConflict::Refuse {
            return Err(EditError::Conflicts(conflicts));
        }
        let mut cut: Vec<usize> = Vec::new();
        for (c, &host) in conflicts.iter_mut().zip(&hosts) {
            if c.is_fatal() {
                c.removed = true;
                if !cut.contains(&host) {
                    cut.push(host);
                    let (start, end) = removal(text, &found.hosts[host]);
                    edits.push((start, end, String::new()));
                }
            }
        }
    }

    edits.sort_by_key(|e| (e.0, e.1));
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.2.len()).sum::<usize>());
    let mut pos = 0;
    for (start, end, new) in &edits {
        // Regions, closing braces and host declarations outside the regions never overlap;
        // a declaration inside a removed one goes with it.
        if *start < pos {
            continue;
        }
        out.push_str(&text[pos..*start]);
        out.push_str(new);
        pos = *end;
    }
    out.push_str(&text[pos..]);
    if conflicts.iter().any(|c| c.removed) {
        read_back(&out, subnets, &managed).map_err(|reason| EditError::ReadBack { reason })?;
    }
    Ok(Edited {
        text: out,
        notes,
        conflicts,
    })
}

/// After declarations were cut out: the edited text reads, and nothing in it conflicts with
/// the fabric's hosts any more.
fn read_back(out: &str, subnets: &[SubnetHosts], managed: &[Managed]) -> Result<(), String> {
    let found = scan(out).map_err(|e| e.to_string())?;
    let rewritten = match_subnets(&found, subnets).map_err(|e| e.to_string())?;
    if let Some(&idx) = rewritten
        .iter()
        .find(|&&i| found.subnets[i].region.is_none())
    {
        return Err(format!(
            "subnet {} has no managed region",
            found.subnets[idx].net
        ));
    }
    match find_conflicts(&found, &rewritten, managed)
        .iter()
        .map(|(_, c)| c)
        .find(|c| c.is_fatal())
    {
        Some(c) => Err(format!("line {}: {c}", c.line)),
        None => Ok(()),
    }
}

/// The index in `found.subnets` of the declaration of each subnet of `subnets`.
fn match_subnets(found: &Scan, subnets: &[SubnetHosts]) -> Result<Vec<usize>, EditError> {
    subnets
        .iter()
        .map(|wanted| {
            let net = wanted.subnet.trunc();
            let mut matching = found
                .subnets
                .iter()
                .enumerate()
                .filter(|(_, d)| d.net == net);
            let Some((idx, decl)) = matching.next() else {
                return Err(EditError::MissingSubnet { subnet: net });
            };
            if let Some((_, other)) = matching.next() {
                return Err(EditError::DuplicateSubnet {
                    subnet: net,
                    first_line: decl.line,
                    line: other.line,
                });
            }
            Ok(idx)
        })
        .collect()
}

/// A host declaration xenfab puts into the file, with what identifies it.
#[derive(Debug)]
struct Managed {
    /// The index of its subnet in the request.
    wanted: usize,
    name: String,
    origin: String,
    macs: Vec<Vec<u8>>,
    addresses: Vec<Ipv4Addr>,
    /// Its declaration name and `host-name` values, in ASCII lower case, without a final dot.
    dns_names: Vec<String>,
}

/// The host declarations of one subnet of the request.
fn managed_hosts(wanted: usize, hosts: &SubnetHosts) -> Result<Vec<Managed>, EditError> {
    let net = hosts.subnet.trunc();
    check_hosts(net, &hosts.hosts)?;
    let invalid = |reason| EditError::InvalidHosts {
        subnet: net,
        reason,
    };
    let found = scan(&hosts.hosts).map_err(|_| invalid("not host declarations xenfab can read"))?;
    if !found.subnets.is_empty() {
        return Err(invalid("holds a subnet declaration"));
    }
    Ok(found
        .hosts
        .into_iter()
        .enumerate()
        .map(|(i, h)| Managed {
            wanted,
            origin: hosts
                .origins
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("host `{}`", shown(&h.name))),
            dns_names: std::iter::once(&h.name)
                .chain(&h.host_names)
                .map(|n| dns_name(n))
                .collect(),
            macs: h.macs,
            addresses: h
                .fixed
                .iter()
                .filter_map(|f| match f {
                    Fixed::Addr(a) => Some(*a),
                    Fixed::Name(_) => None,
                })
                .collect(),
            name: h.name,
        })
        .collect())
}

/// A DNS name for comparison: ASCII lower case, without a final dot.
fn dns_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Every host declaration of the file (its index in `found.hosts`), outside the regions being
/// rewritten, that shares a name, MAC or address with a host of `managed`; in file order.
fn find_conflicts(
    found: &Scan,
    rewritten: &[usize],
    managed: &[Managed],
) -> Vec<(usize, Conflict)> {
    let mut by_dns: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_mac: HashMap<&[u8], Vec<usize>> = HashMap::new();
    let mut by_addr: HashMap<Ipv4Addr, Vec<usize>> = HashMap::new();
    for (i, m) in managed.iter().enumerate() {
        for n in &m.dns_names {
            by_dns.entry(n).or_default().push(i);
        }
        for mac in &m.macs {
            by_mac.entry(mac).or_default().push(i);
        }
        for a in &m.addresses {
            by_addr.entry(*a).or_default().push(i);
        }
    }
    // The subnet declaration of an address, and whether two subnets share a network.
    let subnet_of = |a: Ipv4Addr| {
        found
            .subnets
            .iter()
            .position(|d| d.net.trunc().contains(&a))
    };
    let same_network = |a: usize, b: usize| {
        a == b
            || found.subnets[a].shared.is_some()
                && found.subnets[a].shared == found.subnets[b].shared
    };

    let mut conflicts = Vec::new();
    for (index, host) in found.hosts.iter().enumerate() {
        if host.region.is_some_and(|r| rewritten.contains(&r)) {
            continue;
        }
        let names: Vec<String> = std::iter::once(&host.name)
            .chain(&host.host_names)
            .chain(host.fixed.iter().filter_map(|f| match f {
                Fixed::Name(n) => Some(n),
                Fixed::Addr(_) => None,
            }))
            .map(|n| dns_name(n))
            .collect();
        let mut candidates: Vec<usize> = names
            .iter()
            .filter_map(|n| by_dns.get(n.as_str()))
            .chain(host.macs.iter().filter_map(|m| by_mac.get(m.as_slice())))
            .chain(host.fixed.iter().filter_map(|f| match f {
                Fixed::Addr(a) => by_addr.get(a),
                Fixed::Name(_) => None,
            }))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        for i in candidates {
            let m = &managed[i];
            let m_subnet = rewritten[m.wanted];
            let mut shared = Vec::new();
            if host.name == m.name {
                shared.push(Shared::Name);
            } else if host.name.eq_ignore_ascii_case(&m.name) {
                shared.push(Shared::NameCase);
            }
            if host.macs.iter().any(|mac| m.macs.contains(mac)) {
                let fatal = host.fixed.iter().any(|f| match f {
                    Fixed::Name(_) => true,
                    Fixed::Addr(a) => subnet_of(*a).is_some_and(|s| same_network(s, m_subnet)),
                });
                shared.push(Shared::Mac { fatal });
            }
            for f in &host.fixed {
                match f {
                    Fixed::Addr(a) if m.addresses.contains(a) => shared.push(Shared::Address),
                    Fixed::Name(n) if m.dns_names.contains(&dns_name(n)) => {
                        shared.push(Shared::AddressName(n.clone()));
                    }
                    _ => {}
                }
            }
            for n in &host.host_names {
                if m.dns_names.contains(&dns_name(n)) {
                    shared.push(Shared::HostName(n.clone()));
                }
            }
            shared.dedup();
            if shared.is_empty() {
                continue;
            }
            conflicts.push((
                index,
                Conflict {
                    line: host.line,
                    end_line: host.close_line,
                    name: host.name.clone(),
                    region: host.region.and_then(|r| {
                        found.subnets[r]
                            .region
                            .as_ref()
                            .map(|g| (g.begin_line, g.end_line))
                    }),
                    host: m.name.clone(),
                    origin: m.origin.clone(),
                    mac: m.macs.first().map(|o| mac_text(o)).unwrap_or_default(),
                    address: m
                        .addresses
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    shared,
                    removed: false,
                },
            ));
        }
    }
    conflicts
}

fn mac_text(octets: &[u8]) -> String {
    octets
        .iter()
        .map(|o| format!("{o:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The bytes that go with a declaration cut out of the file: from its `host` keyword to its
/// `}`; whole lines (the blanks before it, a comment after it, the newline) when nothing else
/// stands on them, else only the declaration (and a comment after it, up to the newline).
fn removal(text: &str, host: &HostDecl) -> (usize, usize) {
    let ls = line_start(text, host.start);
    let after = host.close + 1;
    let eol = text[after..].find('\n').map_or(text.len(), |p| after + p);
    let eol = if eol > after && text.as_bytes()[eol - 1] == b'\r' {
        eol - 1
    } else {
        eol
    };
    let tail = text[after..eol].trim_start_matches([' ', '\t']);
    let rest_of_line_goes = tail.is_empty() || tail.starts_with('#');
    match (is_blank(&text[ls..host.start]), rest_of_line_goes) {
        (true, true) => (ls, line_end(text, after)),
        (false, true) => (host.start, eol),
        (_, false) => (host.start, after),
    }
}

/// The lines of a region: markers and hosts, indented by `indent`, ending in `eol`.
fn render_region(indent: &str, hosts: &str, eol: &str) -> String {
    let mut out = String::new();
    out.push_str(indent);
    out.push_str(BEGIN_MARKER);
    out.push_str(eol);
    for line in hosts.lines() {
        if !is_blank(line) {
            out.push_str(indent);
            out.push_str(line);
        }
        out.push_str(eol);
    }
    out.push_str(indent);
    out.push_str(END_MARKER);
    out.push_str(eol);
    out
}

/// The hosts text must not break the structure of the file it goes into.
fn check_hosts(subnet: Ipv4Net, hosts: &str) -> Result<(), EditError> {
    let invalid = |reason| EditError::InvalidHosts { subnet, reason };
    let tokens = tokenize(hosts).map_err(|_| invalid("string is not terminated"))?;
    let mut depth = 0usize;
    for tok in &tokens {
        match tok.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| invalid("`}` closes nothing"))?;
            }
            Kind::Comment if marker(&hosts[tok.start..tok.end]).is_some() => {
                return Err(invalid("contains a xenfab marker"));
            }
            _ => {}
        }
    }
    if depth == 0 {
        Ok(())
    } else {
        Err(invalid("`{` is never closed"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Word,
    Str,
    Open,
    Close,
    Semi,
    Comment,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    /// Byte range in the text; a comment ends before its `\r\n` or `\n`.
    start: usize,
    end: usize,
    /// 1-based line of the first byte.
    line: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, EditError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let start = i;
        let kind = match b {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            b'#' => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
                let end = if i > start && bytes.get(i - 1) == Some(&b'\r') {
                    i - 1
                } else {
                    i
                };
                tokens.push(Token {
                    kind: Kind::Comment,
                    start,
                    end,
                    line,
                });
                continue;
            }
            b'"' => {
                let first_line = line;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err(EditError::UnterminatedString { line: first_line }),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            if bytes.get(i + 1) == Some(&b'\n') {
                                line += 1;
                            }
                            i += 1;
                        }
                        Some(b'\n') => line += 1,
                        Some(_) => {}
                    }
                    i += 1;
                }
                i += 1;
                tokens.push(Token {
                    kind: Kind::Str,
                    start,
                    end: i.min(bytes.len()),
                    line: first_line,
                });
                continue;
            }
            b'{' => Kind::Open,
            b'}' => Kind::Close,
            b';' => Kind::Semi,
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => {
                while bytes
                    .get(i)
                    .is_some_and(|&c| !c.is_ascii_whitespace() && !b"#\"{};".contains(&c))
                {
                    i += 1;
                }
                tokens.push(Token {
                    kind: Kind::Word,
                    start,
                    end: i,
                    line,
                });
                continue;
            }
        };
        i += 1;
        tokens.push(Token {
            kind,
            start,
            end: i,
            line,
        });
    }
    Ok(tokens)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    Begin,
    End,
}

/// Whether the comment `text` (starting with `#`) is a BEGIN or END marker.
fn marker(text: &str) -> Option<Marker> {
    let body = text.trim_start_matches('#').trim_start();
    if body.starts_with(BEGIN_KEY) {
        Some(Marker::Begin)
    } else if body.starts_with(END_KEY) {
        Some(Marker::End)
    } else {
        None
    }
}

/// A `subnet` declaration found in the file.
#[derive(Debug)]
struct SubnetDecl {
    /// The declared network (its address may carry host bits, then it matches nothing).
    net: Ipv4Net,
    /// The line of the `subnet` keyword.
    line: usize,
    /// The indentation of the line of the `subnet` keyword (byte range).
    indent: (usize, usize),
    /// The indentation of the first statement line of the body (byte range).
    body_indent: Option<(usize, usize)>,
    /// The byte offset of the closing `}` and its line.
    close: usize,
    close_line: usize,
    region: Option<Region>,
    /// The `shared-network` declaration it stands in (an index of them in file order).
    shared: Option<usize>,
    /// The line of a statement left without its `;` before the closing `}`.
    unfinished: Option<usize>,
}

/// An existing managed region.
#[derive(Debug)]
struct Region {
    begin_line: usize,
    end_line: usize,
    /// From the start of the BEGIN line to the end of the END line, its newline included.
    start: usize,
    end: usize,
    /// The indentation of the BEGIN line (byte range).
    indent: (usize, usize),
}

/// A `host NAME { … }` declaration found in the file, with what identifies it to dhcpd.
#[derive(Debug)]
struct HostDecl {
    /// The name as dhcpd reads it: the words between `host` and `{`, without the blanks and
    /// comments between them (dhcpd's lexer makes `a . b` the name `a.b`).
    name: String,
    /// The line and byte offset of the `host` keyword.
    line: usize,
    start: usize,
    /// The line and byte offset of the closing `}`.
    close_line: usize,
    close: usize,
    /// `hardware ethernet` addresses, as octets (`0:16:3e:…` and `00:16:3E:…` are one).
    macs: Vec<Vec<u8>>,
    /// The entries of `fixed-address` lists.
    fixed: Vec<Fixed>,
    /// The values of `option host-name "…"` (and `supersede`/`default`/… `host-name`).
    host_names: Vec<String>,
    /// The subnet (index in the scan) whose managed region holds the declaration.
    region: Option<usize>,
}

/// An entry of a `fixed-address` list: an address, or a name dhcpd resolves through DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fixed {
    Addr(Ipv4Addr),
    Name(String),
}

/// What the scanner finds in a file.
#[derive(Debug, Default)]
struct Scan {
    subnets: Vec<SubnetDecl>,
    hosts: Vec<HostDecl>,
}

/// An open region while scanning.
struct OpenRegion {
    subnet: usize,
    depth: usize,
    line: usize,
    start: usize,
    indent: (usize, usize),
}

#[derive(Clone, Copy)]
enum Frame {
    Subnet(usize),
    SharedNetwork(usize),
    Host(usize),
    Other,
}

/// Find every subnet declaration, its closing brace and its managed region, and every host
/// declaration; check braces and markers.
fn scan(text: &str) -> Result<Scan, EditError> {
    let tokens = tokenize(text)?;
    let mut found = Scan::default();
    let mut shared_networks = 0usize;
    let mut stack: Vec<(Frame, usize)> = Vec::new();
    let mut stmt: Vec<Token> = Vec::new();
    let mut open: Option<OpenRegion> = None;

    for tok in tokens {
        match tok.kind {
            Kind::Comment => {
                let Some(m) = marker(&text[tok.start..tok.end]) else {
                    continue;
                };
                let ls = line_start(text, tok.start);
                let placed = stmt.is_empty() && is_blank(&text[ls..tok.start]);
                let decls = &mut found.subnets;
                match m {
                    Marker::Begin => {
                        if let Some(o) = &open {
                            return Err(EditError::NestedRegion {
                                line: tok.line,
                                open_line: o.line,
                            });
                        }
                        let Some(&(Frame::Subnet(idx), _)) = stack.last() else {
                            return Err(EditError::MisplacedMarker { line: tok.line });
                        };
                        if !placed {
                            return Err(EditError::MisplacedMarker { line: tok.line });
                        }
                        if let Some(first) = &decls[idx].region {
                            return Err(EditError::TwoRegions {
                                line: tok.line,
                                first_line: first.begin_line,
                                subnet_line: decls[idx].line,
                            });
                        }
                        open = Some(OpenRegion {
                            subnet: idx,
                            depth: stack.len(),
                            line: tok.line,
                            start: ls,
                            indent: (ls, tok.start),
                        });
                    }
                    Marker::End => {
                        let Some(o) = open.take() else {
                            return Err(EditError::EndWithoutBegin { line: tok.line });
                        };
                        if !placed || o.depth != stack.len() {
                            return Err(EditError::MisplacedMarker { line: tok.line });
                        }
                        decls[o.subnet].region = Some(Region {
                            begin_line: o.line,
                            end_line: tok.line,
                            start: o.start,
                            end: line_end(text, tok.end),
                            indent: o.indent,
                        });
                    }
                }
            }
            Kind::Word | Kind::Str => {
                // The first statement line of a subnet's body sets the indentation of its hosts.
                if let (true, Some(&(Frame::Subnet(idx), _))) = (stmt.is_empty(), stack.last()) {
                    let ls = line_start(text, tok.start);
                    let decl = &mut found.subnets[idx];
                    if decl.body_indent.is_none() && is_blank(&text[ls..tok.start]) {
                        decl.body_indent = Some((ls, tok.start));
                    }
                }
                stmt.push(tok);
            }
            Kind::Semi => {
                let host = stack.iter().rev().find_map(|(f, _)| match f {
                    Frame::Host(i) => Some(*i),
                    _ => None,
                });
                if let Some(idx) = host {
                    host_statement(text, &stmt, &mut found.hosts[idx]);
                }
                stmt.clear();
            }
            Kind::Open => {
                let word = |i: usize| {
                    stmt.get(i)
                        .filter(|t| t.kind == Kind::Word)
                        .map(|t| &text[t.start..t.end])
                };
                let frame = if let Some(net) = subnet_statement(text, &stmt)? {
                    let decls = &mut found.subnets;
                    let keyword = stmt[0];
                    if let Some(&outer) = stack.iter().find_map(|(f, _)| match f {
                        Frame::Subnet(i) => Some(i),
                        _ => None,
                    }) {
                        return Err(EditError::NestedSubnet {
                            line: keyword.line,
                            outer_line: decls[outer].line,
                        });
                    }
                    let ls = line_start(text, keyword.start);
                    let indent_end =
                        ls + text[ls..].len() - text[ls..].trim_start_matches([' ', '\t']).len();
                    let shared = stack.iter().rev().find_map(|(f, _)| match f {
                        Frame::SharedNetwork(i) => Some(*i),
                        _ => None,
                    });
                    decls.push(SubnetDecl {
                        net,
                        line: keyword.line,
                        indent: (ls, indent_end.min(keyword.start)),
                        body_indent: None,
                        close: tok.start,
                        close_line: tok.line,
                        region: None,
                        shared,
                        unfinished: None,
                    });
                    Frame::Subnet(decls.len() - 1)
                } else if word(0).is_some_and(|w| w.eq_ignore_ascii_case("shared-network")) {
                    shared_networks += 1;
                    Frame::SharedNetwork(shared_networks - 1)
                } else if word(0).is_some_and(|w| w.eq_ignore_ascii_case("host")) && stmt.len() > 1
                {
                    let keyword = stmt[0];
                    found.hosts.push(HostDecl {
                        name: stmt[1..].iter().map(|t| &text[t.start..t.end]).collect(),
                        line: keyword.line,
                        start: keyword.start,
                        close_line: tok.line,
                        close: tok.start,
                        macs: Vec::new(),
                        fixed: Vec::new(),
                        host_names: Vec::new(),
                        region: open.as_ref().map(|o| o.subnet),
                    });
                    Frame::Host(found.hosts.len() - 1)
                } else {
                    Frame::Other
                };
                stack.push((frame, tok.line));
                stmt.clear();
            }
            Kind::Close => {
                if let Some(o) = open.as_ref().filter(|o| stack.len() <= o.depth) {
                    return Err(EditError::UnterminatedRegion { line: o.line });
                }
                let Some((frame, _)) = stack.pop() else {
                    return Err(EditError::UnexpectedClose { line: tok.line });
                };
                match frame {
                    Frame::Subnet(idx) => {
                        let decl = &mut found.subnets[idx];
                        decl.close = tok.start;
                        decl.close_line = tok.line;
                        decl.unfinished = stmt.first().map(|t| t.line);
                    }
                    Frame::Host(idx) => {
                        found.hosts[idx].close = tok.start;
                        found.hosts[idx].close_line = tok.line;
                    }
                    Frame::SharedNetwork(_) | Frame::Other => {}
                }
                stmt.clear();
            }
        }
    }
    if let Some(o) = open {
        return Err(EditError::UnterminatedRegion { line: o.line });
    }
    if let Some(&(_, line)) = stack.last() {
        return Err(EditError::Unclosed { line });
    }
    Ok(found)
}

/// Reads what identifies a host from one statement of its body: `hardware ethernet`,
/// `fixed-address` and the `host-name` option. Statements dhcpd would refuse are skipped
/// (`dhcpd -t` has the last word on them).
fn host_statement(text: &str, stmt: &[Token], host: &mut HostDecl) {
    let words: Vec<&str> = stmt.iter().map(|t| &text[t.start..t.end]).collect();
    let Some((first, rest)) = words.split_first() else {
        return;
    };
    if first.eq_ignore_ascii_case("hardware") {
        // `hardware ethernet 0:16:3e:a8:60:2b;`: hex octets, separated by `:` (dhcpd's lexer
        // allows blanks around the colons: common/parse.c `parse_hardware_param`).
        if let Some((kind, octets)) = rest.split_first() {
            if kind.eq_ignore_ascii_case("ethernet") {
                host.macs.extend(hex_octets(&octets.concat()));
            }
        }
    } else if first.eq_ignore_ascii_case("fixed-address") {
        // `fixed-address 10.0.0.5, node5.example.org;`: addresses or names, separated by
        // commas (server/confpars.c `parse_fixed_addr_param`).
        for entry in rest.concat().split(',').filter(|e| !e.is_empty()) {
            host.fixed.push(
                dotted_quad(entry).map_or_else(|| Fixed::Name(entry.to_owned()), Fixed::Addr),
            );
        }
    } else if matches!(
        first.to_ascii_lowercase().as_str(),
        "option" | "supersede" | "default" | "prepend" | "append"
    ) {
        if let [option, value] = rest {
            let quoted = value.strip_prefix('"').and_then(|v| v.strip_suffix('"'));
            if let (true, Some(name)) = (option.eq_ignore_ascii_case("host-name"), quoted) {
                host.host_names.push(name.to_owned());
            }
        }
    }
}

/// `00:16:3e:a8:60:2b` as octets; dhcpd reads each part as a hex number of at most 8 bits
/// (common/parse.c `parse_numeric_aggregate`, base 16, size 8).
fn hex_octets(text: &str) -> Option<Vec<u8>> {
    text.split(':')
        .map(|part| {
            if part.is_empty() || part.len() > 8 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u8::try_from(u32::from_str_radix(part, 16).ok()?).ok()
        })
        .collect()
}

/// An IPv4 address as dhcpd reads one: four decimal numbers of at most 8 bits, leading zeros
/// allowed (common/parse.c `parse_ip_addr_or_hostname`, `parse_numeric_aggregate` base 10),
/// which `Ipv4Addr`'s parser refuses.
fn dotted_quad(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    let [a, b, c, d] = parts.as_slice() else {
        return None;
    };
    let octet = |p: &str| {
        if p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        u8::try_from(p.parse::<u32>().ok()?).ok()
    };
    Some(Ipv4Addr::new(octet(a)?, octet(b)?, octet(c)?, octet(d)?))
}

/// The network of `subnet A.B.C.D netmask M.M.M.M` (the statement before a `{`), `None` for
/// any other statement.
fn subnet_statement(text: &str, stmt: &[Token]) -> Result<Option<Ipv4Net>, EditError> {
    let word = |t: &Token| (t.kind == Kind::Word).then(|| &text[t.start..t.end]);
    let Some(first) = stmt.first() else {
        return Ok(None);
    };
    if !word(first).is_some_and(|w| w.eq_ignore_ascii_case("subnet")) {
        return Ok(None);
    }
    let malformed = EditError::MalformedSubnet { line: first.line };
    let [_, addr, netmask, mask] = stmt else {
        return Err(malformed);
    };
    if !word(netmask).is_some_and(|w| w.eq_ignore_ascii_case("netmask")) {
        return Err(malformed);
    }
    let parse = |t: &Token| word(t).and_then(|w| w.parse::<Ipv4Addr>().ok());
    let (Some(addr), Some(mask)) = (parse(addr), parse(mask)) else {
        return Err(malformed);
    };
    Ipv4Net::with_netmask(addr, mask)
        .map(Some)
        .map_err(|_| malformed)
}

/// The byte offset of the start of the line holding `pos`.
fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |p| p + 1)
}

/// The byte offset just past the newline ending the line holding `pos` (or the text's end).
fn line_end(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |p| pos + p + 1)
}

fn is_blank(s: &str) -> bool {
    s.bytes().all(|b| b == b' ' || b == b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    const AII: &str = include_str!("../../../../tests/fixtures/dhcpd/aii-example.conf");
    const DEBIAN: &str = include_str!("../../../../tests/fixtures/dhcpd/debian.conf");
    const MANAGED: &str = include_str!("../../../../tests/fixtures/dhcpd/managed.conf");
    const COMPACT: &str = include_str!("../../../../tests/fixtures/dhcpd/compact.conf");

    /// A host block as the DHCP renderer writes it, with the seed's MAC scheme.
    fn host(name: &str, ip: &str, next_server: &str) -> String {
        let ip: Ipv4Addr = ip.parse().unwrap();
        let [_, b, c, d] = ip.octets();
        let short = name.split('.').next().unwrap();
        format!(
            "host {name} {{\n  hardware ethernet 00:16:3e:{b:02x}:{c:02x}:{d:02x};\n  \
             fixed-address {ip};\n  option host-name \"{short}\";\n  \
             next-server {next_server};\n  filename \"pxelinux.0\";\n}}\n"
        )
    }

    fn hosts(net: &str, list: &[(&str, &str)], next_server: &str) -> SubnetHosts {
        SubnetHosts {
            subnet: net.parse().unwrap(),
            hosts: list
                .iter()
                .map(|(n, ip)| host(n, ip, next_server))
                .collect(),
            origins: Vec::new(),
        }
    }

    fn aii_input() -> Vec<SubnetHosts> {
        vec![hosts(
            "192.168.1.0/24",
            &[
                ("node01.my.domain.org", "192.168.1.11"),
                ("node02.my.domain.org", "192.168.1.12"),
            ],
            "192.168.1.1",
        )]
    }

    fn debian_input() -> Vec<SubnetHosts> {
        vec![
            hosts(
                "192.168.96.0/24",
                &[
                    ("ullr.example.org", "192.168.96.43"),
                    ("vali.example.org", "192.168.96.44"),
                ],
                "192.168.96.1",
            ),
            hosts(
                "10.1.0.0/16",
                &[("xen01-mgmt.example.org", "10.1.0.11")],
                "10.1.0.1",
            ),
        ]
    }

    fn managed_input() -> Vec<SubnetHosts> {
        vec![
            hosts(
                "192.168.96.0/24",
                &[
                    ("ullr.example.org", "192.168.96.43"),
                    ("heimdall.example.org", "192.168.96.45"),
                ],
                "192.168.96.1",
            ),
            SubnetHosts {
                subnet: "10.1.0.0/16".parse().unwrap(),
                hosts: String::new(),
                origins: Vec::new(),
            },
        ]
    }

    fn compact_input() -> Vec<SubnetHosts> {
        vec![
            hosts(
                "10.20.0.0/24",
                &[("bragi.example.org", "10.20.0.45")],
                "10.20.0.1",
            ),
            hosts(
                "172.16.8.0/22",
                &[("freyr.example.org", "172.16.9.5")],
                "172.16.8.1",
            ),
        ]
    }

    fn cases() -> Vec<(&'static str, &'static str, Vec<SubnetHosts>)> {
        vec![
            ("aii-example.conf", AII, aii_input()),
            ("debian.conf", DEBIAN, debian_input()),
            ("managed.conf", MANAGED, managed_input()),
            ("compact.conf", COMPACT, compact_input()),
        ]
    }

    /// The text with every managed region (marker lines included) cut out.
    fn strip_regions(text: &str) -> String {
        let mut out = String::new();
        let mut inside = false;
        for line in text.split_inclusive('\n') {
            match marker(line.trim()) {
                Some(Marker::Begin) => inside = true,
                Some(Marker::End) => inside = false,
                None if !inside => out.push_str(line),
                None => {}
            }
        }
        out
    }

    fn region_of(text: &str, subnet_line: &str) -> String {
        let at = text.find(subnet_line).unwrap();
        let rest = &text[at..];
        let begin = rest.find(BEGIN_MARKER).unwrap();
        let end = rest.find(END_MARKER).unwrap();
        rest[begin..end].to_string()
    }

    #[test]
    fn inserts_into_the_aii_example_and_only_adds_lines() {
        let edited = edit(AII, &aii_input()).unwrap();
        assert_eq!(strip_regions(&edited.text), AII);
        let expected = "    option domain-name-servers 192.168.1.1;\n\n    \
            # BEGIN xenfab managed hosts (do not edit: rendered from the fabric file)\n    \
            host node01.my.domain.org {\n      hardware ethernet 00:16:3e:a8:01:0b;\n";
        assert!(edited.text.contains(expected), "{}", edited.text);
        assert!(edited.text.contains(
            "      filename \"pxelinux.0\";\n    }\n    # END xenfab managed hosts\n  }\n"
        ));
        assert_eq!(
            edited.notes,
            ["subnet 192.168.1.0/24 (line 34): managed hosts inserted before line 38"]
        );
    }

    #[test]
    fn inserts_into_the_debian_file_inside_shared_network_and_after_a_pool() {
        let edited = edit(DEBIAN, &debian_input()).unwrap();
        assert_eq!(strip_regions(&edited.text), DEBIAN);
        let t = &edited.text;
        let install = region_of(t, "  subnet 192.168.96.0 netmask");
        assert!(install.contains(
            "\n    host ullr.example.org {\n      hardware ethernet 00:16:3e:a8:60:2b;\n"
        ));
        assert!(install.contains("    host vali.example.org {"));
        let storage = t.find("subnet 192.168.97.0").unwrap();
        assert!(t.find("host vali").unwrap() < storage);
        let mgmt = region_of(t, "\nsubnet 10.1.0.0 netmask");
        assert!(mgmt.contains("\n  host xen01-mgmt.example.org {\n"));
        assert!(t.contains("    range 10.1.200.10 10.1.200.250;\n  }\n  # BEGIN xenfab"));
        assert_eq!(t.matches(BEGIN_MARKER).count(), 2);
    }

    #[test]
    fn inserts_into_one_line_subnets_and_keeps_a_missing_final_newline() {
        let edited = edit(COMPACT, &compact_input()).unwrap();
        let t = &edited.text;
        assert!(!t.ends_with('\n'));
        assert!(t.contains(
            "subnet 10.20.0.0 netmask 255.255.255.0 { option routers 10.20.0.1;\n  \
             # BEGIN xenfab managed hosts (do not edit: rendered from the fabric file)\n  \
             host bragi.example.org {\n"
        ));
        assert!(t.contains("  # END xenfab managed hosts\n}\nSUBNET\t# the lab"));
        assert!(t.contains("\trange 172.16.9.10 172.16.9.200;\n\t# BEGIN xenfab managed hosts"));
        assert!(t.ends_with("\thost freyr.example.org {\n\t  hardware ethernet 00:16:3e:10:09:05;\n\t  fixed-address 172.16.9.5;\n\t  option host-name \"freyr\";\n\t  next-server 172.16.8.1;\n\t  filename \"pxelinux.0\";\n\t}\n\t# END xenfab managed hosts\n}"));
    }

    #[test]
    fn replaces_an_existing_region() {
        let edited = edit(MANAGED, &managed_input()).unwrap();
        let t = &edited.text;
        let install = region_of(t, "subnet 192.168.96.0");
        assert!(install.contains("  host ullr.example.org {"));
        assert!(
            install.contains(
                "  host heimdall.example.org {\n    hardware ethernet 00:16:3e:a8:60:2d;"
            )
        );
        assert!(!t.contains("loki"));
        assert_eq!(t.matches(BEGIN_MARKER).count(), 3);
        // what surrounds the region is kept
        assert!(t.contains("  filename \"pxelinux.0\";\n\n  # BEGIN xenfab"));
        assert!(
            t.contains("  # END xenfab managed hosts\n\n  # a hand-kept host after the region")
        );
        assert_eq!(strip_regions(t), strip_regions(MANAGED));
        assert_eq!(
            edited.notes[0],
            "subnet 192.168.96.0/24 (line 12): managed hosts replaced (lines 18-33)"
        );
    }

    #[test]
    fn empty_hosts_keep_the_markers_with_nothing_between() {
        let edited = edit(MANAGED, &managed_input()).unwrap();
        assert!(edited.text.contains(
            "\toption routers 10.1.0.1;\n\t# BEGIN xenfab managed hosts (do not edit: rendered from the fabric file)\n\t# END xenfab managed hosts\n}\n"
        ));
        assert!(!edited.text.contains("xen01-mgmt"));

        let conf = "subnet 10.0.0.0 netmask 255.0.0.0 {\n}\n";
        let empty = SubnetHosts {
            subnet: "10.0.0.0/8".parse().unwrap(),
            hosts: String::new(),
            origins: Vec::new(),
        };
        let edited = edit(conf, &[empty]).unwrap();
        assert_eq!(
            edited.text,
            format!("subnet 10.0.0.0 netmask 255.0.0.0 {{\n  {BEGIN_MARKER}\n  {END_MARKER}\n}}\n")
        );
    }

    #[test]
    fn regions_of_other_subnets_stay_untouched() {
        let edited = edit(MANAGED, &managed_input()).unwrap();
        let foreign = &MANAGED[MANAGED.find("subnet 172.16.5.0").unwrap()..];
        assert!(edited.text.ends_with(foreign));
        assert_eq!(
            edited.notes[2],
            "subnet 172.16.5.0/24 (line 54): managed hosts (lines 56-61) left untouched: the fabric does not manage this subnet"
        );
        // with nothing to manage, nothing changes
        assert_eq!(edit(MANAGED, &[]).unwrap().text, MANAGED);
    }

    #[test]
    fn missing_subnet_names_the_declaration_to_add() {
        let wanted = hosts(
            "192.168.96.0/24",
            &[("ullr.example.org", "192.168.96.43")],
            "192.168.96.1",
        );
        let err = edit(AII, &[wanted]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dhcpd.conf declares no `subnet 192.168.96.0 netmask 255.255.255.0`: add it, with its routers and options, then run again"
        );
    }

    #[test]
    fn braces_and_subnet_in_comments_and_strings_are_not_structure() {
        // The aii example's commented-out `subnet ... {` is not a declaration.
        let wanted = SubnetHosts {
            subnet: "10.152.187.0/24".parse().unwrap(),
            hosts: String::new(),
            origins: Vec::new(),
        };
        assert_eq!(
            edit(DEBIAN, &[wanted]).unwrap_err(),
            EditError::MissingSubnet {
                subnet: "10.152.187.0/24".parse().unwrap()
            }
        );
        let conf = "# subnet 10.0.0.0 netmask 255.0.0.0 { }\n\
                    subnet 10.0.0.0 netmask 255.0.0.0 { # }\n  \
                    option root-path \"}}#{\\\"}\"; # subnet 10.0.0.0 netmask 255.0.0.0 {\n\
                    }\n";
        let wanted = hosts("10.0.0.0/8", &[("a.example.org", "10.0.0.5")], "10.0.0.1");
        let edited = edit(conf, &[wanted]).unwrap();
        assert!(edited.text.starts_with(
            "# subnet 10.0.0.0 netmask 255.0.0.0 { }\nsubnet 10.0.0.0 netmask 255.0.0.0 { # }\n  \
             option root-path \"}}#{\\\"}\"; # subnet 10.0.0.0 netmask 255.0.0.0 {\n  # BEGIN"
        ));
        assert!(edited.text.ends_with("  # END xenfab managed hosts\n}\n"));
    }

    #[test]
    fn crlf_files_stay_crlf() {
        for (name, text, input) in cases() {
            let crlf = text.replace('\n', "\r\n");
            let lf = edit(text, &input).unwrap();
            let edited = edit(&crlf, &input).unwrap();
            assert_eq!(edited.text, lf.text.replace('\n', "\r\n"), "{name}");
            assert_eq!(edited.notes, lf.notes, "{name}");
            assert_eq!(
                edit(&edited.text, &input).unwrap().text,
                edited.text,
                "{name}"
            );
        }
    }

    #[test]
    fn editing_twice_changes_nothing() {
        for (name, text, input) in cases() {
            let once = edit(text, &input).unwrap();
            let twice = edit(&once.text, &input).unwrap();
            assert_eq!(twice.text, once.text, "{name}");
            assert!(
                twice
                    .notes
                    .iter()
                    .all(|n| !n.contains("inserted") && !n.contains("replaced")),
                "{name}: {:?}",
                twice.notes
            );
        }
    }

    #[test]
    fn removing_the_inserted_regions_gives_the_input_back() {
        for (name, text, input) in cases() {
            if name == "managed.conf" {
                continue; // it had regions before
            }
            let edited = edit(text, &input).unwrap();
            if name == "compact.conf" {
                // one-line subnets are broken before their `}`
                assert_eq!(
                    strip_regions(&edited.text).replace("\n}", " }"),
                    text,
                    "{name}"
                );
            } else {
                assert_eq!(strip_regions(&edited.text), text, "{name}");
            }
        }
    }

    #[test]
    fn hosts_are_indented_like_the_first_statement() {
        let conf = "shared-network x {\n\tsubnet 10.0.0.0 netmask 255.0.0.0 {\n\t\t# routers\n\t\toption routers 10.0.0.1;\n\t}\n}\n";
        let wanted = SubnetHosts {
            subnet: "10.0.0.0/8".parse().unwrap(),
            hosts: "host a {\n  fixed-address 10.0.0.5;\n}\n\nhost b { fixed-address 10.0.0.6; }"
                .into(),
            origins: Vec::new(),
        };
        let edited = edit(conf, &[wanted]).unwrap();
        assert_eq!(
            edited.text,
            format!(
                "shared-network x {{\n\tsubnet 10.0.0.0 netmask 255.0.0.0 {{\n\t\t# routers\n\t\toption routers 10.0.0.1;\n\
                 \t\t{BEGIN_MARKER}\n\t\thost a {{\n\t\t  fixed-address 10.0.0.5;\n\t\t}}\n\n\
                 \t\thost b {{ fixed-address 10.0.0.6; }}\n\t\t{END_MARKER}\n\t}}\n}}\n"
            )
        );
    }

    fn err(conf: &str, net: &str) -> String {
        let wanted = SubnetHosts {
            subnet: net.parse().unwrap(),
            hosts: String::new(),
            origins: Vec::new(),
        };
        edit(conf, &[wanted]).unwrap_err().to_string()
    }

    #[test]
    fn errors_carry_their_line() {
        let s = "subnet 10.0.0.0 netmask 255.0.0.0 {\n";
        let net = "10.0.0.0/8";
        let cases = [
            (
                format!("{s}}}\n{s}}}\n"),
                "line 3: `subnet 10.0.0.0 netmask 255.0.0.0` is also declared on line 1: xenfab cannot tell which one to edit",
            ),
            (format!("{s}}}\n}}\n"), "line 3: `}` closes nothing"),
            (format!("group {{\n{s}}}\n"), "line 1: `{` is never closed"),
            (
                format!("{s}  option domain-name \"x;\n}}\n"),
                "line 2: string is not terminated",
            ),
            (
                format!("{s}  {BEGIN_MARKER}\n}}\n"),
                "line 2: `BEGIN xenfab managed hosts` has no matching `# END xenfab managed hosts` in its subnet",
            ),
            (
                format!("{s}  {BEGIN_MARKER}\n"),
                "line 2: `BEGIN xenfab managed hosts` has no matching `# END xenfab managed hosts` in its subnet",
            ),
            (
                format!("{s}  {END_MARKER}\n}}\n"),
                "line 2: `# END xenfab managed hosts` without a `BEGIN xenfab managed hosts` before it",
            ),
            (
                format!("{s}  {BEGIN_MARKER}\n  {BEGIN_MARKER}\n  {END_MARKER}\n}}\n"),
                "line 3: `BEGIN xenfab managed hosts` inside the managed region opened on line 2",
            ),
            (
                format!("{BEGIN_MARKER}\n{END_MARKER}\n{s}}}\n"),
                "line 1: a xenfab marker must stand on a line of its own, between statements, directly in the body of a subnet declaration",
            ),
            (
                format!("{s}  pool {{\n  {BEGIN_MARKER}\n  {END_MARKER}\n  }}\n}}\n"),
                "line 3: a xenfab marker must stand on a line of its own, between statements, directly in the body of a subnet declaration",
            ),
            (
                format!("{s}  {BEGIN_MARKER}\n  host a {{\n  {END_MARKER}\n  }}\n}}\n"),
                "line 4: a xenfab marker must stand on a line of its own, between statements, directly in the body of a subnet declaration",
            ),
            (
                format!("{s}  option routers 10.0.0.1; {BEGIN_MARKER}\n  {END_MARKER}\n}}\n"),
                "line 2: a xenfab marker must stand on a line of its own, between statements, directly in the body of a subnet declaration",
            ),
            (
                format!(
                    "{s}  {BEGIN_MARKER}\n  {END_MARKER}\n  {BEGIN_MARKER}\n  {END_MARKER}\n}}\n"
                ),
                "line 4: second xenfab managed region in the subnet of line 1: the first begins on line 2",
            ),
            (
                "subnet 10.0.0.0 255.0.0.0 {\n}\n".to_string(),
                "line 1: malformed subnet declaration: expected `subnet A.B.C.D netmask M.M.M.M {`",
            ),
            (
                "subnet 10.0.0.0 netmask 255.0.255.0 {\n}\n".to_string(),
                "line 1: malformed subnet declaration: expected `subnet A.B.C.D netmask M.M.M.M {`",
            ),
            (
                format!("{s}  subnet 10.1.0.0 netmask 255.255.0.0 {{\n  }}\n}}\n"),
                "line 2: subnet declared inside the subnet of line 1",
            ),
            (
                format!("{s}  option domain-name-servers 10.0.0.#1;\n}}\n"),
                "line 2: statement without its `;` before the `}` of the subnet of line 1",
            ),
        ];
        for (conf, message) in cases {
            assert_eq!(err(&conf, net), message, "{conf}");
        }
    }

    #[test]
    fn a_duplicate_declaration_of_another_subnet_is_not_an_error() {
        let conf = "subnet 10.0.0.0 netmask 255.0.0.0 {\n}\n\
                    subnet 172.16.0.0 netmask 255.255.0.0 {\n}\n\
                    subnet 172.16.0.0 netmask 255.255.0.0 {\n}\n";
        let wanted = SubnetHosts {
            subnet: "10.0.0.0/8".parse().unwrap(),
            hosts: String::new(),
            origins: Vec::new(),
        };
        assert!(edit(conf, &[wanted]).is_ok());
    }

    #[test]
    fn bad_requests_and_hostile_hosts_are_refused() {
        let conf = "subnet 10.0.0.0 netmask 255.0.0.0 {\n}\n";
        let net: Ipv4Net = "10.0.0.0/8".parse().unwrap();
        let with = |hosts: &str| SubnetHosts {
            subnet: net,
            hosts: hosts.into(),
            origins: Vec::new(),
        };
        assert_eq!(
            edit(conf, &[with(""), with("")]).unwrap_err().to_string(),
            "subnet 10.0.0.0/8 is given twice"
        );
        for (hosts, reason) in [
            (
                "host a { option host-name \"a; }\n",
                "string is not terminated",
            ),
            (
                "host a { }\n}\nsubnet 1.2.3.0 netmask 255.255.255.0 {\n",
                "`}` closes nothing",
            ),
            ("host a {\n", "`{` is never closed"),
            ("# END xenfab managed hosts\n", "contains a xenfab marker"),
        ] {
            assert_eq!(
                edit(conf, &[with(hosts)]).unwrap_err().to_string(),
                format!("hosts for subnet 10.0.0.0/8: {reason}")
            );
        }
        // A subnet given with host bits means its network.
        let wanted = SubnetHosts {
            subnet: "10.1.2.3/8".parse().unwrap(),
            hosts: String::new(),
            origins: Vec::new(),
        };
        assert!(edit(conf, &[wanted]).is_ok());
    }

    // --- declarations that conflict with the fabric's hosts ---------------------------------

    /// The example's ullr and vali in 192.168.96.0/24, with their fabric paths.
    fn fabric_hosts() -> Vec<SubnetHosts> {
        let mut wanted = hosts(
            "192.168.96.0/24",
            &[
                ("ullr.example.org", "192.168.96.43"),
                ("vali.example.org", "192.168.96.44"),
            ],
            "192.168.96.1",
        );
        wanted.origins = vec![
            "dom0s[xen01].guests[ullr]".into(),
            "dom0s[xen01].guests[vali]".into(),
        ];
        vec![wanted]
    }

    const ULLR_MAC: &str = "00:16:3e:a8:60:2b";

    /// A file with the subnet, a second subnet in its shared network, one outside, and `extra`
    /// at the top level.
    fn conf_with(extra: &str) -> String {
        format!(
            "shared-network grid {{\n  subnet 192.168.96.0 netmask 255.255.255.0 {{\n  }}\n  \
             subnet 192.168.97.0 netmask 255.255.255.0 {{\n  }}\n}}\n\
             subnet 10.1.0.0 netmask 255.255.0.0 {{\n}}\n{extra}"
        )
    }

    fn shared_of(extra: &str) -> Vec<(usize, Vec<Shared>)> {
        match edit(&conf_with(extra), &fabric_hosts()) {
            Ok(e) => e
                .conflicts
                .into_iter()
                .map(|c| (c.line, c.shared))
                .collect(),
            Err(EditError::Conflicts(cs)) => cs.into_iter().map(|c| (c.line, c.shared)).collect(),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn each_kind_of_conflict_is_found_with_dhcpds_own_reading() {
        let mac = |fatal| vec![Shared::Mac { fatal }];
        let cases: Vec<(String, Vec<Shared>)> = vec![
            // dhcpd compares names byte for byte, and joins `a . b` into `a.b`
            ("host ullr.example.org { }".into(), vec![Shared::Name]),
            ("host ullr . example . org { }".into(), vec![Shared::Name]),
            ("host ULLR.example.org { }".into(), vec![Shared::NameCase]),
            ("host ullr { }".into(), vec![]),
            // a MAC: dhcpd reads hex octets, in any case, with or without leading zeros
            (
                "host x { hardware ethernet 0:16:3E:A8:60:2B; fixed-address 192.168.96.99; }"
                    .into(),
                mac(true),
            ),
            (
                format!("host x {{ hardware ethernet {ULLR_MAC}; fixed-address 192.168.97.43; }}"),
                mac(true),
            ),
            (
                format!("host x {{ hardware ethernet {ULLR_MAC}; fixed-address 10.1.0.43; }}"),
                mac(false),
            ),
            (
                format!("host x {{ hardware ethernet {ULLR_MAC}; fixed-address 172.31.0.1; }}"),
                mac(false),
            ),
            (
                format!("host x {{ hardware ethernet {ULLR_MAC}; }}"),
                mac(false),
            ),
            (
                format!(
                    "host x {{ hardware ethernet {ULLR_MAC}; fixed-address 10.1.0.43, old.example.org; }}"
                ),
                mac(true),
            ),
            (
                format!("host x {{ hardware token-ring {ULLR_MAC}; }}"),
                vec![],
            ),
            // an address, by number (leading zeros as dhcpd reads them) or by name
            (
                "host x { fixed-address 10.1.0.9, 192.168.096.043; }".into(),
                vec![Shared::Address],
            ),
            (
                "host x { fixed-address Ullr.Example.Org.; }".into(),
                vec![Shared::AddressName("Ullr.Example.Org.".into())],
            ),
            ("host x { fixed-address 192.168.96.143; }".into(), vec![]),
            // a host name
            (
                "host x { option host-name \"vali\"; }".into(),
                vec![Shared::HostName("vali".into())],
            ),
            (
                "host x { supersede host-name \"VALI.example.org\"; }".into(),
                vec![Shared::HostName("VALI.example.org".into())],
            ),
            ("host x { option host-name \"valis\"; }".into(), vec![]),
            // a comment or a string is not a statement
            (
                format!(
                    "host x {{ # hardware ethernet {ULLR_MAC};\n filename \"fixed-address 192.168.96.43;\"; }}"
                ),
                vec![],
            ),
        ];
        for (extra, want) in cases {
            let got = shared_of(&extra);
            let want: Vec<(usize, Vec<Shared>)> = if want.is_empty() {
                vec![]
            } else {
                vec![(9, want)]
            };
            assert_eq!(got, want, "{extra}");
        }
    }

    #[test]
    fn conflicts_are_found_anywhere_and_all_listed_at_once() {
        let conf = format!(
            "group {{\n  group {{\n    host ullr.example.org {{ }}\n  }}\n}}\n\
             shared-network x {{\n  subnet 172.16.0.0 netmask 255.255.0.0 {{\n    \
             host a {{ hardware ethernet {ULLR_MAC}; fixed-address 192.168.96.200; }}\n  }}\n}}\n\
             subnet 192.168.96.0 netmask 255.255.255.0 {{\n  \
             host b {{ fixed-address 192.168.96.44; }}\n}}\n"
        );
        let Err(EditError::Conflicts(cs)) = edit(&conf, &fabric_hosts()) else {
            panic!("conflicts expected");
        };
        let lines: Vec<(usize, &str, bool)> = cs
            .iter()
            .map(|c| (c.line, c.origin.as_str(), c.is_fatal()))
            .collect();
        assert_eq!(
            lines,
            [
                (3, "dom0s[xen01].guests[ullr]", true),
                (8, "dom0s[xen01].guests[ullr]", true),
                (12, "dom0s[xen01].guests[vali]", true),
            ]
        );
        assert_eq!(
            cs[0].to_string(),
            "host `ullr.example.org` has the name of dom0s[xen01].guests[ullr] (host ullr.example.org): dhcpd refuses two host declarations of one name; remove it, or let xenfab replace it (--replace)"
        );
        assert_eq!(
            cs[1].to_string(),
            "host `a` has MAC 00:16:3e:a8:60:2b of dom0s[xen01].guests[ullr] (host ullr.example.org): dhcpd answers that MAC with whichever of the two declarations it read first; remove it, or let xenfab replace it (--replace)"
        );
        assert_eq!(
            cs[2].to_string(),
            "host `b` has address 192.168.96.44 of dom0s[xen01].guests[vali] (host vali.example.org): dhcpd would give that address to two machines; remove it, or let xenfab replace it (--replace)"
        );
        assert_eq!(
            EditError::Conflicts(cs).to_string(),
            format!(
                "3 host declaration(s) conflict with the fabric's hosts: line 3: {}; line 8: {}; line 12: {}",
                "host `ullr.example.org` has the name of dom0s[xen01].guests[ullr] (host ullr.example.org): dhcpd refuses two host declarations of one name; remove it, or let xenfab replace it (--replace)",
                "host `a` has MAC 00:16:3e:a8:60:2b of dom0s[xen01].guests[ullr] (host ullr.example.org): dhcpd answers that MAC with whichever of the two declarations it read first; remove it, or let xenfab replace it (--replace)",
                "host `b` has address 192.168.96.44 of dom0s[xen01].guests[vali] (host vali.example.org): dhcpd would give that address to two machines; remove it, or let xenfab replace it (--replace)"
            )
        );
    }

    #[test]
    fn warnings_keep_the_file_and_name_what_dhcpd_takes() {
        let extra = "host Vali.Example.Org { hardware ethernet 00:16:3e:a8:60:2c; fixed-address 10.1.0.44; }\n";
        for mode in [OnConflict::Refuse, OnConflict::Replace] {
            let edited = edit_with(&conf_with(extra), &fabric_hosts(), mode).unwrap();
            assert!(edited.text.contains(extra));
            assert_eq!(edited.conflicts.len(), 1);
            let c = &edited.conflicts[0];
            assert!(!c.is_fatal() && !c.removed);
            assert_eq!(
                c.to_string(),
                "host `Vali.Example.Org` has the name in another case, MAC 00:16:3e:a8:60:2c of dom0s[xen01].guests[vali] (host vali.example.org): dhcpd still answers the fabric's host from its own declaration, as this one has no fixed address in its network; kept"
            );
        }
    }

    #[test]
    fn hostile_names_are_escaped_in_messages() {
        let conf =
            conf_with("host \u{1b}[2Jullr\u{7}.example.org { fixed-address 192.168.96.43; }\n");
        let Err(EditError::Conflicts(cs)) = edit(&conf, &fabric_hosts()) else {
            panic!("a conflict expected");
        };
        let text = cs[0].to_string();
        assert!(
            text.starts_with("host `\\u{1b}[2Jullr\\u{7}.example.org` has address"),
            "{text}"
        );
        assert!(!text.chars().any(char::is_control));
        let long = format!(
            "host {} {{ fixed-address 192.168.96.43; }}\n",
            "a".repeat(100_000)
        );
        let Err(EditError::Conflicts(cs)) = edit(&conf_with(&long), &fabric_hosts()) else {
            panic!("a conflict expected");
        };
        assert!(cs[0].to_string().len() < 400);
    }

    /// The file edited with `Replace`, its notes of removed declarations, and a check that a
    /// second run (refusing) changes nothing.
    fn replaced(conf: &str) -> Edited {
        let edited = edit_with(conf, &fabric_hosts(), OnConflict::Replace).unwrap();
        let again = edit(&edited.text, &fabric_hosts()).unwrap();
        assert_eq!(again.text, edited.text, "a second run changed the file");
        assert!(again.conflicts.iter().all(|c| !c.is_fatal()));
        edited
    }

    #[test]
    fn replace_cuts_out_whole_declarations_byte_for_byte() {
        let conf = conf_with(
            "# kept\nhost ullr.example.org {\n  # a \"}\" in a comment\n  filename \"p}#.0\";\n} # ullr\n# kept too\n",
        );
        let edited = replaced(&conf);
        assert_eq!(
            strip_regions(&edited.text),
            conf_with("# kept\n# kept too\n")
        );
        assert_eq!(edited.conflicts.len(), 1);
        assert!(edited.conflicts[0].removed);
        assert_eq!(
            (edited.conflicts[0].line, edited.conflicts[0].end_line),
            (10, 13)
        );
        assert!(
            edited.conflicts[0]
                .to_string()
                .ends_with("; removed: the fabric's declaration replaces it")
        );
    }

    #[test]
    fn replace_cuts_only_the_declaration_when_others_share_its_line() {
        for (extra, left) in [
            // before and after it on its line
            (
                "group { host ullr.example.org { } host keep { } }\n",
                "group {  host keep { } }\n",
            ),
            // a comment after it goes with it, the newline stays
            (
                "group { host ullr.example.org { } # old\n}\n",
                "group { \n}\n",
            ),
            // two on one line
            (
                "host vali.example.org { } host ullr.example.org { }\n",
                " \n",
            ),
            (
                "  host x { fixed-address 192.168.96.43; }   host y { }\n",
                "     host y { }\n",
            ),
        ] {
            let edited = replaced(&conf_with(extra));
            assert_eq!(strip_regions(&edited.text), conf_with(left), "{extra}");
        }
    }

    #[test]
    fn replace_next_to_the_region_inserted_into_a_one_line_subnet() {
        let conf = "subnet 192.168.96.0 netmask 255.255.255.0 { host ullr.example.org { } }\n";
        let edited = replaced(conf);
        let region: String = fabric_hosts()[0]
            .hosts
            .lines()
            .flat_map(|l| ["  ", l, "\n"])
            .collect();
        assert_eq!(
            edited.text,
            format!(
                "subnet 192.168.96.0 netmask 255.255.255.0 {{ \n  {BEGIN_MARKER}\n{region}  {END_MARKER}\n}}\n"
            )
        );
        let conf = "subnet 192.168.96.0 netmask 255.255.255.0 {\n  host ullr.example.org { } }\n";
        let edited = replaced(conf);
        assert!(edited.text.starts_with(&format!(
            "subnet 192.168.96.0 netmask 255.255.255.0 {{\n  \n  {BEGIN_MARKER}\n"
        )));
    }

    #[test]
    fn replace_takes_a_host_out_of_another_subnets_region() {
        let conf = format!(
            "subnet 192.168.96.0 netmask 255.255.255.0 {{\n}}\n\
             subnet 172.16.5.0 netmask 255.255.255.0 {{\n  {BEGIN_MARKER}\n  \
             host ullr.example.org {{\n    fixed-address 172.16.5.43;\n  }}\n  \
             host odin {{ }}\n  {END_MARKER}\n}}\n"
        );
        let Err(EditError::Conflicts(cs)) = edit(&conf, &fabric_hosts()) else {
            panic!("a conflict expected");
        };
        assert_eq!(cs[0].region, Some((4, 9)));
        assert!(cs[0].to_string().starts_with(
            "host `ullr.example.org` (in the managed hosts of lines 4-9, of a subnet this fabric does not manage) has the name of"
        ));
        let edited = replaced(&conf);
        assert!(edited.text.ends_with(&format!(
            "subnet 172.16.5.0 netmask 255.255.255.0 {{\n  {BEGIN_MARKER}\n  host odin {{ }}\n  {END_MARKER}\n}}\n"
        )));
        // hosts of the regions being rewritten are never conflicts
        let edited = edit(&edited.text, &fabric_hosts()).unwrap();
        assert!(edited.conflicts.is_empty());
    }

    #[test]
    fn replace_keeps_crlf() {
        let conf = conf_with(
            "host ullr.example.org {\n  fixed-address 192.168.96.43;\n} # x\nhost keep { }\n",
        );
        let lf = replaced(&conf);
        let crlf = replaced(&conf.replace('\n', "\r\n"));
        assert_eq!(crlf.text, lf.text.replace('\n', "\r\n"));
        assert!(crlf.text.ends_with("}\r\nhost keep { }\r\n"));
    }

    #[test]
    fn the_fabric_cannot_declare_one_name_twice() {
        let mut wanted = fabric_hosts();
        wanted[0].hosts.push_str("host ullr.example.org { }\n");
        assert_eq!(
            edit(&conf_with(""), &wanted).unwrap_err().to_string(),
            "hosts for subnet 192.168.96.0/24: two host declarations of one name"
        );
    }

    #[test]
    fn dhcpd_numbers() {
        assert_eq!(
            dotted_quad("192.168.096.043"),
            Some(Ipv4Addr::new(192, 168, 96, 43))
        );
        assert_eq!(dotted_quad("1.2.3.256"), None);
        assert_eq!(dotted_quad("1.2.3"), None);
        assert_eq!(dotted_quad("1.2.3.x"), None);
        assert_eq!(dotted_quad("1.2.3.+4"), None);
        assert_eq!(
            hex_octets("0:16:3E:a8:60:2b"),
            Some(vec![0, 0x16, 0x3e, 0xa8, 0x60, 0x2b])
        );
        assert_eq!(hex_octets("00:100:3e"), None);
        assert_eq!(hex_octets("00::3e"), None);
        assert_eq!(hex_octets("0x1:2"), None);
    }

    /// A small deterministic generator (xorshift64), for the mutation run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % (n as u64)).unwrap()
        }
    }

    /// Mutants of every fixture (braces, quotes, `#`, newlines, markers and host declarations
    /// put in or taken out at random): the editor never panics; it refuses with a line, or its
    /// result reads back, keeps every byte outside the regions and the removed declarations,
    /// and a second run changes nothing.
    #[test]
    fn mutants_are_refused_with_a_line_or_edited_soundly() {
        const PIECES: [&str; 12] = [
            "{",
            "}",
            "\"",
            "#",
            ";",
            "\n",
            "\r\n",
            "\\",
            " host ullr.example.org { ",
            "\n# BEGIN xenfab managed hosts\n",
            "\n# END xenfab managed hosts\n",
            " host z { hardware ethernet 00:16:3e:a8:60:2b; fixed-address 192.168.96.9; }",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut fixtures: Vec<(String, Vec<SubnetHosts>)> = cases()
            .into_iter()
            .map(|(_, text, input)| (text.to_owned(), input))
            .collect();
        fixtures.push((conf_with("host ullr.example.org { }\n"), fabric_hosts()));
        let (mut edited, mut refused) = (0, 0);
        for i in 0..6000 {
            let (base, input) = &fixtures[i % fixtures.len()];
            let mut text = base.clone();
            for _ in 0..=rng.below(3) {
                let mut at = rng.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if rng.below(3) == 0 {
                    let end = (at + 1 + rng.below(8)).min(text.len());
                    let end = (end..=text.len())
                        .find(|&e| text.is_char_boundary(e))
                        .unwrap();
                    text.replace_range(at..end, "");
                } else {
                    text.insert_str(at, PIECES[rng.below(PIECES.len())]);
                }
            }
            let mode = if i % 2 == 0 {
                OnConflict::Refuse
            } else {
                OnConflict::Replace
            };
            match edit_with(&text, input, mode) {
                Ok(out) => {
                    edited += 1;
                    if let Err(e) = scan(&out.text) {
                        panic!(
                            "mutant {i}: the result does not scan: {e}\n{text}\n---\n{}",
                            out.text
                        );
                    }
                    let again = edit(&out.text, input)
                        .unwrap_or_else(|e| panic!("mutant {i}: second run: {e}\n{text}"));
                    assert_eq!(again.text, out.text, "mutant {i}: not idempotent\n{text}");
                    if !out.conflicts.iter().any(|c| c.removed) && !text.contains("xenfab managed")
                    {
                        // Only regions were added, and line breaks before one-line `}`s.
                        let kept = strip_regions(&out.text);
                        let words = |t: &str| t.split_whitespace().collect::<String>();
                        assert!(
                            kept == text || words(&kept) == words(&text),
                            "mutant {i}: bytes changed\n{text}\n---\n{kept}"
                        );
                    }
                }
                Err(e) => {
                    refused += 1;
                    let message = e.to_string();
                    assert!(
                        message.starts_with("line ")
                            || message.contains(": line ")
                            || matches!(e, EditError::MissingSubnet { .. }),
                        "mutant {i}: {message}"
                    );
                    assert!(
                        !matches!(e, EditError::ReadBack { .. }),
                        "mutant {i}: {message}\n{text}"
                    );
                }
            }
        }
        eprintln!("mutants: {edited} edited, {refused} refused");
        assert!(
            edited > 1000 && refused > 1000,
            "edited {edited}, refused {refused}"
        );
    }

    /// Writes every edited fixture to `$XENFAB_DHCP_OUT` (default `/tmp/dhcp-out`) for
    /// `dhcpd -4 -t -cf FILE -lf /dev/null -pf /dev/null`.
    #[test]
    #[ignore = "writes files for the dhcpd -t check"]
    fn write_edited_fixtures_for_dhcpd() {
        let dir = std::env::var_os("XENFAB_DHCP_OUT").unwrap_or_else(|| "/tmp/dhcp-out".into());
        let dir = std::path::Path::new(&dir);
        std::fs::create_dir_all(dir).unwrap();
        for (name, text, input) in cases() {
            let edited = edit(text, &input).unwrap();
            std::fs::write(dir.join(name), &edited.text).unwrap();
            let crlf = edit(&text.replace('\n', "\r\n"), &input).unwrap();
            std::fs::write(dir.join(name.replace(".conf", "-crlf.conf")), crlf.text).unwrap();
        }
    }
}
