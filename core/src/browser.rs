//! Which browser the extension runs in, and how the host's installer names it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    Chrome,
    Chromium,
    Edge,
    Firefox,
}

impl Browser {
    pub const ALL: &'static [Browser] = &[
        Browser::Chrome,
        Browser::Chromium,
        Browser::Edge,
        Browser::Firefox,
    ];

    /// The value of `ringside-host install --browser`.
    pub fn cli_name(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Chromium => "chromium",
            Browser::Edge => "edge",
            Browser::Firefox => "firefox",
        }
    }

    pub fn from_cli_name(name: &str) -> Option<Browser> {
        Browser::ALL.iter().copied().find(|b| b.cli_name() == name)
    }

    /// Human name for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Browser::Chrome => "Google Chrome",
            Browser::Chromium => "Chromium",
            Browser::Edge => "Microsoft Edge",
            Browser::Firefox => "Firefox",
        }
    }

    /// Whether the content script can tell that a click reached Ringside's
    /// button uncovered (IntersectionObserver v2's `isVisible`, Chromium
    /// only). Where it cannot, a page could lay a decoy that lets clicks
    /// through over the button, so page dials wait for the agent
    /// ([`crate::dial::page_click_risk`]).
    pub fn checks_covered_buttons(self) -> bool {
        !matches!(self, Browser::Firefox)
    }

    /// Identifies the browser an extension page runs in from its own base URL
    /// (`runtime.getURL("")`: Firefox's is `moz-extension://`, and Firefox
    /// has no `userAgentData`), else from the brands.
    pub fn detect<S: AsRef<str>>(extension_base_url: &str, brands: &[S]) -> Browser {
        if extension_base_url
            .get(..16)
            .is_some_and(|s| s.eq_ignore_ascii_case("moz-extension://"))
        {
            Browser::Firefox
        } else {
            Browser::from_brands(brands)
        }
    }

    /// Identifies the browser from `navigator.userAgentData.brands`. Branded
    /// browsers list "Chromium" too, so the specific brands win.
    pub fn from_brands<S: AsRef<str>>(brands: &[S]) -> Browser {
        let has = |name: &str| brands.iter().any(|b| b.as_ref() == name);
        if has("Microsoft Edge") {
            Browser::Edge
        } else if has("Google Chrome") {
            Browser::Chrome
        } else {
            Browser::Chromium
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brands_pick_the_specific_browser() {
        assert_eq!(
            Browser::from_brands(&["Not.A/Brand", "Chromium", "Google Chrome"]),
            Browser::Chrome
        );
        assert_eq!(
            Browser::from_brands(&["Chromium", "Microsoft Edge", "Not?A_Brand"]),
            Browser::Edge
        );
        assert_eq!(
            Browser::from_brands(&["Chromium", "Not_A Brand"]),
            Browser::Chromium
        );
        assert_eq!(Browser::from_brands::<&str>(&[]), Browser::Chromium);
    }

    #[test]
    fn firefox_is_told_by_its_extension_origin() {
        let none: [&str; 0] = [];
        assert_eq!(
            Browser::detect(
                "moz-extension://5b1f0d2e-7c3a-4e59-9a0b-3d5e6f7a8b9c/",
                &none
            ),
            Browser::Firefox
        );
        assert_eq!(
            Browser::detect(
                "chrome-extension://fempdkhheodefkjhkbekalfieneojckb/",
                &["Chromium", "Google Chrome"]
            ),
            Browser::Chrome
        );
        assert_eq!(Browser::detect("", &none), Browser::Chromium);
    }

    #[test]
    fn cli_names_round_trip() {
        for b in Browser::ALL {
            assert_eq!(Browser::from_cli_name(b.cli_name()), Some(*b));
        }
    }
}
