//! What a command says, as data a test can reach without a process, and the `Printer` that
//! says it: the exit status (`ExitStatus`, the contract of `docs/commands.md`), what `plan`
//! says beside the plan (`plan`), apply's run report (`apply`) and the drift report
//! (`drift`), each with its renderers.

pub mod apply;
pub mod drift;
pub mod plan;
mod printer;

pub use printer::{Printer, StdoutClosed};

/// How a command ended, mapped to the exit codes of `docs/commands.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: no changes / converged / served until stopped.
    Success,
    /// 1: error.
    Failure,
    /// 2: changes present.
    Changes,
    /// 4: apply partly done: some steps failed, the rest succeeded; a re-run continues.
    PartiallyApplied,
    /// 5: wait budget spent while the API is still working; a re-run resumes waiting.
    StillInProgress,
    /// 6: refused by a safety gate.
    Refused,
    /// 7: the saved plan is stale.
    StalePlan,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
            ExitStatus::PartiallyApplied => 4,
            ExitStatus::StillInProgress => 5,
            ExitStatus::Refused => 6,
            ExitStatus::StalePlan => 7,
        }
    }
}
