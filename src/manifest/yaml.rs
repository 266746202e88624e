//! YAML text -> located trees: every key, scalar and collection carries its `Place`. The only
//! module that touches the YAML crate.
//!
//! Why the parser and not serde-saphyr's deserializer: validation must report every problem of
//! a file in one run, each at its key or value. A serde deserializer stops at the first error
//! and only `Spanned<T>` fields carry locations, so this module reads the event stream of
//! serde-saphyr's own parser (granit-parser, re-exported as `serde_saphyr::granit_parser`, so no
//! second YAML dependency) into a small tree; `schema/check.rs` then checks that tree against
//! the JSON Schema of the model types and hands serde a plain value to deserialize. Syntax errors are
//! collected too: the parser resumes at the next `---`.
//!
//! Semantics kept from YAML 1.2: anchors and aliases resolve (an alias is a copy of its anchor's
//! node), duplicate keys are errors, scalars keep their source text and style (the schema, not
//! YAML 1.1's guesses, decides that `03:00:00` is a string and `40` an integer). Not supported:
//! non-scalar keys, merge keys (`<<`), custom tags (`!foo`).
//!
//! Hostile input is refused cheaply: a file may hold at most `MAX_NODES` nodes, every alias
//! counted as the whole node it copies (761 bytes of nested aliases once grew to 7.85 GB), and
//! nest at most `MAX_DEPTH` levels. Past either, parsing stops with one located error and the
//! file yields no document. (serde-saphyr's `Budget` bounds its deserializer the same way;
//! this module reads the parser's events itself, so it keeps its own count.)

use super::diagnostic::Diagnostic;
use super::model::Span;
use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle, Span as YamlSpan};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The most nodes (keys, values, list items, aliases counted as what they copy) one file may
/// hold: a 650-resource file holds about 15,000.
pub const MAX_NODES: usize = 250_000;

/// The deepest nesting of lists and maps one file may hold: manifests nest about 5 levels.
pub const MAX_DEPTH: usize = 64;

/// Where a node is written: a `Span` whose file is shared by every node of the file, so that
/// placing a node allocates nothing. It becomes a `Span` (`Span::from`) only where one is kept:
/// a diagnostic, a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub file: Arc<Path>,
    pub line: usize,
    pub column: usize,
    pub offset: usize,
    pub len: usize,
}

impl From<&Place> for Span {
    fn from(place: &Place) -> Span {
        Span {
            file: place.file.to_path_buf(),
            line: place.line,
            column: place.column,
            offset: place.offset,
            len: place.len,
        }
    }
}

impl From<Place> for Span {
    fn from(place: Place) -> Span {
        Span::from(&place)
    }
}

impl fmt::Display for Place {
    /// As `Span` shows itself: `file:line:column`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// A located YAML node.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Scalars: the scalar as written (quotes included). Collections: a point where they start.
    pub span: Place,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The value after YAML escape processing.
    pub text: String,
    pub style: Style,
}

/// How a scalar was written: a plain scalar may be null, a boolean or a number; anything
/// quoted, a block (`|`, `>`) or tagged `!!str` is a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// One `key: value` of a map; keys are scalars.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Place,
    pub value: Node,
}

/// One `---` document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Node,
}

impl Scalar {
    /// `~`, `null` or nothing, written plain.
    pub fn is_null(&self) -> bool {
        self.style == Style::Plain
            && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }
}

impl Node {
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar(s) if s.is_null())
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.iter().find(|e| e.key == key)
    }

    /// The node at `path` below this one: `a.b[2].c`. None when some step is absent.
    pub fn at(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        for step in path_steps(path) {
            node = match step {
                Step::Key(key) => &node.entry(key)?.value,
                Step::Index(i) => match &node.value {
                    Value::Seq(items) => items.get(i)?,
                    _ => return None,
                },
            };
        }
        Some(node)
    }

    /// Where to point for `path`: the value when there, else the deepest present ancestor's
    /// key (a missing field is reported at the map that lacks it).
    pub fn span_at(&self, path: &str, fallback: &Place) -> Place {
        let mut node = self;
        let mut best = fallback.clone();
        for step in path_steps(path) {
            match step {
                Step::Key(key) => match node.entry(key) {
                    Some(entry) => {
                        best = entry.key_span.clone();
                        node = &entry.value;
                    }
                    None => return best,
                },
                Step::Index(i) => match &node.value {
                    Value::Seq(items) if i < items.len() => {
                        node = &items[i];
                        best = node.span.clone();
                    }
                    _ => return best,
                },
            }
        }
        match &node.value {
            Value::Scalar(_) => node.span.clone(),
            _ => best,
        }
    }

    /// A short description for "expected X, found Y".
    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Map(_) => "a map",
            Value::Seq(_) => "a list",
            Value::Scalar(s) if s.is_null() => "nothing (null)",
            Value::Scalar(s) if s.style != Style::Plain => "a string",
            Value::Scalar(s) => match s.text.as_str() {
                "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => "a boolean",
                t if t.parse::<i128>().is_ok() => "an integer",
                t if t.parse::<f64>().is_ok() => "a number",
                _ => "a string",
            },
        }
    }
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn path_steps(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            steps.push(Step::Key(key));
        }
        while let Some(end) = rest.find(']') {
            if let Ok(i) = rest[1..end].parse() {
                steps.push(Step::Index(i));
            }
            rest = &rest[end + 1..];
        }
    }
    steps
}

/// Parses every document of `text` (the contents of `file`). Syntax errors become diagnostics
/// and parsing resumes at the next document, so one bad document does not hide the others.
pub fn parse(file: &Path, text: &str) -> (Vec<Document>, Vec<Diagnostic>) {
    let mut builder = Builder {
        file: Arc::from(file),
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: Vec::new(),
        diagnostics: Vec::new(),
        nodes: 0,
        refused: false,
    };
    let mut parser = Parser::new_from_str(text);
    let mut last_error_at = None;
    loop {
        match parser.next_event() {
            None => break,
            Some(Ok((event, span))) => {
                builder.event(event, span);
                if builder.refused {
                    // Over a limit: one error, no document (a partial one would only add
                    // misleading problems).
                    return (Vec::new(), builder.diagnostics);
                }
            }
            Some(Err(e)) => {
                let at = builder.span(e.marker(), e.marker());
                builder.diagnostics.push(Diagnostic::new(
                    at,
                    "",
                    format!("invalid YAML: {}", e.info()),
                ));
                builder.stack.clear();
                builder.root = None;
                // Resume at the next document; stop if the parser cannot move on.
                if last_error_at == Some(e.marker().index()) {
                    break;
                }
                last_error_at = Some(e.marker().index());
                match parser.proceed_next_document() {
                    Ok(true) => continue,
                    _ => break,
                }
            }
        }
    }
    (builder.documents, builder.diagnostics)
}

enum Frame {
    Seq {
        span: Place,
        anchor: usize,
        /// Nodes in this collection, itself included (an alias of it copies that many).
        size: usize,
        items: Vec<Node>,
    },
    Map {
        span: Place,
        anchor: usize,
        size: usize,
        entries: Vec<Entry>,
        /// Each key's index in `entries`: a duplicate is found without a scan (a scan per key
        /// was quadratic: 16,000 keys took seconds).
        index: HashMap<String, usize>,
        key: Option<Result<(String, Place), ()>>,
    },
}

struct Builder<'a> {
    file: Arc<Path>,
    text: &'a str,
    stack: Vec<Frame>,
    /// Each anchored node, with its size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    documents: Vec<Document>,
    diagnostics: Vec<Diagnostic>,
    /// Nodes built so far in this file, aliases counted as what they copy.
    nodes: usize,
    /// A limit was passed: the file is refused.
    refused: bool,
}

impl Builder<'_> {
    fn span(&self, start: &Marker, end: &Marker) -> Place {
        let offset = start
            .byte_offset()
            .unwrap_or(start.index())
            .min(self.text.len());
        let end = end
            .byte_offset()
            .unwrap_or(end.index())
            .clamp(offset, self.text.len());
        Place {
            file: Arc::clone(&self.file),
            line: start.line(),
            column: start.col() + 1,
            offset,
            len: end - offset,
        }
    }

    fn event(&mut self, event: Event<'_>, at: YamlSpan) {
        match event {
            Event::DocumentStart(..) => {
                self.stack.clear();
                self.root = None;
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take() {
                    self.documents.push(Document { root });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let span = self.span(&at.start, &at.end);
                let mut style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
                };
                if let Some(tag) = tag {
                    if tag.is_yaml_core_schema_tag("str") {
                        style = Style::Quoted;
                    } else if !tag.is_yaml_core_schema() {
                        self.unsupported_tag(&span, &tag.original());
                    }
                }
                if !self.count(1, &span) {
                    return;
                }
                let node = Node {
                    span,
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        style,
                    }),
                };
                self.finish(node, anchor, 1);
            }
            Event::SequenceStart(_, anchor, tag) => {
                let span = self.span(&at.start, &at.start);
                if let Some(tag) = tag.filter(|t| !t.is_yaml_core_schema()) {
                    self.unsupported_tag(&span, &tag.original());
                }
                if !self.count(1, &span) || !self.deeper(&span) {
                    return;
                }
                self.stack.push(Frame::Seq {
                    span,
                    anchor,
                    size: 1,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(_, anchor, tag) => {
                let span = self.span(&at.start, &at.start);
                if let Some(tag) = tag.filter(|t| !t.is_yaml_core_schema()) {
                    self.unsupported_tag(&span, &tag.original());
                }
                if !self.count(1, &span) || !self.deeper(&span) {
                    return;
                }
                self.stack.push(Frame::Map {
                    span,
                    anchor,
                    size: 1,
                    entries: Vec::new(),
                    index: HashMap::new(),
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, size) = match self.stack.pop() {
                    Some(Frame::Seq {
                        span,
                        anchor,
                        size,
                        items,
                    }) => (
                        Node {
                            span,
                            value: Value::Seq(items),
                        },
                        anchor,
                        size,
                    ),
                    Some(Frame::Map {
                        span,
                        anchor,
                        size,
                        entries,
                        ..
                    }) => (
                        Node {
                            span,
                            value: Value::Map(entries),
                        },
                        anchor,
                        size,
                    ),
                    None => return,
                };
                self.finish(node, anchor, size);
            }
            Event::Alias(id) => {
                let span = self.span(&at.start, &at.end);
                match self.anchors.get(&id) {
                    Some(&(_, size)) => {
                        // Counted before it is copied: the copy is what costs.
                        if !self.count(size, &span) {
                            return;
                        }
                        let mut node = self.anchors[&id].0.clone();
                        node.span = span;
                        self.finish(node, 0, size);
                    }
                    None => {
                        self.diagnostics
                            .push(Diagnostic::new(span.clone(), "", "unknown alias"));
                        let node = Node {
                            span,
                            value: Value::Scalar(Scalar {
                                text: String::new(),
                                style: Style::Plain,
                            }),
                        };
                        self.finish(node, 0, 1);
                    }
                }
            }
            // Stream markers, comments, anchor metadata.
            _ => {}
        }
    }

    fn unsupported_tag(&mut self, span: &Place, tag: &str) {
        self.diagnostics.push(
            Diagnostic::new(span.clone(), "", format!("unsupported YAML tag `{tag}`"))
                .with_hint("remove the tag; the field's type decides how a value is read"),
        );
    }

    /// Counts `n` more nodes, the next one at `at`; false (and the file refused) past
    /// `MAX_NODES`.
    fn count(&mut self, n: usize, at: &Place) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes <= MAX_NODES {
            return true;
        }
        self.refuse(
            at,
            format!("this file holds more than {MAX_NODES} YAML nodes, aliases expanded"),
            "split the manifests into more files, or use fewer anchors and aliases (each alias counts as a copy of what it names)",
        );
        false
    }

    /// Whether one more level of nesting, at `at`, stays within `MAX_DEPTH`.
    fn deeper(&mut self, at: &Place) -> bool {
        if self.stack.len() < MAX_DEPTH {
            return true;
        }
        self.refuse(
            at,
            format!("lists and maps nest deeper than {MAX_DEPTH} levels here"),
            "manifests nest a few levels; check the indentation or brackets",
        );
        false
    }

    fn refuse(&mut self, at: &Place, message: String, hint: &str) {
        self.diagnostics
            .push(Diagnostic::new(at.clone(), "", message).with_hint(hint));
        self.refused = true;
    }

    /// Places a complete node of `size` nodes: as the document root, a list item, a map key
    /// or a map value.
    fn finish(&mut self, node: Node, anchor: usize, size: usize) {
        if anchor != 0 {
            // Keeping a copy costs as much as an alias of it: counted the same way (nested
            // anchors copy their contents once per level).
            if !self.count(size, &node.span) {
                return;
            }
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            Some(Frame::Seq { size: total, .. } | Frame::Map { size: total, .. }) => {
                *total += size;
            }
            None => {}
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                index,
                key,
                ..
            }) => match key.take() {
                None => {
                    *key = Some(match node.value {
                        Value::Scalar(s) => Ok((s.text, node.span)),
                        _ => {
                            self.diagnostics.push(
                                Diagnostic::new(node.span, "", "a key must be a plain string")
                                    .with_hint(
                                        "write `name: value`; lists and maps cannot be keys",
                                    ),
                            );
                            Err(())
                        }
                    });
                }
                Some(Err(())) => {}
                Some(Ok((key, key_span))) => {
                    if let Some(&first) = index.get(&key) {
                        let first = entries[first].key_span.clone();
                        self.diagnostics.push(
                            Diagnostic::new(
                                key_span,
                                key.clone(),
                                format!("duplicate key `{key}`"),
                            )
                            .with_hint(format!(
                                "`{key}` is already set at line {}; keep one of them",
                                first.line
                            )),
                        );
                    } else {
                        index.insert(key.clone(), entries.len());
                        entries.push(Entry {
                            key,
                            key_span,
                            value: node,
                        });
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let (mut docs, diags) = parse(Path::new("t.yaml"), text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(docs.len(), 1);
        docs.remove(0).root
    }

    #[test]
    fn keys_and_scalars_have_their_places() {
        let text = "kind: X\nspec:\n  ip: \"10.0.0.0/8\"\n  n: 3\n";
        let root = one(text);
        let entry = root.entry("spec").unwrap();
        assert_eq!((entry.key_span.line, entry.key_span.column), (2, 1));
        let ip = root.at("spec.ip").unwrap();
        assert_eq!((ip.span.line, ip.span.column), (3, 7));
        assert_eq!(
            &text[ip.span.offset..ip.span.offset + ip.span.len],
            "\"10.0.0.0/8\""
        );
        match &ip.value {
            Value::Scalar(s) => {
                assert_eq!((s.text.as_str(), s.style), ("10.0.0.0/8", Style::Quoted))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(root.at("spec.n").unwrap().describe(), "an integer");
    }

    #[test]
    fn list_items_are_found_by_index() {
        let root = one("l:\n  - { ip: a }\n  - { ip: b }\n");
        let b = root.at("l[1].ip").unwrap();
        assert_eq!((b.span.line, b.span.column), (3, 11));
        assert!(root.at("l[2].ip").is_none());
        // A missing field points at the deepest key that exists.
        let fallback = root.span.clone();
        assert_eq!(root.span_at("l[1].nope", &fallback).line, 3);
    }

    #[test]
    fn several_documents_and_aliases() {
        let (docs, diags) = parse(Path::new("t.yaml"), "a: &x 1\nb: *x\n---\nc: 2\n");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].root.at("b").unwrap().span.line, 2);
        assert!(matches!(&docs[0].root.at("b").unwrap().value, Value::Scalar(s) if s.text == "1"));
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second() {
        let (_, diags) = parse(Path::new("t.yaml"), "a: 1\nb: 2\na: 3\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].span.line, 3);
        assert_eq!(diags[0].message, "duplicate key `a`");
    }

    #[test]
    fn a_syntax_error_does_not_hide_the_next_document() {
        let (docs, diags) = parse(Path::new("t.yaml"), "a: [1, 2\n---\nb: 2\n");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].message.starts_with("invalid YAML"), "{diags:?}");
        assert_eq!(docs.len(), 1);
        assert!(docs[0].root.entry("b").is_some());
    }
}
