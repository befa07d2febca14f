//! The inventory: every host with its address, MAC and volumes, and each dom0's capacity.
//!
//! - `inventory/hosts.csv`: one line a host (dom0s and guests).
//! - `inventory/hosts/<fqdn>.json`: everything xenfab knows of one host, defaults applied.
//! - `inventory/capacity.txt`: memory, CPUs, volume groups and save area of each dom0.

use std::fmt::Write;

use serde::Serialize;

use super::{lookup, templates};
use crate::error::RenderError;
use crate::model::{Capacity, Dom0, Fabric, Guest, HostRef, MacSource, capacity};
use crate::output::Tree;
use crate::render::Part;

pub(crate) fn render(
    fabric: &Fabric,
    part: Part,
    env: &minijinja::Environment<'_>,
    tree: &mut Tree,
) -> Result<(), RenderError> {
    if part == Part::Site {
        tree.insert_file("inventory/hosts.csv", hosts_csv(fabric))?;
        tree.insert_file("inventory/capacity.txt", capacity_table(fabric, env)?)?;
    }
    for host in part.hosts(fabric) {
        let fqdn = fabric.fqdn(host.name());
        tree.insert_file(
            &format!("inventory/hosts/{fqdn}.json"),
            host_json(fabric, host)?,
        )?;
    }
    Ok(())
}

/// The capacity table of every dom0: memory, CPUs, volume groups, save area, guests.
fn capacity_table(
    fabric: &Fabric,
    env: &minijinja::Environment<'_>,
) -> Result<String, RenderError> {
    let view = CapacityView {
        dom0s: fabric
            .dom0s
            .iter()
            .map(|d| dom0_view(fabric, d))
            .collect::<Result<_, _>>()?,
    };
    templates::render(env, "capacity.txt.j2", view)
}

/// The capacity report `xenfab report` prints: the table of `inventory/capacity.txt`.
pub fn capacity_report(fabric: &Fabric) -> Result<String, RenderError> {
    templates::with_environment(|env| capacity_table(fabric, env))
}

/// The capacity of every dom0 as JSON: `[{"dom0": fqdn, "capacity": {...}}, ...]`, sizes in MiB.
pub fn capacity_json(fabric: &Fabric) -> Result<String, RenderError> {
    let list = fabric
        .dom0s
        .iter()
        .map(|d| Ok(serde_json::json!({ "dom0": fabric.fqdn(&d.name), "capacity": dom0_capacity(fabric, d)? })))
        .collect::<Result<Vec<_>, RenderError>>()?;
    let mut text = serde_json::to_string_pretty(&list)?;
    text.push('\n');
    Ok(text)
}

fn mac_source(source: MacSource) -> String {
    match source {
        MacSource::Explicit => "explicit".to_owned(),
        MacSource::Derived(scheme) => format!("derived:{scheme}"),
    }
}

/// `fqdn,role,dom0,ip,mac,mac_source,network,state`: no field can hold a comma or a quote.
fn hosts_csv(fabric: &Fabric) -> String {
    let mut out = String::from("fqdn,role,dom0,ip,mac,mac_source,network,state\n");
    for host in fabric.hosts() {
        let (role, dom0, source) = match host {
            HostRef::Dom0(d) => ("dom0", d.name.as_str(), "nic".to_owned()),
            HostRef::Guest(d, g) => ("guest", d.name.as_str(), mac_source(g.mac_source)),
        };
        let state = host.state().as_str();
        let _ = writeln!(
            out,
            "{},{role},{dom0},{},{},{source},{},{state}",
            fabric.fqdn(host.name()),
            host.ip(),
            host.mac(),
            host.network()
        );
    }
    out
}

#[derive(Serialize)]
struct HostJson<'a> {
    fqdn: String,
    role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dom0: Option<String>,
    #[serde(flatten)]
    host: HostBody<'a>,
}

/// A dom0's body is larger than a guest's reference; it lives only while it is written.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(untagged)]
enum HostBody<'a> {
    Dom0 {
        dom0: Dom0Summary<'a>,
        capacity: Option<Capacity>,
    },
    Guest(&'a Guest),
}

/// A dom0 without its guests (each guest has its own file).
#[derive(Serialize)]
struct Dom0Summary<'a> {
    name: &'a crate::model::HostName,
    ip: std::net::Ipv4Addr,
    mac: crate::model::MacAddr,
    network: &'a crate::model::Ident,
    hardware: &'a crate::model::Ident,
    os: &'a crate::model::Ident,
    memory: crate::model::Size,
    vcpus: u32,
    balloon: bool,
    toolstack: crate::model::Toolstack,
    partitioning: &'a crate::model::Ident,
    state: crate::model::BootState,
    guests: Vec<&'a crate::model::HostName>,
}

/// The capacity of the dom0 `d`: what `inventory/capacity.txt`, `xenfab report` and its
/// inventory file show.
pub fn dom0_capacity(fabric: &Fabric, d: &Dom0) -> Result<Capacity, RenderError> {
    let hw = lookup::hardware(fabric, d)?;
    let scheme = lookup::layout(fabric, d)?;
    Ok(capacity(d, hw, &scheme, fabric.site.hypervisor_memory))
}

fn host_json(fabric: &Fabric, host: HostRef<'_>) -> Result<String, RenderError> {
    let mut text = serde_json::to_string_pretty(&host_value(fabric, host)?)?;
    text.push('\n');
    Ok(text)
}

/// What `inventory/hosts/<fqdn>.json` holds of `host`: everything xenfab knows of it, every
/// default applied (a dom0 with its capacity and its guests' names, a guest with its dom0's
/// FQDN), sizes in MiB.
pub fn host_value(fabric: &Fabric, host: HostRef<'_>) -> Result<serde_json::Value, RenderError> {
    let json = match host {
        HostRef::Dom0(d) => HostJson {
            fqdn: fabric.fqdn(&d.name),
            role: "dom0",
            dom0: None,
            host: HostBody::Dom0 {
                dom0: Dom0Summary {
                    name: &d.name,
                    ip: d.ip,
                    mac: d.mac,
                    network: &d.network,
                    hardware: &d.hardware,
                    os: &d.os,
                    memory: d.memory,
                    vcpus: d.vcpus,
                    balloon: d.balloon,
                    toolstack: d.toolstack,
                    partitioning: &d.partitioning,
                    state: d.state,
                    guests: d.guests.iter().map(|g| &g.name).collect(),
                },
                capacity: Some(dom0_capacity(fabric, d)?),
            },
        },
        HostRef::Guest(d, g) => HostJson {
            fqdn: fabric.fqdn(&g.name),
            role: "guest",
            dom0: Some(fabric.fqdn(&d.name)),
            host: HostBody::Guest(g),
        },
    };
    Ok(serde_json::to_value(&json)?)
}

#[derive(Serialize)]
struct CapacityView {
    dom0s: Vec<Dom0View>,
}

#[derive(Serialize)]
struct Dom0View {
    fqdn: String,
    hardware: String,
    scheme: String,
    toolstack: &'static str,
    rows: Vec<Row>,
    guests: Vec<String>,
}

/// One line of the table, its columns padded here so that the template only prints.
#[derive(Serialize)]
struct Row {
    label: String,
    total: String,
    detail: String,
}

fn row(label: &str, total: &dyn std::fmt::Display, detail: String) -> Row {
    Row {
        label: format!("{label:<10}"),
        total: format!("{:>8}", total.to_string()),
        detail,
    }
}

fn dom0_view(fabric: &Fabric, d: &Dom0) -> Result<Dom0View, RenderError> {
    let cap = dom0_capacity(fabric, d)?;
    let mut rows = vec![
        row(
            "memory",
            &cap.ram,
            format!(
                "= hypervisor {} + dom0 {} + guests {} + free {}",
                cap.hypervisor_memory,
                cap.dom0_memory,
                cap.guest_memory,
                cap.ram.saturating_sub(cap.memory_used())
            ),
        ),
        row(
            "cpus",
            &cap.cpus,
            format!(
                "  dom0 {} vCPU, guests {} vCPU",
                cap.dom0_vcpus, cap.guest_vcpus
            ),
        ),
    ];
    for vg in &cap.volume_groups {
        rows.push(row(
            vg.name.as_str(),
            &vg.size,
            format!(
                "= dom0 {} + guests {} + free {}",
                vg.system,
                vg.guests,
                vg.free()
            ),
        ));
    }
    let save = match &cap.save_area {
        Some(s) => (
            s.size.map_or_else(|| "grows".to_owned(), |s| s.to_string()),
            format!("  on {}", s.mount),
        ),
        None => ("-".to_owned(), "  no file system holds it".to_owned()),
    };
    rows.push(row(
        "save area",
        &save.0,
        format!("{} for {} of guest memory", save.1, cap.guest_memory),
    ));
    let guests = d
        .guests
        .iter()
        .map(|g| {
            let disks: Vec<String> = g
                .disks
                .iter()
                .map(|k| format!("{}/{}:{}={}", k.vg, k.lv, k.vdev, k.size))
                .collect();
            format!(
                "{:<16} {:<15} {}  {:>6}  {} vCPU  {}  {}",
                g.name.as_str(),
                g.ip.to_string(),
                g.mac,
                g.memory.to_string(),
                g.vcpus,
                g.mode.as_str(),
                disks.join(" ")
            )
        })
        .collect();
    Ok(Dom0View {
        fqdn: fabric.fqdn(&d.name),
        hardware: d.hardware.to_string(),
        scheme: d.partitioning.to_string(),
        toolstack: d.toolstack.as_str(),
        rows,
        guests,
    })
}
