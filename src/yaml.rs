//! YAML with positions: parses a document into a JSON value and remembers where
//! every node came from, so schema and semantic errors can name `file:line:column`.
//!
//! Scalars are resolved with the YAML 1.2 core schema (so `no` stays a string and
//! `0x10` is an integer), duplicate keys are errors, and anchors/aliases work.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostics::{excerpt, Position};

impl From<Marker> for Position {
    fn from(m: Marker) -> Self {
        Position {
            line: m.line(),
            column: m.col() + 1,
        }
    }
}

/// Where a node's key and value stand (the key is absent for the root and list items).
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    pub key: Option<Position>,
    pub value: Position,
}

/// A parsed document: the value plus a span for every JSON pointer in it.
pub struct Document {
    pub value: Value,
    pub spans: BTreeMap<String, Span>,
    /// The source text of plain scalars YAML read as something other than a
    /// string (`0x…01` read as 1, `1e18` as a float), to show users what they wrote.
    pub raw: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub position: Position,
    pub path: String,
    pub message: String,
}

impl Document {
    /// The position to report for a JSON pointer: its value, or the nearest parent
    /// that exists (a missing key is reported at the object that lacks it).
    pub fn position(&self, pointer: &str) -> Position {
        let mut p = pointer.to_string();
        loop {
            if let Some(s) = self.spans.get(&p) {
                return s.value;
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return Position { line: 1, column: 1 },
            }
        }
    }

    /// The position of the key of a mapping entry (for unknown keys).
    pub fn key_position(&self, pointer: &str) -> Position {
        self.spans
            .get(pointer)
            .and_then(|s| s.key)
            .unwrap_or_else(|| self.position(pointer))
    }
}

/// How many nodes a document may hold once aliases are expanded. A network file
/// of a thousand groups stays far below; an alias bomb ("billion laughs") hits it
/// after a few thousand copies instead of eating gigabytes.
pub const MAX_NODES: usize = 200_000;
/// How many bytes of scalar text a document may hold once aliases are expanded.
pub const MAX_EXPANDED_BYTES: usize = 16 << 20;
/// How deep collections may nest: deeper trees are no network file, and every
/// later stage (schema check, serde, drop) walks them recursively.
pub const MAX_DEPTH: usize = 64;

/// Parses one YAML document. Refused with a position: characters YAML does not
/// allow (a NUL would otherwise end the input silently), a second document, tags
/// that would change or drop meaning, and documents too large once aliases are expanded.
pub fn parse(text: &str) -> Result<Document, YamlError> {
    check_characters(text)?;
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    // The parser's own `load` recurses per nesting level; driving its event
    // iterator here keeps the depth under our control.
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            position: (*e.marker()).into(),
            path: String::new(),
            message: format!("YAML syntax error: {}", e.info()),
        })?;
        if event == Event::StreamEnd {
            break;
        }
        builder.on_event(event, mark);
        if let Some(err) = builder.error.take() {
            return Err(err);
        }
    }
    let value = builder.root.unwrap_or(Value::Null);
    Ok(Document {
        value,
        spans: builder.spans,
        raw: builder.raw,
    })
}

/// Refuses characters outside YAML's printable set (YAML 1.2, 5.1): C0 controls
/// other than tab and line breaks, DEL, C1 controls other than NEL, U+FFFE/U+FFFF.
fn check_characters(text: &str) -> Result<(), YamlError> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{85}')
            || ('\u{20}'..='\u{7e}').contains(&c)
            || ('\u{a0}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}'
    };
    let Some((offset, bad)) = text.char_indices().find(|&(_, c)| !allowed(c)) else {
        return Ok(());
    };
    Err(YamlError {
        position: position_of(text, offset),
        path: String::new(),
        message: format!(
            "character U+{:04X} is not allowed in YAML; remove it (a NUL or control character would hide what follows)",
            bad as u32
        ),
    })
}

/// The line and column (in characters, as the parser counts) of a byte offset.
pub fn position_of(text: &str, offset: usize) -> Position {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Position { line, column }
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn escape_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        /// `Builder::nodes` when the collection opened, to size it for aliases.
        nodes_before: usize,
        bytes_before: usize,
    },
    Map {
        map: Map<String, Value>,
        pending_key: Option<(String, Position)>,
        /// A block mapping's start marker sits after its first key; the first
        /// key's own position is what a reader expects for "this mapping".
        first_key: Option<Position>,
        anchor: usize,
        nodes_before: usize,
        bytes_before: usize,
    },
}

/// An anchored value and its expanded size, charged again at every alias.
struct Anchored {
    value: Value,
    nodes: usize,
    bytes: usize,
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Frame, String)>,
    root: Option<Value>,
    spans: BTreeMap<String, Span>,
    raw: BTreeMap<String, String>,
    anchors: BTreeMap<usize, Anchored>,
    error: Option<YamlError>,
    documents: usize,
    /// Where the first document ended: its `...` or the `---` of the next one.
    document_end: Option<Position>,
    /// Nodes and scalar bytes so far, aliases expanded.
    nodes: usize,
    bytes: usize,
}

impl Builder {
    /// The JSON pointer of the node about to be added.
    fn child_pointer(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some((Frame::Seq { items, .. }, p)) => format!("{p}/{}", items.len()),
            Some((Frame::Map { pending_key, .. }, p)) => match pending_key {
                Some((k, _)) => format!("{p}/{}", escape_segment(k)),
                None => p.clone(),
            },
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some((
                Frame::Map {
                    pending_key: None,
                    ..
                },
                _
            ))
        )
    }

    fn fail(&mut self, position: Position, path: String, message: String) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                position,
                path,
                message,
            });
        }
    }

    /// Counts `nodes` and `bytes` more against the document's budget.
    fn charge(&mut self, nodes: usize, bytes: usize, pos: Position) -> bool {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > MAX_NODES || self.bytes > MAX_EXPANDED_BYTES {
            let p = self.child_pointer();
            self.fail(
                pos,
                p,
                format!(
                    "the document is too large once its aliases are expanded (over {MAX_NODES} nodes or {} MiB); a network file never needs that, so this looks like an alias bomb",
                    MAX_EXPANDED_BYTES >> 20
                ),
            );
            return false;
        }
        true
    }

    fn add(&mut self, value: Value, pos: Position, anchor: usize, size: (usize, usize)) {
        if anchor > 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    value: value.clone(),
                    nodes: size.0,
                    bytes: size.1,
                },
            );
        }
        let pointer = self.child_pointer();
        match self.stack.last_mut() {
            None => {
                self.spans.insert(
                    pointer,
                    Span {
                        key: None,
                        value: pos,
                    },
                );
                self.root = Some(value);
            }
            Some((Frame::Seq { items, .. }, _)) => {
                items.push(value);
                self.spans.insert(
                    pointer,
                    Span {
                        key: None,
                        value: pos,
                    },
                );
            }
            Some((
                Frame::Map {
                    map, pending_key, ..
                },
                _,
            )) => {
                if let Some((k, kpos)) = pending_key.take() {
                    map.insert(k, value);
                    self.spans.insert(
                        pointer,
                        Span {
                            key: Some(kpos),
                            value: pos,
                        },
                    );
                }
            }
        }
    }

    fn add_key(&mut self, key: Value, pos: Position) {
        let key = match key {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            _ => {
                let p = self.child_pointer();
                self.fail(pos, p, "a mapping key must be a plain scalar".into());
                return;
            }
        };
        let parent = self
            .stack
            .last()
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let duplicate = match self.stack.last() {
            Some((Frame::Map { map, .. }, _)) => map.contains_key(&key),
            _ => false,
        };
        if duplicate {
            let first = self
                .spans
                .get(&format!("{parent}/{}", escape_segment(&key)))
                .and_then(|s| s.key)
                .unwrap_or_default();
            self.fail(
                pos,
                format!("{parent}/{}", escape_segment(&key)),
                format!(
                    "duplicate key `{}` (first defined at line {}); a key may appear once in a mapping",
                    excerpt(&key),
                    first.line
                ),
            );
        }
        if let Some((
            Frame::Map {
                pending_key,
                first_key,
                ..
            },
            _,
        )) = self.stack.last_mut()
        {
            *pending_key = Some((key, pos));
            first_key.get_or_insert(pos);
        }
    }

    /// Refuses a tag unless it only restates what the node is (`!!str` on a
    /// scalar, `!!map`, `!!seq`): any other tag would be dropped or change meaning.
    fn refuse_tag(&mut self, tag: Option<&Tag>, allowed: &str, pos: Position) -> bool {
        let Some(tag) = tag else {
            return false;
        };
        let full = format!("{}{}", tag.handle, tag.suffix);
        if full == format!("{CORE_TAGS}{allowed}") {
            return false;
        }
        let shown = match full.strip_prefix(CORE_TAGS) {
            Some(core) => format!("!!{core}"),
            None if tag.handle == "!" => format!("!{}", tag.suffix),
            None => format!("!<{full}>"),
        };
        let p = self.child_pointer();
        self.fail(
            pos,
            p,
            format!(
                "YAML tags are not supported (`{}`): write the plain value (quote it to make it a string)",
                excerpt(&shown)
            ),
        );
        true
    }

    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos: Position = mark.into();
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                if self.refuse_tag(tag.as_ref(), "str", pos) {
                    return;
                }
                let forced_string = tag.is_some();
                if !self.charge(1, text.len(), pos) {
                    return;
                }
                let value = resolve_scalar(&text, style, forced_string);
                if self.expecting_key() {
                    self.add_key(value, pos);
                } else {
                    if !value.is_string() {
                        self.raw.insert(self.child_pointer(), text.clone());
                    }
                    self.add(value, pos, anchor, (1, text.len()));
                }
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    self.fail(
                        pos,
                        self.child_pointer(),
                        "this alias names no anchor defined before it".into(),
                    );
                    return;
                };
                let (nodes, bytes) = (anchored.nodes, anchored.bytes);
                if !self.charge(nodes, bytes, pos) {
                    return;
                }
                let value = self
                    .anchors
                    .get(&id)
                    .map(|a| a.value.clone())
                    .unwrap_or(Value::Null);
                if self.expecting_key() {
                    self.add_key(value, pos);
                } else {
                    self.add(value, pos, 0, (nodes, bytes));
                }
            }
            Event::SequenceStart(anchor, tag) => {
                if !self.refuse_tag(tag.as_ref(), "seq", pos) {
                    self.open(
                        Frame::Seq {
                            items: Vec::new(),
                            anchor,
                            nodes_before: self.nodes,
                            bytes_before: self.bytes,
                        },
                        pos,
                    )
                }
            }
            Event::MappingStart(anchor, tag) => {
                if !self.refuse_tag(tag.as_ref(), "map", pos) {
                    self.open(
                        Frame::Map {
                            map: Map::new(),
                            pending_key: None,
                            first_key: None,
                            anchor,
                            nodes_before: self.nodes,
                            bytes_before: self.bytes,
                        },
                        pos,
                    )
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((frame, pointer)) = self.stack.pop() else {
                    return;
                };
                let mut span = self.spans.get(&pointer).copied().unwrap_or_default();
                let (value, anchor, nodes_before, bytes_before) = match frame {
                    Frame::Seq {
                        items,
                        anchor,
                        nodes_before,
                        bytes_before,
                    } => (Value::Array(items), anchor, nodes_before, bytes_before),
                    Frame::Map {
                        map,
                        anchor,
                        first_key,
                        nodes_before,
                        bytes_before,
                        ..
                    } => {
                        if let Some(k) = first_key {
                            span.value = span.value.min(k);
                        }
                        (Value::Object(map), anchor, nodes_before, bytes_before)
                    }
                };
                let size = (self.nodes - nodes_before, self.bytes - bytes_before);
                self.add(value, span.value, anchor, size);
                // `add` overwrote the span without the key position; restore it.
                self.spans.insert(pointer, span);
            }
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    // The start of an implicit document is marked after its first
                    // key; the end marker of the first one sits on the `...`/`---` line.
                    let at = self.document_end.map_or(pos, |end| end.min(pos));
                    self.fail(
                        at,
                        String::new(),
                        "a second YAML document starts here; a network file is one document, so remove this `---` or `...` and what follows it".into(),
                    );
                }
            }
            Event::DocumentEnd => {
                self.document_end.get_or_insert(pos);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }

    /// Starts a collection at the node about to be added.
    fn open(&mut self, frame: Frame, pos: Position) {
        if self.expecting_key() {
            let p = self.child_pointer();
            self.fail(pos, p, "a mapping key must be a plain scalar".into());
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            let p = self.child_pointer();
            self.fail(
                pos,
                p,
                format!(
                    "collections nest more than {MAX_DEPTH} deep here; a network file never does"
                ),
            );
            return;
        }
        if !self.charge(1, 0, pos) {
            return;
        }
        let pointer = self.child_pointer();
        self.spans.insert(
            pointer.clone(),
            Span {
                key: self.pending_key_pos(),
                value: pos,
            },
        );
        self.stack.push((frame, pointer));
    }

    fn pending_key_pos(&self) -> Option<Position> {
        match self.stack.last() {
            Some((
                Frame::Map {
                    pending_key: Some((_, p)),
                    ..
                },
                _,
            )) => Some(*p),
            _ => None,
        }
    }
}

/// The prefix `!!` expands to.
const CORE_TAGS: &str = "tag:yaml.org,2002:";

/// YAML 1.2 core schema resolution for plain scalars; quoted scalars are strings.
fn resolve_scalar(text: &str, style: TScalarStyle, forced_string: bool) -> Value {
    if style != TScalarStyle::Plain || forced_string {
        return Value::String(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if digits(unsigned, 10) {
        if let Ok(n) = unsigned.parse::<u64>() {
            return Value::Number(n.into());
        }
        // Too large for u64: keep the digits as a string; the schema says what is wrong.
        return Value::String(text.to_string());
    }
    if let Some(neg) = text.strip_prefix('-') {
        if digits(neg, 10) {
            if let Ok(n) = text.parse::<i64>() {
                return Value::Number(n.into());
            }
        }
    }
    if let Some(h) = text.strip_prefix("0x") {
        if digits(h, 16) {
            if let Ok(n) = u64::from_str_radix(h, 16) {
                return Value::Number(n.into());
            }
        }
    }
    if let Some(o) = text.strip_prefix("0o") {
        if digits(o, 8) {
            if let Ok(n) = u64::from_str_radix(o, 8) {
                return Value::Number(n.into());
            }
        }
    }
    let looks_float = text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if looks_float {
        if let Ok(f) = text.parse::<f64>() {
            if let Some(n) = Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_positions() {
        let doc = parse("a: 1\nb:\n  - x\n  - {c: no, d: 0x10}\n").unwrap();
        assert_eq!(doc.value["a"], 1);
        assert_eq!(doc.value["b"][1]["c"], "no");
        assert_eq!(doc.value["b"][1]["d"], 16);
        assert_eq!(doc.position("/b/0"), Position { line: 3, column: 5 });
        assert_eq!(doc.key_position("/a"), Position { line: 1, column: 1 });
        assert_eq!(doc.key_position("/b"), Position { line: 2, column: 1 });
        assert_eq!(
            doc.position("/b/1/missing"),
            Position { line: 4, column: 5 }
        );
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n").err().unwrap();
        assert_eq!(err.position, Position { line: 3, column: 1 });
        assert!(err.message.contains("duplicate key `a`"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: 3\n").err().unwrap();
        assert!(err.message.starts_with("YAML syntax error"));
        assert!(err.position.line >= 2);
    }

    #[test]
    fn aliases() {
        let doc = parse("x: &r {a: 1}\ny: *r\n").unwrap();
        assert_eq!(doc.value["y"]["a"], 1);
    }
}
