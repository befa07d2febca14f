//! The capacity report as one self-contained HTML page (`xenfab report --html`).
//!
//! Each dom0 is a section: a bar of its memory (hypervisor, dom0, each guest, free), a bar
//! of each volume group (dom0's own volumes, each guest, free), its guests, and the warnings
//! about it; the site's other warnings come first. The page has its CSS inline and no
//! script, and fetches nothing: it reads the same from `file://` as from a server, and
//! prints. Every string of the fabric is HTML-escaped by the template environment (the
//! template's name ends in `.html.j2`), and the same fabric gives the same bytes.
//!
//! Bars are drawn to the larger of the total and what is asked of it: a dom0 asked for more
//! than it has fills its bar, which is marked over-committed, with a line where its total
//! ends.

use serde::Serialize;

use super::inventory::dom0_capacity;
use super::templates;
use crate::Diagnostics;
use crate::diagnostic::{Diagnostic, Segment};
use crate::error::RenderError;
use crate::model::{Capacity, Dom0, Fabric, Size};

/// Guest colours: the guest at index `i` of its dom0 is drawn in colour `i % GUEST_COLOURS`
/// in every bar and in its row of the guest table.
const GUEST_COLOURS: usize = 8;

/// The capacity report of `fabric` as an HTML page. `warnings` are the fabric's validation
/// warnings (those about a dom0 are shown in its section, those about a dom0 the fabric no
/// longer holds are left out, the rest are the site's); `origin` names the fabric file.
pub fn capacity_html(
    fabric: &Fabric,
    warnings: &Diagnostics,
    origin: &str,
) -> Result<String, RenderError> {
    let view = page_view(fabric, warnings, origin)?;
    templates::with_environment(|env| templates::render(env, "report.html.j2", view))
}

#[derive(Serialize)]
struct PageView {
    site: String,
    domain: String,
    origin: String,
    dom0_count: usize,
    guest_count: usize,
    warning_count: usize,
    memory: String,
    memory_free: String,
    warnings: Vec<WarningView>,
    dom0s: Vec<Dom0View>,
}

#[derive(Serialize)]
struct Dom0View {
    /// The element id of its section (`dom0-1`, …): from its place, not its name.
    id: String,
    fqdn: String,
    hardware: String,
    os: String,
    scheme: String,
    toolstack: &'static str,
    state: &'static str,
    cpus: u32,
    dom0_vcpus: u32,
    guest_vcpus: u32,
    vcpu_overcommit: bool,
    memory: BarView,
    volume_groups: Vec<BarView>,
    save_area: String,
    guests: Vec<GuestView>,
    warnings: Vec<WarningView>,
}

#[derive(Serialize)]
struct GuestView {
    name: String,
    colour: String,
    ip: String,
    memory: String,
    vcpus: u32,
    disks: String,
    disk_total: String,
    os: String,
    mode: &'static str,
    state: &'static str,
}

#[derive(Serialize)]
struct WarningView {
    code: &'static str,
    path: String,
    message: String,
    location: String,
}

/// One bar: its segments in order, widths in percent of the bar as CSS lengths.
#[derive(Serialize, Debug, PartialEq)]
struct BarView {
    name: String,
    total: String,
    used: String,
    free: String,
    /// The used share of the total, in whole percent (more than 100 when over-committed).
    percent: u64,
    segments: Vec<SegmentView>,
    /// When more is asked than there is: by how much, and where the total ends on the bar.
    over: Option<OverView>,
    /// The whole bar in words, for those who do not see it.
    summary: String,
}

#[derive(Serialize, Debug, PartialEq)]
struct SegmentView {
    /// The CSS class that colours it: `hyp`, `dom0`, `g0`…`g7`, `free`.
    class: String,
    label: String,
    size: String,
    width: String,
    share: String,
}

#[derive(Serialize, Debug, PartialEq)]
struct OverView {
    by: String,
    mark: String,
}

/// A size for people: whole MiB below a GiB, else GiB (or TiB) with one decimal where it
/// has one (`14208M` is `13.9G`).
fn human(size: Size) -> String {
    let mib = size.mib();
    if mib < 1024 {
        return format!("{mib}M");
    }
    let (unit, div) = if mib >= 1024 * 1024 {
        ("T", 1024 * 1024)
    } else {
        ("G", 1024)
    };
    let tenths = (mib * 10 + div / 2) / div;
    if tenths % 10 == 0 {
        format!("{}{unit}", tenths / 10)
    } else {
        format!("{}.{}{unit}", tenths / 10, tenths % 10)
    }
}

/// A percentage as a CSS length with three decimals: stable bytes, sub-pixel exact.
fn percent(part: u64, whole: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let p = part as f64 * 100.0 / whole.max(1) as f64;
    format!("{p:.3}%")
}

/// A share of a whole in percent with one decimal, for people.
fn share(part: u64, whole: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let p = part as f64 * 100.0 / whole.max(1) as f64;
    format!("{p:.1}%")
}

/// The bar `name` of `total` shared by `parts` (class, label, size), in order; parts of no
/// size are left out, and the rest of the total is free.
fn bar(name: &str, total: Size, parts: Vec<(String, String, Size)>) -> BarView {
    let used: Size = parts.iter().map(|p| p.2).sum();
    let scale = total.mib().max(used.mib());
    let free = total.saturating_sub(used);
    let mut segments: Vec<SegmentView> = parts
        .into_iter()
        .filter(|p| p.2.mib() > 0)
        .map(|(class, label, size)| SegmentView {
            class,
            label,
            size: human(size),
            width: percent(size.mib(), scale),
            share: share(size.mib(), total.mib()),
        })
        .collect();
    if free.mib() > 0 {
        segments.push(SegmentView {
            class: "free".to_owned(),
            label: "free".to_owned(),
            size: human(free),
            width: percent(free.mib(), scale),
            share: share(free.mib(), total.mib()),
        });
    }
    let over = (used > total).then(|| OverView {
        by: human(used.saturating_sub(total)),
        mark: percent(total.mib(), scale),
    });
    let words: Vec<String> = segments
        .iter()
        .map(|s| format!("{} {}", s.label, s.size))
        .collect();
    let summary = match &over {
        Some(o) => format!(
            "{name}, {} in all: {}; over-committed by {}",
            human(total),
            words.join(", "),
            o.by
        ),
        None => format!("{name}, {} in all: {}", human(total), words.join(", ")),
    };
    BarView {
        name: name.to_owned(),
        total: human(total),
        used: human(used),
        free: human(free),
        percent: used.mib().saturating_mul(100) / total.mib().max(1),
        segments,
        over,
        summary,
    }
}

fn warning_view(d: &Diagnostic) -> WarningView {
    WarningView {
        code: d.code,
        path: d.path.to_string(),
        message: d.message.clone(),
        location: d
            .location
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    }
}

/// The name of the dom0 a diagnostic is about, when it is about one.
fn dom0_of(d: &Diagnostic) -> Option<&str> {
    match d.path.segments() {
        [
            Segment::Key("dom0s"),
            Segment::Elem {
                name: Some(name), ..
            },
            ..,
        ] => Some(name),
        _ => None,
    }
}

fn page_view(
    fabric: &Fabric,
    warnings: &Diagnostics,
    origin: &str,
) -> Result<PageView, RenderError> {
    let mut dom0s = Vec::with_capacity(fabric.dom0s.len());
    let (mut ram, mut free) = (Size::from_mib(0), Size::from_mib(0));
    for (i, d) in fabric.dom0s.iter().enumerate() {
        let cap = dom0_capacity(fabric, d)?;
        ram = ram.saturating_add(cap.ram);
        free = free.saturating_add(cap.ram.saturating_sub(cap.memory_used()));
        dom0s.push(dom0_view(fabric, d, &cap, i, warnings));
    }
    let site_warnings: Vec<WarningView> = warnings
        .iter()
        .filter(|w| dom0_of(w).is_none())
        .map(warning_view)
        .collect();
    let warning_count = site_warnings.len() + dom0s.iter().map(|d| d.warnings.len()).sum::<usize>();
    Ok(PageView {
        site: fabric.site.name.to_string(),
        domain: fabric.site.domain.to_string(),
        origin: origin.to_owned(),
        dom0_count: fabric.dom0s.len(),
        guest_count: fabric.dom0s.iter().map(|d| d.guests.len()).sum(),
        warning_count,
        memory: human(ram),
        memory_free: human(free),
        warnings: site_warnings,
        dom0s,
    })
}

/// The section of dom0 `d`, whose capacity is `cap` ([`dom0_capacity`]).
fn dom0_view(
    fabric: &Fabric,
    d: &Dom0,
    cap: &Capacity,
    index: usize,
    warnings: &Diagnostics,
) -> Dom0View {
    let colour = |i: usize| format!("g{}", i % GUEST_COLOURS);
    let mut parts = vec![
        (
            "hyp".to_owned(),
            "hypervisor".to_owned(),
            cap.hypervisor_memory,
        ),
        ("dom0".to_owned(), "dom0".to_owned(), cap.dom0_memory),
    ];
    parts.extend(
        d.guests
            .iter()
            .enumerate()
            .map(|(i, g)| (colour(i), g.name.to_string(), g.memory)),
    );
    let memory = bar("memory", cap.ram, parts);
    let volume_groups = cap
        .volume_groups
        .iter()
        .map(|vg| {
            let mut parts = vec![("dom0".to_owned(), "dom0's volumes".to_owned(), vg.system)];
            parts.extend(d.guests.iter().enumerate().map(|(i, g)| {
                let size = g
                    .disks
                    .iter()
                    .filter(|k| k.vg == vg.name)
                    .map(|k| k.size)
                    .sum();
                (colour(i), g.name.to_string(), size)
            }));
            bar(&format!("volume group {}", vg.name), vg.size, parts)
        })
        .collect();
    let save_area = match &cap.save_area {
        Some(s) => format!(
            "{} on {} for {} of guest memory",
            s.size.map_or_else(|| "grows".to_owned(), human),
            s.mount,
            human(cap.guest_memory)
        ),
        None => format!(
            "no file system holds it, for {} of guest memory",
            human(cap.guest_memory)
        ),
    };
    let guests = d
        .guests
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let disks: Vec<String> = g
                .disks
                .iter()
                .map(|k| format!("{}/{} {} {}", k.vg, k.lv, k.vdev, k.size))
                .collect();
            GuestView {
                name: g.name.to_string(),
                colour: colour(i),
                ip: g.ip.to_string(),
                memory: human(g.memory),
                vcpus: g.vcpus,
                disks: disks.join(", "),
                disk_total: human(g.disks.iter().map(|k| k.size).sum::<Size>()),
                os: g.os.to_string(),
                mode: g.mode.as_str(),
                state: g.state.as_str(),
            }
        })
        .collect();
    let mut own: Vec<WarningView> = warnings
        .iter()
        .filter(|w| dom0_of(w) == Some(d.name.as_str()))
        .map(warning_view)
        .collect();
    for (disk, need, have) in &cap.overfull_disks {
        own.push(WarningView {
            code: "layout-too-big",
            path: format!("dom0s[{}].partitioning", d.name),
            message: format!(
                "partition scheme `{}` needs {need} on disk `{disk}` but it has {have}",
                d.partitioning
            ),
            location: String::new(),
        });
    }
    Dom0View {
        id: format!("dom0-{}", index + 1),
        fqdn: fabric.fqdn(&d.name),
        hardware: d.hardware.to_string(),
        os: d.os.to_string(),
        scheme: d.partitioning.to_string(),
        toolstack: d.toolstack.as_str(),
        state: d.state.as_str(),
        cpus: cap.cpus,
        dom0_vcpus: cap.dom0_vcpus,
        guest_vcpus: cap.guest_vcpus,
        vcpu_overcommit: cap.dom0_vcpus.saturating_add(cap.guest_vcpus) > cap.cpus,
        memory,
        volume_groups,
        save_area,
        guests,
        warnings: own,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(class: &str, size: u64) -> (String, String, Size) {
        (class.to_owned(), class.to_owned(), Size::from_mib(size))
    }

    #[test]
    fn a_bar_shares_its_total_and_shows_the_rest_free() {
        let b = bar(
            "memory",
            Size::from_mib(1000),
            vec![part("hyp", 250), part("g0", 0), part("g1", 500)],
        );
        let widths: Vec<(&str, &str)> = b
            .segments
            .iter()
            .map(|s| (s.class.as_str(), s.width.as_str()))
            .collect();
        assert_eq!(
            widths,
            [("hyp", "25.000%"), ("g1", "50.000%"), ("free", "25.000%")]
        );
        assert_eq!(b.over, None);
        assert_eq!(b.percent, 75);
    }

    #[test]
    fn an_overcommitted_bar_fills_its_width_and_marks_where_the_total_ends() {
        let b = bar(
            "memory",
            Size::from_mib(1000),
            vec![part("dom0", 500), part("g0", 1500)],
        );
        let widths: Vec<&str> = b.segments.iter().map(|s| s.width.as_str()).collect();
        assert_eq!(widths, ["25.000%", "75.000%"]);
        let over = b.over.expect("over-committed");
        assert_eq!(over.mark, "50.000%");
        assert_eq!(over.by, "1000M");
        assert_eq!(b.percent, 200);
        assert!(b.summary.contains("over-committed by"));
    }

    #[test]
    fn sizes_for_people() {
        let h = |mib| human(Size::from_mib(mib));
        assert_eq!(
            [
                h(0),
                h(512),
                h(1024),
                h(14208),
                h(1536),
                h(1024 * 1024),
                h(443_552)
            ],
            ["0M", "512M", "1G", "13.9G", "1.5G", "1T", "433.2G"]
        );
    }

    #[test]
    fn an_empty_bar_divides_by_nothing() {
        let b = bar("vg", Size::from_mib(0), vec![part("dom0", 0)]);
        assert!(b.segments.is_empty());
        assert_eq!(b.percent, 0);
    }

    #[test]
    fn the_example_renders_with_every_host_and_the_same_bytes_twice() {
        let loaded = crate::load(crate::EXAMPLE, "<example>").unwrap();
        let html = capacity_html(&loaded.fabric, &loaded.warnings, "<example>").unwrap();
        assert_eq!(
            html,
            capacity_html(&loaded.fabric, &loaded.warnings, "<example>").unwrap()
        );
        for host in loaded.fabric.hosts() {
            assert!(html.contains(host.name().as_str()), "{}", host.name());
        }
        assert!(html.contains("&lt;example&gt;"));
        assert!(!html.contains("<example>"));
        assert!(!html.contains("<script"));
    }

    /// Every string of the view is escaped, whatever validation lets through.
    #[test]
    fn hostile_strings_are_escaped() {
        let hostile = "<script>alert(1)</script>\"onload='x'&";
        let loaded = crate::load(crate::EXAMPLE, "<example>").unwrap();
        let mut view = page_view(&loaded.fabric, &loaded.warnings, hostile).unwrap();
        view.site = hostile.to_owned();
        view.dom0s[0].fqdn = hostile.to_owned();
        view.dom0s[0].guests[0].name = hostile.to_owned();
        view.dom0s[0].memory.segments[0].label = hostile.to_owned();
        view.dom0s[0].memory.summary = hostile.to_owned();
        view.dom0s[0].warnings.push(WarningView {
            code: "x",
            path: hostile.to_owned(),
            message: hostile.to_owned(),
            location: hostile.to_owned(),
        });
        let html =
            templates::with_environment(|env| templates::render(env, "report.html.j2", view))
                .unwrap();
        assert!(!html.contains("<script"));
        assert!(!html.contains("\"onload"));
        assert!(!html.contains("'x'"));
        assert!(
            html.contains(
                "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&quot;onload=&#x27;x&#x27;&amp;"
            )
        );
    }
}
