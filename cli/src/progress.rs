//! Progress of long commands on standard error: a bar with the current step when standard
//! error is a terminal, plain lines otherwise (logs, CI), nothing with `--output json`.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

pub struct Progress {
    bar: ProgressBar,
    quiet: bool,
}

impl Progress {
    /// A bar of `steps` steps; `quiet` prints nothing at all.
    pub fn new(steps: u64, quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(steps)
        };
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar, quiet }
    }

    /// Reports a finished step.
    pub fn step(&self, text: &str) {
        self.say(text);
        self.bar.inc(1);
    }

    /// Prints a line above the bar (or on its own when there is no bar).
    pub fn say(&self, text: &str) {
        if self.quiet {
            return;
        }
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    /// Shows what the command is doing now.
    pub fn doing(&self, text: &str) {
        self.bar.set_message(text.to_string());
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
