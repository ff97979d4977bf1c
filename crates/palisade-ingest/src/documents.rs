//! Splitting a manifest stream into documents, each with the line it starts on.
//!
//! In YAML, a line that starts with `---` followed by a space, a tab or the end of the line is a
//! document marker wherever it occurs (it also ends a block scalar), so splitting on such lines
//! is exact and lets one broken document be reported without losing the others.

/// One document of a stream.
#[derive(Debug, Clone)]
pub(crate) struct Document<'a> {
    /// The document text (including its `---` line, if any).
    pub text: &'a str,
    /// 1-based line of the first line of `text` in the file.
    pub first_line: u32,
    /// Whether the stream is JSON rather than YAML.
    pub json: bool,
}

impl Document<'_> {
    /// True when the document has no content (only markers, comments and blank lines).
    pub fn is_blank(&self) -> bool {
        self.text.lines().all(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
        })
    }
}

/// Decodes bytes as UTF-8 text (a BOM is dropped). Binary data is refused with the line of the
/// first offending byte.
pub(crate) fn decode_text(data: &[u8]) -> Result<&str, (u32, String)> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if let Some(pos) = data.iter().position(|&b| b == 0) {
        return Err((
            line_of(data, pos),
            "binary data (NUL byte): not a YAML or JSON manifest".into(),
        ));
    }
    std::str::from_utf8(data).map_err(|e| {
        (
            line_of(data, e.valid_up_to()),
            format!(
                "not valid UTF-8 (at byte {}): not a YAML or JSON manifest",
                e.valid_up_to()
            ),
        )
    })
}

fn line_of(data: &[u8], pos: usize) -> u32 {
    1 + data[..pos].iter().filter(|&&b| b == b'\n').count() as u32
}

/// Splits a stream into documents. A stream whose first non-blank character is `{` or `[` is
/// JSON and stays one document.
pub(crate) fn split(text: &str) -> Vec<Document<'_>> {
    let first = text.trim_start().chars().next();
    if matches!(first, Some('{') | Some('[')) {
        return vec![Document {
            text,
            first_line: 1,
            json: true,
        }];
    }
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (line_no, line) in (1u32..).zip(text.split_inclusive('\n')) {
        if is_document_marker(line) && offset > start {
            docs.push(Document {
                text: &text[start..offset],
                first_line: start_line,
                json: false,
            });
            start = offset;
            start_line = line_no;
        }
        offset += line.len();
    }
    if start < text.len() || docs.is_empty() {
        docs.push(Document {
            text: &text[start..],
            first_line: start_line,
            json: false,
        });
    }
    docs
}

fn is_document_marker(line: &str) -> bool {
    let line = line.trim_end_matches(['\n', '\r']);
    match line.strip_prefix("---") {
        Some(rest) => rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_markers_with_lines() {
        let text = "a: 1\n---\nb: 2\n--- # c\nc: 3\n";
        let docs = split(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0].first_line, 1);
        assert_eq!(docs[1].first_line, 2);
        assert_eq!(docs[2].first_line, 4);
        assert!(docs[2].text.contains("c: 3"));
    }

    #[test]
    fn markers_inside_words_are_not_split() {
        let docs = split("a: |\n  ---\n  x\n----\nb: 1\n");
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn json_is_one_document() {
        let docs = split("  {\"a\": 1}");
        assert_eq!(docs.len(), 1);
        assert!(docs[0].json);
    }

    #[test]
    fn binary_is_refused() {
        assert!(decode_text(b"a: 1\n\0\x01").is_err());
        assert_eq!(decode_text(b"a: \xff\n").unwrap_err().0, 1);
        assert_eq!(decode_text(b"\xEF\xBB\xBFa: 1").unwrap(), "a: 1");
    }
}
