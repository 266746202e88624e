//! The plan as people read it in a terminal or a CI log, in Terraform's vocabulary: `+` create,
//! `~` update in place, `-` delete, `-/+` replace; one header line per resource, changed fields
//! as `old -> new`, unchanged resources counted, then the unknown scopes, unmanaged objects,
//! warnings and errors, and the summary as the last line. Colour is decoration only: the text
//! reads the same without it.

use super::{
    call_line, duplicate_line, field_lines, forced_by_unlisted, header, in_progress_line, plural,
    summary, unmanaged_line, wave_count, wave_number,
};
use crate::plan::model::{Action, Change, Plan};
use owo_colors::{OwoColorize, Style};
use std::fmt::Write;

/// How the text plan is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// ANSI colours (only on a terminal, never with `--no-color` or `NO_COLOR`).
    pub color: bool,
    /// List the exact calls apply would make under each change (`--show-calls`).
    pub show_calls: bool,
}

/// Renders the plan for a terminal; ends with the summary line and a newline.
pub fn text(plan: &Plan, opts: &TextOptions) -> String {
    let paint = Paint(opts.color);
    let mut out = String::new();
    if plan.has_changes() {
        out.push_str("reconcile will perform the following actions:\n");
        let waves = wave_count(plan);
        let mut current = None;
        for change in &plan.changes {
            if waves > 1 && current != Some(change.wave) {
                current = Some(change.wave);
                let n = wave_number(plan, change.wave);
                let title = format!("Wave {n} of {waves}:");
                let _ = write!(out, "\n{}\n", paint.apply(&title, Style::new().bold()));
            }
            out.push('\n');
            change_block(&mut out, change, opts, paint);
        }
    }
    if !plan.unchanged.is_empty() {
        let n = plural(plan.unchanged.len(), "resource", "resources");
        separate(&mut out);
        let _ = writeln!(out, "{n} unchanged.");
    }
    sections(&mut out, plan, paint);
    separate(&mut out);
    let _ = writeln!(out, "{}", paint.apply(&summary(plan), Style::new().bold()));
    out
}

fn change_block(out: &mut String, change: &Change, opts: &TextOptions, paint: Paint) {
    let style = action_style(&change.action);
    let symbol = change.action.symbol();
    let _ = writeln!(
        out,
        "{}{} {}",
        " ".repeat(3 - symbol.len()),
        paint.apply(symbol, style),
        paint.apply(&header(change), Style::new().bold())
    );
    for field in &change.fields {
        for line in field_lines(field, &change.action) {
            let indent = "    ".repeat(line.depth + 1);
            let _ = write!(
                out,
                "  {indent}{} {}",
                paint.apply(line.symbol, symbol_style(line.symbol)),
                line.text
            );
            if line.forces_replace {
                let _ = write!(
                    out,
                    "  {}",
                    paint.apply("# forces replacement", Style::new().red())
                );
            }
            out.push('\n');
        }
    }
    let unlisted = forced_by_unlisted(change);
    if !unlisted.is_empty() {
        let note = format!("# forced by {}", unlisted.join(", "));
        let _ = writeln!(out, "      {}", paint.apply(&note, Style::new().red()));
    }
    if opts.show_calls && !change.calls.is_empty() {
        let _ = writeln!(out, "      calls:");
        for call in &change.calls {
            let _ = writeln!(out, "        {}", call_line(call));
        }
    }
}

/// Unknown scopes, unmanaged objects, warnings and errors, each in its own section.
fn sections(out: &mut String, plan: &Plan, paint: Paint) {
    let title = |out: &mut String, text: &str| {
        separate(out);
        let _ = writeln!(out, "{}", paint.apply(text, Style::new().bold()));
    };
    if !plan.unknown.is_empty() {
        title(
            out,
            "Unknown scopes (could not be read: nothing is planned there):",
        );
        for scope in &plan.unknown {
            let mark = paint.apply("?", Style::new().yellow());
            let _ = writeln!(out, "  {mark} {}: {}", scope.scope, scope.reason);
            if !scope.affected.is_empty() {
                let affected: Vec<String> =
                    scope.affected.iter().map(ToString::to_string).collect();
                let _ = writeln!(out, "      affects {}", affected.join(", "));
            }
        }
    }
    if !plan.unmanaged.is_empty() {
        title(
            out,
            "Unmanaged objects (live, named by no manifest; kept unless --prune):",
        );
        for object in &plan.unmanaged {
            let _ = writeln!(out, "  * {}", unmanaged_line(object));
        }
    }
    if !plan.duplicates.is_empty() {
        title(
            out,
            "Duplicates (twins of a managed object, the oldest is managed; kept unless --prune):",
        );
        for duplicate in &plan.duplicates {
            let _ = writeln!(out, "  * {}", duplicate_line(duplicate));
        }
    }
    if !plan.in_progress.is_empty() {
        title(
            out,
            "In progress (the API is still working on them; apply waits for them):",
        );
        for object in &plan.in_progress {
            let mark = paint.apply(">", Style::new().yellow());
            let _ = writeln!(out, "  {mark} {}", in_progress_line(object));
        }
    }
    if !plan.warnings.is_empty() {
        title(out, "Warnings:");
        for finding in &plan.warnings {
            let mark = paint.apply("!", Style::new().yellow());
            let _ = writeln!(
                out,
                "  {mark} {} {}: {}",
                finding.address, finding.field, finding.message
            );
        }
    }
    if !plan.errors.is_empty() {
        title(out, "Errors (the plan cannot be applied):");
        for finding in &plan.errors {
            let mark = paint.apply("x", Style::new().red().bold());
            let _ = writeln!(
                out,
                "  {mark} {} {}: {}",
                finding.address, finding.field, finding.message
            );
        }
    }
}

/// A blank line between blocks, none before the first.
fn separate(out: &mut String) {
    if !out.is_empty() {
        out.push('\n');
    }
}

fn action_style(action: &Action) -> Style {
    match action {
        Action::Create => Style::new().green(),
        Action::Update => Style::new().yellow(),
        Action::Replace { .. } => Style::new().red().bold(),
        Action::Delete { .. } => Style::new().red(),
    }
}

fn symbol_style(symbol: &str) -> Style {
    match symbol {
        "+" => Style::new().green(),
        "-" => Style::new().red(),
        _ => Style::new().yellow(),
    }
}

/// Applies a style only when colour is on.
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn apply(self, text: &str, style: Style) -> String {
        if self.0 {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures::*;

    fn plain(plan: &Plan) -> String {
        text(plan, &TextOptions::default())
    }

    #[test]
    fn every_action_and_section() {
        insta::assert_snapshot!(plain(&everything()), @r#"
        reconcile will perform the following actions:

        Wave 1 of 2:

          ~ DatabaseService/orders-db will be updated in place
              ~ spec.nodes.flavor: "db2-4" -> "db2-8"
              ~ spec.ipRestrictions:
                  - {"ip":"198.51.100.7/32","description":"vpn"}
                  + {"ip":"192.0.2.0/28","description":"ci"}
              + spec.storage: 80

        -/+ DatabaseService/billing-db must be replaced
              ~ spec.nodes.region: "GRA" -> "SBG"  # forces replacement
              ~ spec.version: "15" -> "16"

          - HostingAttachedDomain/legacy.shop.example will be destroyed (no manifest names it and --prune is given)

        Wave 2 of 2:

          + DatabaseUser/orders-app will be created
              + spec.username: "app"
              + spec.roles: ["readWrite@orders"]

          + HostingDatabase/shop-db will be created
              + spec.user: "shopdb"
              + spec.password: (sensitive)

        3 resources unchanged.

        Unknown scopes (could not be read: nothing is planned there):
          ? database redis in project p1: GET /cloud/project/p1/database/redis: 503 Service Unavailable
              affects DatabaseService/sessions

        Unmanaged objects (live, named by no manifest; kept unless --prune):
          * DatabaseService "orders-db-copy" (id 9d2e) in database mongodb in project p1
          * HostingAttachedDomain old.shop.example in hosting h1

        Warnings:
          ! DatabaseService/billing-db spec.version: postgresql 16 reaches end of sale on 2026-06-30

        Errors (the plan cannot be applied):
          x DatabaseService/sessions spec.nodes.flavor: flavor db9-1 is not offered for redis in GRA; allowed: db1-4, db1-7

        Plan: 3 to create, 1 to update, 2 to delete. 1 scope could not be read: the plan is incomplete. The plan cannot be applied: 1 error.
        "#);
    }

    #[test]
    fn calls_are_listed_under_their_change_with_show_calls() {
        let shown = text(
            &everything(),
            &TextOptions {
                color: false,
                show_calls: true,
            },
        );
        insta::assert_snapshot!(shown, @r#"
        reconcile will perform the following actions:

        Wave 1 of 2:

          ~ DatabaseService/orders-db will be updated in place
              ~ spec.nodes.flavor: "db2-4" -> "db2-8"
              ~ spec.ipRestrictions:
                  - {"ip":"198.51.100.7/32","description":"vpn"}
                  + {"ip":"192.0.2.0/28","description":"ci"}
              + spec.storage: 80
              calls:
                PUT /cloud/project/p1/database/mongodb/5f0c {"nodesPattern":{"flavor":"db2-8"}}
                DELETE /cloud/project/p1/database/mongodb/5f0c/ipRestriction/198.51.100.7%2F32

        -/+ DatabaseService/billing-db must be replaced
              ~ spec.nodes.region: "GRA" -> "SBG"  # forces replacement
              ~ spec.version: "15" -> "16"
              calls:
                DELETE /cloud/project/p1/database/postgresql/77aa
                POST /cloud/project/p1/database/postgresql {"description":"billing-db","version":"16"}

          - HostingAttachedDomain/legacy.shop.example will be destroyed (no manifest names it and --prune is given)
              calls:
                DELETE /hosting/web/h1/attachedDomain/legacy.shop.example

        Wave 2 of 2:

          + DatabaseUser/orders-app will be created
              + spec.username: "app"
              + spec.roles: ["readWrite@orders"]
              calls:
                POST /cloud/project/p1/database/mongodb/{id}/user {"name":"app","roles":["readWrite@orders"]}

          + HostingDatabase/shop-db will be created
              + spec.user: "shopdb"
              + spec.password: (sensitive)
              calls:
                POST /hosting/web/h1/database {"user":"shopdb","password":"***"}

        3 resources unchanged.

        Unknown scopes (could not be read: nothing is planned there):
          ? database redis in project p1: GET /cloud/project/p1/database/redis: 503 Service Unavailable
              affects DatabaseService/sessions

        Unmanaged objects (live, named by no manifest; kept unless --prune):
          * DatabaseService "orders-db-copy" (id 9d2e) in database mongodb in project p1
          * HostingAttachedDomain old.shop.example in hosting h1

        Warnings:
          ! DatabaseService/billing-db spec.version: postgresql 16 reaches end of sale on 2026-06-30

        Errors (the plan cannot be applied):
          x DatabaseService/sessions spec.nodes.flavor: flavor db9-1 is not offered for redis in GRA; allowed: db1-4, db1-7

        Plan: 3 to create, 1 to update, 2 to delete. 1 scope could not be read: the plan is incomplete. The plan cannot be applied: 1 error.
        "#);
    }

    #[test]
    fn no_changes_counts_the_unchanged_resources() {
        assert!(plain(&in_sync()).starts_with("2 resources unchanged.\n\nNo changes."));
        insta::assert_snapshot!(plain(&in_sync()), @"
        2 resources unchanged.

        No changes. Live state matches the manifests.
        ");
        insta::assert_snapshot!(plain(&Plan::default()), @"No changes. Live state matches the manifests.");
    }

    #[test]
    fn duplicates_unmanaged_and_in_progress_are_never_no_changes() {
        insta::assert_snapshot!(plain(&unsettled()), @r#"
            2 resources unchanged.

            Unmanaged objects (live, named by no manifest; kept unless --prune):
              * DatabaseService "orders-db-copy" (id 9d2e) in database mongodb in project p1

            Duplicates (twins of a managed object, the oldest is managed; kept unless --prune):
              * DatabaseService "orders-db" (id 7b1c, created at 2026-01-01T10:00:05Z) in database mongodb in project p1: duplicate of DatabaseService/orders-db (id 5f0c, created at 2026-01-01T10:00:00Z)

            In progress (the API is still working on them; apply waits for them):
              > DatabaseService/billing-db (id 77aa): CREATING

            Plan: 0 to create, 0 to update, 0 to delete. 1 object still in progress: apply waits for it. 1 live object named by no manifest: kept unless --prune. 1 duplicate: kept unless --prune.
            "#);
    }

    #[test]
    fn colour_is_decoration_only() {
        let coloured = text(
            &everything(),
            &TextOptions {
                color: true,
                show_calls: true,
            },
        );
        assert!(coloured.contains("\u{1b}["), "{coloured}");
        // The red, bold replace symbol.
        assert!(coloured.contains("\u{1b}[31;1m-/+\u{1b}[0m"), "{coloured}");
        let stripped = strip_ansi(&coloured);
        let plain = text(
            &everything(),
            &TextOptions {
                color: false,
                show_calls: true,
            },
        );
        assert_eq!(stripped, plain);
        assert!(!plain.contains('\u{1b}'));
    }

    fn strip_ansi(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
