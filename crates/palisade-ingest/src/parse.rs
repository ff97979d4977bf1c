//! Parsing one document into JSON values (YAML from granit-parser's events with a budget, JSON
//! through serde_json refusing duplicate keys as YAML does), expanding `kind: List`, and
//! locating field paths for error messages.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Budget, Options, Spanned};

use crate::Limits;
use crate::documents::Document;
use crate::{json, yaml};

/// A document-level parse error with a position in the file.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// One object from a document: the document itself, or an item of a `List`.
#[derive(Debug)]
pub(crate) struct Item {
    pub value: Value,
    /// 1-based line in the file where the object starts.
    pub line: u32,
    /// Index in the List's `items`, for list items.
    pub list_index: Option<usize>,
}

fn options(limits: &Limits) -> Options {
    let mut budget = Budget::default();
    budget.max_depth = limits.max_depth;
    budget.max_nodes = limits.max_nodes;
    budget.max_aliases = limits.max_aliases;
    budget.max_documents = 1;
    let mut options = Options::default();
    options.budget = Some(budget);
    // Snippets would echo document content (possibly Secret values) into messages.
    options.with_snippet = false;
    options
}

/// Parses a document into its objects.
pub(crate) fn parse_document(doc: &Document<'_>, limits: &Limits) -> Result<Vec<Item>, ParseError> {
    let (value, first_line, item_lines) = if doc.json {
        let (value, line) = parse_json(doc)?;
        (value, line, None)
    } else {
        let parsed = parse_yaml(doc, limits)?;
        (parsed.value, parsed.line, Some(parsed.item_lines))
    };
    if is_list(&value) {
        return Ok(expand_list(doc, value, first_line, item_lines, limits));
    }
    Ok(vec![Item {
        value,
        line: first_line,
        list_index: None,
    }])
}

fn parse_json(doc: &Document<'_>) -> Result<(Value, u32), ParseError> {
    let value = json::from_str(doc.text).map_err(|e| ParseError {
        line: doc.first_line + e.line().saturating_sub(1) as u32,
        column: e.column() as u32,
        message: format!("invalid JSON: {}", strip_position(&e.to_string())),
    })?;
    let offset = doc.text.len() - doc.text.trim_start().len();
    let line = doc.first_line + doc.text[..offset].matches('\n').count() as u32;
    Ok((value, line))
}

/// A YAML document, with its root line and List item lines made absolute in the file.
fn parse_yaml(doc: &Document<'_>, limits: &Limits) -> Result<yaml::Parsed, ParseError> {
    let yaml_limits = yaml::YamlLimits {
        max_depth: limits.max_depth,
        max_nodes: limits.max_nodes,
        max_aliases: limits.max_aliases,
    };
    let absolute = |line: u32| doc.first_line + line.saturating_sub(1);
    match yaml::parse(doc.text, yaml_limits) {
        Ok(mut parsed) => {
            parsed.line = absolute(parsed.line);
            for l in &mut parsed.item_lines {
                *l = absolute(*l);
            }
            Ok(parsed)
        }
        Err(e) => Err(ParseError {
            line: absolute(e.line.max(1)),
            column: e.column,
            message: format!("invalid YAML: {}", e.message),
        }),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// `kind: List` or any `*List` kind carrying `items` (`kubectl get -o yaml` exports).
fn is_list(v: &Value) -> bool {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    kind.ends_with("List") && v.get("items").is_some_and(Value::is_array)
}

#[derive(Deserialize)]
struct SpannedList {
    #[serde(default)]
    items: Vec<Spanned<de::IgnoredAny>>,
}

fn expand_list(
    doc: &Document<'_>,
    value: Value,
    list_line: u32,
    item_lines: Option<Vec<u32>>,
    limits: &Limits,
) -> Vec<Item> {
    // YAML parsing records item lines; for JSON they come from a span-only pass (JSON is valid
    // YAML for this purpose). If that fails, items point at the List itself.
    let lines: Vec<u32> = item_lines.unwrap_or_else(|| {
        serde_saphyr::from_str_with_options::<SpannedList>(doc.text, options(limits))
            .map(|l| {
                l.items
                    .iter()
                    .map(|s| doc.first_line + (s.referenced.line() as u32).saturating_sub(1))
                    .collect()
            })
            .unwrap_or_default()
    });
    let Value::Object(mut map) = value else {
        return Vec::new();
    };
    let Some(Value::Array(items)) = map.remove("items") else {
        return Vec::new();
    };
    let item_type = ItemType::of_list(&map);
    items
        .into_iter()
        .enumerate()
        .map(|(i, mut value)| {
            item_type.fill_in(&mut value);
            Item {
                value,
                line: lines.get(i).copied().unwrap_or(list_line),
                list_index: Some(i),
            }
        })
        .collect()
}

/// The kind and apiVersion the items of a typed list (`PodList`, `DeploymentList`) have. The
/// API server's list responses (`kubectl get --raw`) and many exports omit them on each item:
/// the list's kind minus `List`, in the list's group and version. A plain `kind: List` says
/// nothing about its items.
struct ItemType {
    kind: Option<String>,
    api_version: Option<String>,
}

impl ItemType {
    fn of_list(list: &serde_json::Map<String, Value>) -> ItemType {
        let kind = list
            .get("kind")
            .and_then(Value::as_str)
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty())
            .map(str::to_string);
        let api_version = kind.as_ref().and_then(|_| {
            list.get("apiVersion")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        ItemType { kind, api_version }
    }

    /// Sets what `item` lacks (an item's own kind or apiVersion always wins).
    fn fill_in(&self, item: &mut Value) {
        let Value::Object(map) = item else { return };
        for (key, value) in [("kind", &self.kind), ("apiVersion", &self.api_version)] {
            let has_own = map
                .get(key)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty());
            if let Some(value) = value
                && !has_own
            {
                map.insert(key.to_string(), Value::String(value.clone()));
            }
        }
    }
}

/// A path segment of a field path.
#[derive(Debug, Clone)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Finds the line and column of the node at `path` in a document (for error messages about
/// wrong field types). Returns the deepest node found along the path.
pub(crate) fn locate(doc: &Document<'_>, path: &[Segment], limits: &Limits) -> Option<(u32, u32)> {
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(doc.text, options(limits)).ok()?;
    let mut current = &root;
    for seg in path {
        let next = match (&current.value, seg) {
            (Node::Map(entries), Segment::Key(k)) => {
                entries.iter().find(|(key, _)| key == k).map(|(_, v)| v)
            }
            (Node::Seq(items), Segment::Index(i)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => current = n,
            None => break,
        }
    }
    Some((
        doc.first_line + (current.referenced.line() as u32).saturating_sub(1),
        current.referenced.column() as u32,
    ))
}

/// A YAML node tree with positions, used only to locate errors.
enum Node {
    Map(Vec<(String, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Value>()? {
            let key = match key {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}
