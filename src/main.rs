//! The `reconcile` binary: parse arguments, set up logging, run a command, map the result to
//! an exit code. Everything else lives in the library.

use reconcile::cli::{self, Cli, ExitStatus};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse_with_apis(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(e),
    };
    init_logging(cli.global.verbose, cli.global.no_color);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(ExitStatus::Failure.code());
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("caused by: {cause}");
            }
            ExitCode::from(ExitStatus::Failure.code())
        }
    }
}

/// Help and version print in full; a bad flag is one line plus where to look, exit 1.
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("error: bad arguments");
            eprintln!("{first} (see reconcile --help)");
            ExitCode::from(ExitStatus::Failure.code())
        }
    }
}

/// `-v` shows each HTTP call, `-vv` more; `RUST_LOG` overrides both. Logs go to stderr, in
/// colour only on a terminal and never with `--no-color` or `NO_COLOR`.
fn init_logging(verbose: u8, no_color: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "warn,reconcile=debug",
        _ => "info,reconcile=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(
            !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal(),
        )
        .with_target(false)
        .compact()
        .init();
}
