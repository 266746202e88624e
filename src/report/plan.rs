//! What `reconcile plan` says besides the plan itself: its exit status, why a plan cannot be
//! trusted or applied, and the users whose password the secrets sink does not hold.

use super::ExitStatus;
use crate::engine::PasswordUnknown;
use crate::plan::{render, Plan};
use std::path::Path;

/// The `error:` message and `hint:` for each reason a plan cannot be trusted or applied
/// (preflight errors, unknown scopes); empty when there is none. Any reason makes the exit
/// status 1.
pub fn failure_reasons(plan: &Plan) -> Vec<(String, &'static str)> {
    let mut reasons = Vec::new();
    if !plan.errors.is_empty() {
        reasons.push((
            format!(
                "the plan cannot be applied: {}",
                render::plural(plan.errors.len(), "error", "errors")
            ),
            "fix what the errors say, then plan again",
        ));
    }
    if !plan.unknown.is_empty() {
        reasons.push((
            format!(
                "the plan is incomplete: {} could not be read",
                render::plural(plan.unknown.len(), "scope", "scopes")
            ),
            "nothing is planned there; plan again once the API answers (-v logs every call)",
        ));
    }
    reasons
}

/// The exit status of a printed plan: 1 when it cannot be trusted or applied, 2 with
/// `--detailed-exitcode` when it is unsettled (changes, or objects in progress), else 0.
pub fn exit_status(plan: &Plan, detailed_exitcode: bool) -> ExitStatus {
    if !failure_reasons(plan).is_empty() {
        ExitStatus::Failure
    } else if plan.is_unsettled() && detailed_exitcode {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    }
}

/// The warning `plan DIR` prints for a user that exists with no password in `secrets_dir`.
pub fn password_warning(unknown: &PasswordUnknown, secrets_dir: &Path, dir: &Path) -> String {
    let what = if unknown.intent {
        "an earlier run created it and stopped before storing its password: the next apply \
         resets and stores it"
            .to_string()
    } else {
        format!(
            "to get one, run reconcile apply {} --rotate {}",
            dir.display(),
            unknown.address
        )
    };
    format!(
        "warning: {} exists and no password for it is stored in {}: {what}",
        unknown.address,
        secrets_dir.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fixtures::{address, change, plan};
    use crate::live::Scope;
    use crate::manifest::model::Kind;
    use crate::plan::model::{Action, Finding, InProgress, UnknownScope};

    #[test]
    fn a_plan_exits_1_when_it_cannot_be_trusted_and_2_when_unsettled_on_request() {
        let mut plan = plan(Vec::new());
        assert_eq!(exit_status(&plan, true), ExitStatus::Success);
        plan.in_progress.push(InProgress {
            address: address(Kind::DatabaseService, "a"),
            id: "s1".into(),
            status: "CREATING".into(),
        });
        assert_eq!(exit_status(&plan, false), ExitStatus::Success);
        assert_eq!(exit_status(&plan, true), ExitStatus::Changes);
        plan.changes
            .push(change(Kind::DatabaseService, "b", Action::Create, None));
        assert_eq!(exit_status(&plan, true), ExitStatus::Changes);
        plan.unknown.push(UnknownScope {
            scope: Scope::StackMysql,
            reason: "HTTP 503".into(),
            affected: Vec::new(),
        });
        plan.errors.push(Finding {
            address: address(Kind::DatabaseService, "b"),
            field: "spec.version".into(),
            message: "not in the catalogue".into(),
        });
        assert_eq!(exit_status(&plan, false), ExitStatus::Failure);
        let said: Vec<String> = failure_reasons(&plan)
            .into_iter()
            .map(|(message, hint)| format!("error: {message}\nhint: {hint}"))
            .collect();
        insta::assert_snapshot!(said.join("\n"), @r"
        error: the plan cannot be applied: 1 error
        hint: fix what the errors say, then plan again
        error: the plan is incomplete: 1 scope could not be read
        hint: nothing is planned there; plan again once the API answers (-v logs every call)
        ");
    }

    #[test]
    fn a_user_without_a_stored_password_is_named_with_how_to_get_one() {
        let mut unknown = PasswordUnknown {
            address: address(Kind::DatabaseUser, "orders-app"),
            user_id: "u1".into(),
            intent: false,
        };
        let (secrets, dir) = (Path::new(".reconcile/secrets"), Path::new("manifests"));
        assert_eq!(
            password_warning(&unknown, secrets, dir),
            "warning: DatabaseUser/orders-app exists and no password for it is stored in \
             .reconcile/secrets: to get one, run reconcile apply manifests --rotate \
             DatabaseUser/orders-app"
        );
        unknown.intent = true;
        assert_eq!(
            password_warning(&unknown, secrets, dir),
            "warning: DatabaseUser/orders-app exists and no password for it is stored in \
             .reconcile/secrets: an earlier run created it and stopped before storing its \
             password: the next apply resets and stores it"
        );
    }
}
