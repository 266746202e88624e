//! `reconcile validate DIR`: parse and validate the manifests offline; every problem at once,
//! each with file:line:column, the field and a hint. No network.
//!
//! Output (all on stderr; stdout stays empty): each problem rendered with its source line,
//! then `error: N problems in M files` and exit 1; or `N resources valid` and exit 0.

use super::{ExitStatus, GlobalArgs};
use crate::manifest;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Directory of manifests (*.yaml, *.yml, walked recursively), or one file
    pub dir: PathBuf,
}

pub async fn run(global: &GlobalArgs, args: ValidateArgs) -> anyhow::Result<ExitStatus> {
    let env = |name: &str| std::env::var(name).ok();
    match manifest::load(&args.dir, &env) {
        Ok(set) => {
            let n = set.resources.len();
            eprintln!("{n} resource{} valid", if n == 1 { "" } else { "s" });
            Ok(ExitStatus::Success)
        }
        Err(problems) => {
            eprint!("{}", problems.render(stderr_color(global)));
            eprintln!("error: {}", problems.summary());
            Ok(ExitStatus::Failure)
        }
    }
}

/// Colour on stderr: only on a terminal, never with `--no-color` or `NO_COLOR`.
pub fn stderr_color(global: &GlobalArgs) -> bool {
    !global.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}
