//! The `reconcile` binary an example drives (`bench_fleet`, `fault_campaign`), found beside
//! the example and built first when the example runs through cargo.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>/reconcile` beside this example. Run through cargo (`CARGO` is set), it is
/// built first (`cargo build [--release] --bin reconcile`: a no-op when up to date, since
/// `cargo run --example` builds the library and the example but not the binary). Run directly,
/// it must exist. `RECONCILE_BIN` overrides both. `warn` receives what the caller should show.
pub fn reconcile_binary(example: &str, warn: impl Fn(&str)) -> Result<PathBuf> {
    if let Ok(path) = std::env::var("RECONCILE_BIN") {
        return Ok(PathBuf::from(path));
    }
    let me = std::env::current_exe()?;
    let profile_dir = me
        .parent()
        .and_then(Path::parent)
        .context("this example is not under target/<profile>/examples")?;
    let bin = profile_dir.join(format!("reconcile{}", std::env::consts::EXE_SUFFIX));
    let through_cargo = std::env::var_os("CARGO");
    if let Some(cargo) = &through_cargo {
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "--bin", "reconcile"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // `cargo run` gave this process the package's variables (CARGO_MANIFEST_DIR, ...);
        // build scripts that watch them (ring's) would see them change between the outer and
        // this inner build, and each would rebuild ring, rustls and reconcile (minutes).
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("CARGO_MANIFEST_")
                || name.starts_with("CARGO_PKG_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                ]
                .contains(&name.as_ref())
            {
                build.env_remove(name.as_ref());
            }
        }
        if release_profile(profile_dir) {
            build.arg("--release");
        }
        if !build.status()?.success() {
            bail!("cargo build --bin reconcile failed");
        }
    }
    if !bin.is_file() {
        bail!(
            "{} is missing\nhint: cargo build --release --bin reconcile, or run through `cargo run --release --example {example}`",
            bin.display()
        );
    }
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if through_cargo.is_none() && modified(&bin) < modified(&me) {
        warn(
            "warning: the reconcile binary is older than this example; rebuild it if src/ changed",
        );
    }
    Ok(bin)
}

/// Whether `target/<profile>` is the release profile's.
pub fn release_profile(profile_dir: &Path) -> bool {
    profile_dir.file_name().is_some_and(|n| n == "release")
}
