//! Google Docs: the Drive picker (`files.list` filtered to Docs, paged) and a document's text
//! (`documents.get` structural elements: paragraphs, headings, lists, tables).

use serde_json::Value;

use super::api::Api;
use super::index::Text;
use super::model::{PickerItem, PickerPage, SourceKind};
use crate::error::{Error, Result};

const DOC_MIME: &str = "application/vnd.google-apps.document";
const PICKER_PAGE: &str = "50";

pub(super) async fn browse(api: &Api, query: &str, cursor: Option<&str>) -> Result<PickerPage> {
    let mut q = format!("mimeType='{DOC_MIME}' and trashed=false");
    if !query.is_empty() {
        // Drive's query strings: quotes and backslashes escaped with a backslash.
        let escaped = query.replace('\\', "\\\\").replace('\'', "\\'");
        q.push_str(&format!(" and name contains '{escaped}'"));
    }
    let mut params = vec![
        ("q", q.as_str()),
        ("pageSize", PICKER_PAGE),
        ("orderBy", "modifiedTime desc"),
        (
            "fields",
            "nextPageToken,files(id,name,mimeType,modifiedTime,webViewLink)",
        ),
    ];
    if let Some(cursor) = cursor {
        params.push(("pageToken", cursor));
    }
    let answer = api
        .get(&format!("{}/drive/v3/files", api.base), &params)
        .await?;
    let items = answer["files"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|f| {
            Some(PickerItem {
                external_id: f["id"].as_str()?.to_string(),
                kind: SourceKind::Doc,
                title: f["name"].as_str().unwrap_or("Untitled").to_string(),
                url: f["webViewLink"].as_str().map(str::to_string),
                edited_at: f["modifiedTime"].as_str().map(str::to_string),
                added: false,
            })
        })
        .collect();
    Ok(PickerPage {
        items,
        next_cursor: answer["nextPageToken"].as_str().map(str::to_string),
    })
}

/// Reads document `id` in full: its title and its text.
pub(super) async fn read(
    api: &Api,
    id: &str,
    progress: &mut (dyn FnMut(u32) + Send),
) -> Result<(String, Text)> {
    let doc = api
        .get(&format!("{}/v1/documents/{id}", api.docs_base), &[])
        .await?;
    let title = doc["title"]
        .as_str()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or("Untitled")
        .to_string();
    let mut reader = Reader {
        text: Text::default(),
        items: 0,
        progress,
    };
    reader.text.heading(&title);
    reader.elements(&doc["body"]["content"]);
    Ok((title, reader.text.finish()))
}

struct Reader<'a> {
    text: Text,
    items: u32,
    progress: &'a mut (dyn FnMut(u32) + Send),
}

impl Reader<'_> {
    fn elements(&mut self, content: &Value) {
        for element in content.as_array().map(Vec::as_slice).unwrap_or(&[]) {
            self.items += 1;
            (self.progress)(self.items);
            if let Some(p) = element.get("paragraph") {
                self.paragraph(p);
            } else if let Some(table) = element.get("table") {
                for row in table["tableRows"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    let cells: Vec<String> = row["tableCells"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .map(|cell| cell_text(&cell["content"]))
                        .collect();
                    self.text.line(&cells.join(" | "));
                }
            }
            // sectionBreak carries no text; a tableOfContents repeats the headings.
        }
    }

    fn paragraph(&mut self, p: &Value) {
        let text = paragraph_text(p);
        let style = p["paragraphStyle"]["namedStyleType"].as_str().unwrap_or("");
        if style == "TITLE" || style.starts_with("HEADING_") {
            self.text.heading(&text);
        } else if let Some(bullet) = p.get("bullet") {
            let level = bullet["nestingLevel"].as_u64().unwrap_or(0) as usize;
            self.text
                .line(&format!("{}• {}", "  ".repeat(level), text.trim()));
        } else {
            self.text.line(&text);
        }
    }
}

fn paragraph_text(p: &Value) -> String {
    p["elements"]
        .as_array()
        .map(|els| {
            els.iter()
                .filter_map(|e| e["textRun"]["content"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
        .trim_end_matches('\n')
        .to_string()
}

/// A table cell's text: its paragraphs (and nested tables) on one line.
fn cell_text(content: &Value) -> String {
    let mut parts = Vec::new();
    for element in content.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        if let Some(p) = element.get("paragraph") {
            let t = paragraph_text(p);
            if !t.trim().is_empty() {
                parts.push(t.trim().to_string());
            }
        } else if let Some(table) = element.get("table") {
            for row in table["tableRows"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                for cell in row["tableCells"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    parts.push(cell_text(&cell["content"]));
                }
            }
        }
    }
    parts.join(" ")
}

/// A Drive file id: letters, digits, `-` and `_` only (it goes into a URL path).
pub(super) fn check_id(id: &str) -> Result<()> {
    if !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(Error::invalid("That is not a Google Docs document id."))
    }
}
