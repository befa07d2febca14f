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
}

/// The edited file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    /// The whole new content of the file.
    pub text: String,
    /// What was done, one line per subnet, for the user (`subnet 192.168.96.0/24 (line 12): …`).
    pub notes: Vec<String>,
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
}

/// Insert or replace the managed host region of each subnet in `subnets` in the dhcpd.conf
/// `text`, keeping the rest of the file byte for byte.
///
/// Managed regions of subnets not in `subnets` are left untouched. Each subnet of `subnets`
/// must be declared exactly once in `text`; its region is replaced, or inserted before the
/// subnet's closing `}` with the indentation of the subnet's first statement line.
pub fn edit(text: &str, subnets: &[SubnetHosts]) -> Result<Edited, EditError> {
    for (i, wanted) in subnets.iter().enumerate() {
        let net = wanted.subnet.trunc();
        if subnets[..i].iter().any(|s| s.subnet.trunc() == net) {
            return Err(EditError::DuplicateRequest { subnet: net });
        }
        check_hosts(net, &wanted.hosts)?;
    }

    let decls = scan(text)?;
    let eol = if text.find('\n').is_some_and(|p| text[..p].ends_with('\r')) {
        "\r\n"
    } else {
        "\n"
    };

    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut notes = Vec::new();
    for wanted in subnets {
        let net = wanted.subnet.trunc();
        let mut matching = decls.iter().filter(|d| d.net == net);
        let Some(decl) = matching.next() else {
            return Err(EditError::MissingSubnet { subnet: net });
        };
        if let Some(other) = matching.next() {
            return Err(EditError::DuplicateSubnet {
                subnet: net,
                first_line: decl.line,
                line: other.line,
            });
        }
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
        .filter(|d| !subnets.iter().any(|s| s.subnet.trunc() == d.net))
        .filter_map(|d| d.region.as_ref().map(|r| (d, r)));
    for (decl, region) in foreign {
        notes.push(format!(
            "subnet {} (line {}): managed hosts (lines {}-{}) left untouched: the fabric does not manage this subnet",
            decl.net, decl.line, region.begin_line, region.end_line
        ));
    }

    edits.sort_by_key(|e| e.0);
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.2.len()).sum::<usize>());
    let mut pos = 0;
    for (start, end, new) in &edits {
        // Regions and closing braces of distinct, non-nested subnets never overlap.
        if *start < pos {
            continue;
        }
        out.push_str(&text[pos..*start]);
        out.push_str(new);
        pos = *end;
    }
    out.push_str(&text[pos..]);
    Ok(Edited { text: out, notes })
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
    Other,
}

/// Find every subnet declaration, its closing brace and its managed region; check braces and
/// markers.
fn scan(text: &str) -> Result<Vec<SubnetDecl>, EditError> {
    let tokens = tokenize(text)?;
    let mut decls: Vec<SubnetDecl> = Vec::new();
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
                    let decl = &mut decls[idx];
                    if decl.body_indent.is_none() && is_blank(&text[ls..tok.start]) {
                        decl.body_indent = Some((ls, tok.start));
                    }
                }
                stmt.push(tok);
            }
            Kind::Semi => stmt.clear(),
            Kind::Open => {
                let frame = match subnet_statement(text, &stmt)? {
                    None => Frame::Other,
                    Some(net) => {
                        let keyword = stmt[0];
                        if let Some(&outer) = stack.iter().find_map(|(f, _)| match f {
                            Frame::Subnet(i) => Some(i),
                            Frame::Other => None,
                        }) {
                            return Err(EditError::NestedSubnet {
                                line: keyword.line,
                                outer_line: decls[outer].line,
                            });
                        }
                        let ls = line_start(text, keyword.start);
                        let indent_end = ls + text[ls..].len()
                            - text[ls..].trim_start_matches([' ', '\t']).len();
                        decls.push(SubnetDecl {
                            net,
                            line: keyword.line,
                            indent: (ls, indent_end.min(keyword.start)),
                            body_indent: None,
                            close: tok.start,
                            close_line: tok.line,
                            region: None,
                        });
                        Frame::Subnet(decls.len() - 1)
                    }
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
                if let Frame::Subnet(idx) = frame {
                    decls[idx].close = tok.start;
                    decls[idx].close_line = tok.line;
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
    Ok(decls)
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
        };
        assert!(edit(conf, &[wanted]).is_ok());
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
