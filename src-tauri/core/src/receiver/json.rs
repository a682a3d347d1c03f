//! JSON text written by hand on the receiver's hot path (serde_json escapes byte by byte, a
//! cost every received request paid): header pairs, and the verdict column.

use std::borrow::Cow;

use hyper::header::HeaderValue;

use crate::webhooks::verify::{Verdict, VerdictCode};

/// `[[name, value], …]`: the same text as `serde_json::to_string(pairs)`, written directly
/// (serde_json escapes byte by byte, a cost every received request paid).
pub(crate) fn pairs_json(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    json_pairs(
        &mut out,
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    );
    out
}

/// A header value as text: nearly always visible ASCII, checked faster than UTF-8; otherwise
/// what `String::from_utf8_lossy` reads.
pub(super) fn header_text(value: &HeaderValue) -> Cow<'_, str> {
    match value.to_str() {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    }
}

pub(super) fn json_pairs<'a, V: AsRef<str>>(
    out: &mut String,
    pairs: impl Iterator<Item = (&'a str, V)>,
) {
    out.push('[');
    for (i, (name, value)) in pairs.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        push_json_str(out, name);
        out.push(',');
        push_json_str(out, value.as_ref());
        out.push(']');
    }
    out.push(']');
}

/// The verdict column: what the row's other columns (valid, verdict_code, verdict_title) do not
/// hold. Rows written by earlier versions also carry those three; reading ignores them.
#[derive(Debug, Default, PartialEq, serde::Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
#[serde(default)]
pub(crate) struct VerdictColumn {
    pub detail: String,
    pub matched: Option<String>,
    pub timestamp: Option<i64>,
    pub skew_secs: Option<i64>,
    pub signatures_in_header: u32,
}

impl VerdictColumn {
    pub(crate) fn into_verdict(self, valid: bool, code: VerdictCode, title: String) -> Verdict {
        Verdict {
            valid,
            code,
            title,
            detail: self.detail,
            matched: self.matched,
            timestamp: self.timestamp,
            skew_secs: self.skew_secs,
            signatures_in_header: self.signatures_in_header,
        }
    }
}

/// The [`VerdictColumn`] of a verdict as JSON: the same text as `serde_json::to_string` writes
/// (fields in order, `None` as null), written directly for the same reason as [`pairs_json`].
pub(super) fn write_verdict_json(out: &mut String, v: &Verdict) {
    use std::fmt::Write as _;
    out.push_str("{\"detail\":");
    push_json_str(out, &v.detail);
    out.push_str(",\"matched\":");
    match &v.matched {
        Some(m) => push_json_str(out, m),
        None => out.push_str("null"),
    }
    out.push_str(",\"timestamp\":");
    match v.timestamp {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"skew_secs\":");
    match v.skew_secs {
        Some(s) => {
            let _ = write!(out, "{s}");
        }
        None => out.push_str("null"),
    }
    let _ = write!(
        out,
        ",\"signatures_in_header\":{}}}",
        v.signatures_in_header
    );
}

/// A JSON string literal: copied as is unless it holds a character JSON must escape (a quote,
/// a backslash or a control character), which serde_json then writes exactly as it would.
pub(super) fn push_json_str(out: &mut String, s: &str) {
    if needs_escape(s.as_bytes()) {
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
    } else {
        out.push('"');
        out.push_str(s);
        out.push('"');
    }
}

/// Whether any byte is a quote, a backslash or a control character. Branch-free per 32-byte
/// chunk, so the compiler checks a chunk with a few vector instructions.
pub(super) fn needs_escape(bytes: &[u8]) -> bool {
    let bad = |acc: bool, &b: &u8| acc | (b < 0x20) | (b == b'"') | (b == b'\\');
    let mut chunks = bytes.chunks_exact(32);
    for chunk in chunks.by_ref() {
        if chunk.iter().fold(false, bad) {
            return true;
        }
    }
    chunks.remainder().iter().fold(false, bad)
}
