//! Validation of a large fabric: 10,000 dom0s with 10 guests each (110,000 hosts).
//!
//! Run with `cargo bench -p xenfab-core --bench validate`. The issue's target is well under
//! 100 ms for `validate` on a 2-core machine.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

const DOM0S: u32 = 10_000;
const GUESTS: u32 = 10;

/// A synthetic site as JSON: 10.0.0.0/8, MACs from `local-ipv4`, one hardware profile.
fn synthetic_fabric() -> String {
    let mut s = String::from(
        r#"{"version":1,"site":{"name":"big","domain":"example.org","mac_scheme":"local-ipv4"},
"install":{"next_server":"10.0.0.1","kickstart_url":"http://10.0.0.1/ks"},
"kickstart":{"root_password":"$1$xenfabts$3MnpECyDSxUOqXImm6E4g/"},
"boot_images":{"c5":{"kernel":"c5/vmlinuz","initrd":"c5/initrd.img"}},
"os":{"c5":{"family":"el5","install_url":"http://10.0.0.1/c5","boot_image":"c5","kernel_version":"2.6.18-398.el5"}},
"networks":{"lan":{"subnet":"10.0.0.0/8","gateway":"10.255.255.254"}},
"hardware":{"pe2950":{"ram":"32G","cpus":16,"raid":"raid10","disks":[{"name":"sda","size":"500GB"},{"name":"sdb","size":"500GB"},{"name":"sdc","size":"500GB"},{"name":"sdd","size":"500GB"}]}},
"defaults":{"dom0":{"os":"c5"},"guest":{"os":"c5","memory":"1536M","disk_size":"20G"}},
"dom0s":["#,
    );
    for d in 0..DOM0S {
        let ip = |host: u32| {
            let n = 0x0a00_0000 + 0x100 + d * (GUESTS + 1) + host;
            std::net::Ipv4Addr::from(n)
        };
        if d > 0 {
            s.push(',');
        }
        let _ = write!(
            s,
            r#"{{"name":"xen{d:05}","ip":"{}","mac":"00:25:90:{:02x}:{:02x}:{:02x}","hardware":"pe2950","guests":["#,
            ip(0),
            d >> 16,
            (d >> 8) & 0xff,
            d & 0xff
        );
        for g in 1..=GUESTS {
            if g > 1 {
                s.push(',');
            }
            let _ = write!(s, r#"{{"name":"vm{d:05}-{g:02}","ip":"{}"}}"#, ip(g));
        }
        s.push_str("]}");
    }
    s.push_str("]}");
    s
}

fn bench(c: &mut Criterion) {
    let text = synthetic_fabric();
    let source =
        xenfab_core::Source::parse(&text, xenfab_core::Format::Json, "big.json").expect("parses");
    let lowered = xenfab_core::lower(source.file());
    let fabric = lowered.fabric.expect("the synthetic fabric lowers");
    assert!(lowered.diagnostics.is_empty(), "{}", lowered.diagnostics);
    assert_eq!(
        fabric
            .dom0s
            .iter()
            .map(|d| 1 + d.guests.len())
            .sum::<usize>(),
        110_000
    );
    let diags = xenfab_core::validate(&fabric);
    assert!(
        diags.is_empty(),
        "the synthetic fabric has diagnostics:\n{}",
        diags
            .iter()
            .take(5)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );

    let mut group = c.benchmark_group("110k-hosts");
    group.sample_size(20);
    group.bench_function("validate", |b| {
        b.iter(|| xenfab_core::validate(black_box(&fabric)));
    });
    group.bench_function("lower+validate", |b| {
        b.iter(|| {
            let l = xenfab_core::lower(black_box(source.file()));
            xenfab_core::validate(l.fabric.as_ref().expect("lowers"))
        });
    });
    group.sample_size(10);
    group.bench_function("load-json", |b| {
        b.iter(|| xenfab_core::load(black_box(&text), "big.json").expect("valid"));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
