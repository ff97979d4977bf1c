//! A fast path for the YAML that manifests are nearly always written in.
//!
//! Generated and hand-written manifests use a small part of YAML: block mappings and sequences
//! indented with spaces, one-line plain or quoted scalars, one-line flow collections
//! (`[Ingress, Egress]`, `{}`), comments. This module reads exactly that part, line by line,
//! several times faster than the general event parser, and gives up — returning `None` — on
//! anything else: tabs, anchors, aliases, tags, merge keys, block scalars (`|`, `>`),
//! multi-line scalars or flow collections, escapes it does not know, duplicate or null keys,
//! unusual indentation, directives, limits reached. The caller then parses the document with
//! the general parser ([`crate::yaml`]), which also produces every error message, so the fast
//! path never decides whether a document is valid, only how quickly a valid one is read.
//!
//! When it returns a value, that value is the one the general parser builds for the same text
//! (same scalar resolution, same key order, same root and `items` lines); tests compare the
//! two on every fixture and a fuzz target compares them on arbitrary input.

use serde_json::{Map, Value};

use crate::yaml::{Parsed, YamlLimits, is_null, resolve_plain};

/// Parses `text` (one document) if it lies within the fast subset.
pub(crate) fn parse(text: &str, limits: YamlLimits) -> Option<Parsed> {
    let (lines, marker_line) = content_lines(text)?;
    let mut reader = Reader {
        lines,
        pos: 0,
        limits,
        nodes: 0,
        item_lines: Vec::new(),
    };
    let Some(first) = reader.lines.first().copied() else {
        // An empty document: its (null) root sits at the start marker, if there is one.
        return Some(Parsed {
            value: Value::Null,
            line: marker_line.unwrap_or(1),
            item_lines: Vec::new(),
        });
    };
    let value = reader.block_node(first.indent, 0, true)?;
    if reader.pos != reader.lines.len() {
        return None;
    }
    Some(Parsed {
        value,
        line: first.number,
        item_lines: reader.item_lines,
    })
}

/// A line with content (blank and comment-only lines are dropped).
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// 1-based line number in the document text.
    number: u32,
    /// Leading spaces.
    indent: usize,
    /// The rest, trailing spaces removed.
    content: &'a str,
}

/// Splits the document into content lines and the line of its start marker (`---`), or `None`
/// when a character or line falls outside the subset (tabs, control characters, YAML's other
/// line breaks, directives, other markers).
fn content_lines(text: &str) -> Option<(Vec<Line<'_>>, Option<u32>)> {
    let mut out = Vec::with_capacity(text.len() / 24 + 1);
    let mut marker = None;
    for (number, raw) in (1u32..).zip(text.split('\n')) {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if !plain_characters(raw) {
            return None;
        }
        let content = raw.trim_start_matches(' ');
        let indent = raw.len() - content.len();
        let content = content.trim_end_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if indent == 0 && (content.starts_with("---") || content.starts_with("...")) {
            // The document's own start marker, alone on its line, is the only one allowed.
            let bare = content == "---" || content.starts_with("--- #");
            if !(out.is_empty() && marker.is_none() && bare) {
                return None;
            }
            marker = Some(number);
            continue;
        }
        if indent == 0 && content.starts_with('%') {
            return None;
        }
        out.push(Line {
            number,
            indent,
            content,
        });
    }
    Some((out, marker))
}

/// Whether a line holds only characters the fast path handles: printable text, no tabs, no
/// carriage returns inside, none of the characters YAML 1.1 treats as line breaks.
fn plain_characters(line: &str) -> bool {
    if line.is_ascii() {
        return line.bytes().all(|b| (0x20..0x7F).contains(&b));
    }
    line.chars().all(|c| {
        !c.is_control()
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
            )
    })
}

/// Characters that cannot start a plain scalar or a plain key here.
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Whether `text` may start a plain scalar: no indicator first, except a `-` that does not
/// introduce a sequence entry (`-c`, `--port=80`, `-1`).
fn plain_start(text: &str) -> bool {
    match text.as_bytes() {
        [] => false,
        [b'-', next, ..] => next.is_ascii_alphanumeric() || matches!(next, b'-' | b'.' | b'_'),
        [first, ..] => !is_indicator(*first),
    }
}

/// `- item` or a lone `-`.
fn is_sequence_entry(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// Removes a trailing comment (` #…`) from text that holds no quotes or brackets.
fn before_comment(text: &str) -> &str {
    match text.as_bytes().windows(2).position(|w| w == b" #") {
        Some(i) => text[..i].trim_end_matches(' '),
        None => text,
    }
}

/// After a closed scalar or collection: only spaces and a comment may follow.
fn only_comment(rest: &str) -> bool {
    rest.is_empty() || (rest.starts_with(' ') && rest.trim_start_matches(' ').starts_with('#'))
}

/// A key and what follows its `:` (comment removed), when `content` is a mapping entry.
fn split_key(content: &str) -> Option<(String, &str)> {
    let first = *content.as_bytes().first()?;
    let (key, after) = if first == b'"' || first == b'\'' {
        let (key, rest) = quoted(content)?;
        let rest = rest.trim_start_matches(' ');
        if too_long_for_implicit_key(content.len() - rest.len()) {
            return None;
        }
        let rest = rest.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        (key, rest)
    } else {
        if is_indicator(first) {
            return None;
        }
        let colon = key_colon(content)?;
        let key = content[..colon].trim_end_matches(' ');
        if too_long_for_implicit_key(colon)
            || has_pair(key, b' ', b'#')
            || key == "<<"
            || is_null(key)
        {
            return None;
        }
        (key.to_string(), &content[colon + 1..])
    };
    let rest = after.trim_start_matches(' ');
    let rest = if rest.starts_with('#') { "" } else { rest };
    Some((key, rest))
}

/// Whether `text` holds byte `a` directly followed by byte `b` (`": "`, `" #"`). The texts are
/// short scalars and keys, on every line of every file: a byte scan, without the set-up of a
/// substring search (which was 2% of a large scan's time).
fn has_pair(text: &str, a: u8, b: u8) -> bool {
    text.as_bytes().windows(2).any(|w| w[0] == a && w[1] == b)
}

/// Whether a key whose `:` lies `span` bytes after the key's first character is too long for
/// the fast path. An implicit key spans at most 1024 characters (YAML 1.2, 7.4.2), counted by
/// the general parser up to its `:` — trailing spaces included. Near that limit the fast path
/// declines (bytes ≥ characters, and a margin keeps it clear of how the limit is counted), and
/// the general parser decides.
fn too_long_for_implicit_key(span: usize) -> bool {
    span > 1000
}

/// Position of the `:` that ends a plain key: the first one followed by a space or the end.
fn key_colon(content: &str) -> Option<usize> {
    let bytes = content.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))
}

/// A quoted scalar at the start of `text` (closed on this line) and the text after it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut chars = text.char_indices();
    let (_, quote) = chars.next()?;
    let mut out = String::new();
    if quote == '\'' {
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if text[i + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, &text[i + 1..]));
                }
            } else {
                out.push(c);
            }
        }
        return None;
    }
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[i + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    '\\' | '"' | '/' => out.push(e),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    'u' => {
                        let mut code = 0u32;
                        for _ in 0..4 {
                            let (_, h) = chars.next()?;
                            code = code * 16 + h.to_digit(16)?;
                        }
                        out.push(char::from_u32(code)?);
                    }
                    _ => return None,
                }
            }
            _ => out.push(c),
        }
    }
    None
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    limits: YamlLimits,
    nodes: usize,
    item_lines: Vec<u32>,
}

impl<'a> Reader<'a> {
    /// Counts one node against the budget.
    fn node(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= self.limits.max_nodes).then_some(())
    }

    /// A collection opening inside `depth` others.
    fn open(&mut self, depth: usize) -> Option<()> {
        if depth >= self.limits.max_depth {
            return None;
        }
        self.node()
    }

    fn current(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// The block collection starting at the current line, whose indentation is `indent`.
    fn block_node(&mut self, indent: usize, depth: usize, root: bool) -> Option<Value> {
        let line = self.current()?;
        if is_sequence_entry(line.content) {
            self.block_sequence(indent, depth, false)
        } else {
            self.block_mapping(indent, depth, root)
        }
    }

    fn block_mapping(&mut self, indent: usize, depth: usize, root: bool) -> Option<Value> {
        self.open(depth)?;
        let mut map = Map::new();
        while let Some(line) = self.current() {
            if line.indent != indent || is_sequence_entry(line.content) {
                break;
            }
            let (key, rest) = split_key(line.content)?;
            self.node()?;
            let items = root && key == "items";
            // The key is hashed once: a repeated key declines the fast path, a new one is
            // filled in below.
            let serde_json::map::Entry::Vacant(slot) = map.entry(key) else {
                return None;
            };
            self.pos += 1;
            let value = if rest.is_empty() {
                match self.current() {
                    Some(next) if next.indent > indent => {
                        if is_sequence_entry(next.content) {
                            self.block_sequence(next.indent, depth + 1, items)?
                        } else {
                            self.block_mapping(next.indent, depth + 1, false)?
                        }
                    }
                    Some(next) if next.indent == indent && is_sequence_entry(next.content) => {
                        self.block_sequence(indent, depth + 1, items)?
                    }
                    _ => {
                        self.node()?;
                        Value::Null
                    }
                }
            } else {
                let v = self.inline_value(rest, line.number, depth + 1, items)?;
                if self.current().is_some_and(|next| next.indent > indent) {
                    return None;
                }
                v
            };
            slot.insert(value);
        }
        if self.current().is_some_and(|next| next.indent > indent) {
            return None;
        }
        Some(Value::Object(map))
    }

    fn block_sequence(&mut self, indent: usize, depth: usize, items: bool) -> Option<Value> {
        self.open(depth)?;
        let mut out = Vec::new();
        while let Some(line) = self.current() {
            if line.indent != indent || !is_sequence_entry(line.content) {
                break;
            }
            let after_dash = line.content[1..].trim_start_matches(' ');
            let rest = if after_dash.starts_with('#') {
                ""
            } else {
                after_dash
            };
            if rest.is_empty() {
                self.pos += 1;
                let next = self.current().filter(|next| next.indent > indent)?;
                if items {
                    self.item_lines.push(next.number);
                }
                out.push(self.block_node(next.indent, depth + 1, false)?);
            } else if is_sequence_entry(rest) {
                return None;
            } else if split_key(rest).is_some() {
                // A compact mapping: its keys line up with the first one, after the dash.
                let column = indent + (line.content.len() - rest.len());
                if items {
                    self.item_lines.push(line.number);
                }
                self.lines[self.pos] = Line {
                    number: line.number,
                    indent: column,
                    content: rest,
                };
                out.push(self.block_mapping(column, depth + 1, false)?);
            } else {
                self.pos += 1;
                if items {
                    self.item_lines.push(line.number);
                }
                out.push(self.inline_value(rest, line.number, depth + 1, false)?);
            }
            if self.current().is_some_and(|next| next.indent > indent) {
                return None;
            }
        }
        Some(Value::Array(out))
    }

    /// A value that starts on the line of its key or dash and ends on it.
    fn inline_value(&mut self, text: &str, line: u32, depth: usize, items: bool) -> Option<Value> {
        let first = *text.as_bytes().first()?;
        match first {
            b'"' | b'\'' => {
                let (s, rest) = quoted(text)?;
                if !only_comment(rest) {
                    return None;
                }
                self.node()?;
                Some(Value::String(s))
            }
            b'[' | b'{' => {
                let (v, rest) = self.flow_node(text, depth, line, items)?;
                only_comment(rest).then_some(v)
            }
            _ if !plain_start(text) => None,
            _ => {
                let text = before_comment(text);
                if text.ends_with(':') || has_pair(text, b':', b' ') || has_pair(text, b' ', b'#') {
                    return None;
                }
                self.node()?;
                Some(resolve_plain(text))
            }
        }
    }

    /// A flow collection or scalar at the start of `text`, and the text after it.
    fn flow_node<'t>(
        &mut self,
        text: &'t str,
        depth: usize,
        line: u32,
        items: bool,
    ) -> Option<(Value, &'t str)> {
        match *text.as_bytes().first()? {
            b'[' => {
                self.open(depth)?;
                let mut out = Vec::new();
                let mut rest = text[1..].trim_start_matches(' ');
                if let Some(after) = rest.strip_prefix(']') {
                    return Some((Value::Array(out), after));
                }
                loop {
                    if items {
                        self.item_lines.push(line);
                    }
                    let (v, after) = self.flow_node(rest, depth + 1, line, false)?;
                    out.push(v);
                    let after = after.trim_start_matches(' ');
                    if let Some(next) = after.strip_prefix(',') {
                        rest = next.trim_start_matches(' ');
                        if rest.starts_with(']') {
                            return None;
                        }
                    } else {
                        let after = after.strip_prefix(']')?;
                        return Some((Value::Array(out), after));
                    }
                }
            }
            b'{' => {
                self.open(depth)?;
                let mut map = Map::new();
                let mut rest = text[1..].trim_start_matches(' ');
                if let Some(after) = rest.strip_prefix('}') {
                    return Some((Value::Object(map), after));
                }
                loop {
                    let (key, after) = flow_key(rest)?;
                    self.node()?;
                    let serde_json::map::Entry::Vacant(slot) = map.entry(key) else {
                        return None;
                    };
                    let (v, after) = self.flow_node(after, depth + 1, line, false)?;
                    slot.insert(v);
                    let after = after.trim_start_matches(' ');
                    if let Some(next) = after.strip_prefix(',') {
                        rest = next.trim_start_matches(' ');
                        if rest.starts_with('}') {
                            return None;
                        }
                    } else {
                        let after = after.strip_prefix('}')?;
                        return Some((Value::Object(map), after));
                    }
                }
            }
            b'"' | b'\'' => {
                let (s, rest) = quoted(text)?;
                self.node()?;
                Some((Value::String(s), rest))
            }
            _ if !plain_start(text) => None,
            _ => {
                let end = text.find([',', '[', ']', '{', '}']).unwrap_or(text.len());
                let plain = text[..end].trim_end_matches(' ');
                if plain.is_empty() || plain.contains(':') || plain.contains('#') {
                    return None;
                }
                self.node()?;
                Some((resolve_plain(plain), &text[end..]))
            }
        }
    }
}

/// A key inside a flow mapping and the text after its `:` (spaces skipped).
fn flow_key(text: &str) -> Option<(String, &str)> {
    let first = *text.as_bytes().first()?;
    let (key, rest) = if first == b'"' || first == b'\'' {
        let (key, rest) = quoted(text)?;
        let rest = rest.trim_start_matches(' ');
        if too_long_for_implicit_key(text.len() - rest.len()) {
            return None;
        }
        let rest = rest.strip_prefix(':')?;
        (key, rest)
    } else {
        if is_indicator(first) {
            return None;
        }
        let colon = text.find(": ")?;
        let key = text[..colon].trim_end_matches(' ');
        if too_long_for_implicit_key(colon)
            || key.is_empty()
            || key.contains([',', '[', ']', '{', '}', '#', ':'])
            || key == "<<"
            || is_null(key)
        {
            return None;
        }
        (key.to_string(), &text[colon + 1..])
    };
    Some((key, rest.trim_start_matches(' ')))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use serde_json::json;

    use super::*;
    use crate::documents;
    use crate::yaml::parse_general;

    const LIMITS: YamlLimits = YamlLimits {
        max_depth: 64,
        max_nodes: 100_000,
        max_aliases: 100,
    };

    /// The fast path's answer, checked against the general parser: when it answers, it must
    /// answer exactly as the general parser does.
    fn fast(text: &str) -> Option<Parsed> {
        let fast = parse(text, LIMITS);
        if let Some(f) = &fast {
            let general = parse_general(text, LIMITS);
            assert_eq!(
                general.as_ref().ok(),
                Some(f),
                "fast path disagrees on {text:?}"
            );
        }
        fast
    }

    #[test]
    fn manifests_in_the_subset_are_read_as_the_general_parser_reads_them() {
        let docs = [
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app: web\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    args:\n    - --port=8080\n    - -v\n    ports:\n    - containerPort: 80\n      protocol: TCP\n",
            "---\n# comment\nkind: X # trailing\nlist: [a, 'b c', \"d\\\"e\", 1, yes, ~, -1, 0777]\nmap: {}\nseq: []\nflow: {a: 1, \"b\": [x, y], c: {d: e}}\n",
            "a:\n- x\n- y\nb:\n  - 1\n  -   k: v\n      k2: v2\nc: 'it''s'\nd: \"\\u00e9\\n\\t\"\ne: 1.5\nf: 08\ng: Off\nh:\ni: null\n",
            "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: a}\n- kind: Service\n  metadata:\n    name: b\n",
            "apiVersion: v1\nkind: List\nitems:\n  - kind: Pod\n  -\n    kind: Service\n",
            "kind: List\nitems: [{kind: Pod}, {kind: Service}]\n",
            "- a\n- b: 1\n  c: 2\n- [x, -1, --flag, -.5]\n- -c\n",
            "  indented: root\n  second: key\n",
            "\"quoted key\": 1\n'single': 2\nurl: http://example.com:8080/x#frag\nempty_quoted: \"\"\nemoji: héllo wörld\n",
            "key: value\r\nother: 2\r\n",
            "# nothing but comments\n\n",
            "# comment\n\n---",
            "---\n# only a comment\n",
            "",
        ];
        for doc in docs {
            assert!(fast(doc).is_some(), "expected the fast path for {doc:?}");
        }
        let list = fast(docs[3]).unwrap();
        assert_eq!(list.item_lines, vec![4, 6]);
        assert_eq!(list.line, 1);
        assert_eq!(fast(docs[4]).unwrap().item_lines, vec![4, 6]);
        assert_eq!(fast(docs[5]).unwrap().item_lines, vec![2, 2]);
        assert_eq!(fast(docs[1]).unwrap().line, 3);
        assert_eq!(
            fast(docs[1]).unwrap().value["list"],
            json!(["a", "b c", "d\"e", 1, true, null, -1, 511])
        );
    }

    #[test]
    fn everything_else_is_left_to_the_general_parser() {
        let declined = [
            "a: |\n  block\n",
            "a: >\n  folded\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "base: {a: 1}\nm:\n  <<: {b: 2}\n",
            "a: multi\n  line plain\n",
            "a: \"multi\n  line quoted\"\n",
            "a: [multi,\n  line]\n",
            "a:\tb\n",
            "\ta: b\n",
            "a: 1\na: 2\n",
            "~: 1\n",
            "? complex\n: key\n",
            "a: b: c\n",
            "a: - b\n",
            "%YAML 1.1\n---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n...\n",
            "- - nested\n",
            "-\n- b\n",
            "a: [x, ]\n",
            "a: \"\\x41\"\n",
            "a:\n    b: 1\n  c: 2\n",
            "just a scalar\n",
            "a: 1\n b: 2\n",
            "a: 'unclosed\n",
            "a: [1, 2] trailing\n",
            "a: x\u{2028}y\n",
            "a: x\u{85}y\n",
            "a: @reserved\n",
            "s: [ -]\n",
            "s: [-, a]\n",
        ];
        for doc in declined {
            assert!(fast(doc).is_none(), "fast path should decline {doc:?}");
        }
        // Implicit keys over 1024 characters up to their `:`, quoted or plain, counting the
        // spaces before the `:` (both found by the fast_yaml fuzz target).
        let long = "k".repeat(1100);
        let spaces = " ".repeat(1100);
        for doc in [
            format!("'{long}': v\n"),
            format!("\"{long}\": v\n"),
            format!("- '{long}': ''\n"),
            format!("a: {{'{long}': v}}\n"),
            format!("{long}: v\n"),
            format!("a],{spaces}n{spaces}: 6era]#"),
            format!("k{spaces}: v\n"),
            format!("'k'{spaces}: v\n"),
            format!("a: {{k{spaces}: v}}\n"),
            format!("a: {{'k'{spaces}: v}}\n"),
        ] {
            assert!(
                fast(&doc).is_none(),
                "fast path should decline a long implicit key"
            );
            assert!(crate::fast_yaml_agrees(&doc));
        }
    }

    #[test]
    fn limits_send_documents_to_the_general_parser() {
        let tight = YamlLimits {
            max_depth: 2,
            max_nodes: 5,
            max_aliases: 0,
        };
        assert!(parse("a:\n  b:\n    c: 1\n", tight).is_none());
        assert!(parse("a: 1\nb: 2\nc: 3\n", tight).is_none());
        assert!(parse("a: 1\nb: 2\n", tight).is_some());
    }

    fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            if path.is_dir() && name != "target" && name != ".git" && name != "fuzz" {
                yaml_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(path);
            }
        }
    }

    /// Every YAML document in the repository (demo, fixtures of every crate): the fast path
    /// agrees wherever it answers, and answers for most of them.
    #[test]
    fn every_repository_document_agrees_and_most_take_the_fast_path() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        yaml_files(&root, &mut files);
        let (mut total, mut taken) = (0, 0);
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            for doc in documents::split(&text) {
                total += 1;
                if fast(doc.text).is_some() {
                    taken += 1;
                }
            }
        }
        eprintln!("fast path: {taken} of {total} repository documents");
        assert!(
            total > 200,
            "only {total} documents found under {}",
            root.display()
        );
        assert!(
            taken * 10 >= total * 7,
            "fast path taken for {taken} of {total} documents"
        );
    }
}
