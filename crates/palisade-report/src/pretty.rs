//! Pretty-printed JSON written member by member, with large arrays serialized on every core.
//!
//! The text is exactly what `serde_json::to_writer_pretty` produces for the same document
//! (two-space indentation, `": "` after keys, one element or member per line), so readers see
//! no difference; what changes is that a report's findings array, most of its bytes, is
//! formatted in parallel batches and written in order. Memory stays bounded: only one batch of
//! formatted text is held at a time.

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::Formatter;

/// Elements formatted by one task.
const ELEMENTS_PER_TASK: usize = 512;
/// Tasks formatted before their text is written out (bounds the memory held).
const TASKS_PER_BATCH: usize = 16;

/// serde_json's pretty layout, starting `depth` levels deep, so a value can be serialized on
/// its own and still line up inside the enclosing document.
struct Indented {
    depth: usize,
    has_value: bool,
}

impl Indented {
    fn at(depth: usize) -> Self {
        Indented {
            depth,
            has_value: false,
        }
    }
}

fn indent<W: ?Sized + Write>(w: &mut W, depth: usize) -> io::Result<()> {
    const SPACES: &[u8; 64] = &[b' '; 64];
    let mut n = depth * 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        w.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

impl Indented {
    /// Opens an array or object one level deeper.
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// Closes it: on its own line when it held anything, else right after the opening.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            indent(w, self.depth)?;
        }
        w.write_all(bracket)
    }
}

impl Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.depth)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.depth)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Serializes `value` in the pretty layout as if it sat `depth` levels deep.
pub(crate) fn write_value<W: Write, T: Serialize + ?Sized>(
    w: W,
    depth: usize,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Indented::at(depth));
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// A JSON object written one member at a time: the document's top level, or an object nested
/// `depth` levels deep whose opening brace the caller has positioned.
pub(crate) struct ObjectWriter<'w> {
    out: &'w mut dyn Write,
    depth: usize,
    members: usize,
}

impl<'w> ObjectWriter<'w> {
    /// Opens the document's top-level object.
    pub(crate) fn begin(out: &'w mut dyn Write) -> io::Result<Self> {
        Self::begin_at(out, 0)
    }

    /// Opens an object that sits `depth` levels deep.
    fn begin_at(out: &'w mut dyn Write, depth: usize) -> io::Result<Self> {
        out.write_all(b"{")?;
        Ok(ObjectWriter {
            out,
            depth,
            members: 0,
        })
    }

    /// Writes the key of the next member; `key` must need no JSON escaping.
    fn key(&mut self, key: &str) -> io::Result<()> {
        debug_assert!(
            key.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        );
        self.out
            .write_all(if self.members == 0 { b"\n" } else { b",\n" })?;
        indent(self.out, self.depth + 1)?;
        self.out.write_all(b"\"")?;
        self.out.write_all(key.as_bytes())?;
        self.out.write_all(b"\": ")?;
        self.members += 1;
        Ok(())
    }

    /// Writes one member.
    pub(crate) fn member<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> io::Result<()> {
        self.key(key)?;
        write_value(&mut *self.out, self.depth + 1, value)
    }

    /// Writes an array member whose elements are `items` mapped through `element`, formatting
    /// batches of elements in parallel and writing them in order.
    pub(crate) fn par_array<'a, I, T, F>(
        &mut self,
        key: &str,
        items: &'a [I],
        element: F,
    ) -> io::Result<()>
    where
        I: Sync,
        T: Serialize,
        F: Fn(&'a I) -> T + Sync,
    {
        self.key(key)?;
        par_array_at(
            &mut *self.out,
            self.depth + 1,
            items,
            |item, text, depth| write_value(text, depth, &element(item)),
        )
    }

    /// Writes an array member like [`ObjectWriter::par_array`], each element written by
    /// `write` (which writes what serde_json's pretty printer would write for it at the depth
    /// it is given; see [`PrettyText`]).
    pub(crate) fn par_array_with<'a, I, F>(
        &mut self,
        key: &str,
        items: &'a [I],
        write: F,
    ) -> io::Result<()>
    where
        I: Sync,
        F: Fn(&'a I, &mut PrettyText<'_>) + Sync,
    {
        self.key(key)?;
        par_array_at(
            &mut *self.out,
            self.depth + 1,
            items,
            |item, text, depth| {
                write(item, &mut PrettyText::at(text, depth));
                Ok(())
            },
        )
    }

    /// Writes an array member holding one object, whose members `fill` writes (SARIF's `runs`).
    pub(crate) fn array_of_one_object(
        &mut self,
        key: &str,
        fill: impl FnOnce(&mut ObjectWriter<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        self.key(key)?;
        let depth = self.depth + 1;
        self.out.write_all(b"[\n")?;
        indent(self.out, depth + 1)?;
        let mut inner = ObjectWriter::begin_at(&mut *self.out, depth + 1)?;
        fill(&mut inner)?;
        inner.close()?;
        self.out.write_all(b"\n")?;
        indent(self.out, depth)?;
        self.out.write_all(b"]")
    }

    /// Writes the closing brace.
    fn close(&mut self) -> io::Result<()> {
        if self.members == 0 {
            return self.out.write_all(b"}");
        }
        self.out.write_all(b"\n")?;
        indent(self.out, self.depth)?;
        self.out.write_all(b"}")
    }

    /// Closes the document's object and ends the line.
    pub(crate) fn end(mut self) -> io::Result<()> {
        self.close()?;
        self.out.write_all(b"\n")
    }
}

/// Writes an array that sits `depth` levels deep, each element of `items` written by `element`
/// (given the text to append to and the element's depth): batches of elements are formatted in
/// parallel and written in order.
fn par_array_at<'a, I, F>(
    out: &mut dyn Write,
    depth: usize,
    items: &'a [I],
    element: F,
) -> io::Result<()>
where
    I: Sync,
    F: Fn(&'a I, &mut Vec<u8>, usize) -> io::Result<()> + Sync,
{
    if items.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    let mut separator = Vec::with_capacity(2 + 2 * (depth + 1));
    separator.extend_from_slice(b",\n");
    indent(&mut separator, depth + 1)?;
    // Every element's text starts with its separator; the first element has no comma.
    let mut skip = 1;
    for batch in items.chunks(ELEMENTS_PER_TASK * TASKS_PER_BATCH) {
        let texts: Vec<io::Result<Vec<u8>>> = batch
            .par_chunks(ELEMENTS_PER_TASK)
            .map(|chunk| {
                let mut text = Vec::with_capacity(chunk.len() * 512);
                for item in chunk {
                    text.extend_from_slice(&separator);
                    element(item, &mut text, depth + 1)?;
                }
                Ok(text)
            })
            .collect();
        for text in texts {
            out.write_all(&text?[skip..])?;
            skip = 0;
        }
    }
    out.write_all(b"\n")?;
    indent(out, depth)?;
    out.write_all(b"]")
}

/// An object written by hand in serde_json's pretty layout, `depth` levels deep: byte for byte
/// what serializing the same members would write, without serde's per-member work. Keys are
/// written as given (they must need no escaping); a string that needs no escaping (nearly all)
/// is copied at once, any other is escaped by serde_json itself.
///
/// Hand-written because the JSON report of a large cluster is mostly findings: at two million
/// findings serde's escaping of every key and value was half the report's CPU time (see the
/// benchmarks doc). The tests hold each writer to serde_json's own output.
pub(crate) struct PrettyText<'t> {
    out: &'t mut Vec<u8>,
    depth: usize,
}

impl<'t> PrettyText<'t> {
    /// Text appended to `out`, its next value `depth` levels deep.
    pub(crate) fn at(out: &'t mut Vec<u8>, depth: usize) -> Self {
        PrettyText { out, depth }
    }

    /// Opens an object (the caller has positioned it).
    pub(crate) fn open(&mut self) {
        self.out.push(b'{');
        self.depth += 1;
    }

    /// Closes the innermost object; `members`: whether it holds any.
    pub(crate) fn close(&mut self, members: bool) {
        self.depth -= 1;
        if members {
            self.out.push(b'\n');
            push_indent(self.out, self.depth);
        }
        self.out.push(b'}');
    }

    /// Starts a member: its separator, indentation and key.
    pub(crate) fn key(&mut self, key: &str, first: bool) {
        debug_assert!(!needs_escape(key));
        self.out
            .extend_from_slice(if first { b"\n" } else { b",\n" });
        push_indent(self.out, self.depth);
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    /// A member that is written only when `value` is present (never the object's first).
    pub(crate) fn member_if_some(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.key(key, false);
            self.string(value);
        }
    }

    /// A string value.
    pub(crate) fn string(&mut self, value: &str) {
        push_string(self.out, value);
    }

    /// A string value made of `parts` joined by `separator` (which needs no escaping).
    pub(crate) fn joined(&mut self, parts: &[&str], separator: &str) {
        debug_assert!(!needs_escape(separator));
        if parts.iter().any(|p| needs_escape(p)) {
            push_string(self.out, &parts.join(separator));
            return;
        }
        self.out.push(b'"');
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.out.extend_from_slice(separator.as_bytes());
            }
            self.out.extend_from_slice(part.as_bytes());
        }
        self.out.push(b'"');
    }

    /// An optional string value (`null` when absent).
    pub(crate) fn optional(&mut self, value: Option<&str>) {
        match value {
            Some(v) => push_string(self.out, v),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    /// JSON text written as it is (a literal escaped already, a number).
    pub(crate) fn raw(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    /// An unsigned number.
    pub(crate) fn number(&mut self, n: u64) {
        // Writing to a Vec cannot fail.
        let _ = write!(self.out, "{n}");
    }
}

fn push_indent(out: &mut Vec<u8>, depth: usize) {
    out.resize(out.len() + 2 * depth, b' ');
}

/// Appends `value` as a JSON string literal, exactly as serde_json writes it.
fn push_string(out: &mut Vec<u8>, value: &str) {
    if needs_escape(value) {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, value);
        return;
    }
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
}

/// Whether JSON escapes any byte of `text`: a quote, a backslash or a control character
/// below 0x20 (serde_json escapes exactly these). Eight bytes are tested at a time; a
/// false alarm only sends the text to serde_json's own escaping.
fn needs_escape(text: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Some byte of `word` is zero.
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS != 0;
    let bytes = text.as_bytes();
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        let word = u64::from_le_bytes(eight);
        // A byte below 0x20: subtracting 0x20 borrows into its high bit while the byte's own
        // high bit is clear.
        let control = word.wrapping_sub(0x20 * ONES) & !word & HIGHS != 0;
        if control
            || has_zero(word ^ (u64::from(b'"') * ONES))
            || has_zero(word ^ (u64::from(b'\\') * ONES))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// Every ASCII byte, at every position of texts 1 to 17 bytes long (whole words and
    /// remainders), is flagged exactly when serde_json would escape it; multi-byte UTF-8 is
    /// not flagged; and the literal written is serde_json's.
    #[test]
    fn escaping_is_decided_per_byte_as_serde_json_decides_it() {
        for len in 1..=17 {
            for at in 0..len {
                for byte in 0u8..0x80 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = byte;
                    let text = String::from_utf8(bytes).unwrap();
                    let escaped = serde_json::to_string(&text).unwrap();
                    assert_eq!(
                        needs_escape(&text),
                        escaped.len() != text.len() + 2,
                        "byte {byte:#04x} at {at} of {len}"
                    );
                    let mut out = Vec::new();
                    push_string(&mut out, &text);
                    assert_eq!(String::from_utf8(out).unwrap(), escaped);
                }
            }
        }
        assert!(!needs_escape("é日本🚀 ünïcödé text that spans words"));
    }

    /// Writes `members` (and `array` as a parallel member) and returns the text.
    fn written(members: &[(&str, Value)], array: &[Value]) -> String {
        let mut out = Vec::new();
        let mut doc = ObjectWriter::begin(&mut out).unwrap();
        for (k, v) in members {
            doc.member(k, v).unwrap();
        }
        doc.par_array("items", array, |v| v).unwrap();
        doc.end().unwrap();
        String::from_utf8(out).unwrap()
    }

    /// What serde_json's own pretty printer makes of the same document.
    fn reference(members: &[(&str, Value)], array: &[Value]) -> String {
        let mut doc = serde_json::Map::new();
        for (k, v) in members {
            doc.insert(k.to_string(), v.clone());
        }
        doc.insert("items".into(), Value::Array(array.to_vec()));
        serde_json::to_string_pretty(&doc).unwrap() + "\n"
    }

    #[test]
    fn text_is_exactly_serde_json_pretty() {
        let members = [
            ("schema", json!("x/v1")),
            ("empty_object", json!({})),
            ("empty_array", json!([])),
            (
                "nested",
                json!({"a": [1, [], {}, [2, {"b": null}]], "s": "quote \" newline \n tab \t é", "f": 1.5}),
            ),
            ("flag", json!(true)),
        ];
        // Enough elements to span several tasks and batches, with nested content.
        let many: Vec<Value> = (0..(ELEMENTS_PER_TASK * TASKS_PER_BATCH * 2 + 7))
            .map(|i| json!({"i": i, "tags": ["a", i.to_string()], "inner": {"k": [] }}))
            .collect();
        for array in [&many[..], &many[..1], &[][..]] {
            assert_eq!(written(&members, array), reference(&members, array));
        }
        assert_eq!(written(&[], &[]), "{\n  \"items\": []\n}\n");
    }

    #[test]
    fn nested_runs_are_exactly_serde_json_pretty() {
        let many: Vec<Value> = (0..(ELEMENTS_PER_TASK * TASKS_PER_BATCH + 3))
            .map(
                |i| json!({"ruleId": format!("R{i}"), "locations": [{"region": {"startLine": i}}]}),
            )
            .collect();
        for (array, empty_run) in [(&many[..], false), (&[][..], false), (&[][..], true)] {
            let mut out = Vec::new();
            let mut doc = ObjectWriter::begin(&mut out).unwrap();
            doc.member("version", "2.1.0").unwrap();
            doc.array_of_one_object("runs", |run| {
                if empty_run {
                    return Ok(());
                }
                run.member("tool", &json!({"driver": {"name": "x", "rules": []}}))?;
                run.par_array("results", array, |v| v)
            })
            .unwrap();
            doc.end().unwrap();
            let run = if empty_run {
                json!({})
            } else {
                json!({"tool": {"driver": {"name": "x", "rules": []}}, "results": array})
            };
            let reference = json!({"version": "2.1.0", "runs": [run]});
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string_pretty(&reference).unwrap() + "\n"
            );
        }
    }
}
