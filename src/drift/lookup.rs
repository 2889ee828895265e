//! The latest snapshot of each (environment, service) in the verified fold:
//! the fold keeps the entry id, the verified entries hold the statement.

use std::collections::BTreeMap;

use crate::state::{State, VerifiedEntry};
use crate::statement::{Predicate, Snapshot};

/// `(environment, service)` → its latest snapshot, in one pass over the
/// verified entries.
pub fn latest_snapshots<'a>(
    state: &State,
    entries: &'a [VerifiedEntry],
) -> BTreeMap<(String, String), &'a Snapshot> {
    let mut out = BTreeMap::new();
    for entry in entries {
        if let Predicate::Snapshot(s) = &entry.statement.predicate
            && state
                .service(&s.environment, &s.service)
                .and_then(|svc| svc.snapshot)
                == Some(entry.id)
        {
            out.insert((s.environment.clone(), s.service.clone()), s);
        }
    }
    out
}

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
