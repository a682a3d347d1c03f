//! The embedded integration catalog: its order, its completeness, and the shape of each entry.

use std::collections::HashSet;

use pitchbar_core::catalog::{self, Category, ConnectionKind, RedirectStyle};

const EXPECTED_IDS: [&str; 19] = [
    "slack",
    "microsoft-teams",
    "discord",
    "salesforce",
    "hubspot",
    "pipedrive",
    "zendesk",
    "freshdesk",
    "google-analytics",
    "segment",
    "shopify",
    "woocommerce",
    "mailchimp",
    "activecampaign",
    "whatsapp-business",
    "notion",
    "google-docs",
    "zapier",
    "email-forwarding",
];

fn redirect_of(id: &str) -> RedirectStyle {
    let integration = catalog::get(id).unwrap_or_else(|| panic!("{id} is in the catalog"));
    match &integration.connection {
        ConnectionKind::Oauth(provider) => provider.redirect,
        other => panic!("{id} connects through OAuth, not {other:?}"),
    }
}

#[test]
fn catalog_lists_every_integration_in_order() {
    let ids: Vec<&str> = catalog::all().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, EXPECTED_IDS);
}

#[test]
fn ids_are_unique() {
    let mut seen = HashSet::new();
    for integration in catalog::all() {
        assert!(
            seen.insert(integration.id.as_str()),
            "duplicate id {}",
            integration.id
        );
    }
}

#[test]
fn every_entry_has_its_copy() {
    for i in catalog::all() {
        let id = &i.id;
        assert!(!i.name.trim().is_empty(), "{id}: name");
        assert!(!i.summary.trim().is_empty(), "{id}: summary");
        assert!(!i.description.trim().is_empty(), "{id}: description");
        assert!(!i.once_connected.trim().is_empty(), "{id}: once_connected");
        assert!(!i.features.is_empty(), "{id}: features");
        assert!(!i.permissions.is_empty(), "{id}: permissions");
        assert!(
            i.features
                .iter()
                .chain(&i.permissions)
                .all(|s| !s.trim().is_empty()),
            "{id}: an empty feature or permission"
        );
    }
}

#[test]
fn colors_are_lowercase_hex_rgb() {
    for i in catalog::all() {
        let color = i.color.as_bytes();
        let well_formed = color.len() == 7
            && color[0] == b'#'
            && color[1..]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        assert!(well_formed, "{}: color {:?} is not #rrggbb", i.id, i.color);
    }
}

#[test]
fn oauth_endpoints_use_https() {
    for i in catalog::all() {
        if let ConnectionKind::Oauth(provider) = &i.connection {
            assert!(
                provider.authorize_url.starts_with("https://"),
                "{}: authorize_url {}",
                i.id,
                provider.authorize_url
            );
            assert!(
                provider.token_url.starts_with("https://"),
                "{}: token_url {}",
                i.id,
                provider.token_url
            );
            if let Some(revocation) = &provider.revocation {
                assert!(
                    revocation.url.starts_with("https://"),
                    "{}: revocation url",
                    i.id
                );
            }
        }
    }
}

#[test]
fn providers_that_refuse_custom_schemes_use_loopback() {
    for id in ["google-docs", "hubspot", "zendesk"] {
        assert_eq!(redirect_of(id), RedirectStyle::Loopback, "{id}");
    }
    for id in ["slack", "notion"] {
        assert_eq!(redirect_of(id), RedirectStyle::DeepLink, "{id}");
    }
}

#[test]
fn api_key_entries_ask_for_a_secret_and_promise_nothing_not_built() {
    let api_key = [
        "freshdesk",
        "google-analytics",
        "segment",
        "shopify",
        "woocommerce",
        "activecampaign",
        "whatsapp-business",
    ];
    for i in catalog::all() {
        let is_key = matches!(i.connection, ConnectionKind::ApiKey { .. });
        assert_eq!(is_key, api_key.contains(&i.id.as_str()), "{}", i.id);
        if let ConnectionKind::ApiKey { fields, .. } = &i.connection {
            assert!(fields.iter().any(|f| f.secret), "{}: no secret field", i.id);
        }
        // Only notifications, knowledge sources, destinations and Zapier work today: no
        // other card says something "will now" happen.
        let working = [
            "slack",
            "microsoft-teams",
            "discord",
            "notion",
            "google-docs",
            "zapier",
            "hubspot",
            "salesforce",
            "pipedrive",
            "zendesk",
            "freshdesk",
            "mailchimp",
            "activecampaign",
            "segment",
            "google-analytics",
        ];
        if !working.contains(&i.id.as_str()) {
            for text in [&i.description, &i.once_connected, &i.summary] {
                assert!(!text.contains("will now"), "{}: {text}", i.id);
            }
        }
    }
}

#[test]
fn get_finds_by_id() {
    let hubspot = catalog::get("hubspot").expect("hubspot is in the catalog");
    assert_eq!(hubspot.id, "hubspot");
    assert_eq!(hubspot.name, "HubSpot");
    assert_eq!(hubspot.category, Category::Crm);
    assert!(catalog::get("nope").is_none());
}

#[test]
fn every_category_is_represented() {
    let present: Vec<Category> = catalog::all().iter().map(|i| i.category).collect();
    for category in [
        Category::Crm,
        Category::Communication,
        Category::Analytics,
        Category::Ecommerce,
        Category::Support,
        Category::Marketing,
        Category::Knowledge,
        Category::Automation,
    ] {
        assert!(
            present.contains(&category),
            "no integration in {category:?}"
        );
    }
}
