//! Notion: the picker (the search API, paged) and a page's or database's text — blocks read
//! recursively, every page of every paginated answer, child pages and database rows included.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use serde_json::{json, Value};

use super::api::Api;
use super::index::Text;
use super::model::{PickerItem, PickerPage, SourceKind};
use crate::error::{Error, Result};

/// Notion's largest page of results.
const PAGE_SIZE: u32 = 100;
/// Items per picker page.
const PICKER_PAGE: u32 = 50;
/// Blocks nest at most this deep before the rest is left out (a guard, not a Notion limit).
const MAX_DEPTH: usize = 48;

pub(super) async fn browse(api: &Api, query: &str, cursor: Option<&str>) -> Result<PickerPage> {
    let mut body = json!({
        "page_size": PICKER_PAGE,
        "sort": {"direction": "descending", "timestamp": "last_edited_time"},
    });
    if !query.is_empty() {
        body["query"] = json!(query);
    }
    if let Some(cursor) = cursor {
        body["start_cursor"] = json!(cursor);
    }
    let answer = api.post(&format!("{}/v1/search", api.base), &body).await?;
    let items = list(&answer)
        .iter()
        .filter(|o| !o["archived"].as_bool().unwrap_or(false))
        .filter(|o| !o["in_trash"].as_bool().unwrap_or(false))
        .filter_map(|o| {
            let kind = match o["object"].as_str()? {
                "page" => SourceKind::Page,
                "database" => SourceKind::Database,
                _ => return None,
            };
            Some(PickerItem {
                external_id: o["id"].as_str()?.to_string(),
                kind,
                title: title_of(o),
                url: o["url"].as_str().map(str::to_string),
                edited_at: o["last_edited_time"].as_str().map(str::to_string),
                added: false,
            })
        })
        .collect();
    Ok(PickerPage {
        items,
        next_cursor: next_cursor(&answer),
    })
}

/// Reads the page or database `id` in full: its title and its text.
pub(super) async fn read(
    api: &Api,
    kind: SourceKind,
    id: &str,
    progress: &mut (dyn FnMut(u32) + Send),
) -> Result<(String, Text)> {
    let mut walker = Walker {
        api,
        text: Text::default(),
        items: 0,
        progress,
        visited: HashSet::new(),
    };
    let title = match kind {
        SourceKind::Database => walker.database(id.to_string(), 0).await?,
        _ => walker.page(id).await?,
    };
    Ok((title, walker.text.finish()))
}

struct Walker<'a> {
    api: &'a Api,
    text: Text,
    items: u32,
    progress: &'a mut (dyn FnMut(u32) + Send),
    /// Pages and databases read already: a link back up the tree is not followed again.
    visited: HashSet<String>,
}

type Step<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

impl Walker<'_> {
    fn tick(&mut self) {
        self.items += 1;
        (self.progress)(self.items);
    }

    async fn page(&mut self, id: &str) -> Result<String> {
        let page = self
            .api
            .get(&format!("{}/v1/pages/{id}", self.api.base), &[])
            .await?;
        let title = title_of(&page);
        self.visited.insert(plain_id(id));
        self.text.heading(&title);
        self.properties(&page);
        self.children(id.to_string(), 0).await?;
        Ok(title)
    }

    /// Every child block of `id`, page after page, each with its own children.
    fn children(&mut self, id: String, depth: usize) -> Step<'_, ()> {
        Box::pin(async move {
            if depth > MAX_DEPTH {
                return Ok(());
            }
            let url = format!("{}/v1/blocks/{id}/children", self.api.base);
            let mut cursor: Option<String> = None;
            loop {
                let size = PAGE_SIZE.to_string();
                let mut query = vec![("page_size", size.as_str())];
                if let Some(c) = &cursor {
                    query.push(("start_cursor", c.as_str()));
                }
                let answer = self.api.get(&url, &query).await?;
                for block in list(&answer) {
                    self.block(block, depth).await?;
                }
                match next_cursor(&answer) {
                    Some(next) => cursor = Some(next),
                    None => return Ok(()),
                }
            }
        })
    }

    async fn block(&mut self, b: &Value, depth: usize) -> Result<()> {
        self.tick();
        let kind = b["type"].as_str().unwrap_or_default();
        let data = &b[kind];
        let text = rich_text(&data["rich_text"]);
        let indent = "  ".repeat(depth);
        match kind {
            "heading_1" | "heading_2" | "heading_3" => self.text.heading(&text),
            "paragraph" | "quote" | "callout" | "toggle" | "code" => {
                self.text.line(&format!("{indent}{text}"))
            }
            "bulleted_list_item" => self.text.line(&format!("{indent}• {text}")),
            "numbered_list_item" => self.text.line(&format!("{indent}– {text}")),
            "to_do" => {
                let mark = if data["checked"].as_bool().unwrap_or(false) {
                    "☑"
                } else {
                    "☐"
                };
                self.text.line(&format!("{indent}{mark} {text}"));
            }
            "table_row" => {
                let cells = data["cells"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                let row: Vec<String> = cells.iter().map(rich_text).collect();
                self.text.line(&format!("{indent}{}", row.join(" | ")));
            }
            "child_page" => {
                let id = b["id"].as_str().unwrap_or_default().to_string();
                if self.visited.insert(plain_id(&id)) {
                    self.text
                        .heading(data["title"].as_str().unwrap_or("Untitled"));
                    self.children(id, depth + 1).await?;
                }
                return Ok(());
            }
            "child_database" => {
                let id = b["id"].as_str().unwrap_or_default().to_string();
                if !self.visited.contains(&plain_id(&id)) {
                    self.database(id, depth + 1).await?;
                }
                return Ok(());
            }
            _ => {}
        }
        if b["has_children"].as_bool().unwrap_or(false) {
            let id = b["id"].as_str().unwrap_or_default().to_string();
            self.children(id, depth + 1).await?;
        }
        Ok(())
    }

    /// A database: its title, then each row as a page (its properties, then its blocks).
    fn database(&mut self, id: String, depth: usize) -> Step<'_, String> {
        Box::pin(async move {
            self.visited.insert(plain_id(&id));
            let db = self
                .api
                .get(&format!("{}/v1/databases/{id}", self.api.base), &[])
                .await?;
            let title = title_of(&db);
            self.text.heading(&title);
            let url = format!("{}/v1/databases/{id}/query", self.api.base);
            let mut cursor: Option<String> = None;
            loop {
                let mut body = json!({ "page_size": PAGE_SIZE });
                if let Some(c) = &cursor {
                    body["start_cursor"] = json!(c);
                }
                let answer = self.api.post(&url, &body).await?;
                for row in list(&answer) {
                    self.tick();
                    let Some(row_id) = row["id"].as_str() else {
                        continue;
                    };
                    if !self.visited.insert(plain_id(row_id)) {
                        continue;
                    }
                    self.text.heading(&title_of(row));
                    self.properties(row);
                    self.children(row_id.to_string(), depth + 1).await?;
                }
                match next_cursor(&answer) {
                    Some(next) => cursor = Some(next),
                    None => return Ok(title),
                }
            }
        })
    }

    /// A page's text properties other than its title ("Answer: …"), as database rows carry them.
    fn properties(&mut self, page: &Value) {
        let Some(props) = page["properties"].as_object() else {
            return;
        };
        for (name, p) in props {
            let value = match p["type"].as_str() {
                Some("rich_text") => rich_text(&p["rich_text"]),
                Some("select") => p["select"]["name"].as_str().unwrap_or("").to_string(),
                Some("multi_select") => p["multi_select"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|o| o["name"].as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
                _ => continue,
            };
            if !value.trim().is_empty() {
                self.text.line(&format!("{name}: {value}"));
            }
        }
    }
}

fn list(answer: &Value) -> &[Value] {
    answer["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn next_cursor(answer: &Value) -> Option<String> {
    if answer["has_more"].as_bool() != Some(true) {
        return None;
    }
    answer["next_cursor"].as_str().map(str::to_string)
}

/// The plain text of a rich_text array.
fn rich_text(v: &Value) -> String {
    v.as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p["plain_text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// A page's title (its `title` property) or a database's (`title` array).
fn title_of(o: &Value) -> String {
    let title = if o["object"] == "database" {
        rich_text(&o["title"])
    } else {
        o["properties"]
            .as_object()
            .and_then(|props| props.values().find(|p| p["type"] == "title"))
            .map(|p| rich_text(&p["title"]))
            .unwrap_or_default()
    };
    if title.trim().is_empty() {
        "Untitled".to_string()
    } else {
        title.trim().to_string()
    }
}

/// Notion ids with or without dashes are the same id.
fn plain_id(id: &str) -> String {
    id.replace('-', "").to_ascii_lowercase()
}

/// A Notion id as the user could paste it: only hex digits and dashes.
pub(super) fn check_id(id: &str) -> Result<()> {
    let hex = plain_id(id);
    if hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Error::invalid("That is not a Notion page or database id."))
    }
}
