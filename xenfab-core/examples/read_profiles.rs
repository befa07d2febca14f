//! Reads every compiled Quattor profile of a directory and prints, as one line of JSON, how
//! many files and bytes it read, how many values they hold and how long it took. The other
//! half of `benches/quattor/compare.py`:
//!
//! ```sh
//! cargo run --release -p xenfab-core --example read_profiles -- DIR
//! ```
//!
//! The time covers reading each file, decompressing it if it is gzip'd, and parsing it into
//! a [`Value`] tree, as `read_file` does.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use xenfab_core::input::quattor::profile::{Value, read_file, read_files};

/// How many values `value` holds, itself included.
fn count(value: &Value) -> u64 {
    match value {
        Value::Nlist(nlist) => 1 + nlist.values().map(count).sum::<u64>(),
        Value::List(items) => 1 + items.iter().map(count).sum::<u64>(),
        _ => 1,
    }
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: read_profiles DIR");
        return ExitCode::from(2);
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("{}: {e}", PathBuf::from(&dir).display());
            return ExitCode::from(2);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            [".xml", ".json", ".xml.gz", ".json.gz"]
                .iter()
                .any(|ext| name.ends_with(ext))
        })
        .collect();
    paths.sort();
    let bytes: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();

    let start = Instant::now();
    let mut values = 0;
    for path in &paths {
        match read_file(path) {
            Ok(profile) => values += count(&profile),
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(1);
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();

    // The same files with `read_files`, as `xenfab quattor` reads a profile set: a thread a core.
    let start = Instant::now();
    let mut parallel_values = 0;
    for (path, read) in paths.iter().zip(read_files(&paths)) {
        match read {
            Ok(profile) => parallel_values += count(&profile),
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(1);
            }
        }
    }
    let seconds_parallel = start.elapsed().as_secs_f64();
    if parallel_values != values {
        eprintln!("read_files read {parallel_values} values, read_file {values}");
        return ExitCode::from(1);
    }

    println!(
        r#"{{"files": {}, "bytes": {bytes}, "values": {values}, "seconds": {seconds:.6}, "seconds_parallel": {seconds_parallel:.6}}}"#,
        paths.len()
    );
    ExitCode::SUCCESS
}
