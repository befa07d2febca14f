//! The progress bar of `render` on a terminal: which step a run is at, and how many of its
//! parts or files are done. Only when stderr is a terminal and not `--quiet`; cleared when
//! the run is done, so that what stays on the screen is what the run says without it.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use xenfab_core::output::{Progress, Step};

use crate::ui;

/// Redraws at most this often (indicatif's rate); the core tells it a batch at a time.
const HZ: u8 = 10;

/// A progress bar on stderr, shown from [`Bar::new`] until it is dropped or [`Bar::hide`]s.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar on stderr, at the step `step` (uncounted: a spinner) with `message`; `None`
    /// when stderr is no terminal, or with `--quiet`.
    pub fn new(step: &str, message: &str) -> Option<Bar> {
        let ui = ui::get();
        if ui.quiet || !ui.err_terminal {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(HZ));
        let bar = Bar { bar };
        bar.step(step, message);
        bar.bar.enable_steady_tick(Duration::from_millis(100));
        ui::set_bar(Some(bar.bar.clone()));
        Some(bar)
    }

    /// An uncounted step begins: `step` with `message` beside a spinner.
    pub fn step(&self, step: &str, message: &str) {
        self.bar.unset_length();
        self.bar.set_position(0);
        self.bar.set_prefix(step.to_owned());
        self.bar.set_message(message.to_owned());
        self.bar
            .set_style(style("{spinner} {prefix:>8}: {msg} {elapsed}"));
    }

    /// Takes the bar off the screen for good: what the run is told after is not shown.
    pub fn hide(&self) {
        ui::set_bar(None);
        self.bar.disable_steady_tick();
        self.bar.finish_and_clear();
        self.bar.set_draw_target(ProgressDrawTarget::hidden());
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        ui::set_bar(None);
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, step: Step, total: u64) {
        match step.unit() {
            Some(unit) => {
                self.bar.set_length(total);
                self.bar.set_position(0);
                self.bar.set_prefix(step.as_str());
                self.bar.set_message(unit);
                self.bar.set_style(style(
                    "{spinner} {prefix:>8}: [{bar:30}] {pos}/{len} {msg} {elapsed}",
                ));
            }
            None => self.step(step.as_str(), ""),
        }
    }

    fn advance(&self, done: u64) {
        self.bar.inc(done);
    }
}

/// The style of `template` (one of this module's, which parse).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}
