//! Check texts escaped once for the JSON report.
//!
//! Every finding of a check repeats the check's title and remediation (one shared [`Arc`] per
//! check): two million findings would escape the same hundred texts two million times. Each
//! distinct text is escaped once here and written verbatim after, byte for byte what
//! escaping it again would write.

use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// JSON string literals of shared texts, by the address of their [`Arc`].
pub(crate) struct EscapedTexts {
    /// `(address, literal)`, sorted by address.
    by_address: Vec<(usize, Box<RawValue>)>,
}

impl EscapedTexts {
    /// The literals of the distinct texts among `texts`.
    pub(crate) fn of<'a>(texts: impl Iterator<Item = &'a Arc<str>>) -> EscapedTexts {
        // Few distinct texts: a sorted list found by binary search stays in the cache.
        let mut distinct: Vec<(usize, &str)> = Vec::new();
        let mut last = None;
        for text in texts {
            let at = address(text);
            if last == Some(at) {
                continue;
            }
            last = Some(at);
            if let Err(i) = distinct.binary_search_by_key(&at, |(a, _)| *a) {
                distinct.insert(i, (at, text));
            }
        }
        let by_address = distinct
            .into_iter()
            .filter_map(|(at, text)| Some((at, serde_json::value::to_raw_value(text).ok()?)))
            .collect();
        EscapedTexts { by_address }
    }

    /// `text`, escaped already when it is one of the texts given to [`EscapedTexts::of`].
    pub(crate) fn get<'a>(&'a self, text: &'a Arc<str>) -> Text<'a> {
        match self
            .by_address
            .binary_search_by_key(&address(text), |(a, _)| *a)
        {
            Ok(i) => Text::Escaped(&self.by_address[i].1),
            Err(_) => Text::Plain(text),
        }
    }
}

/// A string to write: escaped already, or to escape.
pub(crate) enum Text<'a> {
    /// A JSON string literal, written as it is.
    Escaped(&'a RawValue),
    /// Text escaped as it is written.
    Plain(&'a str),
}

impl Text<'_> {
    /// Writes the string into hand-written JSON text.
    pub(crate) fn write_to(&self, text: &mut crate::pretty::PrettyText<'_>) {
        match self {
            Text::Escaped(literal) => text.raw(literal.get()),
            Text::Plain(plain) => text.string(plain),
        }
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Text::Escaped(literal) => literal.serialize(s),
            Text::Plain(text) => s.serialize_str(text),
        }
    }
}

/// The address of a shared text (its identity while the findings are borrowed).
fn address(text: &Arc<str>) -> usize {
    Arc::as_ptr(text).cast::<()>() as usize
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::EscapedTexts;

    #[test]
    fn escaped_texts_write_what_serde_json_writes() {
        let texts: Vec<Arc<str>> = [
            "plain",
            "quote \" and \\ and \u{1}",
            "tab\tnewline\n",
            "é ✓",
        ]
        .map(Arc::from)
        .to_vec();
        let unknown: Arc<str> = Arc::from("not \"listed\"");
        let escaped = EscapedTexts::of(texts.iter().chain(&texts));
        for text in texts.iter().chain([&unknown]) {
            assert_eq!(
                serde_json::to_string_pretty(&escaped.get(text)).unwrap(),
                serde_json::to_string_pretty(&**text).unwrap()
            );
        }
    }
}
