//! The layout's invariant, checked on the source: outside `src/family/`, no library code (tests
//! and test-only modules aside) names a family's kinds, spec variants, scopes or operations, or
//! the API a family declares (RunAbove's).
//! Adding a family then means its folder and the registry (docs/ARCHITECTURE.md, "Adding an
//! API family"), and a generic layer that starts matching on a family fails here.

use reconcile::manifest::Kind;
use std::path::{Path, PathBuf};

/// What naming a family looks like in code: `Kind::DatabaseUser`, `Spec::HostingSsl`, any
/// variant of the per-family enums, an operation of a family.
fn family_names() -> Vec<String> {
    let mut names = Vec::new();
    for kind in Kind::ALL {
        names.push(format!("Kind::{kind}"));
        names.push(format!("Spec::{kind}"));
    }
    for family in ["Database", "Hosting", "Stack"] {
        names.push(format!("Operation::{family}"));
    }
    names
}

/// `Scope::X`, `LiveScope::X`, `Resume::X`, `DigestKey::X` with X a variant (upper case).
fn names_a_family_variant(line: &str) -> Option<&'static str> {
    ["Scope::", "LiveScope::", "Resume::", "DigestKey::"]
        .into_iter()
        .find(|prefix| {
            line.match_indices(prefix).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + prefix.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && after.is_some_and(|c| c.is_ascii_uppercase())
            })
        })
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Modules declared test-only (`#[cfg(test)]` then `mod name;`), by name.
fn test_only_modules(files: &[PathBuf]) -> Vec<String> {
    let mut names = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines = text.lines().map(str::trim);
        while let Some(line) = lines.next() {
            if line == "#[cfg(test)]" {
                if let Some(next) = lines.next() {
                    let declared = next
                        .trim_start_matches("pub(crate) ")
                        .trim_start_matches("pub ")
                        .strip_prefix("mod ")
                        .and_then(|rest| rest.strip_suffix(';'));
                    if let Some(name) = declared {
                        names.push(name.to_owned());
                    }
                }
            }
        }
    }
    names
}

/// The code of a library file that is not a test, numbered from 1: up to its test module (a
/// `#[cfg(test)]` followed by `mod name {`, the last item by convention), comments left out.
/// A `#[cfg(test)]` on anything else (a field, a function, `mod name;`) stops nothing.
fn library_code(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let test_module = |i: usize| {
        let next = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty());
        let next = next.unwrap_or_default();
        let item = next
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ");
        item.starts_with("mod ") && item.ends_with('{')
    };
    let end = (0..lines.len())
        .find(|&i| lines[i].trim() == "#[cfg(test)]" && test_module(i))
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(i, line)| (i + 1, *line))
        .collect()
}

#[test]
fn no_library_file_outside_the_families_names_their_kinds_or_scopes() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let test_only = test_only_modules(&files);
    let names = family_names();
    let mut found = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy();
        let in_tests = relative.components().any(|c| c.as_os_str() == "tests");
        if relative.starts_with("family") || in_tests || test_only.iter().any(|m| *m == stem) {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in library_code(&text) {
            let named = names
                .iter()
                .find(|name| line.contains(name.as_str()))
                .map(String::as_str)
                .or_else(|| names_a_family_variant(line));
            if let Some(name) = named {
                found.push(format!("src/{}:{number}: {name}", relative.display()));
            }
            // An API of a family's own is declared in its folder (`Family::api`): the CLI and
            // the client name none. `sandbox serve` prints where the simulator serves each.
            let printing_the_sandbox = relative == Path::new("cli/sandbox.rs");
            if line.to_ascii_lowercase().contains("runabove") && !printing_the_sandbox {
                found.push(format!("src/{}:{number}: runabove", relative.display()));
            }
        }
    }
    assert!(checked > 50, "only {checked} files checked: is src/ there?");
    assert!(
        found.is_empty(),
        "generic code names a family (move the rule behind `trait Family`):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_family_named_in_generic_code() {
    let code = "fn f(s: &Spec) {\n    if let Spec::DatabaseUser(u) = s {}\n    let _ = Scope::StackMysql;\n}\n#[cfg(test)]\nfn g() { Kind::HostingSsl }\n#[cfg(test)]\nmod tests {\n    Kind::HostingSsl\n}";
    let names = family_names();
    let lines = library_code(code);
    let hits: Vec<usize> = lines
        .iter()
        .filter(|(_, line)| {
            names.iter().any(|n| line.contains(n.as_str()))
                || names_a_family_variant(line).is_some()
        })
        .map(|(number, _)| *number)
        .collect();
    assert_eq!(hits, [2, 3, 6]);
    assert_eq!(
        names_a_family_variant("live::Scope::Database {"),
        Some("Scope::")
    );
    assert_eq!(
        names_a_family_variant("LiveScope::Hosting"),
        Some("LiveScope::")
    );
    assert_eq!(names_a_family_variant("Scope::all()"), None);
    assert_eq!(names_a_family_variant("MyScope::Database"), None);
}
