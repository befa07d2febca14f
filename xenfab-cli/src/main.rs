//! `xenfab`: render every provisioning artefact of a Xen fabric from one description.

mod cmd;
mod fabric;
mod progress;
mod ui;

use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: a render of a 110,000-host site runs a quarter
/// faster (benches/scale/README.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // No transparent huge pages (`prctl(PR_SET_THP_DISABLE)`, Linux 3.15; `man 2 prctl`):
    // mimalloc asks for them, and where the kernel's THP `defrag` setting is `madvise` (the
    // default) a fault on such memory may stop to compact memory first. A run of xenfab is
    // short and touches its memory once: at 110,000 hosts a rerun or a one-guest change took
    // 0.3 to 0.4 s longer with them, in system time (benches/scale/README.md).
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let cli = cmd::Cli::parse_colored(std::env::args_os().collect());
    ui::init(cli.global);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
