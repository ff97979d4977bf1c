//! Deb822-style paragraphs (`Key: value` with indented continuation lines, blank-line
//! separated), as used by dpkg's status database; and apk's one-letter `K:value` records.

/// One paragraph: fields in order, continuation lines joined with `\n`.
pub type Paragraph = Vec<(String, String)>;

/// Looks up a field (case-insensitive, as deb822 field names are).
pub fn field<'a>(p: &'a Paragraph, name: &str) -> Option<&'a str> {
    p.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Splits deb822 text into paragraphs.
pub fn deb822(text: &str) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut current: Paragraph = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, v)) = current.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            current.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Splits apk's `installed` database (`P:name` lines, blank-line separated) into records.
pub fn apk_records(text: &str) -> Vec<Paragraph> {
    let mut out = Vec::new();
    let mut current: Paragraph = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            current.push((k.to_string(), v.to_string()));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Finds a one-letter apk field (case-sensitive: `o` and `O` differ).
pub fn apk_field<'a>(p: &'a Paragraph, key: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}
