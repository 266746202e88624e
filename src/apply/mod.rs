//! What `apply` decides around the engine, as values a test can reach without a process: the
//! safety gates and the confirmation (`gates`), the saved plan and its staleness (`saved`,
//! `identity`), the run lock (`lock`), which rotations may run (`rotation`), and the
//! convergence check after the engine (`verify`). The run report and its renderers are in
//! `report::apply`; `cli::apply` holds the flags, the prompt and the printing.
//!
//! The order of a run: lock -> plan, or read the saved plan and refuse it when it belongs to
//! another API or is stale -> gates -> confirmation -> `engine::execute` -> rotations ->
//! `verify::read_again` and `verify::verify` -> `report::apply::decide`.

pub mod gates;
pub mod identity;
pub mod lock;
pub mod rotation;
pub mod saved;
pub mod verify;

#[cfg(test)]
pub(crate) mod fixtures;
