//! The full-text index of sources: text gathered under headings, cut into chunks, written to
//! SQLite FTS5 in one transaction, and searched with bm25 ranking and highlighted snippets.

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;
use specta::Type;

use crate::error::Result;

/// A chunk grows to about this many characters, then the next one starts at a line break.
const CHUNK_CHARS: usize = 1000;

/// Marks a matched term in FTS5's `snippet()`: private-use characters no document contains
/// meaningfully, split into [`SnippetPart`]s here so the UI never renders markup.
const HIT_START: char = '\u{E000}';
const HIT_END: char = '\u{E001}';

/// The text of one source as read from its provider, in chunks under their nearest heading.
#[derive(Debug, Default)]
pub(super) struct Text {
    chunks: Vec<Chunk>,
    heading: String,
    current: String,
    bytes: usize,
}

#[derive(Debug)]
struct Chunk {
    heading: String,
    text: String,
}

impl Text {
    /// A heading: it closes the chunk being written and titles the ones that follow.
    pub(super) fn heading(&mut self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.flush();
        self.heading = text.to_string();
        self.line(text);
    }

    /// A line of text (a paragraph, a list item, a table row…).
    pub(super) fn line(&mut self, text: &str) {
        let text = text.trim_end();
        if text.trim().is_empty() {
            return;
        }
        if !self.current.is_empty() {
            self.current.push('\n');
        }
        self.current.push_str(text);
        self.bytes += text.len() + 1;
        if self.current.len() >= CHUNK_CHARS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.current.trim().is_empty() {
            self.chunks.push(Chunk {
                heading: self.heading.clone(),
                text: std::mem::take(&mut self.current),
            });
        }
        self.current.clear();
    }

    pub(super) fn finish(mut self) -> Self {
        self.flush();
        self
    }

    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn chunk_count(&self) -> usize {
        self.chunks.len()
    }
}

/// Replaces the source's chunks with `text` (inside the caller's transaction).
pub(super) fn replace(tx: &Transaction<'_>, source_id: &str, text: &Text) -> Result<()> {
    tx.execute(
        "DELETE FROM knowledge_chunk WHERE source_id = ?1",
        [source_id],
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO knowledge_chunk (source_id, heading, text) VALUES (?1, ?2, ?3)",
    )?;
    for chunk in &text.chunks {
        insert.execute(params![source_id, chunk.heading, chunk.text])?;
    }
    Ok(())
}

/// One passage that matched a search.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct SearchHit {
    pub source_id: String,
    pub source_title: String,
    pub provider: String,
    /// The heading the passage is under ("" at the top of a page).
    pub heading: String,
    /// The passage around the match; parts with `hit` are the matched words.
    pub snippet: Vec<SnippetPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

/// The FTS5 query for what a person typed: each word a quoted string (so no character is
/// syntax), all of them required, the last one also as a prefix (results while typing).
/// `None` when nothing searchable is left.
pub(super) fn fts_query(input: &str) -> Option<String> {
    let words: Vec<String> = input
        .split(|c: char| c.is_whitespace() || c == '\u{0}')
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query = rest.join(" ");
    if !query.is_empty() {
        query.push(' ');
    }
    query.push_str(last);
    query.push('*');
    Some(query)
}

pub(super) fn search(conn: &Connection, input: &str, limit: u32) -> Result<Vec<SearchHit>> {
    let Some(query) = fts_query(input) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT c.source_id, s.title, s.provider, c.heading,
                snippet(knowledge_fts, 0, ?2, ?3, '…', 24)
         FROM knowledge_fts f
         JOIN knowledge_chunk c ON c.id = f.rowid
         JOIN knowledge_source s ON s.id = c.source_id
         WHERE knowledge_fts MATCH ?1
         ORDER BY bm25(knowledge_fts, 1.0, 2.0)
         LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![query, HIT_START.to_string(), HIT_END.to_string(), limit],
        |r| {
            Ok(SearchHit {
                source_id: r.get(0)?,
                source_title: r.get(1)?,
                provider: r.get(2)?,
                heading: r.get(3)?,
                snippet: parts(&r.get::<_, String>(4)?),
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Splits a marked snippet into plain and matched parts.
fn parts(marked: &str) -> Vec<SnippetPart> {
    let mut out = Vec::new();
    let mut hit = false;
    let mut text = String::new();
    for c in marked.chars() {
        let toggle = match c {
            HIT_START => Some(true),
            HIT_END => Some(false),
            _ => None,
        };
        match toggle {
            Some(next) => {
                if !text.is_empty() {
                    out.push(SnippetPart {
                        text: std::mem::take(&mut text),
                        hit,
                    });
                }
                hit = next;
            }
            None => text.push(c),
        }
    }
    if !text.is_empty() {
        out.push(SnippetPart { text, hit });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_typed_text_is_a_valid_query() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("\"*^():-"), None);
        assert_eq!(
            fts_query("purple walrus").unwrap(),
            "\"purple\" \"walrus\"*"
        );
        assert_eq!(
            fts_query("say \"hi\" OR NOT x*").unwrap(),
            "\"say\" \"\"\"hi\"\"\" \"OR\" \"NOT\" \"x*\"*"
        );
    }

    #[test]
    fn snippet_parts_mark_the_hits() {
        let marked = format!("a {HIT_START}walrus{HIT_END} b");
        assert_eq!(
            parts(&marked),
            vec![
                SnippetPart {
                    text: "a ".into(),
                    hit: false
                },
                SnippetPart {
                    text: "walrus".into(),
                    hit: true
                },
                SnippetPart {
                    text: " b".into(),
                    hit: false
                },
            ]
        );
    }

    #[test]
    fn text_is_chunked_under_headings() {
        let mut text = Text::default();
        text.line("intro");
        text.heading("Refunds");
        for i in 0..40 {
            text.line(&format!(
                "line {i} of a refund paragraph that is fairly long"
            ));
        }
        let text = text.finish();
        assert!(text.chunk_count() >= 3);
        assert_eq!(text.chunks[0].heading, "");
        assert!(text.chunks[1..].iter().all(|c| c.heading == "Refunds"));
        assert!(text.chunks.iter().all(|c| c.text.len() < CHUNK_CHARS + 80));
    }
}
