//! Reading the redirect that ends a sign-in, strictly: it arrives from outside the app (any
//! program can open a `pitchbar://` link), so anything but the exact expected shape is refused.

use url::Url;

use super::config::DEEP_LINK_CALLBACK;
use crate::error::{Error, Result};

/// Longer than any real callback (a code and a state are well under 1 KiB).
pub(super) const MAX_CALLBACK_BYTES: usize = 4096;

/// A callback read: the sign-in it belongs to (`state`), and how it ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Callback {
    Code {
        state: String,
        code: String,
    },
    /// The provider said no (`access_denied`, `invalid_scope`, …).
    Denied {
        state: String,
        error: String,
        description: Option<String>,
    },
}

impl Callback {
    pub fn state(&self) -> &str {
        match self {
            Callback::Code { state, .. } | Callback::Denied { state, .. } => state,
        }
    }
}

fn refuse(why: &str) -> Error {
    Error::invalid(format!(
        "This is not a sign-in link from Pitchbar Admin ({why}). Nothing was connected; start the connection again from the app."
    ))
}

/// Whether a `pitchbar://` link is meant to end a sign-in: `pitchbar://oauth/callback`, with any
/// query or fragment. The deep-link handler routes on this; whether the link is well formed is
/// [`parse_deep_link`]'s question (every link it accepts is one of these).
pub fn is_callback_link(link: &str) -> bool {
    let Ok(mut url) = Url::parse(link.trim()) else {
        return false;
    };
    url.set_query(None);
    url.set_fragment(None);
    url.as_str().trim_end_matches('/') == DEEP_LINK_CALLBACK
}

/// `pitchbar://oauth/callback?state=…&code=…` (or `&error=…`), handed in by the deep-link handler.
pub fn parse_deep_link(link: &str) -> Result<Callback> {
    if link.len() > MAX_CALLBACK_BYTES {
        return Err(refuse("it is too long"));
    }
    let url = Url::parse(link.trim()).map_err(|_| refuse("it is not a URL"))?;
    if url.scheme() != "pitchbar" {
        return Err(refuse("it does not start with pitchbar://"));
    }
    if url.host_str() != Some("oauth")
        || url.path() != "/callback"
        || url.port().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(refuse("it is not pitchbar://oauth/callback"));
    }
    if url.fragment().is_some() {
        return Err(refuse("it carries a fragment"));
    }
    parse_query(url.query().unwrap_or(""))
}

/// The query of a callback (deep link or loopback request): exactly one `state`, and exactly
/// one of `code` or `error`. Other parameters (`iss`, `scope`) are allowed and ignored.
pub fn parse_query(query: &str) -> Result<Callback> {
    if query.len() > MAX_CALLBACK_BYTES {
        return Err(refuse("it is too long"));
    }
    let mut state = None;
    let mut code = None;
    let mut error = None;
    let mut description = None;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match key.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(refuse(&format!("it repeats “{key}”")));
        }
    }
    let state = state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refuse("it has no state"))?;
    match (code, error) {
        (Some(code), None) if !code.is_empty() => Ok(Callback::Code { state, code }),
        (None, Some(error)) if !error.is_empty() => Ok(Callback::Denied {
            state,
            error,
            description,
        }),
        (Some(_), Some(_)) => Err(refuse("it has both a code and an error")),
        _ => Err(refuse("it has neither a code nor an error")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_expected_shapes() {
        assert_eq!(
            parse_deep_link("pitchbar://oauth/callback?code=c1&state=s1&iss=https%3A%2F%2Fx")
                .unwrap(),
            Callback::Code {
                state: "s1".into(),
                code: "c1".into()
            }
        );
        assert_eq!(
            parse_deep_link("pitchbar://oauth/callback?error=access_denied&state=s1").unwrap(),
            Callback::Denied {
                state: "s1".into(),
                error: "access_denied".into(),
                description: None
            }
        );
    }

    #[test]
    fn routes_callback_links_whatever_their_query() {
        for link in [
            "pitchbar://oauth/callback?code=c1&state=s1",
            "pitchbar://oauth/callback",
            "pitchbar://oauth/callback/",
            "pitchbar://oauth/callback/?error=access_denied",
            "pitchbar://oauth/callback?state=s#frag",
            " pitchbar://oauth/callback?x",
        ] {
            assert!(is_callback_link(link), "{link}");
        }
        for link in [
            "pitchbar://evil/callback?code=c&state=s",
            "pitchbar://oauth/other?code=c",
            "pitchbar://open",
            "https://oauth/callback",
            "pitchbar://oauth/callback/x",
            "not a url",
        ] {
            assert!(!is_callback_link(link), "{link}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        let long = format!(
            "pitchbar://oauth/callback?state=s&code={}",
            "a".repeat(5000)
        );
        for link in [
            "https://oauth/callback?code=c&state=s",
            "pitchbar://evil/callback?code=c&state=s",
            "pitchbar://oauth/other?code=c&state=s",
            "pitchbar://oauth/callback/x?code=c&state=s",
            "pitchbar://oauth:99/callback?code=c&state=s",
            "pitchbar://u@oauth/callback?code=c&state=s",
            "pitchbar://oauth/callback?code=c&state=s#frag",
            "pitchbar://oauth/callback?code=c",
            "pitchbar://oauth/callback?state=s",
            "pitchbar://oauth/callback?state=&code=c",
            "pitchbar://oauth/callback?state=s&code=",
            "pitchbar://oauth/callback?state=s&state=t&code=c",
            "pitchbar://oauth/callback?state=s&code=c&code=d",
            "pitchbar://oauth/callback?state=s&code=c&error=x",
            "not a url",
            long.as_str(),
        ] {
            assert!(
                matches!(parse_deep_link(link), Err(Error::InvalidInput(_))),
                "{link}"
            );
        }
    }
}
