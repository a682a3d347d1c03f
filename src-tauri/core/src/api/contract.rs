//! openapi.json is the API's contract, and the server enforces it: each request's JSON body and
//! query parameters are checked against the description's own schemas before they are read, so
//! what the description declares is exactly what the server takes. A refusal says which field
//! and why, in plain words.

use std::collections::HashMap;
use std::sync::LazyLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, ValidationError, Validator};
use serde_json::{json, Map, Value};

/// The description the server serves by, compiled into the binary.
pub const DESCRIPTION: &str = include_str!("../../openapi.json");

/// At most this many problems are named in one refusal.
const MAX_NAMED: usize = 5;

/// Why a request was not taken.
#[derive(Debug)]
pub enum Refusal {
    /// The request does not fit the description: said for people.
    Invalid(String),
    /// The description itself is broken or misses the route: a defect, never the caller's.
    Broken(String),
}

struct Operation {
    /// The request body's schema, as the description writes it (for naming fields).
    body_schema: Option<Value>,
    body: Option<Validator>,
    params: Vec<Param>,
    /// The query as one object (see [`query_schema`]).
    query_schema: Value,
    query: Validator,
}

struct Param {
    name: String,
    kind: Kind,
    /// `allowEmptyValue`: `name=` counts as left out.
    empty_is_absent: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Number,
    Boolean,
    Text,
}

struct Contract {
    doc: Value,
    /// By (METHOD, path in OpenAPI form).
    operations: HashMap<(String, String), Operation>,
}

static CONTRACT: LazyLock<Result<Contract, String>> = LazyLock::new(|| Contract::load(DESCRIPTION));

fn contract() -> Result<&'static Contract, Refusal> {
    CONTRACT.as_ref().map_err(|e| Refusal::Broken(e.clone()))
}

/// Checks a JSON body against the operation's request body schema.
pub fn check_body(method: &str, path: &str, body: &Value) -> Result<(), Refusal> {
    let contract = contract()?;
    let op = contract.operation(method, path)?;
    let (Some(validator), Some(schema)) = (&op.body, &op.body_schema) else {
        return Err(Refusal::Broken(format!(
            "openapi.json declares no request body for {method} {path}."
        )));
    };
    let errors: Vec<ValidationError<'_>> = validator.iter_errors(body).collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(Refusal::Invalid(format!(
        "The request body is not right: {}. See this route's body in openapi.json.",
        explain(&contract.doc, schema, errors, "the body")
    )))
}

/// The query string as a JSON object of the declared parameters, each converted to its
/// declared type and checked against its schema. Unknown and repeated parameters are refused;
/// an empty value counts as left out where the parameter allows it.
pub fn query_object(method: &str, path: &str, raw: Option<&str>) -> Result<Value, Refusal> {
    let contract = contract()?;
    let op = contract.operation(method, path)?;
    let mut object = Map::new();
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let shown: String = name.chars().take(40).collect();
        let Some(param) = op.params.iter().find(|p| p.name == name) else {
            let known: Vec<&str> = op.params.iter().map(|p| p.name.as_str()).collect();
            let list = if known.is_empty() {
                "this route takes none".to_owned()
            } else {
                format!("this route takes {}", known.join(", "))
            };
            return Err(Refusal::Invalid(format!(
                "There is no query parameter \"{shown}\"; {list}."
            )));
        };
        if object.contains_key(param.name.as_str()) {
            return Err(Refusal::Invalid(format!(
                "The query parameter \"{shown}\" is given more than once; give it once."
            )));
        }
        if value.is_empty() && param.empty_is_absent {
            // Still counted, so `cursor=&cursor=x` is refused as given twice.
            object.insert(param.name.clone(), Value::Null);
            continue;
        }
        object.insert(param.name.clone(), param.kind.convert(&value));
    }
    object.retain(|_, v| !v.is_null());
    let object = Value::Object(object);
    let errors: Vec<ValidationError<'_>> = op.query.iter_errors(&object).collect();
    if errors.is_empty() {
        return Ok(object);
    }
    Err(Refusal::Invalid(format!(
        "The query parameters are not right: {}. See this route's parameters in openapi.json.",
        explain(&contract.doc, &op.query_schema, errors, "the query")
    )))
}

impl Kind {
    fn of(schema: &Value, doc: &Value) -> Kind {
        let schema = deref(doc, schema);
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"integer") {
            Kind::Integer
        } else if types.contains(&"number") {
            Kind::Number
        } else if types.contains(&"boolean") {
            Kind::Boolean
        } else {
            Kind::Text
        }
    }

    /// A query value as its declared type; kept as text when it is not one, so the schema
    /// says what is wrong.
    fn convert(self, value: &str) -> Value {
        let text = || Value::String(value.to_owned());
        match self {
            Kind::Text => text(),
            Kind::Boolean => match value {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => text(),
            },
            Kind::Integer => value.parse::<i64>().map_or_else(|_| text(), |n| json!(n)),
            Kind::Number => match value.parse::<f64>() {
                Ok(f) if f.is_finite() => json!(f),
                _ => text(),
            },
        }
    }
}

impl Contract {
    fn load(text: &str) -> Result<Contract, String> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| format!("openapi.json is not JSON: {e}"))?;
        let components = doc["components"].clone();
        let mut operations = HashMap::new();
        let paths = doc["paths"]
            .as_object()
            .ok_or("openapi.json has no paths.")?;
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                let body_schema = op["requestBody"]["content"]["application/json"]["schema"]
                    .as_object()
                    .map(|s| Value::Object(s.clone()));
                let body = body_schema
                    .as_ref()
                    .map(|s| compile(s, &components))
                    .transpose()
                    .map_err(|e| format!("{method} {path}: {e}"))?;
                let mut params = Vec::new();
                for p in query_params(op) {
                    params.push(Param {
                        name: p["name"].as_str().unwrap_or_default().to_owned(),
                        kind: Kind::of(&p["schema"], &doc),
                        empty_is_absent: p["allowEmptyValue"] == true,
                    });
                }
                let query_schema = query_schema(&query_params(op));
                let query = compile(&query_schema, &components)
                    .map_err(|e| format!("{method} {path} query: {e}"))?;
                operations.insert(
                    (method.to_uppercase(), path.clone()),
                    Operation {
                        body_schema,
                        body,
                        params,
                        query_schema,
                        query,
                    },
                );
            }
        }
        Ok(Contract { doc, operations })
    }

    fn operation(&self, method: &str, path: &str) -> Result<&Operation, Refusal> {
        self.operations
            .get(&(method.to_owned(), path.to_owned()))
            .ok_or_else(|| Refusal::Broken(format!("openapi.json has no {method} {path}.")))
    }
}

fn query_params(op: &Value) -> Vec<Value> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter(|p| p["in"] == "query").cloned().collect())
        .unwrap_or_default()
}

/// The query as one object: each parameter a property; unknown ones are refused before this.
fn query_schema(params: &[Value]) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in params {
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        if p["required"] == true {
            required.push(Value::String(name.clone()));
        }
        let mut schema = p["schema"].clone();
        if let (Some(s), Some(d)) = (schema.as_object_mut(), p["description"].as_str()) {
            s.entry("description").or_insert_with(|| d.into());
        }
        properties.insert(name, schema);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A validator for `schema`, its `$ref`s resolved against the description's components.
fn compile(schema: &Value, components: &Value) -> Result<Validator, String> {
    let root = json!({"allOf": [schema], "components": components});
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .map_err(|e| format!("a schema does not compile: {e}"))
}

/// `schema` with its `$ref` followed (within the description).
fn deref<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..8 {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => match doc.pointer(pointer) {
                Some(target) => schema = target,
                None => break,
            },
            None => break,
        }
    }
    schema
}

/// The schema that describes the value at `path` under `schema`, if one does.
fn node<'a>(doc: &'a Value, schema: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut schema = object_branch(doc, deref(doc, schema));
    for segment in path {
        let next = schema["properties"]
            .get(segment)
            .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))?;
        schema = object_branch(doc, deref(doc, next));
    }
    Some(schema)
}

/// Of a nullable `anyOf` (an object or null), the object's schema.
fn object_branch<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    if schema.get("properties").is_some() {
        return schema;
    }
    schema["anyOf"]
        .as_array()
        .and_then(|branches| {
            branches
                .iter()
                .map(|b| deref(doc, b))
                .find(|b| b.get("properties").is_some())
        })
        .unwrap_or(schema)
}

/// The errors said for people: which field, and what is wrong with it.
fn explain(doc: &Value, schema: &Value, errors: Vec<ValidationError<'_>>, whole: &str) -> String {
    let mut said: Vec<String> = Vec::new();
    for error in errors {
        let line = say(doc, schema, &error, whole);
        if !said.contains(&line) {
            said.push(line);
        }
        if said.len() == MAX_NAMED {
            break;
        }
    }
    said.join("; ")
}

fn segments(error: &ValidationError<'_>) -> Vec<String> {
    error
        .instance_path()
        .as_str()
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn say(doc: &Value, schema: &Value, error: &ValidationError<'_>, whole: &str) -> String {
    let path = segments(error);
    let field = if path.is_empty() {
        whole.to_owned()
    } else {
        format!("\"{}\"", path.join("."))
    };
    let here = node(doc, schema, &path);
    let value = error.instance();
    match error.kind() {
        ValidationErrorKind::Type { .. } => {
            let wanted = here.map(|s| type_words(&s["type"])).unwrap_or_default();
            let wanted = if wanted.is_empty() {
                "of another type".to_owned()
            } else {
                wanted
            };
            format!("{field} must be {wanted} (it is {})", kind_of(value))
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let full = if path.is_empty() {
                name.to_owned()
            } else {
                format!("{}.{name}", path.join("."))
            };
            format!("\"{full}\" is missing")
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let shown: Vec<String> = unexpected
                .iter()
                .take(MAX_NAMED)
                .map(|k| format!("\"{}\"", k.chars().take(40).collect::<String>()))
                .collect();
            let known: Vec<&str> = here
                .and_then(|s| s["properties"].as_object())
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let list = if known.is_empty() {
                "it takes no fields".to_owned()
            } else {
                format!("its fields are {}", known.join(", "))
            };
            format!("{field} has no field {}; {list}", shown.join(", "))
        }
        ValidationErrorKind::MinLength { limit } => {
            if *limit == 1 {
                format!("{field} is empty")
            } else {
                format!("{field} is too short: at least {limit} characters")
            }
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("{field} is too long: keep it to {limit} characters")
        }
        ValidationErrorKind::Enum { options } => {
            let options: Vec<String> = options
                .as_array()
                .map(|o| o.iter().filter(|v| !v.is_null()).map(plain).collect())
                .unwrap_or_default();
            format!(
                "{field} is {}, not one of {}",
                plain(value),
                options.join(", ")
            )
        }
        ValidationErrorKind::Format { format } => match format.as_str() {
            "email" => format!(
                "{field} is {}, not an email address like alex@example.com",
                plain(value)
            ),
            "date-time" => format!(
                "{field} is {}, not a date and time: use RFC 3339, like 2026-05-07T12:00:00Z",
                plain(value)
            ),
            other => format!("{field} is not a valid {other}"),
        },
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("{field} is {}, less than {limit} allows", plain(value))
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("{field} is {}, more than {limit} allows", plain(value))
        }
        ValidationErrorKind::AnyOf { context } => {
            // A nullable object that is wrong inside: the branch of the value's own type says
            // what is wrong (the others fail on the type alone).
            let own_type: Vec<&ValidationError<'_>> = context
                .iter()
                .filter(|branch| {
                    !branch.iter().any(|e| {
                        matches!(e.kind(), ValidationErrorKind::Type { .. })
                            && segments(e).len() == path.len()
                    })
                })
                .filter_map(|branch| branch.first())
                .collect();
            match own_type.as_slice() {
                [inner] => say(doc, schema, inner, whole),
                _ => rule(&field, here),
            }
        }
        _ => rule(&field, here),
    }
}

/// A rule the schema states in its description.
fn rule(field: &str, here: Option<&Value>) -> String {
    match here.and_then(|s| s["description"].as_str()) {
        Some(description) => format!(
            "{field} does not fit: {}",
            description.trim_end_matches('.')
        ),
        None => format!("{field} is not in the expected form"),
    }
}

fn type_words(types: &Value) -> String {
    let words: Vec<&str> = match types {
        Value::String(t) => vec![type_word(t)],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).map(type_word).collect(),
        _ => Vec::new(),
    };
    match words.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn type_word(t: &str) -> &'static str {
    match t {
        "string" => "text",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "true or false",
        "object" => "a JSON object",
        "array" => "a list",
        "null" => "null",
        _ => "another type",
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(n) if n.is_i64() || n.is_u64() => "a whole number",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A value shown in a message, cut short.
fn plain(value: &Value) -> String {
    let shown = match value {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    };
    if shown.chars().count() > 60 {
        format!("{}…", shown.chars().take(60).collect::<String>())
    } else {
        shown
    }
}
