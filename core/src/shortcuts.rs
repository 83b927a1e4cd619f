//! Keyboard shortcuts (`chrome.commands`): the manifest's command names and
//! what each one does. The browser owns the keys (the agent changes them at
//! `chrome://extensions/shortcuts`, or in Firefox at about:addons, the gear,
//! "Manage Extension Shortcuts"); Chrome takes at most four suggested keys,
//! so "open the dial pad" has none by default.

/// A shortcut's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Answer,
    Hangup,
    ToggleMute,
    ToggleHold,
    OpenDialpad,
}

impl Shortcut {
    /// Every shortcut, in the order the options page lists them.
    pub const ALL: [Shortcut; 5] = [
        Shortcut::Answer,
        Shortcut::Hangup,
        Shortcut::ToggleMute,
        Shortcut::ToggleHold,
        Shortcut::OpenDialpad,
    ];

    /// The command's name in manifest.json.
    pub fn command(self) -> &'static str {
        match self {
            Shortcut::Answer => "answer-call",
            Shortcut::Hangup => "hang-up",
            Shortcut::ToggleMute => "toggle-mute",
            Shortcut::ToggleHold => "toggle-hold",
            Shortcut::OpenDialpad => "open-dialpad",
        }
    }

    /// A command from `chrome.commands.onCommand`; None for a name Ringside
    /// does not have (another version's manifest).
    pub fn from_command(name: &str) -> Option<Shortcut> {
        Shortcut::ALL.into_iter().find(|s| s.command() == name)
    }

    /// The call command it stands for: what the popup's button of the same
    /// name sends. None for the dial pad, which opens the popup instead.
    pub fn ui_command(self) -> Option<crate::surface::UiCommand> {
        use crate::surface::UiCommand;
        match self {
            Shortcut::Answer => Some(UiCommand::Answer),
            Shortcut::Hangup => Some(UiCommand::Hangup),
            Shortcut::ToggleMute => Some(UiCommand::ToggleMute),
            Shortcut::ToggleHold => Some(UiCommand::ToggleHold),
            Shortcut::OpenDialpad => None,
        }
    }

    /// The `_locales` key that says what it does (also the manifest's
    /// `__MSG_…__` description).
    pub fn message_key(self) -> &'static str {
        match self {
            Shortcut::Answer => "cmdAnswer",
            Shortcut::Hangup => "cmdHangup",
            Shortcut::ToggleMute => "cmdToggleMute",
            Shortcut::ToggleHold => "cmdToggleHold",
            Shortcut::OpenDialpad => "cmdOpenDialpad",
        }
    }
}

/// The `_locales` key of the browser's page where the keys are changed.
pub fn how_to_change_key(firefox: bool) -> &'static str {
    if firefox {
        "shortcutsHowFirefox"
    } else {
        "shortcutsHowChrome"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_name_maps_back_to_its_shortcut() {
        for s in Shortcut::ALL {
            assert_eq!(Shortcut::from_command(s.command()), Some(s));
        }
        assert_eq!(Shortcut::from_command("_execute_action"), None);
        assert_eq!(Shortcut::from_command(""), None);
    }

    #[test]
    fn call_shortcuts_send_the_popup_buttons_commands() {
        use crate::surface::UiCommand;
        assert_eq!(Shortcut::Answer.ui_command(), Some(UiCommand::Answer));
        assert_eq!(Shortcut::Hangup.ui_command(), Some(UiCommand::Hangup));
        assert_eq!(
            Shortcut::ToggleMute.ui_command(),
            Some(UiCommand::ToggleMute)
        );
        assert_eq!(
            Shortcut::ToggleHold.ui_command(),
            Some(UiCommand::ToggleHold)
        );
        assert_eq!(Shortcut::OpenDialpad.ui_command(), None);
    }

    /// The manifest declares each command with its description, and Chrome
    /// refuses more than four suggested keys.
    #[test]
    fn the_manifest_declares_every_command_with_at_most_four_keys() {
        let manifest: serde_json::Value =
            serde_json::from_str(include_str!("../../manifest.json")).unwrap();
        let commands = manifest["commands"].as_object().unwrap();
        assert_eq!(commands.len(), Shortcut::ALL.len());
        for s in Shortcut::ALL {
            let c = &commands[s.command()];
            assert_eq!(
                c["description"].as_str(),
                Some(format!("__MSG_{}__", s.message_key()).as_str())
            );
        }
        let suggested = commands
            .values()
            .filter(|c| c.get("suggested_key").is_some())
            .count();
        assert!(suggested <= 4, "{suggested} suggested keys");
    }
}
