//! The site lists of the settings: what a site rule is, and whether
//! click-to-call runs on an origin (the policy's block- and allow-lists, then
//! the agent's own switch).

use serde::{Deserialize, Serialize};

use super::Settings;

/// A site rule: `example.com` (that host and its subdomains),
/// `*.example.com` (subdomains only) or an origin `https://crm.example.com:8443`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SitePattern {
    Domain(String),
    Subdomains(String),
    Origin(String),
}

impl SitePattern {
    pub fn parse(p: &str) -> Result<SitePattern, String> {
        let p = p.trim().to_ascii_lowercase();
        let host_ok = |h: &str| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
        };
        if let Some(rest) = p
            .strip_prefix("https://")
            .or_else(|| p.strip_prefix("http://"))
        {
            let rest = rest.trim_end_matches('/');
            if host_ok(rest) {
                return Ok(SitePattern::Origin(p.trim_end_matches('/').to_owned()));
            }
        } else if let Some(rest) = p.strip_prefix("*.") {
            if host_ok(rest) {
                return Ok(SitePattern::Subdomains(rest.to_owned()));
            }
        } else if host_ok(&p) {
            return Ok(SitePattern::Domain(p));
        }
        Err(format!(
            "`{p}` is not a site: use example.com, *.example.com or https://host[:port]"
        ))
    }

    /// Whether an origin (`https://host[:port]`) matches.
    pub fn matches(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        let host = origin.split_once("://").map_or(origin.as_str(), |(_, h)| h);
        let host = host.split(':').next().unwrap_or(host);
        match self {
            SitePattern::Origin(o) => *o == origin,
            SitePattern::Domain(d) => host == d || host.ends_with(&format!(".{d}")),
            SitePattern::Subdomains(d) => host.ends_with(&format!(".{d}")),
        }
    }
}

/// Whether click-to-call runs on a site, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteDecision {
    Allowed,
    /// On the policy block-list.
    BlockedByPolicy,
    /// Policy has an allow-list and the site is not on it.
    NotAllowedByPolicy,
    /// The agent switched Ringside off here (popup).
    SwitchedOff,
}

impl SiteDecision {
    /// The `_locales` key that tells the agent why a call was not placed here
    /// (empty for `Allowed`, which needs no message).
    pub fn message_key(self) -> &'static str {
        match self {
            SiteDecision::Allowed => "",
            SiteDecision::BlockedByPolicy | SiteDecision::NotAllowedByPolicy => "errSiteBlocked",
            SiteDecision::SwitchedOff => "errSiteSwitchedOff",
        }
    }

    /// Whether the agent's own switch can change the outcome.
    pub fn agent_can_switch(self) -> bool {
        matches!(self, SiteDecision::Allowed | SiteDecision::SwitchedOff)
    }
}

/// Decides for an origin: the block-list wins, then a non-empty allow-list,
/// then the agent's per-site switch (`switched_off` holds origins).
pub fn site_decision(settings: &Settings, switched_off: &[String], origin: &str) -> SiteDecision {
    let any = |list: &[String]| {
        list.iter()
            .filter_map(|p| SitePattern::parse(p).ok())
            .any(|p| p.matches(origin))
    };
    if any(&settings.site_block_list) {
        SiteDecision::BlockedByPolicy
    } else if !settings.site_allow_list.is_empty() && !any(&settings.site_allow_list) {
        SiteDecision::NotAllowedByPolicy
    } else if switched_off.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        SiteDecision::SwitchedOff
    } else {
        SiteDecision::Allowed
    }
}
