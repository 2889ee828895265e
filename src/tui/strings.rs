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
/// The selected promotion's detail has not come back from the client task.
pub const DETAIL_NOT_YET: &str = "This promotion is still being judged; try again in a moment.";
/// In the detail pane until the client task has judged the promotion.
pub const JUDGING: &str = "Judging this promotion…";
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
pub const DRIFT_PATH: &str = "path";
pub const DRIFT_CHANGE: &str = "change";
pub const DRIFT_NONE: &str = "no drift: the target matches its reference";
pub const DRIFT_NO_REFERENCE: &str =
    "this is the first environment: there is nothing to compare it with";

pub fn drift_title(pane: &super::data::DriftPane) -> String {
    match &pane.from_env {
        Some(from) => format!("{} in {} compared with {from}", pane.service, pane.to_env),
        None => format!("{} in {}", pane.service, pane.to_env),
    }
}

pub fn drift_ignoring(pointers: &[String]) -> String {
    format!("ignoring (drift gate): {}", pointers.join(", "))
}

pub fn drift_missing(env: &str, service: &str) -> String {
    format!(
        "no snapshot of {service} in {env} yet; CI captures one with `tollgate snapshot submit --env {env} --service {service} FILE…`"
    )
}
pub const GATE_DISPUTED: &str = "DISPUTED: its evidence says otherwise";
pub const GATE_UNCONFIRMED: &str = "not confirmed by its evidence";
pub const EVIDENCE_LOADING: &str = "evidence not fetched yet";
pub const EVIDENCE_NO_RESULT: &str = "no result yet";
pub const EVIDENCE_NONE: &str = "no evidence documents (a person's sign-off, or nothing cited)";
pub const EVIDENCE_MISSING: &str = "the store does not hold this document";
pub const DIGEST_VERIFIED: &str = "digest verified";
pub const REJUDGED_NOT: &str = "not re-judged (stated by a person)";
pub const REJUDGED_AGREES: &str = "✔ re-judged here: agrees";
pub const REJUDGED_MISSING: &str =
    "✖ cannot be re-judged: evidence missing from the store; it does not count";
pub const PROVENANCE_SIGNED: &str = "✔ signature verified (trusted builder key)";
pub const PROVENANCE_UNSIGNED: &str = "✖ signature not verified:";
pub const RAW_FOLDED: &str = "raw JSON (folded; z unfolds)";
pub const RAW_UNFOLDED: &str = "raw JSON (z folds)";

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

/// While the store is down: what the screen shows instead.
pub fn as_of_cache(size: u64, verified_at: Option<time::OffsetDateTime>) -> String {
    match verified_at {
        Some(at) => format!(
            "showing the verified local cache as of checkpoint {size}, verified {}",
            super::data::when(at)
        ),
        None => format!("showing the verified local cache as of checkpoint {size}"),
    }
}

/// How the status line starts while the last sync failed.
pub const SYNC_FAILED: &str = "sync failed: ";
pub fn rejudged_disputed(computed: &str, evaluator: &str) -> String {
    format!(
        "✖ DISPUTED: re-judged here by {evaluator}, the evidence gives `{computed}`; the signed verdict does not count"
    )
}

pub fn rejudged_unavailable(problem: &str) -> String {
    format!("… not re-judged: {problem}")
}

pub fn more_rows(more: u64) -> String {
    format!("… and {more} more")
}

pub fn suppressed(why: &str) -> String {
    format!("suppressed: {why}")
}

pub fn license_summary(components: usize, failing: usize) -> String {
    format!("{components} components, {failing} not allowed")
}

pub fn license_unjudged(components: usize) -> String {
    format!("{components} components (no licence policy for this gate; all listed)")
}

pub fn sync_failed(reason: &str) -> String {
    format!("{SYNC_FAILED}{reason}")
}

pub fn delivered(summary: &str) -> String {
    format!("queued in the outbox and sent: {summary}")
}

pub fn queued(summary: &str) -> String {
    format!("queued in the outbox (store unreachable, will retry): {summary}")
}
