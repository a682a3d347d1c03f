//! The OAuth callback readers: `pitchbar://` deep links and callback queries (the loopback
//! redirect's). Checked: every link the parser accepts is one the deep-link handler routes to
//! the sign-in (`is_callback_link`); what it reads has a state and a code or an error; a link
//! or query rebuilt from what was read reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pitchbar_core::oauth::{is_callback_link, parse_deep_link, parse_query, Callback};
use url::form_urlencoded::Serializer;

fn query_of(callback: &Callback) -> String {
    let mut q = Serializer::new(String::new());
    match callback {
        Callback::Code { state, code } => {
            q.append_pair("state", state).append_pair("code", code);
        }
        Callback::Denied {
            state,
            error,
            description,
        } => {
            q.append_pair("state", state).append_pair("error", error);
            if let Some(d) = description {
                q.append_pair("error_description", d);
            }
        }
    }
    q.finish()
}

fn check(callback: &Callback) {
    assert!(!callback.state().is_empty());
    match callback {
        Callback::Code { code, .. } => assert!(!code.is_empty()),
        Callback::Denied { error, .. } => assert!(!error.is_empty()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let routed = is_callback_link(text);
    match parse_deep_link(text) {
        Ok(callback) => {
            assert!(routed, "accepted but not routed to the sign-in: {text:?}");
            check(&callback);
            let link = format!("pitchbar://oauth/callback?{}", query_of(&callback));
            // Encoded again it may be longer than the longest link read.
            if link.len() <= 4096 {
                let again = parse_deep_link(&link).expect("a rebuilt link reads back");
                assert_eq!(again, callback);
            }
            assert!(is_callback_link(&link));
        }
        Err(err) => assert!(err.to_string().contains("not a sign-in link")),
    }
    match parse_query(text) {
        Ok(callback) => {
            check(&callback);
            let query = query_of(&callback);
            if query.len() <= 4096 {
                assert_eq!(
                    parse_query(&query).expect("a rebuilt query reads back"),
                    callback
                );
            }
        }
        Err(err) => assert!(err.to_string().contains("not a sign-in link")),
    }
});
