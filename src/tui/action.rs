//! Every action the cockpit knows, by the name keymap files use in `run`.
//! The command palette lists the same names.

use serde::Deserialize;

/// A named action; keymaps bind keys to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
pub enum Action {
    /// Unbinds a default key.
    Noop,
    Quit,
    Help,
    Palette,
    Filter,
    NextMatch,
    PrevMatch,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    NextPane,
    PrevPane,
    NextTab,
    PrevTab,
    ViewInbox,
    ViewPromotions,
    ViewEnvironments,
    ViewAudit,
    Back,
    Refresh,
    Approve,
    Reject,
    Revoke,
    Waive,
    Rollback,
    /// In dialogs: accept the focused button or the typed text.
    Confirm,
    /// In dialogs: close without doing anything.
    Cancel,
    /// In dialogs: move focus between the buttons.
    ToggleFocus,
    /// Drift tab: switch between the table and the unified text.
    ToggleText,
    /// In the Evidence tab: fold or unfold the raw JSON.
    ToggleFold,
}

impl Action {
    /// Every action, in the order the palette lists them.
    pub const ALL: [Self; 33] = [
        Self::Noop,
        Self::Quit,
        Self::Help,
        Self::Palette,
        Self::Filter,
        Self::NextMatch,
        Self::PrevMatch,
        Self::Up,
        Self::Down,
        Self::PageUp,
        Self::PageDown,
        Self::Top,
        Self::Bottom,
        Self::NextPane,
        Self::PrevPane,
        Self::NextTab,
        Self::PrevTab,
        Self::ViewInbox,
        Self::ViewPromotions,
        Self::ViewEnvironments,
        Self::ViewAudit,
        Self::Back,
        Self::Refresh,
        Self::Approve,
        Self::Reject,
        Self::Revoke,
        Self::Waive,
        Self::Rollback,
        Self::Confirm,
        Self::Cancel,
        Self::ToggleFocus,
        Self::ToggleText,
        Self::ToggleFold,
    ];

    /// The name used in keymap files and the palette.
    pub fn name(self) -> String {
        format!("{self:?}")
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Actions that sign something: hidden and blocked in `--read-only`.
    pub const fn is_write(self) -> bool {
        matches!(
            self,
            Self::Approve | Self::Reject | Self::Revoke | Self::Waive | Self::Rollback
        )
    }
}
