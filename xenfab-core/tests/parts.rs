//! The promise incremental renders rely on (src/fingerprint.rs): a tree is its parts, and a
//! dom0's part is made from that dom0 and the shared settings alone. Checked on every valid
//! case of the golden corpus.

use std::fs;
use std::path::{Path, PathBuf};

use xenfab_core::Fabric;
use xenfab_core::fingerprint::fingerprints;
use xenfab_core::output::{Entry, Part, Tree};
use xenfab_core::render::{in_section, render, render_part, without_sizes};

/// Every valid fabric of the golden corpus, with its case's name.
fn fabrics() -> Vec<(String, Fabric)> {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases");
    let mut dirs: Vec<PathBuf> = fs::read_dir(cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let loaded = if dir.join("profiles").is_dir() {
            xenfab_core::input::quattor::load_dir(&dir.join("profiles"))
        } else if let Some(file) = ["fabric.toml", "fabric.json"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.exists())
        {
            xenfab_core::load(&fs::read_to_string(&file).unwrap(), &name)
        } else {
            continue;
        };
        if let Ok(loaded) = loaded {
            out.push((name, loaded.fabric));
        }
    }
    assert!(out.len() > 10, "the golden corpus has its valid cases");
    out
}

fn entries(tree: &Tree) -> Vec<(String, Entry)> {
    tree.iter()
        .map(|(p, e)| (p.to_string(), e.clone()))
        .collect()
}

#[test]
fn a_tree_is_its_parts() {
    for (name, fabric) in fabrics() {
        let whole = render(&fabric).unwrap();
        let mut parts = Tree::new();
        for part in Part::all(&fabric) {
            let tree = render_part(&fabric, part).unwrap();
            assert!(
                tree.iter_parts().all(|(_, _, p)| p == part),
                "{name}: {part:?} renders entries of another part"
            );
            parts.merge(tree).unwrap();
        }
        assert_eq!(entries(&parts), entries(&whole), "{name}");
        assert_eq!(parts, whole, "{name}: the parts of the entries differ");
    }
}

#[test]
fn a_dom0s_part_is_made_from_that_dom0_alone() {
    for (name, fabric) in fabrics() {
        for (i, dom0) in fabric.dom0s.iter().enumerate() {
            let mut alone = fabric.clone();
            alone.dom0s = vec![dom0.clone()];
            assert_eq!(
                entries(&render_part(&alone, Part::Dom0(0)).unwrap()),
                entries(&render_part(&fabric, Part::Dom0(i)).unwrap()),
                "{name}: dom0 {} renders differently beside the other dom0s",
                dom0.name
            );
        }
    }
}

#[test]
fn a_change_to_one_dom0_moves_its_fingerprint_and_the_sites_only() {
    for (name, fabric) in fabrics() {
        let before = fingerprints(&fabric);
        assert_eq!(before, fingerprints(&fabric), "{name}: not deterministic");
        for j in 0..fabric.dom0s.len() {
            let mut changed = fabric.clone();
            changed.dom0s[j].vcpus += 1;
            let after = fingerprints(&changed);
            assert_ne!(before.site, after.site, "{name}");
            for i in 0..fabric.dom0s.len() {
                assert_eq!(
                    before.dom0s[i] == after.dom0s[i],
                    i != j,
                    "{name}: dom0 {i}"
                );
            }
        }
        let mut shared = fabric.clone();
        shared.site.hypervisor_memory = xenfab_core::Size::from_mib(1);
        let after = fingerprints(&shared);
        assert_ne!(before.site, after.site, "{name}");
        for (i, fp) in before.dom0s.iter().enumerate() {
            assert_ne!(
                *fp, after.dom0s[i],
                "{name}: a shared setting moves every dom0"
            );
        }
    }
}

#[test]
fn the_sites_sections_are_made_without_the_guests_sizes() {
    let sections = |fabric: &Fabric| -> Vec<(String, Entry)> {
        let site = render_part(fabric, Part::Site).unwrap();
        let all = entries(&site);
        assert!(all.iter().any(|(p, _)| !in_section(p)), "the site has more");
        all.into_iter().filter(|(p, _)| in_section(p)).collect()
    };
    let mut checked = 0;
    for (name, fabric) in fabrics() {
        let mut sized = fabric.clone();
        for dom0 in &mut sized.dom0s {
            for guest in &mut dom0.guests {
                *guest = without_sizes(guest);
                checked += 1;
            }
        }
        let ours = sections(&fabric);
        assert!(!ours.is_empty(), "{name}: no DHCP or DNS files");
        assert_eq!(ours, sections(&sized), "{name}");
    }
    assert!(checked > 20, "{checked} guests");
}

#[test]
fn a_guests_sizes_move_the_sites_fingerprint_but_not_its_sections() {
    for (name, fabric) in fabrics() {
        let before = fingerprints(&fabric);
        for j in 0..fabric.dom0s.len() {
            if fabric.dom0s[j].guests.is_empty() {
                continue;
            }
            let mut resized = fabric.clone();
            resized.dom0s[j].guests[0].memory = xenfab_core::Size::from_mib(1234);
            resized.dom0s[j].guests[0].vcpus += 1;
            let after = fingerprints(&resized);
            assert_ne!(before.site, after.site, "{name}");
            assert_ne!(before.dom0s[j], after.dom0s[j], "{name}");
            assert_eq!(before.sections, after.sections, "{name}");
            let mut renamed = fabric.clone();
            let ip = &mut renamed.dom0s[j].guests[0].ip;
            *ip = std::net::Ipv4Addr::from(u32::from(*ip) ^ 1);
            assert_ne!(before.sections, fingerprints(&renamed).sections, "{name}");
        }
    }
}

/// Every entry of a dom0's part is an artefact of that dom0 or of its guests, and no entry of
/// the site's part is any host's (`render::owners`, what `xenfab show` lists); every host has
/// artefacts, a guest its libvirt domain among them.
#[test]
fn every_entry_of_a_dom0s_part_is_its_hosts_and_the_sites_are_no_hosts() {
    use xenfab_core::model::HostRef;
    use xenfab_core::render::owners::Owners;
    let dom0_of = |h: HostRef<'_>| match h {
        HostRef::Dom0(d) | HostRef::Guest(d, _) => d.name.clone(),
    };
    for (case, fabric) in fabrics() {
        let owners = Owners::new(&fabric);
        let tree = render(&fabric).unwrap();
        for (path, _, part) in tree.iter_parts() {
            let hosts = owners.of(path.as_str());
            match part {
                Part::Site => assert!(hosts.is_empty(), "{case}: {path}: {hosts:?}"),
                Part::Dom0(i) => {
                    assert!(!hosts.is_empty(), "{case}: {path} is no host's");
                    for h in hosts {
                        assert_eq!(dom0_of(h), fabric.dom0s[i].name, "{case}: {path}");
                    }
                }
            }
        }
        for host in fabric.hosts() {
            let own = owners.render(host).unwrap();
            assert!(!own.is_empty(), "{case}: {}", host.name());
            for (path, entry) in &own {
                assert_eq!(tree.get(path), Some(entry), "{case}: {path}");
            }
            if let HostRef::Guest(_, g) = host {
                let domain = format!("/libvirt/{}.xml", g.name);
                assert!(
                    own.iter().any(|(p, _)| p.as_str().ends_with(&domain)),
                    "{case}: {}",
                    g.name
                );
            }
        }
    }
}
