//! `xenfab serve` end to end on loopback: a fabric whose hosts are 127.0.0.x, the real curl and
//! wget as the kickstarts' `%post` runs them, bound to each host's address (Linux routes all
//! of 127/8 to `lo`, and a client may bind any of it).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::xenfab;

/// Guests `g1` to `g4` on 127.0.0.11 to .14, being installed; dom0 on 127.0.0.10.
const FABRIC: &str = r#"version = 1

[site]
name = "loop"
domain = "example.net"
mac_scheme = "local-ipv4"

[install]
next_server = "127.0.0.1"
kickstart_url = "http://127.0.0.1:8140/ks"
ack_url = "http://127.0.0.1:8140"

[kickstart]
root_password = "$1$xenfabts$3MnpECyDSxUOqXImm6E4g/"

[boot_images.c5]
kernel = "c5/vmlinuz"
initrd = "c5/initrd.img"

[os.c5]
family = "el5"
install_url = "http://127.0.0.1/c5"
boot_image = "c5"
kernel_version = "2.6.18-398.el5"

[networks.lan]
subnet = "127.0.0.0/8"
gateway = "127.0.0.254"

[hardware.box]
ram = "8G"
cpus = 4
disks = [{ name = "sda", size = "250GB" }, { name = "sdb", size = "250GB" }]

[defaults.dom0]
os = "c5"

[defaults.guest]
os = "c5"
state = "install"

[[dom0s]]
name = "xen1"
ip = "127.0.0.10"
mac = "00:25:90:00:00:10"
hardware = "box"

  [[dom0s.guests]]
  name = "g1"
  ip = "127.0.0.11"

  [[dom0s.guests]]
  name = "g2"
  ip = "127.0.0.12"

  [[dom0s.guests]]
  name = "g3"
  ip = "127.0.0.13"

  [[dom0s.guests]]
  name = "g4"
  ip = "127.0.0.14"
"#;

/// A rendered tree and a running `xenfab serve` on a free loopback port; killed when dropped.
struct Served {
    dir: tempfile::TempDir,
    out: PathBuf,
    port: u16,
    child: Child,
    /// What it printed on stderr after the line that says where it listens, as it comes.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Served {
    serve_with(&[])
}

/// [`serve`], with the options `extra` (global ones, `--quiet`, go before `serve`).
fn serve_with(extra: &[&str]) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let fabric = dir.path().join("fabric.toml");
    std::fs::write(&fabric, FABRIC).unwrap();
    let out = dir.path().join("out");
    let o = xenfab(&[
        "render",
        fabric.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let mut child = Command::new(env!("CARGO_BIN_EXE_xenfab"))
        .args(extra)
        .args(["serve", "--fabric"])
        .arg(&fabric)
        .arg("-o")
        .arg(&out)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        if let Some(rest) = line.split(" on http://127.0.0.1:").nth(1) {
            break rest.trim_end_matches('/').parse().unwrap();
        }
    };
    // keep reading its log so that it never blocks on a full pipe
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Served {
        dir,
        out,
        port,
        child,
        log,
    }
}

impl Served {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `curl` from `source`: the HTTP status and the body.
    fn curl(&self, source: &str, args: &[&str], path: &str) -> (String, String) {
        let o = Command::new("curl")
            .args(["-sS", "--interface", source, "-w", "\n%{http_code}"])
            .args(args)
            .arg(self.url(path))
            .output()
            .unwrap();
        let text = String::from_utf8(o.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.to_owned(), body.to_owned())
    }

    /// A raw request, sent as is: the status line of the answer and its body.
    fn raw(&self, request: &str) -> (String, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        (head.lines().next().unwrap().to_owned(), body.to_owned())
    }

    fn link(&self, host_ip_hex: &str) -> String {
        let at = self.out.join("tftpboot/pxelinux.cfg").join(host_ip_hex);
        std::fs::read_link(at).unwrap().display().to_string()
    }

    /// Whether a link of pxelinux.cfg points at `entry`.
    fn links_to(&self, entry: &str) -> bool {
        std::fs::read_dir(self.out.join("tftpboot/pxelinux.cfg"))
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
            .any(|t| t == Path::new(entry))
    }

    fn states(&self) -> Option<String> {
        std::fs::read_to_string(self.out.join("tftpboot/.xenfab-boot-state.json")).ok()
    }

    /// The `%post` script of `fqdn`'s kickstart that calls the server.
    fn ack_post(&self, ks: &str) -> String {
        let text = std::fs::read_to_string(self.out.join("kickstart").join(ks)).unwrap();
        let last = text.rsplit("%post\n").next().unwrap();
        assert!(last.contains("/ack/"), "{last}");
        last.replace("8140", &self.port.to_string())
    }
}

/// The words of the status page's line of `fqdn`.
fn words<'a>(status: &'a str, fqdn: &str) -> Vec<&'a str> {
    let line = status
        .lines()
        .find(|l| l.split_whitespace().next() == Some(fqdn))
        .unwrap_or_else(|| panic!("no {fqdn} in {status}"));
    line.split_whitespace().collect()
}

/// Runs a `%post` script with `sh`, its curl and wget bound to `source` by wrappers first on
/// `PATH` (the script itself is run as rendered).
fn run_post(script: &str, source: &str, bin: &Path) -> std::process::Output {
    std::fs::create_dir_all(bin).unwrap();
    for (tool, bind) in [
        ("curl", format!("--interface {source}")),
        ("wget", format!("--bind-address={source}")),
    ] {
        let wrapper = bin.join(tool);
        std::fs::write(
            &wrapper,
            format!("#!/bin/sh\nexec /usr/bin/{tool} {bind} \"$@\"\n"),
        )
        .unwrap();
        std::fs::set_permissions(
            &wrapper,
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
        )
        .unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    Command::new("sh")
        .args(["-c", script])
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn the_rendered_post_switches_its_host_to_local_boot() {
    let s = serve();
    let (code, status) = s.curl("127.0.0.1", &[], "/");
    assert_eq!(code, "200");
    assert_eq!(
        words(&status, "g1.example.net"),
        ["g1.example.net", "guest", "127.0.0.11", "install"]
    );
    assert_eq!(
        words(&status, "xen1.example.net"),
        ["xen1.example.net", "dom0", "127.0.0.10", "localboot"]
    );
    assert_eq!(s.link("7F00000B"), "g1.example.net.cfg");
    let bin = s.dir.path().join("bin");
    let o = run_post(&s.ack_post("g1.example.net.ks"), "127.0.0.11", &bin);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    assert_eq!(s.link("7F00000B"), "localboot.cfg");
    // its MAC's link too: nothing points at its install entry any more
    assert!(!s.links_to("g1.example.net.cfg"));
    assert!(s.links_to("g2.example.net.cfg"));
    assert!(
        s.states()
            .unwrap()
            .contains("\"g1.example.net\": \"localboot\""),
        "{:?}",
        s.states()
    );
    let (_, status) = s.curl("127.0.0.1", &[], "/status");
    assert_eq!(
        words(&status, "g1.example.net"),
        [
            "g1.example.net",
            "guest",
            "127.0.0.11",
            "localboot",
            "(recorded)"
        ]
    );
    // the other guests are still being installed
    assert_eq!(s.link("7F00000C"), "g2.example.net.cfg");

    // without curl, wget's GET does it (EL3's wget cannot POST)
    let o = run_post(
        &s.ack_post("g2.example.net.ks")
            .replace("curl -fsS", "false"),
        "127.0.0.12",
        &bin,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    assert_eq!(s.link("7F00000C"), "localboot.cfg");

    // the dom0's reinstall kickstart acknowledges as well
    assert!(
        s.ack_post("xen1.example.net.reinstall.ks")
            .contains("/ack/xen1.example.net'")
    );
}

#[test]
fn a_call_from_another_address_is_refused_and_changes_nothing() {
    let s = serve();
    let before = s.states();
    // from the install server itself, and from another host of the fabric
    for source in ["127.0.0.1", "127.0.0.14"] {
        let (code, body) = s.curl(source, &["-d", ""], "/ack/g3.example.net");
        assert_eq!(code, "403", "{body}");
        assert_eq!(
            body,
            format!(
                "`g3.example.net` is 127.0.0.13: a call from {source} cannot acknowledge its install\n"
            )
        );
    }
    // the rendered %post from a wrong address fails, says so, and the install goes on
    let bin = s.dir.path().join("bin");
    let o = run_post(&s.ack_post("g3.example.net.ks"), "127.0.0.99", &bin);
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("xenfab: the install acknowledgement to http://127.0.0.1:"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(s.link("7F00000D"), "g3.example.net.cfg");
    assert_eq!(s.states(), before);
    // an unknown host, and a method that is not an ack's
    let (code, _) = s.curl("127.0.0.13", &["-d", ""], "/ack/g9.example.net");
    assert_eq!(code, "404");
    let (code, _) = s.curl("127.0.0.13", &["-X", "DELETE"], "/ack/g3.example.net");
    assert_eq!(code, "405");
    assert_eq!(s.link("7F00000D"), "g3.example.net.cfg");
    assert_eq!(s.states(), before);
}

#[test]
fn only_rendered_kickstarts_are_served() {
    let s = serve();
    let (code, body) = s.curl("127.0.0.1", &[], "/ks/g1.example.net.ks");
    assert_eq!(code, "200");
    let file = std::fs::read_to_string(s.out.join("kickstart/g1.example.net.ks")).unwrap();
    assert_eq!(body, file);
    let (code, _) = s.curl("127.0.0.1", &[], "/ks/xen1.example.net.reinstall.ks");
    assert_eq!(code, "200");
    for path in [
        "/ks/../.xenfab-manifest.json",
        "/ks/%2e%2e/.xenfab-manifest.json",
        "/ks/",
        "/ks",
        "/ks/g1.example.net.ks/",
        "/ks//g1.example.net.ks",
        "/ks/./g1.example.net.ks",
        "/kickstart/g1.example.net.ks",
        "/tftpboot/.xenfab-boot-state.json",
        "/ks/g1.example.net.reinstall.ks",
    ] {
        let (status, _) = s.raw(&format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert_eq!(status, "HTTP/1.1 404 Not Found", "{path}");
    }
    let (status, _) = s.raw("POST /ks/g1.example.net.ks HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(9000));
    let (status, _) = s.raw(&long);
    assert_eq!(status, "HTTP/1.1 431 Request Header Fields Too Large");
}

#[test]
fn concurrent_acks_each_switch_their_host() {
    let s = serve();
    // every guest acknowledges at once, and twice
    let calls: Vec<Child> = (0..2)
        .flat_map(|_| 1..=4)
        .map(|i| {
            Command::new("curl")
                .args(["-fsS", "-o", "/dev/null", "-d", ""])
                .args(["--interface", &format!("127.0.0.1{i}")])
                .arg(s.url(&format!("/ack/g{i}.example.net")))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in calls {
        assert!(c.wait().unwrap().success());
    }
    let states = s.states().unwrap();
    for (i, hex) in ["7F00000B", "7F00000C", "7F00000D", "7F00000E"]
        .iter()
        .enumerate()
    {
        assert_eq!(s.link(hex), "localboot.cfg");
        assert!(
            states.contains(&format!("\"g{}.example.net\": \"localboot\"", i + 1)),
            "{states}"
        );
    }
    // no lock or temporary file is left behind
    let left: Vec<String> = std::fs::read_dir(s.out.join("tftpboot"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".xenfab-boot-state.json")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Each request is logged on stderr, and an acknowledgement says what it switched; with
/// `--quiet` neither is, and the line that says where it listens is still there (a port of 0
/// is known from it alone).
#[test]
fn quiet_serve_logs_no_requests() {
    for quiet in [false, true] {
        let served = if quiet {
            serve_with(&["--quiet"])
        } else {
            serve()
        };
        let (code, _) = served.curl("127.0.0.11", &[], "/ks/g1.example.net.ks");
        assert_eq!(code, "200");
        let (code, _) = served.curl("127.0.0.11", &[], "/ack/g1.example.net");
        assert_eq!(code, "200");
        let (code, _) = served.curl("127.0.0.12", &[], "/nothing");
        assert_eq!(code, "404");
        // the log is read in another thread: the answers above came after their lines
        std::thread::sleep(std::time::Duration::from_millis(200));
        let log = served.log.lock().unwrap().clone();
        if quiet {
            assert!(log.is_empty(), "{log:?}");
        } else {
            assert_eq!(
                log,
                [
                    "127.0.0.11 GET /ks/g1.example.net.ks 200",
                    "xenfab serve: g1.example.net: localboot",
                    "127.0.0.11 GET /ack/g1.example.net 200",
                    "127.0.0.12 GET /nothing 404",
                ]
            );
        }
    }
}

#[test]
fn serve_needs_somewhere_to_listen() {
    let dir = tempfile::tempdir().unwrap();
    let o = xenfab(&["serve", "--example", "-o", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        common::stderr(&o)
            .contains("error: give --listen ADDR:PORT, or set install.ack_url in the fabric"),
        "{}",
        common::stderr(&o)
    );
}
