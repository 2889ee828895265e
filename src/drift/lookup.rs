//! Snapshots in the verified fold: the fold keeps each (environment,
//! service)'s latest snapshot entry id, the verified entries hold the
//! statements. Also which two snapshots a promotion's drift gate judges.

use crate::policy::Policy;
use crate::policy::gates::{DriftSettings, GateSettings};
use crate::state::{Promotion, State, VerifiedEntry};

/// The latest snapshot of `service` in `environment` and its entry.
pub fn latest<'a>(
    state: &State,
    entries: &'a [VerifiedEntry],
    environment: &str,
    service: &str,
) -> Option<&'a VerifiedEntry> {
    let id = state.service(environment, service)?.snapshot?;
    entries.iter().rev().find(|e| e.id == id)
}

/// The settings of the drift gate `environment` requires, if any.
pub fn gate_settings(policy: &Policy, environment: &str) -> Option<DriftSettings> {
    policy
        .environment(environment)?
        .gates
        .iter()
        .filter_map(|g| policy.gate(g))
        .find_map(|g| match g.typed_settings() {
            Ok(GateSettings::Drift(s)) => Some(s),
            _ => None,
        })
}

/// The environment a promotion's target is compared with: the gate's
/// `compare_with`, else where the promotion comes from (none for a first
/// environment).
pub fn reference(settings: Option<&DriftSettings>, promotion: &Promotion) -> Option<String> {
    settings
        .and_then(|s| s.compare_with.clone())
        .or_else(|| promotion.request.from.clone())
}

/// What a drift gate of a promotion judges: the canonical statement bytes
/// of the latest snapshots, reference first, each with a name to show, and
/// the environments that have none yet (the gate then fails, saying so).
#[derive(Debug, Clone, Default)]
pub struct Bound {
    pub files: Vec<(String, Vec<u8>)>,
    pub missing: Vec<String>,
}

/// The snapshots `gate` of `promotion` binds, or `None` when `gate` is not
/// a drift gate of the policy.
pub fn bound_snapshots(
    policy: &Policy,
    state: &State,
    entries: &[VerifiedEntry],
    promotion: &Promotion,
    gate: &str,
) -> Option<Bound> {
    let Ok(GateSettings::Drift(settings)) = policy.gate(gate)?.typed_settings() else {
        return None;
    };
    let service = &promotion.request.service;
    let mut out = Bound::default();
    let reference = reference(Some(&settings), promotion);
    for env in reference
        .iter()
        .chain(std::iter::once(&promotion.request.to))
    {
        match latest(state, entries, env, service) {
            Some(entry) => out.files.push((
                format!(
                    "snapshot of {service} in {env} (entry {})",
                    entry.id.short()
                ),
                entry.statement.to_payload(),
            )),
            None => out.missing.push(env.clone()),
        }
    }
    // Both found: the diff they give, stored beside them (RFC 6902).
    if out.missing.is_empty()
        && let [reference, target] = out.files.as_slice()
        && let (Ok(a), Ok(b)) = (
            crate::statement::Statement::parse_verified(&reference.1),
            crate::statement::Statement::parse_verified(&target.1),
        )
        && let (crate::statement::Predicate::Snapshot(a), crate::statement::Predicate::Snapshot(b)) =
            (&a.predicate, &b.predicate)
        && let Ok(patch) = serde_json::to_vec(&super::compare(a, b, &settings.ignore).patch)
    {
        out.files
            .push((format!("drift patch of {service} (RFC 6902)"), patch));
    }
    Some(out)
}
