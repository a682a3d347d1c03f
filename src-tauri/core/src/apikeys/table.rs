//! The API-key providers: for each, how its form's values are checked and written, where its
//! API is, and the one read-only request that proves the credentials (its path, auth scheme and
//! where the provider puts its words in an answer). One shape for all; `check` runs it.

use super::fields::Format;

/// One API-key provider.
pub(crate) struct Spec {
    /// The catalog id.
    pub id: &'static str,
    /// Per catalog field key, what its value must be.
    pub formats: &'static [(&'static str, Format)],
    /// Where the API is, with `{field}` placeholders; the providers file may replace it
    /// (`api_keys.<id>.base_url`, the same placeholders allowed).
    pub base: &'static str,
    pub probe: Probe,
    /// What the card shows as "connected as", from the non-secret values (`{field}`), when the
    /// answer names no account.
    pub label: &'static str,
    /// What a 404 of the probe means, said to the person (`{field}` placeholders).
    pub not_found: &'static str,
}

/// How the probe authenticates; `{field}` placeholders name the form's values.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Auth {
    None,
    Basic(&'static str, &'static str),
    Bearer(&'static str),
    Header(&'static str, &'static str),
}

/// The one request that proves a provider's credentials.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    /// `None`: GET; else POST of this JSON body.
    pub post_json: Option<&'static str>,
    /// Appended to the base; `{field}` placeholders, percent-encoded.
    pub path: &'static str,
    pub auth: Auth,
    /// JSON pointers into a success answer, joined with " · ", for "connected as".
    pub account: &'static [&'static str],
    /// JSON pointers to the provider's own words in a refusal, the first one present wins.
    pub words: &'static [&'static str],
    /// A success status whose body still refuses (GA4's validation messages).
    pub refusal_in_ok: Option<&'static str>,
}

pub(crate) const SPECS: &[Spec] = &[
    // Freshdesk API v2: Basic auth with the API key as user name and any password ("X");
    // GET /api/v2/agents/me answers the agent the key belongs to.
    Spec {
        id: "freshdesk",
        formats: &[
            ("subdomain", Format::Subdomain(".freshdesk.com")),
            ("api_key", Format::Token),
        ],
        base: "https://{subdomain}.freshdesk.com",
        probe: Probe {
            post_json: None,
            path: "/api/v2/agents/me",
            auth: Auth::Basic("{api_key}", "X"),
            account: &["/contact/email"],
            words: &["/message", "/description"],
            refusal_in_ok: None,
        },
        label: "{subdomain}.freshdesk.com",
        not_found: "There is no Freshdesk helpdesk at {subdomain}.freshdesk.com. Check the subdomain: it is the part before .freshdesk.com in your helpdesk's address.",
    },
    // GA4 Measurement Protocol: the validation server (/debug/mp/collect) checks an event and
    // the measurement ID; it does not check the API secret (Google's documentation says so).
    Spec {
        id: "google-analytics",
        formats: &[
            ("measurement_id", Format::MeasurementId),
            ("api_secret", Format::Token),
        ],
        base: "https://www.google-analytics.com",
        probe: Probe {
            post_json: Some(
                r#"{"client_id":"pitchbar.connection-check","events":[{"name":"pitchbar_connection_check","params":{}}]}"#,
            ),
            path: "/debug/mp/collect?measurement_id={measurement_id}&api_secret={api_secret}",
            auth: Auth::None,
            account: &[],
            words: &["/validationMessages/0/description"],
            refusal_in_ok: Some("/validationMessages/0/description"),
        },
        label: "{measurement_id}",
        not_found: "Google Analytics' validation server was not found at this address.",
    },
    // Segment: the tracking API answers 200 to any write key, so the key is checked where
    // Segment's own libraries load a source's settings: the CDN answers 404 for an unknown key.
    Spec {
        id: "segment",
        formats: &[("write_key", Format::Token)],
        base: "https://cdn.segment.com",
        probe: Probe {
            post_json: None,
            path: "/v1/projects/{write_key}/settings",
            auth: Auth::None,
            account: &[],
            words: &["/errorMessage", "/message"],
            refusal_in_ok: None,
        },
        label: "Segment source",
        not_found: "Segment knows no source with this write key. Copy it again from the source's Settings > API Keys page.",
    },
    // Shopify Admin REST API: the X-Shopify-Access-Token header; GET shop.json names the store.
    Spec {
        id: "shopify",
        formats: &[
            ("shop", Format::Subdomain(".myshopify.com")),
            ("access_token", Format::Token),
        ],
        base: "https://{shop}.myshopify.com",
        probe: Probe {
            post_json: None,
            path: "/admin/api/2025-01/shop.json",
            auth: Auth::Header("X-Shopify-Access-Token", "{access_token}"),
            account: &["/shop/name"],
            words: &["/errors"],
            refusal_in_ok: None,
        },
        label: "{shop}.myshopify.com",
        not_found: "There is no Shopify store at {shop}.myshopify.com. Check the store domain: it ends in .myshopify.com (Settings > Domains in Shopify admin).",
    },
    // WooCommerce REST API v3 over https: Basic auth with the consumer key and secret.
    Spec {
        id: "woocommerce",
        formats: &[
            ("store_url", Format::HttpsUrl),
            ("consumer_key", Format::Token),
            ("consumer_secret", Format::Token),
        ],
        base: "{store_url}",
        probe: Probe {
            post_json: None,
            path: "/wp-json/wc/v3/system_status",
            auth: Auth::Basic("{consumer_key}", "{consumer_secret}"),
            account: &[],
            words: &["/message"],
            refusal_in_ok: None,
        },
        label: "{store_url}",
        not_found: "{store_url} has no WooCommerce REST API. Check the address, that WooCommerce is active, and that permalinks are not set to Plain (Settings > Permalinks).",
    },
    // ActiveCampaign API v3: the Api-Token header; GET /api/3/users/me answers the key's user.
    Spec {
        id: "activecampaign",
        formats: &[("api_url", Format::HttpsUrl), ("api_key", Format::Token)],
        base: "{api_url}",
        probe: Probe {
            post_json: None,
            path: "/api/3/users/me",
            auth: Auth::Header("Api-Token", "{api_key}"),
            account: &["/user/email"],
            words: &["/message"],
            refusal_in_ok: None,
        },
        label: "{api_url}",
        not_found: "{api_url} is not an ActiveCampaign API URL. Copy the URL from Settings > Developer in ActiveCampaign.",
    },
    // WhatsApp Cloud API (Graph API): a Bearer token; GET /{phone-number-id} reads the number.
    Spec {
        id: "whatsapp-business",
        formats: &[
            ("phone_number_id", Format::Digits),
            ("access_token", Format::Token),
        ],
        base: "https://graph.facebook.com",
        probe: Probe {
            post_json: None,
            path: "/v21.0/{phone_number_id}?fields=display_phone_number,verified_name",
            auth: Auth::Bearer("{access_token}"),
            account: &["/display_phone_number", "/verified_name"],
            words: &["/error/message"],
            refusal_in_ok: None,
        },
        label: "Phone number {phone_number_id}",
        not_found: "Meta knows no phone number with ID {phone_number_id}. Copy the Phone number ID from WhatsApp > API Setup in the Meta App Dashboard.",
    },
];

pub(crate) fn spec(id: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.id == id)
}
