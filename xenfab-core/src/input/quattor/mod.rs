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
/// serves them), else every `*.xml`, `*.json`, `*.xml.gz` and `*.json.gz` in it and in its
/// subdirectories (as a site's build tree sorts them, e.g. by cluster). A
/// host whose profile is there in both formats is read once, from its XML; a host with
/// profiles in two directories is refused, since nothing says which is current.
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
    // (directory relative to `dir`, "" for `dir` itself; file name)
    let files: Vec<(String, String)> = if let Some(names) = listed {
        names.into_iter().map(|n| (String::new(), n)).collect()
    } else {
        let mut files = Vec::new();
        profile_files(dir, "", 0, &mut files).map_err(|(path, e)| io(&path, e))?;
        files
    };
    // One file a host: XML before JSON, plain before gzip'd, in one directory.
    let mut by_host: BTreeMap<String, (u8, String, String)> = BTreeMap::new();
    for (sub, name) in files {
        let Some((host, rank)) = host_of(&name) else {
            continue;
        };
        let path = if sub.is_empty() {
            name.clone()
        } else {
            format!("{sub}/{name}")
        };
        match by_host.get(&host) {
            Some((_, other, other_sub)) if *other_sub != sub => {
                return Err(parse_error(
                    dir,
                    &format!(
                        "host `{}` has a profile in two directories, `{other}` and `{path}`: \
                         keep one",
                        crate::input::fabric_file::shown(&host)
                    ),
                ));
            }
            Some((r, _, _)) if *r <= rank => {}
            _ => {
                by_host.insert(host, (rank, path, sub));
            }
        }
    }
    let names: Vec<String> = by_host.into_values().map(|(_, path, _)| path).collect();
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

/// How deep [`profile_files`] looks below the profiles' directory.
const MAX_DEPTH: usize = 16;

/// The profile files (by the names [`host_of`] knows) in `dir`/`sub` and below, as (their
/// directory relative to `dir`, their name). Directories whose names start with `.` (`.git`,
/// `.svn`) are skipped, and symbolic links to directories are not followed (no loops, nothing
/// outside the tree); a link to a file is read as the file. Below [`MAX_DEPTH`] levels it
/// stops looking.
fn profile_files(
    dir: &Path,
    sub: &str,
    depth: usize,
    files: &mut Vec<(String, String)>,
) -> Result<(), (PathBuf, std::io::Error)> {
    let here = if sub.is_empty() {
        dir.to_path_buf()
    } else {
        dir.join(sub)
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&here).map_err(|e| (here.clone(), e))? {
        let entry = entry.map_err(|e| (here.clone(), e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue; // not UTF-8: no host name
        };
        let kind = entry.file_type().map_err(|e| (entry.path(), e))?;
        entries.push((name, kind, entry.path()));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, kind, path) in entries {
        if kind.is_dir() {
            if !name.starts_with('.') && depth < MAX_DEPTH {
                let below = if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                };
                profile_files(dir, &below, depth + 1, files)?;
            }
        } else if host_of(&name).is_some() && path.is_file() {
            files.push((sub.to_owned(), name));
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/quattor-scenario/profiles")
    }

    /// The scenario's two profiles, each copied to `dir/<where>/<its name>`.
    fn copy_into(dir: &Path, places: [&str; 2]) {
        for (name, place) in ["xen-host.example.org.xml", "xen-guest.example.org.xml"]
            .into_iter()
            .zip(places)
        {
            let to = dir.join(place);
            std::fs::create_dir_all(&to).unwrap();
            std::fs::copy(scenario().join(name), to.join(name)).unwrap();
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        read_dir(dir).unwrap().into_iter().map(|p| p.name).collect()
    }

    #[test]
    fn profiles_in_subdirectories_are_read_as_flat_ones() {
        let flat = tempfile::tempdir().unwrap();
        copy_into(flat.path(), [".", "."]);
        let nested = tempfile::tempdir().unwrap();
        copy_into(nested.path(), ["cluster-a", "cluster-b/guests"]);
        assert_eq!(
            names(nested.path()),
            [
                "cluster-b/guests/xen-guest.example.org.xml",
                "cluster-a/xen-host.example.org.xml"
            ]
        );
        let fabric = |dir: &Path| format!("{:?}", load_dir(dir).unwrap().fabric);
        assert_eq!(fabric(nested.path()), fabric(flat.path()));
    }

    #[test]
    fn hidden_directories_and_links_to_directories_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        copy_into(dir.path(), [".", "."]);
        copy_into(dir.path(), [".git/old", ".svn"]); // copies a VCS keeps
        std::os::unix::fs::symlink(".", dir.path().join("loop")).unwrap();
        std::os::unix::fs::symlink(scenario(), dir.path().join("elsewhere")).unwrap();
        assert_eq!(
            names(dir.path()),
            ["xen-guest.example.org.xml", "xen-host.example.org.xml"]
        );
    }

    #[test]
    fn a_host_in_two_directories_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        copy_into(dir.path(), ["a", "b"]);
        copy_into(dir.path(), ["c", "c"]);
        let err = crate::error::error_chain(&read_dir(dir.path()).unwrap_err());
        assert!(
            err.contains("host `xen-guest.example.org` has a profile in two directories, `b/xen-guest.example.org.xml` and `c/xen-guest.example.org.xml`: keep one"),
            "{err}"
        );
        // in one directory, XML and JSON of a host are not two profiles: the XML is read
        let one = tempfile::tempdir().unwrap();
        copy_into(one.path(), ["x", "x"]);
        std::fs::write(one.path().join("x/xen-host.example.org.json"), "{}").unwrap();
        assert_eq!(
            names(one.path()),
            ["x/xen-guest.example.org.xml", "x/xen-host.example.org.xml"]
        );
    }
}
