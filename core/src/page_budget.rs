//! What a web page can make Ringside send: every `detect` request from a
//! content script is bounded in size (so one request always fits in a frame
//! to the host, and its reply does too) and each tab's requests in rate (so a
//! page cannot keep the host busy for everyone else). The content script
//! splits what it sends to fit; the worker refuses what does not.

use std::collections::HashMap;

use crate::protocol::DetectParams;

/// Most text segments in one request.
pub const MAX_TEXTS: usize = 1000;
/// Most UTF-8 bytes of text in one request (the content script sends at most
/// 32,768 UTF-16 units, at most 3 bytes each).
pub const MAX_TEXT_BYTES: usize = 96 * 1024;
/// Most links in one request.
pub const MAX_LINKS: usize = 500;
/// The longest link href considered (longer ones are not phone links).
pub const MAX_HREF_BYTES: usize = 2048;
/// What a tab may send in a burst, and per second after it.
pub const TAB_BURST_BYTES: f64 = 8.0 * 1024.0 * 1024.0;
pub const TAB_BYTES_PER_SECOND: f64 = 1024.0 * 1024.0;

/// Why a `detect` request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DetectRefusal {
    #[error("the request is larger than a page may send at once")]
    TooLarge,
    #[error("this page sent more text than Ringside reads per second")]
    TooFast,
}

impl DetectRefusal {
    /// The `_locales` key (never shown in the page; the options page's
    /// diagnostics and logs use it).
    pub fn message_key(self) -> &'static str {
        match self {
            DetectRefusal::TooLarge => "errPageRequestTooLarge",
            DetectRefusal::TooFast => "errPageTooFast",
        }
    }
}

/// The size a request counts for.
pub fn request_bytes(p: &DetectParams) -> usize {
    p.texts.iter().map(String::len).sum::<usize>() + p.links.iter().map(String::len).sum::<usize>()
}

/// Checks one request's shape.
pub fn check(p: &DetectParams) -> Result<(), DetectRefusal> {
    let text_bytes: usize = p.texts.iter().map(String::len).sum();
    let too_large = p.texts.len() > MAX_TEXTS
        || text_bytes > MAX_TEXT_BYTES
        || p.links.len() > MAX_LINKS
        || p.links.iter().any(|l| l.len() > MAX_HREF_BYTES);
    if too_large {
        Err(DetectRefusal::TooLarge)
    } else {
        Ok(())
    }
}

/// A token bucket per tab.
#[derive(Debug, Clone, Default)]
pub struct PageBudget {
    tabs: HashMap<i64, (f64, f64)>,
}

impl PageBudget {
    /// Checks `p` and charges it to `tab` at `now_ms`.
    pub fn admit(&mut self, tab: i64, p: &DetectParams, now_ms: f64) -> Result<(), DetectRefusal> {
        check(p)?;
        let cost = request_bytes(p) as f64;
        let (tokens, at) = self
            .tabs
            .get(&tab)
            .copied()
            .unwrap_or((TAB_BURST_BYTES, now_ms));
        let refilled =
            (tokens + (now_ms - at).max(0.0) / 1000.0 * TAB_BYTES_PER_SECOND).min(TAB_BURST_BYTES);
        if cost > refilled {
            self.tabs.insert(tab, (refilled, now_ms));
            return Err(DetectRefusal::TooFast);
        }
        self.tabs.insert(tab, (refilled - cost, now_ms));
        Ok(())
    }

    /// Forgets a closed tab.
    pub fn forget(&mut self, tab: i64) {
        self.tabs.remove(&tab);
    }
}

/// Every `_locales` key this module hands out.
pub const MESSAGE_KEYS: &[&str] = &["errPageRequestTooLarge", "errPageTooFast"];

#[cfg(test)]
mod tests {
    use super::*;

    fn req(texts: Vec<String>, links: Vec<String>) -> DetectParams {
        DetectParams {
            region: "FR".into(),
            texts,
            links,
        }
    }

    #[test]
    fn a_request_the_content_script_makes_fits_and_bigger_ones_are_refused() {
        // The content script's largest batch: 32,768 UTF-16 units of text in
        // the worst script for UTF-8 (3 bytes each), 500 links.
        let most = req(
            vec!["€".repeat(32 * 1024)],
            vec!["tel:+33123456789".into(); MAX_LINKS],
        );
        assert_eq!(check(&most), Ok(()));
        // A giant text node sent whole (the 2 MB page).
        assert_eq!(
            check(&req(vec!["7".repeat(2 * 1024 * 1024)], vec![])),
            Err(DetectRefusal::TooLarge)
        );
        // 25,000 links at once.
        assert_eq!(
            check(&req(vec![], vec!["tel:1".into(); 25_000])),
            Err(DetectRefusal::TooLarge)
        );
        assert_eq!(
            check(&req(vec!["a".into(); MAX_TEXTS + 1], vec![])),
            Err(DetectRefusal::TooLarge)
        );
        assert_eq!(
            check(&req(
                vec![],
                vec![format!("tel:{}", "1".repeat(MAX_HREF_BYTES))]
            )),
            Err(DetectRefusal::TooLarge)
        );
    }

    #[test]
    fn the_reply_to_the_largest_request_fits_in_a_frame() {
        // Worst case for the reply: a number every 13 characters, over the
        // whole byte cap (the content script sends a third of it in ASCII;
        // a compromised renderer could send it all).
        let text = "+33123456789 ".repeat(MAX_TEXT_BYTES / 13);
        let p = req(vec![text], vec!["tel:+33123456789".into(); MAX_LINKS]);
        assert_eq!(check(&p), Ok(()));
        let reply = crate::phone::detect(&p).unwrap();
        let bytes = serde_json::to_vec(&reply).unwrap().len();
        assert!(
            bytes < crate::protocol::MAX_FRAME_BYTES * 3 / 4,
            "{bytes} bytes for {} hits",
            reply.texts.len()
        );
    }

    #[test]
    fn each_tab_has_its_own_budget_that_refills() {
        let mut b = PageBudget::default();
        let chunk = req(vec!["1".repeat(64 * 1024)], vec![]);
        let per = request_bytes(&chunk) as f64;
        let burst = (TAB_BURST_BYTES / per) as usize;
        for _ in 0..burst {
            assert_eq!(b.admit(1, &chunk, 0.0), Ok(()));
        }
        assert_eq!(b.admit(1, &chunk, 0.0), Err(DetectRefusal::TooFast));
        // Another tab is not affected.
        assert_eq!(b.admit(2, &chunk, 0.0), Ok(()));
        // A second later, a second's worth is back.
        let per_second = (TAB_BYTES_PER_SECOND / per) as usize;
        for _ in 0..per_second {
            assert_eq!(b.admit(1, &chunk, 1000.0), Ok(()));
        }
        assert_eq!(b.admit(1, &chunk, 1000.0), Err(DetectRefusal::TooFast));
        b.forget(1);
        assert_eq!(b.admit(1, &chunk, 1000.0), Ok(()));
    }
}
