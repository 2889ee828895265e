//! Whole-document rules over the located draft: cross references (roles,
//! operators, environments, gates), distinct keys, reachable thresholds,
//! cycles in `after`; then building the [`Policy`] once nothing is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::de::DeTable;

use super::error::Problems;
use super::messages as msg;
use super::read::{At, Draft, DraftEnvironment};
use super::{
    AdminRule, ApprovalRequirement, Environment, Gate, GateKind, MAX_POLICY_BYTES, Operator,
    Policy, PolicyErrors, RollbackRule, SIGNER_KINDS, WaiverRule,
};
use crate::digest::Digest;
use crate::keys::PublicKey;

pub(super) fn parse(text: &str, file: &str) -> Result<Policy, PolicyErrors> {
    let mut problems = Problems::default();
    if text.len() > MAX_POLICY_BYTES {
        problems.push(0..0, msg::too_large(text.len(), MAX_POLICY_BYTES));
        return Err(problems.into_errors(text, file));
    }
    let (root, toml_errors) = DeTable::parse_recoverable(text);
    if !toml_errors.is_empty() {
        syntax_problems(text, &toml_errors, &mut problems);
        return Err(problems.into_errors(text, file));
    }
    let draft = super::read::read(&root, &mut problems);
    check(&draft, &mut problems);
    if !problems.is_empty() {
        return Err(problems.into_errors(text, file));
    }
    Ok(build(draft, text))
}

/// After a syntax error the parser's recovery guesses, and its later errors
/// are mostly echoes of the first; duplicate keys are independent of each
/// other, so all of those are kept.
fn syntax_problems(text: &str, errors: &[toml::de::Error], problems: &mut Problems) {
    let mut first_other: Option<(Range<usize>, String)> = None;
    for error in errors {
        let span = error.span().unwrap_or(0..0);
        if error.message() == "duplicate key" {
            let key = text.get(span.clone()).unwrap_or_default();
            problems.push(span, msg::toml_duplicate_key(key));
        } else if first_other
            .as_ref()
            .is_none_or(|(s, _)| span.start < s.start)
        {
            first_other = Some((span, error.message().to_owned()));
        }
    }
    if let Some((span, message)) = first_other {
        problems.push(span, msg::toml_syntax(&message));
    }
}

/// Approval seats considered when checking requirements jointly; counts
/// are already bounded by role sizes, this only caps hostile documents.
const MAX_SEATS: usize = 256;

/// What the cross-reference checks need to know about operators and roles.
struct Directory<'d> {
    /// Operator name → key, `None` when the key was missing or invalid.
    operators: BTreeMap<&'d str, Option<PublicKey>>,
    roles: BTreeMap<&'d str, Vec<&'d str>>,
}

impl Directory<'_> {
    fn role_exists(&self, role: &At<String>, path: &str, problems: &mut Problems) -> bool {
        let exists = self.roles.contains_key(role.value.as_str());
        if !exists {
            problems.push(role.span.clone(), msg::unknown_role(path, &role.value));
        }
        exists
    }

    /// Distinct people across `roles`, counted by public key because
    /// thresholds count keys. Operators whose key was refused still count
    /// once each, so a bad key is reported once and not again as a
    /// too-high threshold.
    fn distinct_members(&self, roles: &[&str]) -> usize {
        let mut keys: BTreeSet<[u8; 32]> = BTreeSet::new();
        let mut keyless: BTreeSet<&str> = BTreeSet::new();
        for role in roles {
            for member in self.roles.get(role).into_iter().flatten() {
                match self.operators.get(member) {
                    Some(Some(key)) => {
                        keys.insert(*key.as_bytes());
                    }
                    Some(None) => {
                        keyless.insert(member);
                    }
                    None => {}
                }
            }
        }
        keys.len() + keyless.len()
    }

    fn reachable(
        &self,
        roles: &[&str],
        count: &At<u32>,
        path: &str,
        what: &str,
        problems: &mut Problems,
    ) -> bool {
        let members = self.distinct_members(roles);
        let reachable = usize::try_from(count.value).is_ok_and(|c| c <= members);
        if !reachable {
            problems.push(
                count.span.clone(),
                msg::count_too_large(path, what, count.value, roles, members),
            );
        }
        reachable
    }

    /// Whether distinct people can fill every approval requirement at once,
    /// one requirement each (bipartite matching of requirement seats to
    /// people). Each requirement alone being reachable is not enough: with
    /// one person in both "release-manager" and "security", 1 + 1 is not.
    fn jointly_reachable(&self, requirements: &[(&str, u32)]) -> (usize, usize) {
        let seats: Vec<&str> = requirements
            .iter()
            .flat_map(|(role, count)| {
                std::iter::repeat_n(*role, usize::try_from(*count).unwrap_or(usize::MAX))
            })
            .take(MAX_SEATS)
            .collect();
        let mut holder: BTreeMap<&str, usize> = BTreeMap::new();
        let mut filled = 0;
        for seat in 0..seats.len() {
            let mut visited: BTreeSet<&str> = BTreeSet::new();
            if self.seat(seat, &seats, &mut holder, &mut visited) {
                filled += 1;
            }
        }
        (filled, seats.len())
    }

    /// Kuhn's augmenting path: give `seat` a person, moving earlier
    /// holders to other seats they also qualify for.
    fn seat<'s>(
        &'s self,
        seat: usize,
        seats: &[&str],
        holder: &mut BTreeMap<&'s str, usize>,
        visited: &mut BTreeSet<&'s str>,
    ) -> bool {
        for person in self.roles.get(seats[seat]).into_iter().flatten() {
            if !visited.insert(person) {
                continue;
            }
            let free = match holder.get(person) {
                None => true,
                Some(&other) => self.seat(other, seats, holder, visited),
            };
            if free {
                holder.insert(person, seat);
                return true;
            }
        }
        false
    }
}

fn check(draft: &Draft, problems: &mut Problems) {
    let directory = check_directory(draft, problems);

    if let Some(admins) = &draft.admins
        && let Some(role) = &admins.role
        && directory.role_exists(role, "admins.role", problems)
        && let Some(threshold) = &admins.threshold
    {
        directory.reachable(&[&role.value], threshold, "admins", "threshold", problems);
    }

    for signer in &draft.signers {
        let path = format!("signers.{}", signer.kind.value);
        check_role_list(&directory, &signer.roles, &path, problems);
    }

    let gates: BTreeSet<&str> = draft.gates.iter().map(|g| g.name.value.as_str()).collect();
    let environments: BTreeSet<&str> = draft
        .environments
        .iter()
        .map(|e| e.name.value.as_str())
        .collect();
    for env in &draft.environments {
        check_environment(&directory, env, &gates, &environments, problems);
    }
    check_cycles(&draft.environments, problems);

    for gate in &draft.gates {
        // A drift gate's reference environment must exist, or the gate
        // could only ever say "no snapshot".
        if gate.kind == Some(GateKind::Drift)
            && let Some(toml::Value::String(env)) = gate.settings.get("compare_with")
            && !environments.contains(env.as_str())
        {
            problems.push(
                gate.name.span.clone(),
                msg::unknown_after(&format!("gates.{}.compare_with", gate.name.value), env),
            );
        }
        let path = format!("gates.{}.waivable_by", gate.name.value);
        if let Some(waiver) = &gate.waivable_by
            && let Some(role) = &waiver.role
            && directory.role_exists(role, &format!("{path}.role"), problems)
            && let Some(count) = &waiver.count
        {
            directory.reachable(&[&role.value], count, &path, "count", problems);
        }
    }
}

fn check_directory<'d>(draft: &'d Draft, problems: &mut Problems) -> Directory<'d> {
    let mut operators: BTreeMap<&str, Option<PublicKey>> = BTreeMap::new();
    // Document order, so the second spelling of a key is the one reported.
    let mut by_position: Vec<_> = draft.operators.iter().collect();
    by_position.sort_by_key(|o| o.name.span.start);
    let mut seen_keys: BTreeMap<[u8; 32], &str> = BTreeMap::new();
    for operator in by_position {
        let name = operator.name.value.as_str();
        if let Some(key) = &operator.key {
            if let Some(first) = seen_keys.get(key.value.as_bytes()) {
                problems.push(
                    key.span.clone(),
                    msg::shared_public_key(&format!("operators.{name}.key"), first),
                );
            } else {
                seen_keys.insert(*key.value.as_bytes(), name);
            }
        }
        operators.insert(name, operator.key.as_ref().map(|k| k.value));
    }

    let mut roles: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for role in &draft.roles {
        let name = role.name.value.as_str();
        let mut members: Vec<&str> = Vec::new();
        for member in &role.members {
            let member_name = member.value.as_str();
            if members.contains(&member_name) {
                problems.push(member.span.clone(), msg::member_twice(name, member_name));
            } else if !operators.contains_key(member_name) {
                problems.push(
                    member.span.clone(),
                    msg::unknown_operator(name, member_name),
                );
            } else {
                members.push(member_name);
            }
        }
        roles.insert(name, members);
    }
    Directory { operators, roles }
}

/// Checks a list of role names; returns the ones that exist, each once.
fn check_role_list<'a>(
    directory: &Directory<'_>,
    roles: &'a [At<String>],
    path: &str,
    problems: &mut Problems,
) -> Vec<&'a str> {
    let mut known: Vec<&str> = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let name = role.value.as_str();
        if roles[..i].iter().any(|r| r.value == name) {
            problems.push(role.span.clone(), msg::role_twice(path, name));
        } else if directory.role_exists(role, &format!("{path}[{i}]"), problems) {
            known.push(name);
        }
    }
    known
}

fn check_environment(
    directory: &Directory<'_>,
    env: &DraftEnvironment,
    gates: &BTreeSet<&str>,
    environments: &BTreeSet<&str>,
    problems: &mut Problems,
) {
    let path = format!("environments.{}", env.name.value);
    if let Some(after) = &env.after
        && !environments.contains(after.value.as_str())
    {
        problems.push(
            after.span.clone(),
            msg::unknown_after(&format!("{path}.after"), &after.value),
        );
    }
    for (i, gate) in env.gates.iter().enumerate() {
        let gate_path = format!("{path}.gates[{i}]");
        if env.gates[..i].iter().any(|g| g.value == gate.value) {
            problems.push(
                gate.span.clone(),
                msg::gate_twice(&format!("{path}.gates"), &gate.value),
            );
        } else if !gates.contains(gate.value.as_str()) {
            problems.push(
                gate.span.clone(),
                msg::unknown_gate(&gate_path, &gate.value),
            );
        }
    }
    let mut required: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reachable: Vec<(&str, u32)> = Vec::new();
    for (i, approval) in env.approvals.iter().enumerate() {
        let item = format!("{path}.approvals[{i}]");
        let Some(role) = &approval.role else { continue };
        if let Some(first) = required.get(role.value.as_str()) {
            problems.push(
                role.span.clone(),
                msg::approval_role_twice(&item, &role.value, &format!("{path}.approvals[{first}]")),
            );
            continue;
        }
        required.insert(&role.value, i);
        if directory.role_exists(role, &format!("{item}.role"), problems)
            && let Some(count) = &approval.count
            && directory.reachable(&[&role.value], count, &item, "count", problems)
        {
            reachable.push((role.value.as_str(), count.value));
        }
    }
    // Only meaningful once every requirement is sound on its own.
    if reachable.len() > 1 && reachable.len() == env.approvals.len() {
        let (filled, needed) = directory.jointly_reachable(&reachable);
        if filled < needed
            && let Some(role) = env.approvals.first().and_then(|a| a.role.as_ref())
        {
            problems.push(
                role.span.clone(),
                msg::approvals_not_jointly_reachable(&format!("{path}.approvals"), needed, filled),
            );
        }
    }
    if let Some(rollback) = &env.rollback {
        let rollback_path = format!("{path}.rollback");
        let roles = check_role_list(
            directory,
            &rollback.roles,
            &format!("{rollback_path}.roles"),
            problems,
        );
        let all_known = roles.len() == rollback.roles.len();
        if let (Some(count), true) = (&rollback.count, all_known) {
            directory.reachable(&roles, count, &rollback_path, "count", problems);
        }
    }
}

/// Each environment has at most one `after`, so following `after` from any
/// environment either ends or loops; every loop is reported once.
fn check_cycles(environments: &[DraftEnvironment], problems: &mut Problems) {
    let after: BTreeMap<&str, &At<String>> = environments
        .iter()
        .filter_map(|e| e.after.as_ref().map(|a| (e.name.value.as_str(), a)))
        .collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for env in environments {
        let mut walk: Vec<&str> = Vec::new();
        let mut at = env.name.value.as_str();
        loop {
            if done.contains(at) {
                break;
            }
            if let Some(start) = walk.iter().position(|w| *w == at) {
                report_cycle(&walk[start..], &after, problems);
                break;
            }
            walk.push(at);
            match after.get(at) {
                Some(next) => at = next.value.as_str(),
                None => break,
            }
        }
        done.extend(walk);
    }
}

fn report_cycle(members: &[&str], after: &BTreeMap<&str, &At<String>>, problems: &mut Problems) {
    // Start at the smallest name so the report does not depend on which
    // environment the walk began from.
    let Some(start) = members.iter().copied().min() else {
        return;
    };
    let mut cycle = vec![start];
    let mut at = start;
    while let Some(next) = after.get(at) {
        at = next.value.as_str();
        cycle.push(at);
        if at == start || cycle.len() > members.len() + 1 {
            break;
        }
    }
    // `after` points backwards; people read promotions forwards.
    cycle.reverse();
    if let Some(link) = after.get(start) {
        problems.push(link.span.clone(), msg::after_cycle(&cycle));
    }
}

/// Only called on a draft that produced no problems, so every required
/// value is present; the defaults below are never used.
fn build(draft: Draft, text: &str) -> Policy {
    let operators: BTreeMap<String, Operator> = draft
        .operators
        .into_iter()
        .filter_map(|o| {
            let key = o.key?.value;
            Some((
                o.name.value.clone(),
                Operator {
                    name: o.name.value,
                    key,
                },
            ))
        })
        .collect();
    let roles: BTreeMap<String, Vec<String>> = draft
        .roles
        .into_iter()
        .map(|r| {
            (
                r.name.value,
                r.members.into_iter().map(|m| m.value).collect(),
            )
        })
        .collect();
    let mut signers: BTreeMap<String, Vec<String>> = draft
        .signers
        .into_iter()
        .map(|s| (s.kind.value, s.roles.into_iter().map(|r| r.value).collect()))
        .collect();
    for kind in SIGNER_KINDS {
        if !signers.contains_key(kind) {
            signers.insert(kind.to_owned(), default_signers(kind, &roles));
        }
    }
    let environments = draft
        .environments
        .into_iter()
        .map(|e| {
            let env = Environment {
                name: e.name.value.clone(),
                after: e.after.map(|a| a.value),
                gates: e.gates.into_iter().map(|g| g.value).collect(),
                approvals: e
                    .approvals
                    .into_iter()
                    .map(|a| ApprovalRequirement {
                        role: a.role.map(|r| r.value).unwrap_or_default(),
                        count: a.count.map_or(0, |c| c.value),
                    })
                    .collect(),
                approval_ttl: e.approval_ttl,
                freeze: e.freeze,
                rollback: e.rollback.map(|r| RollbackRule {
                    roles: r.roles.into_iter().map(|x| x.value).collect(),
                    count: r.count.map_or(0, |c| c.value),
                }),
            };
            (e.name.value, env)
        })
        .collect();
    let gates = draft
        .gates
        .into_iter()
        .filter_map(|g| {
            let gate = Gate {
                name: g.name.value.clone(),
                kind: g.kind?,
                remediation: g.remediation,
                waivable_by: g.waivable_by.map(|w| WaiverRule {
                    role: w.role.map(|r| r.value).unwrap_or_default(),
                    count: w.count.map_or(0, |c| c.value),
                    max_ttl: w.max_ttl.unwrap_or_default(),
                }),
                settings: g.settings,
            };
            Some((g.name.value, gate))
        })
        .collect();
    let admins = draft.admins.unwrap_or_default();
    Policy {
        version: draft.version.unwrap_or_default(),
        origin: draft.origin.unwrap_or_default(),
        admins: AdminRule {
            role: admins.role.map(|r| r.value).unwrap_or_default(),
            threshold: admins.threshold.map_or(0, |t| t.value),
        },
        operators,
        roles,
        signers,
        environments,
        gates,
        document: text.to_owned(),
        digest: Digest::of(text.as_bytes()),
    }
}

/// Machine statements come from CI; people with release authority may also
/// request promotions by hand.
fn default_signers(kind: &str, roles: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    if kind == "promotion-request" {
        ["ci", "release-manager"]
            .into_iter()
            .filter(|r| roles.contains_key(*r))
            .map(str::to_owned)
            .collect()
    } else {
        vec!["ci".to_owned()]
    }
}
