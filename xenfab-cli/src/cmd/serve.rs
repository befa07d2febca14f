//! `xenfab serve`: the install server's HTTP side (docs/lifecycle.md): the rendered kickstart
//! files, the install acknowledgement that switches a host to local boot, and a status page.
//!
//! A small threaded server on `std::net` with `httparse` reading each request, because what
//! it must take is small and must stay bounded: one request a connection, at most
//! [`MAX_HEAD`] bytes of request line and headers, [`MAX_HEADERS`] headers, no body beyond
//! [`MAX_BODY`] bytes, [`TIMEOUT`] to read or write, at most [`MAX_CONNECTIONS`] at once.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use xenfab_core::Fabric;
use xenfab_core::output::ack::{self, AckError};
use xenfab_core::render::netboot::TFTP_DIR;

use crate::fabric::{self, Failure};

/// The request line and headers: a kickstart fetch or an ack by curl or wget is about 200
/// bytes.
const MAX_HEAD: usize = 8 * 1024;
/// Headers a request may have.
const MAX_HEADERS: usize = 32;
/// The body a request may have (nothing is read from it; curl's `-d ''` sends none).
const MAX_BODY: usize = 1024;
/// How long reading a request or writing a response may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Connections handled at once; more are closed at once.
const MAX_CONNECTIONS: usize = 64;

/// Serve the rendered kickstart files and take each host's install acknowledgement: at the
/// end of its install a host's `%post` calls `/ack/<fqdn>` (when the fabric sets
/// `install.ack_url`), and the host is switched to local boot as `xenfab boot HOST localboot`
/// does. A call is taken only from the host's own address. `GET /` lists each host's state;
/// `GET /ks/<fqdn>.ks` (and `<fqdn>.reinstall.ks`) gives a kickstart file, `GET
/// /ks/preseed/<fqdn>.cfg` a Debian dom0's preseed file. Runs until killed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The fabric the hosts are in: `--fabric FILE`, `--profiles DIR` or `--example`.
    #[command(flatten)]
    fabric: fabric::FabricOpts,
    /// The output tree xenfab rendered the fabric into; its TFTP root is `DIR/tftpboot`.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// The address and port to listen on (e.g. `192.168.96.1:8140`); by default the host and
    /// port of the fabric's `install.ack_url`. Port 0 takes a free port.
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
}

/// What every connection's thread shares.
#[derive(Debug)]
struct Server {
    fabric: Fabric,
    tree: PathBuf,
    tftp_root: PathBuf,
    kickstarts: std::collections::BTreeSet<String>,
}

pub fn run(args: &Args) -> Result<ExitCode, Failure> {
    let fabric = args.fabric.load("serve")?.loaded.fabric;
    let listen = match (&args.listen, &fabric.install.ack_url) {
        (Some(listen), _) => listen.clone(),
        (None, Some(url)) => format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(80)
        ),
        (None, None) => {
            return Err(Failure::Io(
                "error: give --listen ADDR:PORT, or set install.ack_url in the fabric".to_owned(),
            ));
        }
    };
    if !args.output.is_dir() {
        return Err(Failure::Io(format!(
            "error: `{}` is not a directory: render the tree first",
            args.output.display()
        )));
    }
    let addrs: Vec<SocketAddr> = listen
        .to_socket_addrs()
        .map_err(|e| {
            Failure::Io(format!(
                "error: cannot listen on `{}`: {e}",
                listen.escape_debug()
            ))
        })?
        .collect();
    let listener = TcpListener::bind(&addrs[..]).map_err(|e| {
        Failure::Io(format!(
            "error: cannot listen on `{}`: {e}",
            listen.escape_debug()
        ))
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Io(format!("error: cannot listen: {e}")))?;
    let server = Arc::new(Server {
        kickstarts: ack::kickstart_names(&fabric),
        tree: args.output.clone(),
        tftp_root: args.output.join(TFTP_DIR),
        fabric,
    });
    eprintln!(
        "xenfab serve: serving `{}` on http://{local}/",
        args.output.display()
    );
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            drop(stream);
            continue;
        }
        let server = Arc::clone(&server);
        let done = Arc::clone(&active);
        let spawned = std::thread::Builder::new().spawn(move || {
            server.connection(stream);
            done.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            // the stream went with the closure: the connection is closed
            active.fetch_sub(1, Ordering::SeqCst);
            eprintln!("xenfab serve: cannot start a thread for a connection: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A response: status, the content type, the body.
#[derive(Debug, PartialEq, Eq)]
struct Response {
    status: u16,
    body: Vec<u8>,
    /// `Allow` for a 405.
    allow: Option<&'static str>,
}

impl Response {
    fn text(status: u16, body: impl Into<String>) -> Response {
        let mut body = body.into().into_bytes();
        if !body.ends_with(b"\n") {
            body.push(b'\n');
        }
        Response {
            status,
            body,
            allow: None,
        }
    }

    fn write(&self, out: &mut impl Write, head_only: bool) -> std::io::Result<()> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            413 => "Content Too Large",
            431 => "Request Header Fields Too Large",
            501 => "Not Implemented",
            _ => "Internal Server Error",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            self.status,
            self.body.len()
        );
        if let Some(allow) = self.allow {
            head.push_str("Allow: ");
            head.push_str(allow);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        if !head_only {
            out.write_all(&self.body)?;
        }
        out.flush()
    }
}

/// A request as far as the server looks at it.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    method: String,
    path: String,
}

/// Reads one request's head from `input` (at most [`MAX_HEAD`] bytes) and skips its body (at
/// most [`MAX_BODY`] bytes); a request it will not take is the response to give.
fn read_request(input: &mut impl Read) -> Result<Request, Response> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        if len == buf.len() {
            return Err(Response::text(431, "the request's head is too long"));
        }
        let n = match input.read(&mut buf[len..]) {
            Ok(0) | Err(_) => return Err(Response::text(400, "incomplete request")),
            Ok(n) => n,
        };
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        let head_len = match req.parse(&buf[..len]) {
            Ok(httparse::Status::Partial) => continue,
            Ok(httparse::Status::Complete(head_len)) => head_len,
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Response::text(431, "too many headers"));
            }
            Err(e) => return Err(Response::text(400, format!("bad request: {e}"))),
        };
        let mut body_len = 0usize;
        for h in req.headers.iter() {
            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(Response::text(501, "no body is taken"));
            }
            if h.name.eq_ignore_ascii_case("content-length") {
                body_len = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or_else(|| Response::text(400, "bad content-length"))?;
            }
        }
        if body_len > MAX_BODY {
            return Err(Response::text(413, "no body is taken"));
        }
        let request = Request {
            method: req.method.unwrap_or_default().to_owned(),
            path: req.path.unwrap_or_default().to_owned(),
        };
        // skip what of the body is not read yet
        let mut rest = body_len.saturating_sub(len - head_len);
        while rest > 0 {
            match input.read(&mut buf[..rest.min(MAX_HEAD)]) {
                Ok(0) | Err(_) => return Err(Response::text(400, "incomplete body")),
                Ok(n) => rest -= n.min(rest),
            }
        }
        return Ok(request);
    }
}

impl Server {
    fn connection(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        let Ok(peer) = stream.peer_addr() else { return };
        let (response, head_only, line) = match read_request(&mut stream) {
            Ok(req) => {
                let response = self.respond(&req, peer.ip());
                let line = format!("{} {}", req.method, req.path.escape_debug());
                (response, req.method == "HEAD", line)
            }
            Err(response) => (response, false, "(unreadable request)".to_owned()),
        };
        // the access log: not with --quiet
        crate::ui::note(&format!("{} {line} {}", peer.ip(), response.status));
        let _ = response.write(&mut stream, head_only);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }

    /// What to answer `req` from `peer`.
    fn respond(&self, req: &Request, peer: IpAddr) -> Response {
        let path = req.path.as_str();
        let get = matches!(req.method.as_str(), "GET" | "HEAD");
        if path == "/" || path == "/status" {
            if !get {
                return not_allowed("GET, HEAD");
            }
            return self.status();
        }
        if let Some(name) = path.strip_prefix("/ks/") {
            if !get {
                return not_allowed("GET, HEAD");
            }
            if !self.kickstarts.contains(name) {
                return Response::text(404, "no such kickstart file");
            }
            return match ack::read_kickstart(&self.tree, name) {
                Ok(Some(body)) => Response {
                    status: 200,
                    body,
                    allow: None,
                },
                Ok(None) => Response::text(404, "not rendered: run xenfab render"),
                Err(e) => {
                    eprintln!("xenfab serve: error: {}", xenfab_core::error_chain(&e));
                    Response::text(500, "cannot read the kickstart file")
                }
            };
        }
        if let Some(fqdn) = path.strip_prefix("/ack/") {
            // GET too: EL3's wget (1.8.2) cannot POST, and AII's ack is a GET
            if !matches!(req.method.as_str(), "GET" | "POST") {
                return not_allowed("GET, POST");
            }
            return match ack::acknowledge(&self.fabric, &self.tree, &self.tftp_root, fqdn, peer) {
                Ok((fqdn, _)) => {
                    crate::ui::note(&format!("xenfab serve: {fqdn}: localboot"));
                    Response::text(200, format!("{fqdn}: localboot"))
                }
                Err(e @ AckError::UnknownHost { .. }) => Response::text(404, e.to_string()),
                Err(e @ AckError::WrongAddress { .. }) => Response::text(403, e.to_string()),
                Err(e @ AckError::Refused { .. }) => Response::text(409, e.to_string()),
                Err(e) => {
                    eprintln!("xenfab serve: error: {}", xenfab_core::error_chain(&e));
                    Response::text(500, e.to_string())
                }
            };
        }
        Response::text(404, "not found")
    }

    /// The status page: a line a host, `fqdn role ip state`, with `(recorded)` when the state
    /// is the TFTP tree's rather than the fabric's.
    fn status(&self) -> Response {
        match ack::status(&self.fabric, &self.tftp_root) {
            Ok(hosts) => Response::text(200, status_text(&hosts)),
            Err(e) => {
                eprintln!("xenfab serve: error: {}", xenfab_core::error_chain(&e));
                Response::text(500, "cannot read the recorded boot states")
            }
        }
    }
}

fn not_allowed(allow: &'static str) -> Response {
    Response {
        allow: Some(allow),
        ..Response::text(405, "method not allowed")
    }
}

/// The status page's text. Names and addresses are the fabric's, validated (letters, digits,
/// `-` and `.`), so plain text needs no escaping.
fn status_text(hosts: &[ack::HostStatus]) -> String {
    use std::fmt::Write as _;
    let width = hosts.iter().map(|h| h.fqdn.len()).max().unwrap_or(0);
    let mut out = String::new();
    for h in hosts {
        let _ = writeln!(
            out,
            "{:width$}  {:5}  {:15}  {}{}",
            h.fqdn,
            h.role,
            h.ip.to_string(),
            h.state.as_str(),
            if h.recorded { " (recorded)" } else { "" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Request, Response> {
        read_request(&mut std::io::Cursor::new(bytes.to_vec()))
    }

    #[test]
    fn requests_of_curl_and_wget_are_read() {
        // what `curl -fsS -d '' URL` (7.x/8.x) and `wget -q -O - URL` (1.8 to 1.21) send
        let curl = b"POST /ack/ullr.example.org HTTP/1.1\r\nHost: 127.0.0.1:8140\r\n\
                     User-Agent: curl/8.5.0\r\nAccept: */*\r\nContent-Length: 0\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\n\r\n";
        assert_eq!(
            read(curl).unwrap(),
            Request {
                method: "POST".into(),
                path: "/ack/ullr.example.org".into()
            }
        );
        let wget = b"GET /ack/ullr.example.org HTTP/1.0\r\nUser-Agent: Wget/1.8.2\r\n\
                     Host: 192.168.96.1:8140\r\nAccept: */*\r\nConnection: Keep-Alive\r\n\r\n";
        assert_eq!(read(wget).unwrap().method, "GET");
    }

    #[test]
    fn requests_are_bounded() {
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(read(long.as_bytes()).unwrap_err().status, 431);
        let many: String = std::iter::once("GET / HTTP/1.1\r\n".to_owned())
            .chain((0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")))
            .chain(std::iter::once("\r\n".to_owned()))
            .collect();
        assert_eq!(read(many.as_bytes()).unwrap_err().status, 431);
        let big = b"POST /ack/x HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n";
        assert_eq!(read(big).unwrap_err().status, 413);
        let chunked = b"POST /ack/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(read(chunked).unwrap_err().status, 501);
        assert_eq!(read(b"GET / HTTP/1.1\r\n").unwrap_err().status, 400);
        assert_eq!(read(b"\x00\x01 junk\r\n\r\n").unwrap_err().status, 400);
        // a body within the limit is skipped
        let small = b"POST /ack/x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        assert_eq!(read(small).unwrap().path, "/ack/x");
    }

    #[test]
    fn responses_say_their_length_and_close() {
        let mut out = Vec::new();
        not_allowed("GET, HEAD").write(&mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nContent-Length: 19\r\n"), "{text}");
        assert!(text.contains("\r\nAllow: GET, HEAD\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nmethod not allowed\n"), "{text}");
        let mut out = Vec::new();
        Response::text(200, "x").write(&mut out, true).unwrap();
        assert!(String::from_utf8(out).unwrap().ends_with("\r\n\r\n"));
    }
}
