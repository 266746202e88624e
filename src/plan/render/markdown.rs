//! The plan as Markdown for a pull-request comment: the summary line first (bold), the
//! unchanged count, then one section per action (create, update, replace, delete) with a
//! table of its resources and a collapsed details block per resource holding the changed
//! fields as a `diff` block (GitHub colours `+` and `-`) and, with `--show-calls`, the calls;
//! then the unknown scopes, unmanaged objects, warnings and errors.

use super::{
    action_name, call_line, duplicate_line, field_lines, forced_by_unlisted, header,
    in_progress_line, plural, summary, unmanaged_line, wave_number,
};
use crate::plan::model::{Action, Change, Plan};
use std::fmt::Write;

/// Renders the plan as GitHub-flavoured Markdown; `show_calls` adds the calls to the details.
pub fn markdown(plan: &Plan, show_calls: bool) -> String {
    let mut out = format!("**{}**\n", summary(plan));
    if !plan.unchanged.is_empty() {
        let n = plural(plan.unchanged.len(), "resource", "resources");
        let _ = writeln!(out, "\n{n} unchanged.");
    }
    for (action, title, detail) in [
        ("create", "`+` to create", None),
        ("update", "`~` to update in place", Some("changed fields")),
        ("replace", "`-/+` to replace", Some("forced by")),
        ("delete", "`-` to delete", Some("reason")),
    ] {
        let changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| action_name(&c.action) == action)
            .collect();
        if changes.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n#### {title} ({})\n", changes.len());
        match detail {
            Some(detail) => {
                let _ = writeln!(out, "| resource | wave | {detail} |\n|---|---|---|");
            }
            None => out.push_str("| resource | wave |\n|---|---|\n"),
        }
        for change in &changes {
            let wave = wave_number(plan, change.wave);
            let _ = write!(out, "| {} | {wave} |", code(&change.address.to_string()));
            if detail.is_some() {
                let _ = write!(out, " {} |", detail_cell(change));
            }
            out.push('\n');
        }
        for change in &changes {
            details(&mut out, change, show_calls);
        }
    }
    sections(&mut out, plan);
    out
}

/// The action-specific column: changed fields, the fields forcing a replace, a delete's
/// reason.
fn detail_cell(change: &Change) -> String {
    let codes = |paths: Vec<&str>| paths.into_iter().map(code).collect::<Vec<_>>().join(", ");
    match &change.action {
        Action::Create => String::new(),
        Action::Update => codes(change.fields.iter().map(|f| f.path.as_str()).collect()),
        Action::Replace { forced_by } => codes(forced_by.iter().map(String::as_str).collect()),
        Action::Delete { reason } => escape(reason),
    }
}

/// A collapsed block with the changed fields (and the calls), when there is something to show.
fn details(out: &mut String, change: &Change, show_calls: bool) {
    let calls = show_calls && !change.calls.is_empty();
    if change.fields.is_empty() && !calls {
        return;
    }
    let summary = html(&format!("{} {}", change.action.symbol(), header(change)));
    let _ = writeln!(
        out,
        "\n<details><summary><code>{summary}</code></summary>\n"
    );
    if !change.fields.is_empty() {
        let mut diff = String::new();
        for field in &change.fields {
            for line in field_lines(field, &change.action) {
                let indent = "    ".repeat(line.depth);
                let _ = write!(diff, "{} {indent}{}", line.symbol, line.text);
                if line.forces_replace {
                    diff.push_str("  # forces replacement");
                }
                diff.push('\n');
            }
        }
        let unlisted = forced_by_unlisted(change);
        if !unlisted.is_empty() {
            let _ = writeln!(diff, "# forced by {}", unlisted.join(", "));
        }
        out.push_str(&fence("diff", &diff));
    }
    if calls {
        let mut body = String::new();
        for call in &change.calls {
            let _ = writeln!(body, "{}", call_line(call));
        }
        let _ = writeln!(out, "\nCalls:\n");
        out.push_str(&fence("", &body));
    }
    out.push_str("\n</details>\n");
}

fn sections(out: &mut String, plan: &Plan) {
    if !plan.unknown.is_empty() {
        out.push_str("\n#### Unknown scopes\n\nCould not be read: nothing is planned there.\n\n");
        out.push_str("| scope | reason | affects |\n|---|---|---|\n");
        for scope in &plan.unknown {
            let affected: Vec<String> = scope
                .affected
                .iter()
                .map(|a| code(&a.to_string()))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                escape(&scope.scope.to_string()),
                escape(&scope.reason),
                affected.join(", ")
            );
        }
    }
    if !plan.unmanaged.is_empty() {
        out.push_str(
            "\n#### Unmanaged objects\n\nLive, named by no manifest; kept unless `--prune`.\n\n",
        );
        for object in &plan.unmanaged {
            let _ = writeln!(out, "- {}", escape(&unmanaged_line(object)));
        }
    }
    if !plan.duplicates.is_empty() {
        out.push_str(
            "\n#### Duplicates\n\nTwins of a managed object (the oldest is managed); kept unless `--prune`.\n\n",
        );
        for duplicate in &plan.duplicates {
            let _ = writeln!(out, "- {}", escape(&duplicate_line(duplicate)));
        }
    }
    if !plan.in_progress.is_empty() {
        out.push_str(
            "\n#### In progress\n\nThe API is still working on them; apply waits for them.\n\n",
        );
        for object in &plan.in_progress {
            let _ = writeln!(out, "- {}", escape(&in_progress_line(object)));
        }
    }
    if !plan.warnings.is_empty() {
        out.push_str("\n#### Warnings\n\n");
        for finding in &plan.warnings {
            let _ = writeln!(
                out,
                "- {} {}: {}",
                code(&finding.address.to_string()),
                code(&finding.field),
                escape(&finding.message)
            );
        }
    }
    if !plan.errors.is_empty() {
        out.push_str("\n#### Errors\n\nThe plan cannot be applied.\n\n");
        for finding in &plan.errors {
            let _ = writeln!(
                out,
                "- {} {}: {}",
                code(&finding.address.to_string()),
                code(&finding.field),
                escape(&finding.message)
            );
        }
    }
}

/// An inline code span that survives backticks and table pipes in its text.
fn code(text: &str) -> String {
    let text = text.replace('|', "\\|").replace('\n', " ");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// Free text in a table cell or a list item: Markdown punctuation and pipes escaped, one line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Text inside HTML (`<summary>`).
fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A fenced code block whose fence is longer than any run of backticks in `body`.
fn fence(lang: &str, body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{lang}\n{body}{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::fixtures::*;

    #[test]
    fn duplicates_and_in_progress_have_their_sections() {
        insta::assert_snapshot!(markdown(&unsettled(), false), @r#"
            **Plan: 0 to create, 0 to update, 0 to delete. 1 object still in progress: apply waits for it. 1 live object named by no manifest: kept unless --prune. 1 duplicate: kept unless --prune.**

            2 resources unchanged.

            #### Unmanaged objects

            Live, named by no manifest; kept unless `--prune`.

            - DatabaseService "orders-db-copy" (id 9d2e) in database mongodb in project p1

            #### Duplicates

            Twins of a managed object (the oldest is managed); kept unless `--prune`.

            - DatabaseService "orders-db" (id 7b1c, created at 2026-01-01T10:00:05Z) in database mongodb in project p1: duplicate of DatabaseService/orders-db (id 5f0c, created at 2026-01-01T10:00:00Z)

            #### In progress

            The API is still working on them; apply waits for them.

            - DatabaseService/billing-db (id 77aa): CREATING
            "#);
    }

    #[test]
    fn every_action_and_section() {
        insta::assert_snapshot!(markdown(&everything(), false), @r#"
        **Plan: 3 to create, 1 to update, 2 to delete. 1 scope could not be read: the plan is incomplete. The plan cannot be applied: 1 error.**

        3 resources unchanged.

        #### `+` to create (2)

        | resource | wave |
        |---|---|
        | `DatabaseUser/orders-app` | 2 |
        | `HostingDatabase/shop-db` | 2 |

        <details><summary><code>+ DatabaseUser/orders-app will be created</code></summary>

        ```diff
        + spec.username: "app"
        + spec.roles: ["readWrite@orders"]
        ```

        </details>

        <details><summary><code>+ HostingDatabase/shop-db will be created</code></summary>

        ```diff
        + spec.user: "shopdb"
        + spec.password: (sensitive)
        ```

        </details>

        #### `~` to update in place (1)

        | resource | wave | changed fields |
        |---|---|---|
        | `DatabaseService/orders-db` | 1 | `spec.nodes.flavor`, `spec.ipRestrictions`, `spec.storage` |

        <details><summary><code>~ DatabaseService/orders-db will be updated in place</code></summary>

        ```diff
        ~ spec.nodes.flavor: "db2-4" -> "db2-8"
        ~ spec.ipRestrictions:
        -     {"ip":"198.51.100.7/32","description":"vpn"}
        +     {"ip":"192.0.2.0/28","description":"ci"}
        + spec.storage: 80
        ```

        </details>

        #### `-/+` to replace (1)

        | resource | wave | forced by |
        |---|---|---|
        | `DatabaseService/billing-db` | 1 | `spec.nodes.region` |

        <details><summary><code>-/+ DatabaseService/billing-db must be replaced</code></summary>

        ```diff
        ~ spec.nodes.region: "GRA" -> "SBG"  # forces replacement
        ~ spec.version: "15" -> "16"
        ```

        </details>

        #### `-` to delete (1)

        | resource | wave | reason |
        |---|---|---|
        | `HostingAttachedDomain/legacy.shop.example` | 1 | no manifest names it and --prune is given |

        #### Unknown scopes

        Could not be read: nothing is planned there.

        | scope | reason | affects |
        |---|---|---|
        | database redis in project p1 | GET /cloud/project/p1/database/redis: 503 Service Unavailable | `DatabaseService/sessions` |

        #### Unmanaged objects

        Live, named by no manifest; kept unless `--prune`.

        - DatabaseService "orders-db-copy" (id 9d2e) in database mongodb in project p1
        - HostingAttachedDomain old.shop.example in hosting h1

        #### Warnings

        - `DatabaseService/billing-db` `spec.version`: postgresql 16 reaches end of sale on 2026-06-30

        #### Errors

        The plan cannot be applied.

        - `DatabaseService/sessions` `spec.nodes.flavor`: flavor db9-1 is not offered for redis in GRA; allowed: db1-4, db1-7
        "#);
    }

    #[test]
    fn calls_go_in_the_details_with_show_calls() {
        let shown = markdown(&everything(), true);
        let first = shown
            .split("<details>")
            .nth(1)
            .and_then(|block| block.split("</details>").next())
            .unwrap();
        insta::assert_snapshot!(first, @r#"
        <summary><code>+ DatabaseUser/orders-app will be created</code></summary>

        ```diff
        + spec.username: "app"
        + spec.roles: ["readWrite@orders"]
        ```

        Calls:

        ```
        POST /cloud/project/p1/database/mongodb/{id}/user {"name":"app","roles":["readWrite@orders"]}
        ```
        "#);
        assert_eq!(shown.matches("\nCalls:\n").count(), 5, "{shown}");
    }

    #[test]
    fn no_changes() {
        insta::assert_snapshot!(markdown(&in_sync(), false), @"
        **No changes. Live state matches the manifests.**

        2 resources unchanged.
        ");
    }

    #[test]
    fn free_text_cannot_break_a_table_or_a_fence() {
        assert_eq!(escape("a|b <c> *d*"), "a\\|b \\<c\\> \\*d\\*");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(fence("", "x ``` y\n"), "````\nx ``` y\n````\n");
    }
}
