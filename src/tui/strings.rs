//! Every piece of text the cockpit shows, in one place.

use super::app::{DetailTab, View};
use super::data::Section;

pub const APP: &str = "tollgate";
pub const READ_ONLY: &str = "READ-ONLY";
pub const TOO_SMALL: &str = "Terminal too small";
pub const LOADING: &str = "Verifying the audit log…";
pub const NO_DATA: &str = "No verified data yet.";
/// In the header while the store's event stream is open.
pub const LIVE: &str = "· live";
pub const NOTHING_SELECTED: &str = "Select a row to see its details.";
pub const EMPTY_LIST: &str = "Nothing here.";
pub const HELP_TITLE: &str = "Keys (from the keymap)";
pub const PALETTE_TITLE: &str = "Command palette";
pub const FILTER_PROMPT: &str = "filter: ";
pub const YES: &str = "Yes, sign it";
pub const NO: &str = "No";
pub const CONFIRM_TITLE: &str = "Sign this statement?";
pub const ROLLBACK_TITLE: &str = "Roll back — this changes what runs";
pub const REFUSED_TITLE: &str = "Refused before signing";
pub const BLOCKED_READ_ONLY: &str =
    "Read-only mode: actions are disabled. Start without --read-only to sign.";
pub const NOT_A_PROMOTION: &str = "Select a promotion first (Inbox or Promotions view).";
pub const NOT_A_SERVICE: &str =
    "Select an environment/service row first (Environments view, or a rollback candidate).";
pub const NO_DECISION_TO_REVOKE: &str =
    "You have no standing decision on this promotion to revoke.";
pub const NO_FAILED_GATE: &str = "This promotion has no failed or missing gate to waive.";
pub const NO_KNOWN_GOOD: &str = "No last known good release to roll back to for this service.";
pub const NOT_SYNCED: &str =
    "No verified log yet: wait for the first sync (the header says when), then try again.";
pub const NO_OUTBOX: &str = "The outbox directory is not available; nothing was signed.";
pub const RATIONALE: &str = "Rationale";
pub const GATE: &str = "Gate";
pub const TTL: &str = "Duration (e.g. 24h)";
pub const ALARM_SHORT: &str = "ALARM (see the banner)";
pub const ALARM_PREFIX: &str = "ALARM — the audit log cannot be trusted: ";
pub const DRIFT_PLACEHOLDER: &str = "Drift: the structured diff between this promotion's snapshot and what runs in the target environment (config, flags, dependencies, secret fingerprints) will be shown here.";
pub const EVIDENCE_PLACEHOLDER: &str = "Evidence: the documents behind each gate (JUnit, SARIF, SBOM, provenance) with their digests and verdicts will be shown here.";

pub const fn view_title(view: View) -> &'static str {
    match view {
        View::Inbox => "Inbox",
        View::Promotions => "Promotions",
        View::Environments => "Environments",
        View::Audit => "Audit log",
    }
}

pub const fn tab_title(tab: DetailTab) -> &'static str {
    match tab {
        DetailTab::Gates => "Gates",
        DetailTab::Approvals => "Approvals",
        DetailTab::Drift => "Drift",
        DetailTab::Evidence => "Evidence",
        DetailTab::Timeline => "Timeline",
    }
}

pub const fn section_title(section: Section) -> &'static str {
    match section {
        Section::WaitingForMe => "Waiting for my role",
        Section::Blocked => "Blocked",
        Section::ExpiringSoon => "Expiring soon",
        Section::RecentlyPromoted => "Recently promoted",
        Section::RollbackCandidates => "Rollback candidate",
    }
}

pub fn rollback_type_prompt(environment: &str) -> String {
    format!("Type the environment name `{environment}` to confirm")
}

pub fn too_small(width: u16, height: u16, min_w: u16, min_h: u16) -> String {
    format!("{TOO_SMALL}: {width}×{height}; the cockpit needs at least {min_w}×{min_h}.")
}

/// The header's word for a failed sync; the reason is in the status line.
pub fn sync_failed_short(reason: &str) -> String {
    if reason == ALARM_SHORT {
        reason.to_owned()
    } else {
        "sync failed (below)".to_owned()
    }
}

/// How the status line starts while the last sync failed.
pub const SYNC_FAILED: &str = "sync failed: ";

pub fn sync_failed(reason: &str) -> String {
    format!("{SYNC_FAILED}{reason}")
}

pub fn delivered(summary: &str) -> String {
    format!("queued in the outbox and sent: {summary}")
}

pub fn queued(summary: &str) -> String {
    format!("queued in the outbox (store unreachable, will retry): {summary}")
}
