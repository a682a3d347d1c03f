//! The event catalog and payloads: wire names, stable keys, and every sample and built payload
//! checked against its JSON Schema.

use std::collections::{BTreeMap, BTreeSet};

use pitchbar_core::clock::rfc3339_utc_seconds;
use pitchbar_core::webhooks::events::{
    catalog, custom_fields, sample, sample_data, schema, ClosedData, ConversationData, Direction,
    EventData, EventType, LeadData, LeadUpdatedData, MessageData, Payload, RoutedData, Visitor,
};
use pitchbar_core::Error;
use serde_json::{json, Value};
use time::macros::datetime;
use ulid::Ulid;

const WIRE_NAMES: [&str; 6] = [
    "lead.captured",
    "lead.updated",
    "conversation.started",
    "conversation.message",
    "conversation.routed",
    "conversation.closed",
];

fn validator(event_type: EventType) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema(event_type))
        .unwrap_or_else(|e| panic!("schema of {event_type} compiles: {e}"))
}

fn assert_valid(event_type: EventType, payload: &Value) {
    let validator = validator(event_type);
    let errors: Vec<String> = validator
        .iter_errors(payload)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{event_type} payload does not match its schema: {errors:#?}\n{payload:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// Catalog

#[test]
fn the_catalog_is_design_md_s() {
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(names, WIRE_NAMES);
    let listed: Vec<EventType> = catalog().into_iter().map(|e| e.event).collect();
    assert_eq!(listed, EventType::ALL);
    for t in EventType::ALL {
        assert_eq!(
            serde_json::to_value(t).expect("serializes"),
            json!(t.as_str())
        );
        assert_eq!(
            serde_json::from_value::<EventType>(json!(t.as_str())).expect("deserializes"),
            t
        );
        assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
        assert_eq!(t.to_string(), t.as_str());
        let when = t.fires_when();
        assert!(!when.is_empty() && !when.contains('\n'), "{t}: {when:?}");
    }
}

#[test]
fn unknown_event_types_are_refused_with_the_valid_ones_listed() {
    for bad in [
        "lead.created",
        "",
        "LEAD.CAPTURED",
        "conversation.updated",
        "*",
    ] {
        let err = bad.parse::<EventType>().expect_err(bad);
        let Error::InvalidInput(message) = &err else {
            panic!("{bad:?}: {err:?}")
        };
        assert!(message.contains("is not a webhook event type"), "{message}");
        for name in WIRE_NAMES {
            assert!(message.contains(name), "{message} lacks {name}");
        }
    }
    let long = "x".repeat(500);
    let Err(Error::InvalidInput(message)) = long.parse::<EventType>() else {
        panic!("accepted");
    };
    assert!(message.len() < 300, "the input is not echoed whole");
}

#[test]
fn older_names_point_to_their_replacements() {
    for (old, new) in [
        ("conversation.created", "conversation.started"),
        ("message.received", "conversation.message"),
        ("message.sent", "conversation.message"),
        ("escalation.triggered", "conversation.routed"),
        ("conversation.escalated", "conversation.routed"),
    ] {
        let Err(Error::InvalidInput(message)) = old.parse::<EventType>() else {
            panic!("{old} accepted");
        };
        assert!(
            message.contains(&format!("older name: use \"{new}\"")),
            "{old}: {message}"
        );
    }
    let Err(Error::InvalidInput(message)) = "message.sent".parse::<EventType>() else {
        panic!();
    };
    assert!(message.contains("data.direction"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// Every object in a schema that lists `properties` must also require them all: that is what
/// makes "keys are never absent" checkable by the schema itself.
fn assert_requires_every_property(node: &Value, path: &str) {
    match node {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let props: BTreeSet<&str> = props.keys().map(String::as_str).collect();
                let required: BTreeSet<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                assert_eq!(required, props, "at {path}");
            }
            for (k, v) in map {
                assert_requires_every_property(v, &format!("{path}/{k}"));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                assert_requires_every_property(v, &format!("{path}/{i}"));
            }
        }
        _ => {}
    }
}

#[test]
fn every_event_type_has_a_draft_2020_12_schema() {
    for t in EventType::ALL {
        let s = schema(t);
        assert_eq!(
            s["$schema"],
            json!("https://json-schema.org/draft/2020-12/schema")
        );
        assert_eq!(s["title"], json!(t.as_str()));
        assert_eq!(s["properties"]["event"]["const"], json!(t.as_str()));
        assert!(jsonschema::meta::is_valid(&s), "{t}: not a valid schema");
        validator(t);
        assert_requires_every_property(&s, t.as_str());
        assert_eq!(serde_json::from_str::<Value>(t.schema_text()).ok(), Some(s));
    }
}

// ---------------------------------------------------------------------------------------------
// Samples and built payloads

#[test]
fn every_sample_matches_its_schema() {
    for t in EventType::ALL {
        let s = sample(t);
        assert_eq!(s["event"], json!(t.as_str()));
        assert_valid(t, &s);
        // No other event's schema accepts it: the `event` const and data shapes tell them apart.
        for other in EventType::ALL.into_iter().filter(|o| *o != t) {
            assert!(
                !validator(other).is_valid(&s),
                "{other} accepts a {t} sample"
            );
        }
    }
    assert_ne!(
        sample(EventType::LeadCaptured)["data"]["lead_id"],
        sample(EventType::LeadCaptured)["data"]["lead_id"],
        "samples get fresh IDs"
    );
}

fn visitor_unknown() -> Visitor {
    Visitor {
        id: Ulid::new(),
        name: None,
        email: None,
        phone: None,
    }
}

fn bare_conversation() -> ConversationData {
    ConversationData {
        conversation_id: Ulid::new(),
        agent_id: Ulid::new(),
        visitor: visitor_unknown(),
    }
}

fn bare_lead() -> LeadData {
    LeadData {
        lead_id: Ulid::new(),
        agent_id: Ulid::new(),
        conversation_id: None,
        name: None,
        email: None,
        phone: None,
        fields: custom_fields(["company", "budget"], serde_json::Map::new()).expect("fields"),
    }
}

/// Payloads with every optional value missing.
fn sparse_payloads() -> Vec<EventData> {
    vec![
        EventData::LeadCaptured(bare_lead()),
        EventData::LeadUpdated(LeadUpdatedData {
            lead: bare_lead(),
            changed: vec![],
        }),
        EventData::ConversationStarted(bare_conversation()),
        EventData::ConversationMessage(MessageData {
            conversation: bare_conversation(),
            message_id: Ulid::new(),
            direction: Direction::Outbound,
            text: String::new(),
        }),
        EventData::ConversationRouted(RoutedData {
            conversation: bare_conversation(),
            reason: None,
        }),
        EventData::ConversationClosed(ClosedData {
            conversation: bare_conversation(),
            reason: None,
            message_count: 0,
        }),
    ]
}

#[test]
fn built_payloads_match_their_schemas_and_keep_missing_values_as_null() {
    let built = sparse_payloads();
    let types: Vec<EventType> = built.iter().map(EventData::event_type).collect();
    assert_eq!(types, EventType::ALL, "one per event type");
    for data in built {
        let t = data.event_type();
        let payload = Payload::new(data, datetime!(2026-05-07 12:00:00 UTC));
        let value = payload.to_value();
        assert_valid(t, &value);
        assert_eq!(
            serde_json::from_slice::<Value>(&payload.to_body()).expect("body is JSON"),
            value
        );

        let schema = schema(t);
        let data_keys: BTreeSet<&String> =
            value["data"].as_object().expect("data").keys().collect();
        let schema_keys: BTreeSet<&String> = schema["properties"]["data"]["properties"]
            .as_object()
            .expect("props")
            .keys()
            .collect();
        assert_eq!(data_keys, schema_keys, "{t}: keys present are the schema's");
        let mut nullable = vec!["name", "email", "phone", "reason"];
        if value["data"].get("lead_id").is_some() {
            // A lead may come from outside a conversation; a conversation event never does.
            nullable.push("conversation_id");
        }
        for key in nullable {
            if let Some(v) = value["data"].get(key) {
                assert_eq!(v, &Value::Null, "{t}: data.{key}");
            }
        }
        if let Some(visitor) = value["data"].get("visitor") {
            assert_eq!(
                visitor,
                &json!({"id": visitor["id"], "name": null, "email": null, "phone": null})
            );
        }
        if let Some(fields) = value["data"].get("fields") {
            assert_eq!(fields, &json!({"company": null, "budget": null}));
        }
    }
}

#[test]
fn the_schema_rejects_a_payload_missing_any_key() {
    for data in sparse_payloads() {
        let t = data.event_type();
        let value = Payload::new(data, datetime!(2026-05-07 12:00:00 UTC)).to_value();
        let validator = validator(t);
        for top in ["event", "occurred_at", "data"] {
            let mut broken = value.clone();
            broken.as_object_mut().expect("object").remove(top);
            assert!(!validator.is_valid(&broken), "{t} without {top}");
        }
        let keys: Vec<String> = value["data"]
            .as_object()
            .expect("data")
            .keys()
            .cloned()
            .collect();
        for key in keys {
            let mut broken = value.clone();
            broken["data"].as_object_mut().expect("data").remove(&key);
            assert!(!validator.is_valid(&broken), "{t} without data.{key}");
        }
        if value["data"].get("visitor").is_some() {
            let mut broken = value.clone();
            broken["data"]["visitor"]
                .as_object_mut()
                .expect("visitor")
                .remove("email");
            assert!(!validator.is_valid(&broken), "{t} without visitor.email");
        }
    }
}

#[test]
fn the_schema_rejects_wrong_values() {
    let t = EventType::LeadCaptured;
    let good = sample(t);
    let leads = validator(t);
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    let cases = [
        (
            "another event",
            broken(&|v| v["event"] = json!("lead.updated")),
        ),
        (
            "a local time",
            broken(&|v| v["occurred_at"] = json!("2026-05-07T14:00:00+02:00")),
        ),
        (
            "fractions of a second",
            broken(&|v| v["occurred_at"] = json!("2026-05-07T12:00:00.123Z")),
        ),
        (
            "not a ULID",
            broken(&|v| v["data"]["lead_id"] = json!("lead_123")),
        ),
        (
            "a null ID",
            broken(&|v| v["data"]["agent_id"] = Value::Null),
        ),
        (
            "a nested field",
            broken(&|v| v["data"]["fields"]["x"] = json!({"a": 1})),
        ),
        ("an unknown key", broken(&|v| v["data"]["extra"] = json!(1))),
    ];
    assert!(leads.is_valid(&good));
    for (what, value) in cases {
        assert!(!leads.is_valid(&value), "accepted {what}");
    }
    let message = sample(EventType::ConversationMessage);
    let mut sideways = message.clone();
    sideways["data"]["direction"] = json!("sideways");
    let messages = validator(EventType::ConversationMessage);
    assert!(messages.is_valid(&message));
    assert!(!messages.is_valid(&sideways));
}

#[test]
fn lead_captured_has_spec_002_s_shape_and_key_order() {
    let payload = Payload::new(
        EventData::LeadCaptured(LeadData {
            lead_id: Ulid::new(),
            agent_id: Ulid::new(),
            conversation_id: Some(Ulid::new()),
            name: Some("Alex".into()),
            email: Some("alex@example.com".into()),
            phone: Some("+1 415 555 0132".into()),
            fields: BTreeMap::from([("company".to_owned(), json!("Acme"))]),
        }),
        datetime!(2026-05-07 12:00:00 UTC),
    );
    assert_eq!(payload.event_type(), EventType::LeadCaptured);
    assert_eq!(payload.occurred_at(), "2026-05-07T12:00:00Z");
    let body = String::from_utf8(payload.to_body()).expect("UTF-8");
    assert!(
        body.starts_with(
            r#"{"event":"lead.captured","occurred_at":"2026-05-07T12:00:00Z","data":{"lead_id":""#
        ),
        "{body}"
    );
    // The spec's example lists data keys in this order; the body keeps it.
    let order = [
        "lead_id",
        "agent_id",
        "conversation_id",
        "name",
        "email",
        "phone",
        "fields",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|k| body.find(&format!("\"{k}\":")).expect(k))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{body}");
    assert!(body.ends_with(r#""fields":{"company":"Acme"}}}"#), "{body}");
}

#[test]
fn occurred_at_is_utc_whole_seconds() {
    assert_eq!(
        rfc3339_utc_seconds(datetime!(2026-05-07 14:00:00.987654 +02:00)),
        "2026-05-07T12:00:00Z"
    );
    assert_eq!(
        rfc3339_utc_seconds(datetime!(2026-01-01 00:30:00 +01:00)),
        "2025-12-31T23:30:00Z"
    );
    assert_eq!(
        rfc3339_utc_seconds(datetime!(-0001-06-01 10:00:00 UTC)),
        "0000-01-01T00:00:00Z"
    );
    let sampled = sample(EventType::ConversationStarted);
    let at = sampled["occurred_at"].as_str().expect("string");
    let parsed = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    let age = time::OffsetDateTime::now_utc() - parsed;
    assert!(
        age.whole_seconds().abs() < 60,
        "samples are timestamped now"
    );
}

#[test]
fn custom_fields_keep_every_defined_key_and_what_was_typed() {
    let submitted =
        json!({"company": "Acme", "team_size": 25, "notes": "  ", "vip": true, "extra": "kept"});
    let fields = custom_fields(
        ["company", "budget", "team_size", "notes"],
        submitted.as_object().expect("object").clone(),
    )
    .expect("flat values");
    assert_eq!(
        Value::Object(fields.into_iter().collect()),
        json!({
            "company": "Acme", "budget": null, "team_size": 25, "notes": null,
            "vip": true, "extra": "kept"
        })
    );

    for nested in [
        json!({"address": {"city": "Paris"}}),
        json!({"tags": ["a"]}),
    ] {
        let err =
            custom_fields([], nested.as_object().expect("object").clone()).expect_err("nested");
        assert!(
            matches!(&err, Error::InvalidInput(m) if m.contains("not a list or an object")),
            "{err:?}"
        );
    }
}

#[test]
fn sample_data_matches_its_event_type() {
    for t in EventType::ALL {
        assert_eq!(sample_data(t).event_type(), t);
    }
}
