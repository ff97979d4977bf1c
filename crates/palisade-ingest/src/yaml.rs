//! One YAML document into a JSON value, built straight from granit-parser's event stream.
//!
//! This is the hot path of ingestion. Going through serde (serde-saphyr into
//! `serde_json::Value`) spent about three quarters of its time in the deserializer layers around
//! the event parser; building the value from the events directly is about four times faster and
//! gives node positions for free (List item lines without a second pass).
//!
//! Scalars are resolved as Kubernetes reads manifests: sigs.k8s.io/yaml converts YAML to JSON
//! with go-yaml v2, i.e. YAML 1.1 rules — `yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0777` is
//! octal, `1_000` is an integer, `~` and the empty scalar are null, merge keys (`<<`) merge.
//! Quoted and block scalars are always strings; `!!str` and the other core tags force a type.
//!
//! Bounded on hostile input: nesting depth, node count (alias expansions included) and alias
//! count are capped; a duplicate mapping key is an error (which value would the cluster keep?).

use std::collections::HashMap;

use granit_parser::{Event, Options, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};

/// Caps for one document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YamlLimits {
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes, counting every node an alias expands to.
    pub max_nodes: usize,
    /// Most alias references.
    pub max_aliases: usize,
}

/// A parsed document.
#[derive(Debug, PartialEq)]
pub(crate) struct Parsed {
    /// The document's value (`Null` for an empty document).
    pub value: Value,
    /// 1-based line of the root node in the text (1 for an empty document).
    pub line: u32,
    /// 1-based lines of the elements of the root mapping's `items` sequence (for `kind: List`).
    pub item_lines: Vec<u32>,
}

/// Why a document could not be read, with its position in the text (1-based line, 0-based
/// column).
#[derive(Debug)]
pub(crate) struct YamlError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

enum Frame {
    Map {
        map: Map<String, Value>,
        /// The key whose value is being read; `None` while a key is expected.
        key: Option<String>,
        /// Mappings to merge in (`<<`), in order of precedence.
        merges: Vec<Map<String, Value>>,
        anchor: usize,
        nodes_at_start: usize,
    },
    Seq {
        items: Vec<Value>,
        anchor: usize,
        nodes_at_start: usize,
    },
}

/// The merge key of YAML 1.1 (`<<: *defaults`), stored under this name until the mapping ends.
const MERGE_KEY: &str = "\u{0}<<";

struct Builder {
    limits: YamlLimits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
    aliases: usize,
    root: Option<Value>,
    root_line: Option<u32>,
    item_lines: Vec<u32>,
}

fn error_at(span: &Span, message: impl Into<String>) -> YamlError {
    YamlError {
        line: span.start.line() as u32,
        column: span.start.col() as u32,
        message: message.into(),
    }
}

/// Parses one YAML document (the text between `---` markers).
pub(crate) fn parse(text: &str, limits: YamlLimits) -> Result<Parsed, YamlError> {
    if let Some(parsed) = crate::yaml_fast::parse(text, limits) {
        return Ok(parsed);
    }
    parse_general(text, limits)
}

/// Parses one YAML document with the general event parser (any YAML; every error).
pub(crate) fn parse_general(text: &str, limits: YamlLimits) -> Result<Parsed, YamlError> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    options.block_nesting_limit = options.block_nesting_limit.min(limits.max_depth + 1);
    options.flow_nesting_limit = options.flow_nesting_limit.min(limits.max_depth + 1);
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        aliases: 0,
        root: None,
        root_line: None,
        item_lines: Vec::new(),
    };
    let mut documents = 0;
    for next in Parser::new_from_str_with_options(text, options) {
        let (event, span) = next.map_err(|e| {
            let m = e.marker();
            YamlError {
                line: m.line() as u32,
                column: m.col() as u32,
                message: e.info().to_string(),
            }
        })?;
        match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(error_at(&span, "more than one document"));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                builder.node_start(&span)?;
                builder.scalar(&span, &text, style, anchor, tag.as_deref())?;
            }
            Event::Alias(id) => {
                builder.node_start(&span)?;
                builder.alias(&span, id)?;
            }
            Event::MappingStart(_, anchor, _) => {
                builder.node_start(&span)?;
                builder.open(
                    &span,
                    Frame::Map {
                        map: Map::new(),
                        key: None,
                        merges: Vec::new(),
                        anchor,
                        nodes_at_start: 0,
                    },
                )?;
            }
            Event::SequenceStart(_, anchor, _) => {
                builder.node_start(&span)?;
                builder.open(
                    &span,
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        nodes_at_start: 0,
                    },
                )?;
            }
            Event::MappingEnd | Event::SequenceEnd => builder.close(&span)?,
            _ => {}
        }
    }
    Ok(Parsed {
        value: builder.root.unwrap_or(Value::Null),
        line: builder.root_line.unwrap_or(1),
        item_lines: builder.item_lines,
    })
}

impl Builder {
    /// Bookkeeping common to every node: budget, root line, List item lines.
    fn node_start(&mut self, span: &Span) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(error_at(
                span,
                format!("document has more than {} nodes", self.limits.max_nodes),
            ));
        }
        let line = span.start.line() as u32;
        if self.root_line.is_none() {
            self.root_line = Some(line);
        }
        // An element of the root mapping's `items` sequence.
        if let [Frame::Map { key: Some(k), .. }, Frame::Seq { .. }] = self.stack.as_slice()
            && k == "items"
        {
            self.item_lines.push(line);
        }
        Ok(())
    }

    fn open(&mut self, span: &Span, mut frame: Frame) -> Result<(), YamlError> {
        if self.expects_key() {
            return Err(error_at(span, "complex mapping keys are not supported"));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(error_at(
                span,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        match &mut frame {
            Frame::Map { nodes_at_start, .. } | Frame::Seq { nodes_at_start, .. } => {
                *nodes_at_start = self.nodes;
            }
        }
        self.stack.push(frame);
        Ok(())
    }

    fn close(&mut self, span: &Span) -> Result<(), YamlError> {
        let (value, anchor, nodes_at_start) = match self.stack.pop() {
            Some(Frame::Map {
                mut map,
                merges,
                anchor,
                nodes_at_start,
                ..
            }) => {
                for merged in merges {
                    for (k, v) in merged {
                        if !map.contains_key(&k) {
                            map.insert(k, v);
                        }
                    }
                }
                (Value::Object(map), anchor, nodes_at_start)
            }
            Some(Frame::Seq {
                items,
                anchor,
                nodes_at_start,
            }) => (Value::Array(items), anchor, nodes_at_start),
            None => return Err(error_at(span, "unbalanced collection end")),
        };
        let size = self.nodes - nodes_at_start + 1;
        self.complete(span, value, anchor, size)
    }

    fn expects_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn scalar(
        &mut self,
        span: &Span,
        text: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
    ) -> Result<(), YamlError> {
        if self.expects_key() {
            let key = if style == ScalarStyle::Plain && tag.is_none() && text == "<<" {
                MERGE_KEY.to_string()
            } else if style == ScalarStyle::Plain && tag.is_none() && is_null(text) {
                return Err(error_at(span, "a mapping key is empty or null"));
            } else {
                text.to_string()
            };
            if anchor != 0 {
                self.anchors.insert(anchor, (Value::String(key.clone()), 1));
            }
            return self.set_key(span, key);
        }
        let value = resolve(text, style, tag).map_err(|m| error_at(span, m))?;
        self.complete(span, value, anchor, 1)
    }

    fn alias(&mut self, span: &Span, id: usize) -> Result<(), YamlError> {
        self.aliases += 1;
        if self.aliases > self.limits.max_aliases {
            return Err(error_at(
                span,
                format!("more than {} aliases", self.limits.max_aliases),
            ));
        }
        let Some((value, size)) = self.anchors.get(&id) else {
            return Err(error_at(span, "alias to an unknown anchor"));
        };
        let (value, size) = (value.clone(), *size);
        // The alias expands to `size` nodes; one was counted by `node_start`.
        self.nodes += size.saturating_sub(1);
        if self.nodes > self.limits.max_nodes {
            return Err(error_at(
                span,
                format!(
                    "document has more than {} nodes (after alias expansion)",
                    self.limits.max_nodes
                ),
            ));
        }
        if self.expects_key() {
            return match value {
                Value::String(key) => self.set_key(span, key),
                _ => Err(error_at(span, "complex mapping keys are not supported")),
            };
        }
        self.complete(span, value, 0, size)
    }

    fn set_key(&mut self, span: &Span, key: String) -> Result<(), YamlError> {
        if let Some(Frame::Map { map, key: slot, .. }) = self.stack.last_mut() {
            if map.contains_key(&key) {
                return Err(error_at(span, crate::json::duplicate_key_message(&key)));
            }
            *slot = Some(key);
        }
        Ok(())
    }

    /// A finished node: remember its anchor and put it where it belongs.
    fn complete(
        &mut self,
        span: &Span,
        value: Value,
        anchor: usize,
        size: usize,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                map, key, merges, ..
            }) => {
                let Some(k) = key.take() else {
                    return Err(error_at(span, "complex mapping keys are not supported"));
                };
                if k == MERGE_KEY {
                    match value {
                        Value::Object(m) => merges.push(m),
                        Value::Array(list) => {
                            for item in list {
                                match item {
                                    Value::Object(m) => merges.push(m),
                                    _ => {
                                        return Err(error_at(
                                            span,
                                            "a merge key (<<) takes mappings only",
                                        ));
                                    }
                                }
                            }
                        }
                        _ => return Err(error_at(span, "a merge key (<<) takes mappings only")),
                    }
                } else {
                    map.insert(k, value);
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Resolves an untagged plain scalar (see [`resolve`]).
pub(crate) fn resolve_plain(text: &str) -> Value {
    match resolve(text, ScalarStyle::Plain, None) {
        Ok(v) => v,
        // Untagged plain scalars always resolve; keep the text if that ever changes.
        Err(_) => Value::String(text.to_string()),
    }
}

/// Resolves a scalar to a JSON value by YAML 1.1 rules (as go-yaml v2 does), honouring an
/// explicit core tag.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag
        && let Some(suffix) = tag.core_suffix()
    {
        let wrong = |what: &str| format!("{text:?} is not a valid !!{what}");
        return match suffix {
            "str" => Ok(Value::String(text.to_string())),
            "null" => Ok(Value::Null),
            "bool" => parse_bool(text)
                .map(Value::Bool)
                .ok_or_else(|| wrong("bool")),
            "int" => parse_int(text).ok_or_else(|| wrong("int")),
            "float" => parse_int(text)
                .or_else(|| parse_float(text))
                .ok_or_else(|| wrong("float")),
            _ => Ok(Value::String(text.to_string())),
        };
    }
    if style != ScalarStyle::Plain || tag.is_some() {
        return Ok(Value::String(text.to_string()));
    }
    if is_null(text) {
        return Ok(Value::Null);
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_alphabetic()
        && let Some(b) = parse_bool(text)
    {
        return Ok(Value::Bool(b));
    }
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(v) = parse_int(text) {
            return Ok(v);
        }
        if let Some(v) = parse_float(text) {
            return Ok(v);
        }
    }
    Ok(Value::String(text.to_string()))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// YAML 1.1 integers: decimal, `0x` hex, `0o` or leading-zero octal, `0b` binary; `_` allowed
/// between digits.
fn parse_int(text: &str) -> Option<Value> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with('_') {
        return None;
    }
    let digits: String = body.chars().filter(|c| *c != '_').collect();
    let (radix, digits) = if let Some(d) = digits.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = digits.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = digits.strip_prefix("0b") {
        (2, d)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        let v = i64::try_from(magnitude)
            .ok()
            .map(|m| -m)
            .or((magnitude == 1 << 63).then_some(i64::MIN))?;
        Some(Value::Number(v.into()))
    } else {
        Some(Value::Number(magnitude.into()))
    }
}

/// YAML 1.1 floats: `1.5`, `-.5`, `1e3`, `6.02e+23`, `1_000.5`. Infinities and NaN have no JSON
/// form and stay strings.
fn parse_float(text: &str) -> Option<Value> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let body = cleaned.trim_start_matches(['-', '+']);
    let valid = !body.is_empty()
        && body.chars().any(|c| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && body.as_bytes()[0] != b'e'
        && body.as_bytes()[0] != b'E';
    if !valid {
        return None;
    }
    let f: f64 = cleaned.parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: YamlLimits = YamlLimits {
        max_depth: 64,
        max_nodes: 10_000,
        max_aliases: 100,
    };

    fn value(text: &str) -> Value {
        parse(text, LIMITS).expect("parses").value
    }

    fn err(text: &str) -> YamlError {
        parse(text, LIMITS).expect_err("must fail")
    }

    #[test]
    fn yaml_1_1_scalars_as_kubernetes_reads_them() {
        let v = value(
            "a: yes\nb: off\nc: Y\nd: 'yes'\ne: 0777\nf: 0x1F\ng: 1_000\nh: -12\ni: 1.5e3\nj: ~\nk:\nl: .inf\nm: \"12\"\nn: 0o17\no: 0b101\np: 08\nq: 1.0\nr: +5\ns: 12abc\n",
        );
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": true, "d": "yes", "e": 511, "f": 31, "g": 1000,
                   "h": -12, "i": 1500.0, "j": null, "k": null, "l": ".inf", "m": "12", "n": 15,
                   "o": 5, "p": 8.0, "q": 1.0, "r": 5, "s": "12abc"})
        );
    }

    #[test]
    fn block_scalars_and_tags() {
        let v = value(
            "a: |\n  line1\n  line2\nb: !!str 12\nc: !!int \"7\"\nd: !!bool \"on\"\ne: !custom 3\n",
        );
        assert_eq!(
            v,
            json!({"a": "line1\nline2\n", "b": "12", "c": 7, "d": true, "e": "3"})
        );
        assert!(err("a: !!int nope\n").message.contains("not a valid !!int"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = value(
            "base: &b {cpu: 1, memory: 2Gi}\nx:\n  <<: *b\n  cpu: 2\nlist: [&s one, *s]\ny:\n  <<: [{a: 1}, {a: 2, b: 3}]\n",
        );
        assert_eq!(v["x"], json!({"cpu": 2, "memory": "2Gi"}));
        assert_eq!(v["list"], json!(["one", "one"]));
        assert_eq!(v["y"], json!({"a": 1, "b": 3}));
    }

    #[test]
    fn positions_of_root_and_list_items() {
        let p = parse(
            "# comment\n\napiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  x: 1\n- kind: Service\n",
            LIMITS,
        )
        .expect("parses");
        assert_eq!(p.line, 3);
        assert_eq!(p.item_lines, vec![6, 8]);
        let empty = parse("# only a comment\n", LIMITS).expect("parses");
        assert_eq!(empty.value, Value::Null);
    }

    #[test]
    fn hostile_and_malformed_documents_are_errors_with_positions() {
        let e = err("a: [unclosed\n");
        assert!(e.line >= 1, "{e:?}");
        let e = err("a: 1\na: 2\n");
        assert_eq!(
            (e.line, e.message.as_str()),
            (2, "duplicate mapping key \"a\"")
        );
        assert!(
            err("? [a, b]\n: 1\n")
                .message
                .contains("complex mapping keys")
        );
        assert!(err("~: 1\n").message.contains("empty or null"));
        // Alias bomb: each level doubles the expansion.
        let mut bomb = String::from("a0: &a0 [x, x]\n");
        for i in 1..30 {
            bomb.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
        }
        assert!(err(&bomb).message.contains("nodes"));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep, LIMITS).is_err());
        assert!(err("a: *nowhere\n").message.contains("unknown anchor"));
    }
}
