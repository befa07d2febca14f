//! Issue 15's scale benchmarks: lowering of the 110,000-host fabric file and render of one
//! host, on the site of `benches/scale/generate.py` (`benches/python/fabric_gen.py`:
//! 10,000 R710 dom0s running CentOS 5, 10 CentOS-4 PV guests each, one /8 network, guest
//! MACs from `local-ipv4`), written here in Rust so that the benches need no files.
//!
//! Run with `cargo bench -p xenfab-core --bench scale` (a few minutes; filter with e.g.
//! `-- lower`). What each group measures:
//!
//! - `lower-110k/{toml,json}-{parse,lower,load}`: `Source::parse` of the file's text (syntax
//!   only), `lower` of the parsed file into the model (defaults applied, no checks), and
//!   [`xenfab_core::load`] (parse, lower and validate: what every `xenfab` command does
//!   before anything else).
//! - `render/one-host`: [`xenfab_core::render`] of a fabric with one dom0 and no guest (the
//!   public API renders whole fabrics; this is the smallest, one host's artefacts and the
//!   site-wide files around it); `render/one-dom0-10-guests` is one dom0's slice of the big
//!   site (11 hosts); `render/100x10` (1,100 hosts) gives the render-to-memory speed per
//!   tree entry (criterion's elements/s), to hold against the Jinja2 script's files/s in
//!   `benches/scale/compare.py`.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "../tests/support/bench_site.rs"]
mod bench_site;
use bench_site::site_toml;

/// The same site as JSON.
fn site_json(dom0s: u32, guests: u32) -> String {
    let mut s = String::from(
        r#"{"version":1,"site":{"name":"bench","domain":"bench.example.org","mac_scheme":"local-ipv4"},
"install":{"next_server":"10.0.0.1","kickstart_url":"http://10.0.0.1/ks"},
"kickstart":{"root_password":"$1$xenfabts$3MnpECyDSxUOqXImm6E4g/"},
"boot_images":{"c5":{"kernel":"centos-5.2/x86_64/vmlinuz","initrd":"centos-5.2/x86_64/initrd.img"},
"c4-xenU":{"kernel":"xen-domU-c4.6/i386/vmlinuz","initrd":"xen-domU-c4.6/i386/initrd.img"}},
"os":{"c5":{"family":"el5","install_url":"http://10.0.0.1/centos/5.2/os/x86_64","boot_image":"c5","kernel_version":"2.6.18-92.1.6.el5"},
"c4":{"family":"el4","install_url":"http://10.0.0.1/centos/4.6/os/i386","boot_image":"c4-xenU","arch":"i386"}},
"networks":{"fabric":{"subnet":"10.0.0.0/8","gateway":"10.255.255.254"}},
"hardware":{"r710":{"ram":"48G","cpus":16,"disks":[{"name":"sda","size":"500GB"},{"name":"sdb","size":"500GB"}]}},
"defaults":{"dom0":{"os":"c5"},"guest":{"os":"c4"}},
"dom0s":["#,
    );
    for i in 0..dom0s {
        let net = format!("10.{}.{}", i / 250, i % 250 + 1);
        if i > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"name":"xen{i:04}","ip":"{net}.1","mac":"00:1e:c9:{:02x}:{:02x}:01","hardware":"r710","guests":["#,
            (i >> 8) & 0xff,
            i & 0xff
        );
        for j in 0..guests {
            if j > 0 {
                s.push(',');
            }
            let _ = write!(s, r#"{{"name":"vm{i:04}-{j:02}","ip":"{net}.{}"}}"#, j + 10);
        }
        s.push_str("]}");
    }
    s.push_str("]}\n");
    s
}

/// Loads `text` and checks it is the site it should be: `hosts` hosts, no warning.
fn load_checked(text: &str, origin: &str, hosts: usize) -> xenfab_core::Fabric {
    let loaded = xenfab_core::load(text, origin)
        .unwrap_or_else(|e| panic!("{origin} does not load: {}", xenfab_core::error_chain(&e)));
    assert!(loaded.warnings.is_empty(), "{origin}: {}", loaded.warnings);
    let fabric = loaded.fabric;
    assert_eq!(
        fabric
            .dom0s
            .iter()
            .map(|d| 1 + d.guests.len())
            .sum::<usize>(),
        hosts,
        "{origin}"
    );
    fabric
}

fn lower(c: &mut Criterion) {
    let mut group = c.benchmark_group("lower-110k");
    group.sample_size(10);
    for (format, text, origin) in [
        ("toml", site_toml(10_000, 10), "scale.toml"),
        ("json", site_json(10_000, 10), "scale.json"),
    ] {
        // The two texts are the same site: same hosts, same rendered tree checked below.
        load_checked(&text, origin, 110_000);
        let source =
            xenfab_core::Source::parse(&text, xenfab_core::Format::from_file_name(origin), origin)
                .expect("parses");
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{format}-parse"), |b| {
            b.iter(|| {
                xenfab_core::Source::parse(
                    black_box(&text),
                    xenfab_core::Format::from_file_name(origin),
                    origin,
                )
                .expect("parses")
            });
        });
        group.bench_function(format!("{format}-lower"), |b| {
            b.iter(|| xenfab_core::lower(black_box(source.file())));
        });
        group.bench_function(format!("{format}-load"), |b| {
            b.iter(|| xenfab_core::load(black_box(&text), origin).expect("valid"));
        });
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    // TOML and JSON give the same tree (a check that the two generators agree).
    let a = xenfab_core::render(&load_checked(&site_toml(3, 2), "a.toml", 9)).expect("renders");
    let b = xenfab_core::render(&load_checked(&site_json(3, 2), "b.json", 9)).expect("renders");
    assert!(
        a.iter().eq(b.iter()),
        "the TOML and JSON sites render differently"
    );

    let mut group = c.benchmark_group("render");
    group.sample_size(20);
    for (name, dom0s, guests) in [
        ("one-host", 1, 0),
        ("one-dom0-10-guests", 1, 10),
        ("100x10", 100, 10),
    ] {
        let hosts = usize::try_from(dom0s * (1 + guests)).expect("small");
        let fabric = load_checked(&site_toml(dom0s, guests), "site.toml", hosts);
        let entries = xenfab_core::render(&fabric).expect("renders").len();
        group.throughput(Throughput::Elements(entries as u64));
        group.bench_function(name, |b| {
            b.iter(|| xenfab_core::render(black_box(&fabric)).expect("renders"));
        });
    }
    group.finish();
}

criterion_group!(benches, lower, render);
criterion_main!(benches);
