//! Manifest problems as values: a `Diagnostic` (where, which field, what, what to do) and
//! `Diagnostics`, every problem of one load together with the source text needed to underline
//! it. Rendering goes through miette (file:line:col, the source line, an underline labelled
//! with the field); `Display` is the plain one-line-per-problem form for logs and reports.

use super::model::Span;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One problem in the manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Where: the key or value at fault (a missing field: the map that lacks it). A span with
    /// `line == 0` has no location inside the file (an unreadable file, an empty directory).
    pub span: Span,
    /// The field's path in the document, e.g. `spec.ipRestrictions[1].ip` or `metadata.name`;
    /// empty when the problem is not about one field.
    pub field: String,
    /// What is wrong: lowercase, no trailing period.
    pub message: String,
    /// What to do about it, when the user can act.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(
        span: impl Into<Span>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            span: span.into(),
            field: field.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// A problem with a whole file or path rather than a place in it.
    pub fn at_file(file: &Path, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(
            Span {
                file: file.to_path_buf(),
                line: 0,
                column: 0,
                offset: 0,
                len: 0,
            },
            "",
            message,
        )
    }

    fn has_location(&self) -> bool {
        self.span.line > 0
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: field: message`, then `  hint: ...` on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_location() {
            write!(f, "{}: ", self.span)?;
        } else {
            write!(f, "{}: ", self.span.file.display())?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// How many problems are rendered, displayed or reported at most; the rest are counted ("and N
/// more"). Rendering a problem reads its file's text, so thousands of them (8,000 unknown keys
/// took 9.3 s and 0.9 GB) would cost far more than anyone reads.
pub const SHOWN: usize = 100;

/// Every problem found by one `load`, sorted by file and position, with the text of the files
/// they point into (secrets written inline are masked in that copy, so rendering never prints
/// them).
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    diagnostics: Vec<Diagnostic>,
    sources: BTreeMap<PathBuf, Arc<str>>,
}

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Keeps `text` as the source of `file`, for underlining.
    pub fn add_source(&mut self, file: &Path, text: Arc<str>) {
        self.sources.insert(file.to_path_buf(), text);
    }

    pub fn len(&self) -> usize {
        self.diagnostics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.diagnostics.iter()
    }

    /// The first `SHOWN` problems: the ones rendered and reported.
    pub fn shown(&self) -> &[Diagnostic] {
        &self.diagnostics[..self.diagnostics.len().min(SHOWN)]
    }

    /// `and N more problems` when some are not shown.
    pub fn more(&self) -> Option<String> {
        let hidden = self.diagnostics.len().saturating_sub(SHOWN);
        (hidden > 0).then(|| {
            format!(
                "and {hidden} more problem{} (only the first {SHOWN} are shown; fix these first)",
                if hidden == 1 { "" } else { "s" }
            )
        })
    }

    /// How many different files the problems are in.
    pub fn file_count(&self) -> usize {
        let mut files: Vec<&Path> = self.iter().map(|d| d.span.file.as_path()).collect();
        files.sort();
        files.dedup();
        files.len()
    }

    /// `3 problems in 2 files`.
    pub fn summary(&self) -> String {
        let n = self.len();
        let files = self.file_count();
        format!(
            "{n} problem{} in {files} file{}",
            if n == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" }
        )
    }

    /// Sorts by file, then position, then message; drops exact duplicates.
    pub(crate) fn sort(&mut self) {
        self.diagnostics.sort_by(|a, b| {
            (
                &a.span.file,
                a.span.line,
                a.span.column,
                &a.field,
                &a.message,
            )
                .cmp(&(
                    &b.span.file,
                    b.span.line,
                    b.span.column,
                    &b.field,
                    &b.message,
                ))
        });
        self.diagnostics.dedup();
    }

    /// Every diagnostic the miette way: message, `[file:line:col]`, the source lines with the
    /// field underlined and labelled, and the hint. Colour only when `color`; without colour
    /// the output reads the same, glyphs included. Each diagnostic ends with a blank line.
    pub fn render(&self, color: bool) -> String {
        use miette::{GraphicalReportHandler, GraphicalTheme};
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_links(false)
            .with_width(200)
            .with_wrap_lines(false)
            .without_syntax_highlighting();
        let mut out = String::new();
        for diagnostic in self.shown() {
            let source = if diagnostic.has_location() {
                self.source_of(&diagnostic.span.file)
                    .filter(|source| fits_a_snippet(source.inner(), &diagnostic.span))
            } else {
                None
            };
            let report = MietteView { diagnostic, source };
            if handler.render_report(&mut out, &report).is_err() {
                out.push_str(&format!("{diagnostic}\n"));
            }
            out.push('\n');
        }
        if let Some(more) = self.more() {
            out.push_str(&more);
            out.push_str("\n\n");
        }
        out
    }

    fn source_of(&self, file: &Path) -> Option<miette::NamedSource<Arc<str>>> {
        let text = match self.sources.get(file) {
            Some(text) => text.clone(),
            None => Arc::from(std::fs::read_to_string(file).ok()?),
        };
        Some(miette::NamedSource::new(file.display().to_string(), text).with_language("yaml"))
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.shown().iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        if let Some(more) = self.more() {
            write!(f, "\n{more}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Diagnostics {
        let mut all = Diagnostics::new();
        all.push(diagnostic);
        all
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Serialize for Diagnostics {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.diagnostics.serialize(serializer)
    }
}

/// The candidate `word` was most likely meant to be, if one is close enough: the same word
/// spelled in another case or with `_`/`-` (`ip_restrictions` -> `ipRestrictions`), else the
/// closest by Jaro-Winkler similarity above 0.8.
pub fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let wanted = squash(word);
    if let Some(same) = candidates.iter().find(|c| squash(c) == wanted) {
        return Some(same);
    }
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&wanted, &squash(c)), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The most bytes of source one rendered problem may show: its lines and one on each side.
const MAX_SNIPPET_BYTES: usize = 2048;

/// Whether the lines miette would show around `span` (the line before, the span's own, the
/// line after) are short enough to print. A problem in a 500 KB one-line file printed the
/// whole line each time (52 MB of output for 100 problems); it then gets its location in the
/// message, without a snippet.
fn fits_a_snippet(text: &str, span: &Span) -> bool {
    let bytes = text.as_bytes();
    let start = span.offset.min(bytes.len());
    let end = (span.offset + span.len).min(bytes.len());
    let line_start = |at: usize| {
        bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
    };
    let line_end = |at: usize| {
        bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| at + i)
    };
    let first = line_start(start);
    let from = line_start(first.saturating_sub(1));
    let last = line_end(end);
    let to = line_end((last + 1).min(bytes.len()));
    to - from <= MAX_SNIPPET_BYTES
}

/// A diagnostic as miette sees it, borrowed for one rendering.
struct MietteView<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<miette::NamedSource<Arc<str>>>,
}

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.is_none() {
            // Without a snippet the location has to be in the message itself.
            if self.diagnostic.has_location() {
                write!(f, "{}: ", self.diagnostic.span)?;
            } else {
                write!(f, "{}: ", self.diagnostic.span.file.display())?;
            }
            if !self.diagnostic.field.is_empty() {
                write!(f, "{}: ", self.diagnostic.field)?;
            }
        }
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let span = &self.diagnostic.span;
        let label = (!self.diagnostic.field.is_empty()).then(|| self.diagnostic.field.clone());
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            label,
            span.offset,
            span.len,
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: usize, column: usize, offset: usize, len: usize) -> Span {
        Span {
            file: PathBuf::from("db.yaml"),
            line,
            column,
            offset,
            len,
        }
    }

    #[test]
    fn a_problem_on_a_huge_line_is_shown_without_its_snippet() {
        let long = format!("a: [{}]\n", "x, ".repeat(2000));
        let text = format!("k: 1\n{long}z: 2\n");
        assert!(
            !fits_a_snippet(&text, &span(1, 1, 0, 1)),
            "the next line is huge"
        );
        assert!(!fits_a_snippet(&text, &span(2, 5, 9, 1)));
        let short = "k: 1\nb: 2\nz: 3\n";
        assert!(fits_a_snippet(short, &span(2, 1, 5, 1)));
        let mut all = Diagnostics::new();
        all.add_source(Path::new("db.yaml"), Arc::from(text.as_str()));
        all.push(Diagnostic::new(span(2, 5, 9, 1), "a[0]", "bad"));
        let rendered = all.render(false);
        assert!(rendered.len() < 200, "{rendered}");
        assert!(rendered.contains("db.yaml:2:5: a[0]: bad"), "{rendered}");
    }

    #[test]
    fn did_you_mean_finds_case_and_typo_slips() {
        let fields = ["ipRestrictions", "maintenanceTime", "plan", "nodes"];
        assert_eq!(
            did_you_mean("ip_restrictions", &fields),
            Some("ipRestrictions")
        );
        assert_eq!(
            did_you_mean("ipRestriction", &fields),
            Some("ipRestrictions")
        );
        assert_eq!(
            did_you_mean("maintenancetime", &fields),
            Some("maintenanceTime")
        );
        assert_eq!(did_you_mean("node", &fields), Some("nodes"));
        assert_eq!(did_you_mean("flavour", &fields), None);
    }

    #[test]
    fn display_is_one_line_plus_the_hint() {
        let d = Diagnostic::new(span(2, 3, 10, 4), "spec.plan", "unknown field `plam`")
            .with_hint("did you mean `plan`?");
        assert_eq!(
            d.to_string(),
            "db.yaml:2:3: spec.plan: unknown field `plam`\n  hint: did you mean `plan`?"
        );
    }

    #[test]
    fn render_underlines_the_field_and_names_the_place() {
        let text = "spec:\n  plam: x\n";
        let mut all = Diagnostics::new();
        all.add_source(Path::new("db.yaml"), Arc::from(text));
        all.push(
            Diagnostic::new(span(2, 3, 8, 4), "spec.plam", "unknown field `plam`")
                .with_hint("did you mean `plan`?"),
        );
        let out = all.render(false);
        assert!(out.contains("[db.yaml:2:3]"), "{out}");
        assert!(out.contains("spec.plam"), "{out}");
        assert!(out.contains("did you mean `plan`?"), "{out}");
        assert!(!out.contains('\u{1b}'), "no colour: {out}");
        assert!(all.render(true).contains('\u{1b}'), "colour when asked");
    }

    #[test]
    fn a_problem_without_a_place_names_the_file() {
        let all = Diagnostics::from(Diagnostic::at_file(Path::new("gone/"), "cannot read"));
        let out = all.render(false);
        assert!(out.contains("gone/: cannot read"), "{out}");
        assert_eq!(all.summary(), "1 problem in 1 file");
    }
}
