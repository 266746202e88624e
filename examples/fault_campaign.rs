//! The long seeded fault campaign: `cargo run --example fault_campaign -- --episodes 50`.
//!
//! Each episode (tests/it/campaign.rs, which the test suite runs three of) applies a random
//! subset of manifests through a faulty sandbox (5xx, "500 but created", latency, 429), kills
//! runs with SIGKILL at random moments, mutates the manifests under `--prune`, then re-runs
//! once cleanly and counts duplicates, lost objects, leftovers, lost passwords and early
//! successes through the API. Prints one line per episode and the figures as the Markdown row
//! of docs/reliability.md; exits 1 when any episode found a problem, printing each with its
//! seed (`--seed S --episodes 1` runs that episode again alone).

#[path = "common/binary.rs"]
mod binary;
#[path = "../tests/it/campaign.rs"]
mod campaign;

use anyhow::{bail, Context, Result};

const USAGE: &str = "usage: fault_campaign [--episodes N] [--seed S]
  --episodes N   episodes to run (default 20)
  --seed S       the first episode's seed; episode k uses S + k (default: the clock)";

fn main() -> Result<()> {
    let mut episodes = 20usize;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--episodes" => {
                episodes = value("--episodes")?
                    .parse()
                    .context("--episodes: a number")?
            }
            "--seed" => seed = value("--seed")?.parse().context("--seed: a number")?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let bin = binary::reconcile_binary("fault_campaign", |line| eprintln!("{line}"))?;
    eprintln!(
        "fault campaign: {episodes} episodes from seed {seed}, reconcile at {}",
        bin.display()
    );
    let started = std::time::Instant::now();
    let figures = campaign::campaign(&bin, seed, episodes, |seed, one| {
        let verdict = if one.is_clean() { "ok" } else { "PROBLEM" };
        eprintln!("episode seed {seed}: {verdict}");
    });
    println!("{}", campaign::Figures::HEADER);
    println!("{}", figures.row());
    eprintln!("{:.0?} in all", started.elapsed());
    if !figures.is_clean() {
        for problem in &figures.problems {
            eprintln!("\n{problem}");
        }
        bail!("{} problem(s) found", figures.problems.len());
    }
    Ok(())
}
