//! Text as published files come: UTF-8 with or without a byte-order mark, or Windows-1252
//! (what Excel and many council systems still write: `é`, `£` and `’` are single bytes that
//! are not valid UTF-8); and the line a byte is on, counting LF, CRLF and a lone CR alike
//! (the `csv` crate's own line count is one too low after CRLF line ends).

use std::borrow::Cow;

/// A file's character encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub enum Encoding {
    /// UTF-8 when the bytes are valid UTF-8, else Windows-1252 (with a warning).
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "windows-1252")]
    Windows1252,
}

impl Encoding {
    /// The names accepted by `--encoding` and `encoding=`.
    pub const NAMES: [&'static str; 3] = ["auto", "utf-8", "windows-1252"];

    /// Parses a name (also `utf8`, `cp1252`), case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Self::Auto),
            "utf-8" | "utf8" => Some(Self::Utf8),
            "windows-1252" | "cp1252" => Some(Self::Windows1252),
            _ => None,
        }
    }
}

/// The text of a file, and a note when it was decoded as Windows-1252 because it was not
/// valid UTF-8.
#[derive(Debug)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub note: Option<String>,
}

/// Decodes `bytes` as `encoding`, dropping a UTF-8 byte-order mark. Declared UTF-8 that is
/// not valid is an error naming the line of the first bad byte.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Decoded<'_>, String> {
    fn cp1252(b: &[u8]) -> Cow<'_, str> {
        encoding_rs::WINDOWS_1252.decode_without_bom_handling(b).0
    }
    let bytes = super::strip_bom(bytes);
    match encoding {
        Encoding::Windows1252 => Ok(Decoded {
            text: cp1252(bytes),
            note: None,
        }),
        Encoding::Utf8 | Encoding::Auto => match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Decoded {
                text: Cow::Borrowed(s),
                note: None,
            }),
            Err(e) => {
                let line = LineIndex::new(bytes).line(e.valid_up_to());
                if encoding == Encoding::Utf8 {
                    return Err(format!(
                        "is not valid UTF-8 (line {line}); if it is Windows-1252, say so with \
                         --encoding windows-1252 (encoding=windows-1252 in the API)"
                    ));
                }
                Ok(Decoded {
                    text: cp1252(bytes),
                    note: Some(format!(
                        "read as Windows-1252: not valid UTF-8 (first at line {line})"
                    )),
                })
            }
        },
    }
}

/// Where each line starts, for turning byte offsets into 1-based line numbers.
pub struct LineIndex {
    /// Byte offsets of the starts of lines 2, 3, …
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line breaks of `text`: LF, CRLF, or CR alone.
    pub fn new(text: &[u8]) -> Self {
        let mut starts = Vec::new();
        for (i, &b) in text.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && text.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex { starts }
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) + 1
    }

    /// The line a record starts on, given the byte offset the `csv` crate reports for it:
    /// that offset can be on the previous record's line end (after CRLF), and blank lines
    /// before a record are skipped, so line-end bytes are passed over first.
    pub fn record_line(&self, text: &[u8], offset: usize) -> usize {
        let skip = text.get(offset..).map_or(0, |rest| {
            rest.iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count()
        });
        self.line(offset + skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_lf_crlf_and_lone_cr() {
        let text = b"a\nb\r\nc\rd";
        let idx = LineIndex::new(text);
        let lines: Vec<usize> = (0..text.len()).map(|i| idx.line(i)).collect();
        assert_eq!(lines, [1, 1, 2, 2, 2, 3, 3, 4]);
        assert_eq!(idx.record_line(text, 3), 3, "from the CR of line 2's CRLF");
        assert_eq!(idx.record_line(text, 4), 3, "from the LF of line 2's CRLF");
    }

    #[test]
    fn windows_1252_is_detected_or_declared() {
        // "Café £5 – it’s" as Windows-1252.
        let bytes = b"Caf\xe9 \xa35 \x96 it\x92s";
        let d = decode(bytes, Encoding::Auto).unwrap();
        assert_eq!(d.text, "Café £5 – it’s");
        assert!(d.note.unwrap().contains("Windows-1252"));
        assert!(decode(bytes, Encoding::Utf8)
            .unwrap_err()
            .contains("line 1"));
        let d = decode(bytes, Encoding::Windows1252).unwrap();
        assert_eq!((d.text.as_ref(), d.note), ("Café £5 – it’s", None));
        let d = decode("\u{feff}Café".as_bytes(), Encoding::Auto).unwrap();
        assert_eq!((d.text.as_ref(), d.note), ("Café", None));
    }
}
