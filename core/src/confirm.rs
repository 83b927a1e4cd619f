//! Dials that wait for the agent: a click in a web page on a number that costs
//! money, a PBX feature code or a SIP address outside the company's domain is
//! held here, shown with the real target in Ringside's own UI (the popup and a
//! notification), and dialled only when the agent confirms it there.
//!
//! One held dial at a time (a new one replaces the old, after a pause per
//! site so a page cannot flood the agent with requests), and each expires.

use serde::{Deserialize, Serialize};

use crate::calls::{CallDesk, Phase};
use crate::dial::DialRisk;

/// How long a held dial may wait for the agent.
pub const CONFIRM_TTL_MS: f64 = 120_000.0;
/// The shortest time between two held dials from the same site.
pub const SAME_SITE_PAUSE_MS: f64 = 3_000.0;

/// A dial a page asked for, waiting for the agent's confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldDial {
    /// Ringside's id for this request (what Confirm and Cancel name).
    pub id: String,
    /// The E.164 number, or None for a SIP address.
    pub number: Option<String>,
    pub uri: Option<String>,
    pub extension: Option<String>,
    /// How the page wrote it (shown beside the real target, never instead).
    pub display: String,
    /// The site that asked (`https://host[:port]`).
    pub origin: String,
    pub risk: DialRisk,
    pub asked_ms: f64,
}

impl HeldDial {
    /// What will really be dialled: the number or SIP address, and the
    /// extension.
    pub fn target(&self) -> String {
        let base = self
            .number
            .clone()
            .or_else(|| self.uri.clone())
            .unwrap_or_default();
        match &self.extension {
            Some(x) => format!("{base} ext. {x}"),
            None => base,
        }
    }
}

/// Why a confirmation could not be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmRefusal {
    #[error("this call request is no longer waiting (it was replaced, cancelled or dialled)")]
    Gone,
    #[error("this call request waited too long and expired")]
    Expired,
    #[error("a call is already in progress")]
    Busy,
}

impl ConfirmRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            ConfirmRefusal::Gone => "confirmGone",
            ConfirmRefusal::Expired => "confirmExpired",
            ConfirmRefusal::Busy => "errCallInProgress",
        }
    }
}

/// Every `_locales` key this module hands to the surfaces.
pub const MESSAGE_KEYS: &[&str] = &["confirmGone", "confirmExpired"];

/// What the desk did with a page's request to hold a dial.
#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    /// Held; tell the agent (notification, popup).
    Asked(HeldDial),
    /// The same site asked again too soon: dropped without a word.
    TooSoon,
}

impl CallDesk {
    /// The host refused a page's dial until the agent confirms: the dialing
    /// call goes away (nothing was dialled) and the request is held.
    #[allow(
        clippy::too_many_arguments,
        reason = "the held dial's fields, each distinct; a struct would only rename them"
    )]
    pub fn hold(
        &mut self,
        number: Option<String>,
        uri: Option<String>,
        extension: Option<String>,
        display: &str,
        origin: &str,
        risk: DialRisk,
        now_ms: f64,
    ) -> Held {
        if matches!(&self.live, Some(l) if l.phase == Phase::Dialing) {
            self.live = None;
        }
        if let Some(prev) = &self.confirm
            && prev.origin == origin
            && now_ms - prev.asked_ms < SAME_SITE_PAUSE_MS
        {
            return Held::TooSoon;
        }
        self.confirm_seq += 1;
        let held = HeldDial {
            id: format!("confirm-{}", self.confirm_seq),
            number,
            uri,
            extension,
            display: display.chars().take(64).collect(),
            origin: origin.to_owned(),
            risk,
            asked_ms: now_ms,
        };
        self.confirm = Some(held.clone());
        self.notice = None;
        Held::Asked(held)
    }

    /// The held dial the agent may still confirm (expired ones are dropped).
    pub fn held(&mut self, now_ms: f64) -> Option<&HeldDial> {
        if self
            .confirm
            .as_ref()
            .is_some_and(|c| now_ms - c.asked_ms > CONFIRM_TTL_MS)
        {
            self.confirm = None;
        }
        self.confirm.as_ref()
    }

    /// The agent confirmed `id` in Ringside's UI: it is taken off hold and
    /// started as a call (the caller then dials it with `confirmed`).
    pub fn confirm(&mut self, id: &str, now_ms: f64) -> Result<HeldDial, ConfirmRefusal> {
        let Some(c) = self.confirm.take_if(|c| c.id == id) else {
            return Err(ConfirmRefusal::Gone);
        };
        if now_ms - c.asked_ms > CONFIRM_TTL_MS {
            return Err(ConfirmRefusal::Expired);
        }
        let target = c
            .number
            .clone()
            .or_else(|| c.uri.clone())
            .unwrap_or_default();
        if self.dial(&target, &c.display, now_ms).is_err() {
            // A call is in progress: the request waits for after it.
            self.confirm = Some(c);
            return Err(ConfirmRefusal::Busy);
        }
        Ok(c)
    }

    /// The agent cancelled `id` (or it is already gone): nothing is dialled.
    pub fn cancel_confirm(&mut self, id: &str) -> bool {
        if self.confirm.as_ref().is_some_and(|c| c.id == id) {
            self.confirm = None;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREMIUM: &str = "+449098790000";

    fn held(desk: &mut CallDesk, origin: &str, now: f64) -> Held {
        desk.hold(
            Some(PREMIUM.into()),
            None,
            None,
            "0909 879 0000",
            origin,
            DialRisk::PremiumRate,
            now,
        )
    }

    #[test]
    fn a_held_dial_removes_the_dialing_call_and_waits_for_the_agent() {
        let mut d = CallDesk::default();
        d.dial(PREMIUM, "0909 879 0000", 0.0).unwrap();
        let Held::Asked(h) = held(&mut d, "https://evil.example", 10.0) else {
            panic!("not held");
        };
        assert!(d.live.is_none(), "nothing was dialled, so no call shows");
        assert_eq!(h.target(), PREMIUM);
        assert_eq!(d.held(20.0).map(|h| h.id.clone()), Some(h.id.clone()));
        let c = d.confirm(&h.id, 30.0).unwrap();
        assert_eq!(c.number.as_deref(), Some(PREMIUM));
        assert!(d.live.is_some(), "confirmed: the call starts");
        assert!(d.held(40.0).is_none());
        // Confirming twice dials once.
        assert_eq!(d.confirm(&h.id, 50.0), Err(ConfirmRefusal::Gone));
    }

    #[test]
    fn cancel_expiry_replacement_and_busy() {
        let mut d = CallDesk::default();
        let Held::Asked(a) = held(&mut d, "https://a.example", 0.0) else {
            panic!()
        };
        assert!(d.cancel_confirm(&a.id));
        assert_eq!(d.confirm(&a.id, 1.0), Err(ConfirmRefusal::Gone));
        // Expired after the TTL.
        let Held::Asked(b) = held(&mut d, "https://a.example", 10_000.0) else {
            panic!()
        };
        assert_eq!(
            d.confirm(&b.id, 10_000.0 + CONFIRM_TTL_MS + 1.0),
            Err(ConfirmRefusal::Expired)
        );
        // Another site replaces the request; the first id is gone.
        let Held::Asked(c) = held(&mut d, "https://a.example", 200_000.0) else {
            panic!()
        };
        let Held::Asked(e) = held(&mut d, "https://b.example", 200_001.0) else {
            panic!()
        };
        assert_eq!(d.confirm(&c.id, 200_002.0), Err(ConfirmRefusal::Gone));
        // A call in progress: the held dial stays for later.
        d.dial("+33123456789", "01 23 45 67 89", 200_003.0).unwrap();
        assert_eq!(d.confirm(&e.id, 200_004.0), Err(ConfirmRefusal::Busy));
        assert!(d.held(200_005.0).is_some());
    }

    #[test]
    fn the_same_site_cannot_flood_the_agent() {
        let mut d = CallDesk::default();
        assert!(matches!(
            held(&mut d, "https://a.example", 0.0),
            Held::Asked(_)
        ));
        assert_eq!(held(&mut d, "https://a.example", 1000.0), Held::TooSoon);
        assert!(matches!(
            held(&mut d, "https://a.example", SAME_SITE_PAUSE_MS + 1.0),
            Held::Asked(_)
        ));
    }

    #[test]
    fn the_page_text_is_bounded_and_the_target_shows_the_extension() {
        let mut d = CallDesk::default();
        let Held::Asked(h) = d.hold(
            None,
            Some("sip:*72@other.example".into()),
            Some("12".into()),
            &"x".repeat(500),
            "https://a.example",
            DialRisk::FeatureCode,
            0.0,
        ) else {
            panic!()
        };
        assert_eq!(h.display.chars().count(), 64);
        assert_eq!(h.target(), "sip:*72@other.example ext. 12");
    }
}
