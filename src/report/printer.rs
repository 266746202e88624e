//! `Printer`: the owner of a command's output. stdout is data (the plan, JSON, a report);
//! progress, notes, errors and hints go to stderr.

use crate::manifest::Diagnostics;
use std::io::{IsTerminal, Write};

/// stdout could not be written (a closed pipe, a full disk).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to stdout")]
pub struct StdoutClosed(#[source] pub std::io::Error);

/// The owner of the command's output: data on stdout (coloured only on a terminal, never with
/// `--no-color` or `NO_COLOR`), progress, errors and hints on stderr.
pub struct Printer {
    pub stdout_color: bool,
    pub stderr_color: bool,
    stderr_is_terminal: bool,
}

impl Printer {
    /// The printer of a command run with `--no-color` or not (`NO_COLOR` and terminals are
    /// looked at here).
    pub fn new(no_color: bool) -> Printer {
        use anstream::{AutoStream, ColorChoice};
        let allowed = !no_color;
        Printer {
            stdout_color: allowed && AutoStream::choice(&std::io::stdout()) != ColorChoice::Never,
            stderr_color: allowed && AutoStream::choice(&std::io::stderr()) != ColorChoice::Never,
            stderr_is_terminal: std::io::stderr().is_terminal(),
        }
    }

    /// The command's result, on stdout.
    pub fn data(&self, text: &str) -> Result<(), StdoutClosed> {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(StdoutClosed)
    }

    /// A progress line on stderr, only on a terminal (CI logs keep the plan alone).
    pub fn progress(&self, message: &str) {
        if self.stderr_is_terminal {
            eprintln!("{message}");
        }
    }

    /// A line on stderr, terminal or not (apply's summary, what a CI log must keep).
    pub fn note(&self, message: &str) {
        eprintln!("{message}");
    }

    /// True when stderr is a terminal (live progress may be drawn there).
    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_is_terminal
    }

    /// `error: ...` and `hint: ...` on stderr.
    pub fn error(&self, message: &str, hint: Option<&str>) {
        use owo_colors::OwoColorize;
        if self.stderr_color {
            eprintln!("{} {message}", "error:".red().bold());
        } else {
            eprintln!("error: {message}");
        }
        if let Some(hint) = hint {
            if self.stderr_color {
                eprintln!("{} {hint}", "hint:".cyan());
            } else {
                eprintln!("hint: {hint}");
            }
        }
    }

    /// Manifest problems, underlined, then one summary line; nothing was read from the API.
    pub fn diagnostics(&self, diagnostics: &Diagnostics) {
        eprint!("{}", diagnostics.render(self.stderr_color));
        self.error(
            &format!("{}; nothing was read from the API", diagnostics.summary()),
            None,
        );
    }
}
