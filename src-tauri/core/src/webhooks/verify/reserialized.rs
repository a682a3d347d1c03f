//! The forms a JSON body takes when something between sender and verifier rewrites it: the
//! diagnosis tries each to tell "re-serialized" from "altered".

/// Forms the original body may have had if what arrived is a rewrite of it, each with how it
/// differs: the JSON without whitespace (keys in their order), with sorted keys, and the
/// line-ending changes tools make. Empty for a body that is not JSON or text.
pub(super) fn body_variants(body: &[u8]) -> Vec<(Vec<u8>, &'static str)> {
    let mut out: Vec<(Vec<u8>, &'static str)> = Vec::new();
    let mut push = |v: Vec<u8>, how: &'static str| {
        if v != body && !out.iter().any(|(o, _)| *o == v) {
            out.push((v, how));
        }
    };
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        push(
            strip_json_whitespace(body),
            "without its whitespace (compact)",
        );
        let mut sorted = Vec::with_capacity(body.len());
        write_sorted(&value, &mut sorted);
        push(sorted, "compact with its keys sorted");
        if let Ok(pretty) = serde_json::to_vec_pretty(&value) {
            push(pretty, "pretty-printed");
        }
    }
    let trimmed = body
        .strip_suffix(b"\r\n")
        .or_else(|| body.strip_suffix(b"\n"));
    if let Some(t) = trimmed {
        push(t.to_vec(), "without the trailing newline");
    } else {
        let mut v = body.to_vec();
        v.push(b'\n');
        push(v, "with a trailing newline");
    }
    if body.windows(2).any(|w| w == b"\r\n") {
        push(
            replace(body, b"\r\n", b"\n"),
            "with LF line endings instead of CRLF",
        );
    } else if body.contains(&b'\n') {
        push(
            replace(body, b"\n", b"\r\n"),
            "with CRLF line endings instead of LF",
        );
    }
    out
}

/// JSON text with the whitespace between tokens removed and the strings left exactly as they
/// are (escapes included), so the key order and number forms stay the sender's.
pub(super) fn strip_json_whitespace(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}

/// Compact JSON with every object's keys sorted, whatever serde_json's map keeps.
fn write_sorted(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                write_sorted(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(v, out);
            }
            out.push(b']');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len() + haystack.len() / 16);
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
