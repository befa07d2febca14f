//! Quattor: a site's compiled profiles (pan XML or JSON, gzip'd or not) as the fabric.
//!
//! ```text
//! profiles/ ─read_dir─▶ [Profile] ─mapping::fabric_file─▶ FabricFile ─lower, validate─▶ Fabric
//! ```
//!
//! [`load_dir`] does it all; see [`mapping`] for which profile paths become what.

pub mod mapping;
pub mod profile;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use mapping::{FABRIC_PATH, Profile};

use crate::diagnostic::Location;
use crate::error::{Error, ParseError};
use crate::input::fabric_file::{FabricFile, Source};

/// Reads the profiles of `dir`: those its `profiles-info.xml` lists when it has one (as AII
/// serves them), else every `*.xml`, `*.json`, `*.xml.gz` and `*.json.gz`. A host whose profile
/// is there in both formats is read once, from its XML.
pub fn read_dir(dir: &Path) -> Result<Vec<Profile>, Error> {
    let io = |path: &Path, e: std::io::Error| {
        Error::Parse(ParseError::new(
            &Arc::from(path.display().to_string()),
            None,
            None,
            &format!("cannot read: {e}"),
        ))
    };
    let listed = match read_bounded(&dir.join("profiles-info.xml")) {
        Ok(bytes) => Some(
            profiles_info(&bytes).map_err(|m| parse_error(&dir.join("profiles-info.xml"), &m))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&dir.join("profiles-info.xml"), e)),
    };
    let names: Vec<String> = if let Some(names) = listed {
        names
    } else {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
            let entry = entry.map_err(|e| io(dir, e))?;
            if let Some(name) = entry.file_name().to_str() {
                if host_of(name).is_some() && entry.path().is_file() {
                    names.push(name.to_owned());
                }
            }
        }
        names
    };
    // One file a host: XML before JSON, plain before gzip'd.
    let mut by_host: BTreeMap<String, (u8, String)> = BTreeMap::new();
    for name in names {
        let Some((host, rank)) = host_of(&name) else {
            continue;
        };
        let better = by_host.get(&host).is_none_or(|(r, _)| rank < *r);
        if better {
            by_host.insert(host, (rank, name));
        }
    }
    let names: Vec<String> = by_host.into_values().map(|(_, name)| name).collect();
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    let mut profiles = Vec::with_capacity(names.len());
    for ((name, path), read) in names
        .into_iter()
        .zip(&paths)
        .zip(profile::read_files(&paths))
    {
        let root = read.map_err(|e| parse_error(path, &crate::error::error_chain(&e)))?;
        profiles.push(Profile { name, root });
    }
    if profiles.is_empty() {
        return Err(parse_error(
            dir,
            "no profiles (*.xml, *.json, *.xml.gz, *.json.gz) here",
        ));
    }
    Ok(profiles)
}

/// Reads a whole file of at most [`profile::MAX_DECOMPRESSED`] bytes; a larger one is an
/// error of kind `InvalidData`, so that a hostile file cannot take all memory.
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(profile::MAX_DECOMPRESSED + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > profile::MAX_DECOMPRESSED {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "larger than {} MiB: refusing it",
                profile::MAX_DECOMPRESSED >> 20
            ),
        ));
    }
    Ok(bytes)
}

/// The host a profile's file name is for, and how much it is preferred (lower is better).
fn host_of(name: &str) -> Option<(String, u8)> {
    [(".xml", 0), (".xml.gz", 1), (".json", 2), (".json.gz", 3)]
        .iter()
        .find_map(|(ext, rank)| name.strip_suffix(ext).map(|h| (h.to_owned(), *rank)))
        .filter(|(h, _)| !h.is_empty() && h != "profiles-info")
}

/// The file names AII's `profiles-info.xml` lists (`<profile …>name.xml</profile>`).
fn profiles_info(bytes: &[u8]) -> Result<Vec<String>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut names = Vec::new();
    let mut in_profile = false;
    loop {
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?
        {
            Event::Start(e) if e.local_name().as_ref() == "profile" => in_profile = true,
            Event::End(e) if e.local_name().as_ref() == "profile" => in_profile = false,
            Event::Text(t) if in_profile => {
                let text = t.xml10_content();
                let name = text.trim();
                if name.contains('/') || name.starts_with('.') {
                    return Err(format!("`{}` is not a file name", name.escape_debug()));
                }
                names.push(name.to_owned());
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(names)
}

fn parse_error(path: &Path, message: &str) -> Error {
    Error::Parse(ParseError::new(
        &Arc::from(path.display().to_string()),
        None,
        None,
        message,
    ))
}

/// Reads the profiles of `dir` and maps them onto one fabric file, or reports every missing or
/// wrong path of every profile.
pub fn fabric_file_of_dir(dir: &Path) -> Result<FabricFile, Error> {
    let profiles = read_dir(dir)?;
    let origin: Arc<str> = Arc::from(dir.display().to_string());
    mapping::fabric_file(&profiles).map_err(|mut d| {
        for diag in d.items_mut() {
            diag.location = Some(Location {
                file: origin.clone(),
                line: None,
                column: None,
            });
        }
        Error::Invalid(d)
    })
}

/// Reads, maps and validates the profiles of `dir` as one fabric.
pub fn load_dir(dir: &Path) -> Result<crate::Loaded, Error> {
    let file = fabric_file_of_dir(dir)?;
    crate::check(&Source::from_file(file, &dir.display().to_string()))
}
