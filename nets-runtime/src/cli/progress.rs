//! Progress of long-running commands, on stderr: a live bar on a terminal, plain lines
//! otherwise (logs and CI output stay readable and greppable).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// The progress of one command.
pub(super) struct Progress {
    /// `None` when stderr is not a terminal.
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A spinner for work of unknown length, showing `message`.
    pub(super) fn spinner(message: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            eprintln!("{message}");
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner().with_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress { bar: Some(bar) }
    }

    /// A bar counting `done` of `total` items.
    pub(super) fn bar(message: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::new(0).with_style(style).with_message(message.to_owned());
        Progress { bar: Some(bar) }
    }

    /// Moves to `done` of `total`; off a terminal, prints `line` instead.
    pub(super) fn update(&self, done: u64, total: u64, line: impl FnOnce() -> String) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            None => eprintln!("{}", line()),
        }
    }

    /// Replaces the spinner's message (off a terminal: prints it).
    pub(super) fn step(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(message.to_owned()),
            None => eprintln!("{message}"),
        }
    }

    /// Clears the bar; what follows is printed below it.
    pub(super) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
