//! Every sentence a person reads about a policy document: what is wrong and
//! how to fix it. Kept in one place so wording stays consistent and can be
//! reviewed (or translated) without reading the validation logic.

use crate::keys::KeyError;

/// Names the place in the document a message is about, such as
/// `environments.prod.approvals[1]`; the top level has an empty path.
fn place(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_owned()
    } else {
        format!("`{path}`")
    }
}

/// The TOML type names the parser reports, with their article.
fn a_type(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}

fn list(items: &[&str]) -> String {
    items.join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

pub(super) fn too_large(len: usize, limit: usize) -> String {
    format!(
        "the policy is more than {limit} bytes ({len} read); the limit keeps hostile input cheap, so trim comments or data"
    )
}

pub(super) fn toml_syntax(message: &str) -> String {
    format!("invalid TOML: {message}; fix the syntax here")
}

pub(super) fn toml_duplicate_key(key: &str) -> String {
    format!(
        "duplicate key `{key}`: a key may be defined once per table; remove or rename one of them"
    )
}

pub(super) fn wrong_type(path: &str, expected: &str, found: &str) -> String {
    format!("{} must be {expected}, not {}", place(path), a_type(found))
}

pub(super) fn unknown_field(path: &str, key: &str, allowed: &[&str]) -> String {
    let within = if path.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in `{path}`")
    };
    format!(
        "unknown field `{key}` {within}; expected one of: {}",
        list(allowed)
    )
}

pub(super) fn missing_field(path: &str, key: &str) -> String {
    if path.is_empty() {
        format!("the policy has no `{key}`; add it")
    } else {
        format!("`{path}` has no `{key}`; add it")
    }
}

pub(super) fn version_zero() -> String {
    "`version` must be 1 or more; the first policy is version 1".to_owned()
}

pub(super) fn origin_empty() -> String {
    "`origin` is empty; set it to the audit log's origin, e.g. \"audit.example.com/tollgate\""
        .to_owned()
}

pub(super) fn origin_bad(origin: &str, what: &str) -> String {
    format!(
        "`origin` \"{}\" contains {what}; a log origin is a URL without scheme, spaces or `+`, e.g. \"audit.example.com/tollgate\"",
        origin.escape_debug()
    )
}

pub(super) fn bad_name(path: &str, what: &str, name: &str) -> String {
    format!(
        "{} names {what} \"{}\"; names must start with a letter or digit and use only letters, digits, `-` and `_`",
        place(path),
        name.escape_debug()
    )
}

pub(super) fn bad_public_key(path: &str, problem: &KeyError) -> String {
    match problem {
        KeyError::Weak => format!(
            "`{path}` is a weak (small-order) key, which could sign for anyone; generate a new key with `tollgate key generate`"
        ),
        other => format!("`{path}`: {other}; use the key printed by `tollgate key show`"),
    }
}

pub(super) fn shared_public_key(path: &str, first: &str) -> String {
    format!(
        "`{path}` is the same public key as operator \"{first}\"; thresholds count distinct keys, so every operator needs a key of their own"
    )
}

pub(super) fn member_twice(role: &str, operator: &str) -> String {
    format!("`roles.{role}` lists \"{operator}\" twice; remove the duplicate")
}

pub(super) fn unknown_operator(role: &str, operator: &str) -> String {
    format!(
        "`roles.{role}` names \"{operator}\", who is not an operator; add [operators.{operator}] or remove the name"
    )
}

pub(super) fn unknown_role(path: &str, role: &str) -> String {
    format!(
        "`{path}` names role \"{role}\", which is not defined; add it under [roles] or fix the name"
    )
}

pub(super) fn role_twice(path: &str, role: &str) -> String {
    format!("`{path}` lists role \"{role}\" twice; remove the duplicate")
}

pub(super) fn count_below_one(path: &str, what: &str, value: i128) -> String {
    format!("`{path}` is {value}; a {what} must be at least 1")
}

pub(super) fn number_too_large(path: &str, value: &str) -> String {
    format!("`{path}`: {value} is too large; use a small positive number")
}

/// A threshold that no set of distinct members can reach.
pub(super) fn count_too_large(
    path: &str,
    what: &str,
    count: u32,
    roles: &[&str],
    members: usize,
) -> String {
    let whom = match roles {
        [one] => format!(
            "role \"{one}\", which has {}",
            plural(members, "member", "members")
        ),
        many => {
            let quoted: Vec<String> = many.iter().map(|r| format!("\"{r}\"")).collect();
            let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
            format!(
                "roles {} together, which have {}",
                list(&quoted),
                plural(members, "distinct member", "distinct members")
            )
        }
    };
    format!("`{path}`: {what} {count} is larger than {whom}; lower the {what} or add members")
}

pub(super) fn approval_role_twice(path: &str, role: &str, first: &str) -> String {
    format!(
        "`{path}` requires role \"{role}\" again (already required by `{first}`); one person meets at most one requirement, so merge them into one with a higher count"
    )
}

pub(super) fn approvals_not_jointly_reachable(path: &str, needed: usize, filled: usize) -> String {
    format!(
        "`{path}` needs {needed} distinct people, one per requirement, but the roles' members can fill only {filled}; one person meets at most one requirement, so add members or lower the counts"
    )
}

pub(super) fn gate_twice(path: &str, gate: &str) -> String {
    format!("`{path}` lists gate \"{gate}\" twice; remove the duplicate")
}

pub(super) fn unknown_gate(path: &str, gate: &str) -> String {
    format!("`{path}` names gate \"{gate}\", which is not defined; add [gates.{gate}] or remove it")
}

pub(super) fn unknown_gate_kind(path: &str, kind: &str, kinds: &[&str]) -> String {
    format!(
        "`{path}`: unknown gate kind \"{}\"; expected one of: {}",
        kind.escape_debug(),
        list(kinds)
    )
}

pub(super) fn bad_gate_settings(path: &str, kind: &str, problem: &str) -> String {
    format!(
        "`{path}`: a \"{kind}\" gate's settings are wrong: {}; see the [gates.*] section of the example policy (`tollgate init`) for the settings of each kind",
        problem.trim_end()
    )
}

pub(super) fn unknown_after(path: &str, after: &str) -> String {
    format!(
        "`{path}` names environment \"{after}\", which is not defined; add [environments.{after}] or fix the name"
    )
}

pub(super) fn after_cycle(cycle: &[&str]) -> String {
    format!(
        "environments form a cycle through `after`: {}; remove one `after` so promotions have a starting environment",
        cycle.join(" → ")
    )
}

pub(super) fn bad_duration(path: &str, text: &str, problem: &str) -> String {
    format!(
        "`{path}`: \"{}\" is not a duration ({problem}); write it like \"30m\", \"24h\" or \"7d\"",
        text.escape_debug()
    )
}

pub(super) fn zero_duration(path: &str) -> String {
    format!("`{path}` is zero; a duration must be longer than that, e.g. \"24h\"")
}

pub(super) fn bad_timestamp(path: &str, text: &str) -> String {
    format!(
        "`{path}`: \"{}\" is not an RFC 3339 timestamp with an offset; write it like \"2026-12-20T00:00:00Z\"",
        text.escape_debug()
    )
}

pub(super) fn freeze_backwards(path: &str, from: &str, to: &str) -> String {
    format!(
        "`{path}`: `from` ({from}) is not before `to` ({to}); a freeze window must start before it ends"
    )
}

pub(super) fn empty_text(path: &str) -> String {
    format!("`{path}` is empty; say why, people read it when they are blocked")
}

pub(super) fn unknown_signer_kind(path: &str, kind: &str, kinds: &[&str]) -> String {
    format!(
        "`{path}`: unknown statement kind \"{}\"; expected one of: {}",
        kind.escape_debug(),
        list(kinds)
    )
}

pub(super) fn digest_mismatch(actual: &str, expected: &str) -> String {
    format!(
        "the policy's digest is {actual} but {expected} is pinned; this is not the policy you enrolled with, so check where it came from"
    )
}

pub(super) fn unreadable_file(problem: &str) -> String {
    format!("cannot read the policy file: {problem}")
}

pub(super) fn rotation_below_threshold(
    valid: usize,
    needed: u32,
    role: &str,
    version: u64,
) -> String {
    format!(
        "the new policy carries valid signatures from {valid} distinct \"{role}\" key(s) of policy version {version}, of the {needed} needed; collect more admin signatures (a new version needs the admins threshold of the version in force and of its own; signatures by other keys, and repeats of one key, do not count)"
    )
}

pub(super) fn rotation_envelope(problem: &str) -> String {
    format!("the policy envelope is refused: {problem}")
}

pub(super) fn rotation_statement(problem: &str) -> String {
    format!("the signed policy statement is refused: {problem}")
}

pub(super) fn rotation_not_policy(kind: &str) -> String {
    format!(
        "the envelope carries a {kind} statement, not a policy; submit the output of `tollgate policy sign`"
    )
}

pub(super) fn rotation_version_disagrees(predicate: u64, document: u64) -> String {
    format!(
        "the statement says policy version {predicate} but the document inside says version {document}; sign the document again"
    )
}

pub(super) fn rotation_invalid_document(errors: &str) -> String {
    format!("the new policy document is invalid:\n{errors}")
}

pub(super) fn rotation_skipped(current: u64, next: u64) -> String {
    format!(
        "policy version {next} skips ahead of version {current} in force; submit version {} first (versions advance one at a time)",
        current.saturating_add(1)
    )
}

pub(super) fn rotation_same_version(current: u64) -> String {
    format!(
        "policy version {current} is already in force; a successor must be version {}",
        current.saturating_add(1)
    )
}

pub(super) fn rotation_rollback(current: u64, next: u64) -> String {
    format!(
        "policy version {next} is older than version {current} in force; refusing to roll the policy back"
    )
}

pub(super) fn rotation_origin_changed(current: &str, next: &str) -> String {
    format!(
        "the new policy is for log origin \"{next}\" but this log is \"{current}\"; a policy cannot move to another log"
    )
}

pub(super) fn rotation_chain(index: usize, version: u64, problem: &str) -> String {
    format!("policy envelope {index} (successor of version {version}): {problem}")
}
