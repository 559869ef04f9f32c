//! YAML with positions: parses a document into a JSON value and remembers where
//! every node came from, so schema and semantic errors can name `file:line:column`.
//!
//! Scalars are resolved with the YAML 1.2 core schema (so `no` stays a string and
//! `0x10` is an integer), duplicate keys are errors, and anchors/aliases work.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

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

pub fn parse(text: &str) -> Result<Document, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| YamlError {
        position: (*e.marker()).into(),
        path: String::new(),
        message: format!("YAML syntax error: {}", e.info()),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    let value = builder.root.unwrap_or(Value::Null);
    Ok(Document {
        value,
        spans: builder.spans,
    })
}

/// Escapes one JSON-pointer segment (RFC 6901).
pub fn escape_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
    },
    Map {
        map: Map<String, Value>,
        pending_key: Option<(String, Position)>,
        /// A block mapping's start marker sits after its first key; the first
        /// key's own position is what a reader expects for "this mapping".
        first_key: Option<Position>,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Frame, String)>,
    root: Option<Value>,
    spans: BTreeMap<String, Span>,
    anchors: BTreeMap<usize, Value>,
    error: Option<YamlError>,
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

    fn add(&mut self, value: Value, pos: Position, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
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
                    "duplicate key `{key}` (first defined at line {}); a key may appear once in a mapping",
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
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let pos: Position = mark.into();
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = resolve_scalar(&text, style, tag.as_ref().map(|t| t.suffix.as_str()));
                if self.expecting_key() {
                    self.add_key(value, pos);
                } else {
                    self.add(value, pos, anchor);
                }
            }
            Event::Alias(id) => {
                let value = self.anchors.get(&id).cloned().unwrap_or(Value::Null);
                if self.expecting_key() {
                    self.add_key(value, pos);
                } else {
                    self.add(value, pos, 0);
                }
            }
            Event::SequenceStart(anchor, _) => self.open(
                Frame::Seq {
                    items: Vec::new(),
                    anchor,
                },
                pos,
            ),
            Event::MappingStart(anchor, _) => self.open(
                Frame::Map {
                    map: Map::new(),
                    pending_key: None,
                    first_key: None,
                    anchor,
                },
                pos,
            ),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((frame, pointer)) = self.stack.pop() else {
                    return;
                };
                let mut span = self.spans.get(&pointer).copied().unwrap_or_default();
                let (value, anchor) = match frame {
                    Frame::Seq { items, anchor } => (Value::Array(items), anchor),
                    Frame::Map {
                        map,
                        anchor,
                        first_key,
                        ..
                    } => {
                        if let Some(k) = first_key {
                            span.value = span.value.min(k);
                        }
                        (Value::Object(map), anchor)
                    }
                };
                self.add(value, span.value, anchor);
                // `add` overwrote the span without the key position; restore it.
                self.spans.insert(pointer, span);
            }
            Event::DocumentStart | Event::DocumentEnd | Event::StreamStart | Event::StreamEnd => {}
            Event::Nothing => {}
        }
    }
}

impl Builder {
    /// Starts a collection at the node about to be added.
    fn open(&mut self, frame: Frame, pos: Position) {
        if self.expecting_key() {
            let p = self.child_pointer();
            self.fail(pos, p, "a mapping key must be a plain scalar".into());
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

/// YAML 1.2 core schema resolution for plain scalars; quoted scalars are strings.
fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&str>) -> Value {
    if style != TScalarStyle::Plain || tag == Some("str") {
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
