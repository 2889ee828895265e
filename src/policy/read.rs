//! Reading the TOML tree into a located draft: shapes, types, unknown
//! fields, and the checks a single value can answer on its own (durations,
//! timestamps, keys, counts). Cross references are left to `validate`.
//!
//! The tree is walked by hand instead of through serde's
//! `deny_unknown_fields` because serde stops at the first problem, and a
//! person fixing a policy wants to see all of them in one run.

use std::ops::Range;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::Problems;
use super::gates::GateSettings;
use super::messages as msg;
use super::{FreezeWindow, GateKind, SIGNER_KINDS};
use crate::keys::PublicKey;

type Value<'i> = Spanned<DeValue<'i>>;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct At<T> {
    pub span: Range<usize>,
    pub value: T,
}

#[derive(Debug, Default)]
pub(super) struct Draft {
    pub version: Option<u64>,
    pub origin: Option<String>,
    pub admins: Option<DraftAdmins>,
    pub operators: Vec<DraftOperator>,
    pub roles: Vec<DraftRole>,
    pub signers: Vec<DraftSigner>,
    pub environments: Vec<DraftEnvironment>,
    pub gates: Vec<DraftGate>,
}

#[derive(Debug, Default)]
pub(super) struct DraftAdmins {
    pub role: Option<At<String>>,
    pub threshold: Option<At<u32>>,
}

#[derive(Debug)]
pub(super) struct DraftOperator {
    pub name: At<String>,
    /// `None` when the key is missing or invalid (already reported).
    pub key: Option<At<PublicKey>>,
}

#[derive(Debug)]
pub(super) struct DraftRole {
    pub name: At<String>,
    pub members: Vec<At<String>>,
}

#[derive(Debug)]
pub(super) struct DraftSigner {
    pub kind: At<String>,
    pub roles: Vec<At<String>>,
}

#[derive(Debug)]
pub(super) struct DraftEnvironment {
    pub name: At<String>,
    pub after: Option<At<String>>,
    pub gates: Vec<At<String>>,
    pub approvals: Vec<DraftApproval>,
    pub approval_ttl: Option<Duration>,
    pub freeze: Vec<FreezeWindow>,
    pub rollback: Option<DraftRollback>,
}

#[derive(Debug, Default)]
pub(super) struct DraftApproval {
    pub role: Option<At<String>>,
    pub count: Option<At<u32>>,
}

#[derive(Debug, Default)]
pub(super) struct DraftRollback {
    pub roles: Vec<At<String>>,
    pub count: Option<At<u32>>,
}

#[derive(Debug)]
pub(super) struct DraftGate {
    pub name: At<String>,
    pub kind: Option<GateKind>,
    pub remediation: Option<String>,
    pub waivable_by: Option<DraftWaiver>,
    pub settings: toml::Table,
}

#[derive(Debug, Default)]
pub(super) struct DraftWaiver {
    pub role: Option<At<String>>,
    pub count: Option<At<u32>>,
    pub max_ttl: Option<Duration>,
}

const TOP_FIELDS: [&str; 8] = [
    "version",
    "origin",
    "admins",
    "operators",
    "roles",
    "signers",
    "environments",
    "gates",
];
const ADMIN_FIELDS: [&str; 2] = ["role", "threshold"];
const OPERATOR_FIELDS: [&str; 1] = ["key"];
const ENVIRONMENT_FIELDS: [&str; 6] = [
    "after",
    "gates",
    "approvals",
    "approval_ttl",
    "freeze",
    "rollback",
];
const APPROVAL_FIELDS: [&str; 2] = ["role", "count"];
const FREEZE_FIELDS: [&str; 3] = ["from", "to", "reason"];
const ROLLBACK_FIELDS: [&str; 2] = ["roles", "count"];
const WAIVER_FIELDS: [&str; 3] = ["role", "count", "max_ttl"];
/// Gate fields tollgate itself reads; every other key is a kind-specific
/// setting and passes through.
const GATE_FIELDS: [&str; 3] = ["kind", "remediation", "waivable_by"];

pub(super) fn read(root: &Spanned<DeTable<'_>>, problems: &mut Problems) -> Draft {
    let mut r = Reader { problems };
    r.document(root)
}

fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Value<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Names share the TOML bare-key alphabet so they print unquoted in paths
/// and on screens, and cannot smuggle spaces or control characters.
fn is_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

struct Reader<'p> {
    problems: &'p mut Problems,
}

impl Reader<'_> {
    fn report(&mut self, span: Range<usize>, message: String) {
        self.problems.push(span, message);
    }

    fn fields(&mut self, table: &DeTable<'_>, path: &str, allowed: &[&str]) {
        for key in table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                self.report(key.span(), msg::unknown_field(path, key.get_ref(), allowed));
            }
        }
    }

    fn required<'a, 'i>(
        &mut self,
        table: &'a DeTable<'i>,
        span: &Range<usize>,
        path: &str,
        key: &str,
    ) -> Option<&'a Value<'i>> {
        let value = get(table, key);
        if value.is_none() {
            self.report(span.clone(), msg::missing_field(path, key));
        }
        value
    }

    fn table<'a, 'i>(&mut self, value: &'a Value<'i>, path: &str) -> Option<&'a DeTable<'i>> {
        if let DeValue::Table(t) = value.get_ref() {
            Some(t)
        } else {
            self.report(
                value.span(),
                msg::wrong_type(path, "a table", value.get_ref().type_str()),
            );
            None
        }
    }

    fn array<'a, 'i>(&mut self, value: &'a Value<'i>, path: &str) -> Option<&'a [Value<'i>]> {
        if let DeValue::Array(a) = value.get_ref() {
            Some(a)
        } else {
            self.report(
                value.span(),
                msg::wrong_type(path, "an array", value.get_ref().type_str()),
            );
            None
        }
    }

    fn string(&mut self, value: &Value<'_>, path: &str) -> Option<At<String>> {
        if let DeValue::String(s) = value.get_ref() {
            Some(At {
                span: value.span(),
                value: s.to_string(),
            })
        } else {
            self.report(
                value.span(),
                msg::wrong_type(path, "a string", value.get_ref().type_str()),
            );
            None
        }
    }

    fn text(&mut self, value: &Value<'_>, path: &str) -> Option<String> {
        let text = self.string(value, path)?;
        if text.value.trim().is_empty() {
            self.report(text.span, msg::empty_text(path));
            return None;
        }
        Some(text.value)
    }

    /// A string naming something else in the document.
    fn reference(&mut self, value: &Value<'_>, path: &str, what: &str) -> Option<At<String>> {
        let name = self.string(value, path)?;
        if !is_name(&name.value) {
            self.report(name.span.clone(), msg::bad_name(path, what, &name.value));
            return None;
        }
        Some(name)
    }

    fn references(&mut self, value: &Value<'_>, path: &str, what: &str) -> Vec<At<String>> {
        let Some(items) = self.array(value, path) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.reference(item, &format!("{path}[{i}]"), what))
            .collect()
    }

    fn integer(&mut self, value: &Value<'_>, path: &str) -> Option<i128> {
        let DeValue::Integer(i) = value.get_ref() else {
            self.report(
                value.span(),
                msg::wrong_type(path, "an integer", value.get_ref().type_str()),
            );
            return None;
        };
        // The lexer has already checked digits and radix; a failure here
        // means the number does not fit even 128 bits.
        let parsed = i128::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok();
        if parsed.is_none() {
            self.report(value.span(), msg::number_too_large(path, i.as_str()));
        }
        parsed
    }

    /// A threshold or count: at least 1.
    fn count(&mut self, value: &Value<'_>, path: &str, what: &str) -> Option<At<u32>> {
        let n = self.integer(value, path)?;
        if n < 1 {
            self.report(value.span(), msg::count_below_one(path, what, n));
            return None;
        }
        let Ok(n) = u32::try_from(n) else {
            self.report(value.span(), msg::number_too_large(path, &n.to_string()));
            return None;
        };
        Some(At {
            span: value.span(),
            value: n,
        })
    }

    fn duration(&mut self, value: &Value<'_>, path: &str) -> Option<Duration> {
        let text = self.string(value, path)?;
        match humantime::parse_duration(&text.value) {
            Ok(d) if d.is_zero() => {
                self.report(text.span, msg::zero_duration(path));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.report(
                    text.span,
                    msg::bad_duration(path, &text.value, &e.to_string()),
                );
                None
            }
        }
    }

    /// RFC 3339 with an offset, written as a string or as a TOML datetime.
    fn timestamp(&mut self, value: &Value<'_>, path: &str) -> Option<OffsetDateTime> {
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Datetime(d) => d.to_string(),
            other => {
                self.report(
                    value.span(),
                    msg::wrong_type(path, "an RFC 3339 timestamp", other.type_str()),
                );
                return None;
            }
        };
        let parsed = OffsetDateTime::parse(&text, &Rfc3339).ok();
        if parsed.is_none() {
            self.report(value.span(), msg::bad_timestamp(path, &text));
        }
        parsed
    }

    fn document(&mut self, root: &Spanned<DeTable<'_>>) -> Draft {
        let table = root.get_ref();
        self.fields(table, "", &TOP_FIELDS);
        let mut draft = Draft::default();

        if let Some(v) = self.required(table, &(0..0), "", "version")
            && let Some(n) = self.integer(v, "version")
        {
            if n < 1 {
                self.report(v.span(), msg::version_zero());
            } else if let Ok(n) = u64::try_from(n) {
                draft.version = Some(n);
            } else {
                self.report(v.span(), msg::number_too_large("version", &n.to_string()));
            }
        }
        if let Some(v) = self.required(table, &(0..0), "", "origin") {
            draft.origin = self.origin(v);
        }
        if let Some(v) = self.required(table, &(0..0), "", "admins") {
            draft.admins = self.admins(v);
        }
        if let Some(v) = self.required(table, &(0..0), "", "operators") {
            draft.operators = self.named_tables(v, "operators", "an operator", Self::operator);
        }
        if let Some(v) = self.required(table, &(0..0), "", "roles") {
            draft.roles = self.roles(v);
        }
        if let Some(v) = get(table, "signers") {
            draft.signers = self.signers(v);
        }
        if let Some(v) = self.required(table, &(0..0), "", "environments") {
            draft.environments =
                self.named_tables(v, "environments", "an environment", Self::environment);
        }
        if let Some(v) = get(table, "gates") {
            draft.gates = self.named_tables(v, "gates", "a gate", Self::gate);
        }
        draft
    }

    fn origin(&mut self, value: &Value<'_>) -> Option<String> {
        let origin = self.string(value, "origin")?;
        let text = &origin.value;
        let problem = if text.is_empty() {
            Some(msg::origin_empty())
        } else if text.chars().any(char::is_whitespace) {
            Some(msg::origin_bad(text, "whitespace"))
        } else if text.contains('+') {
            Some(msg::origin_bad(text, "`+`"))
        } else if text.chars().any(char::is_control) {
            Some(msg::origin_bad(text, "a control character"))
        } else {
            None
        };
        if let Some(problem) = problem {
            self.report(origin.span, problem);
            return None;
        }
        Some(origin.value)
    }

    fn admins(&mut self, value: &Value<'_>) -> Option<DraftAdmins> {
        let table = self.table(value, "admins")?;
        self.fields(table, "admins", &ADMIN_FIELDS);
        let span = value.span();
        let mut admins = DraftAdmins::default();
        if let Some(v) = self.required(table, &span, "admins", "role") {
            admins.role = self.reference(v, "admins.role", "a role");
        }
        if let Some(v) = self.required(table, &span, "admins", "threshold") {
            admins.threshold = self.count(v, "admins.threshold", "threshold");
        }
        Some(admins)
    }

    /// A table of tables keyed by name (`[operators.alice]`,
    /// `[environments.prod]`, `[gates.sast]`).
    fn named_tables<T>(
        &mut self,
        value: &Value<'_>,
        path: &str,
        what: &str,
        each: fn(&mut Self, At<String>, &DeTable<'_>, Range<usize>) -> T,
    ) -> Vec<T> {
        let Some(table) = self.table(value, path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, entry) in table {
            let name: &str = key.get_ref();
            let entry_path = join(path, name);
            if !is_name(name) {
                self.report(key.span(), msg::bad_name(path, what, name));
                continue;
            }
            let Some(inner) = self.table(entry, &entry_path) else {
                continue;
            };
            let at = At {
                span: key.span(),
                value: name.to_owned(),
            };
            out.push(each(self, at, inner, entry.span()));
        }
        out
    }

    fn operator(
        &mut self,
        name: At<String>,
        table: &DeTable<'_>,
        span: Range<usize>,
    ) -> DraftOperator {
        let path = join("operators", &name.value);
        self.fields(table, &path, &OPERATOR_FIELDS);
        let key_path = join(&path, "key");
        let key = self.required(table, &span, &path, "key").and_then(|v| {
            let text = self.string(v, &key_path)?;
            match text.value.parse::<PublicKey>() {
                Ok(key) => Some(At {
                    span: text.span,
                    value: key,
                }),
                Err(e) => {
                    self.report(text.span, msg::bad_public_key(&key_path, &e));
                    None
                }
            }
        });
        DraftOperator { name, key }
    }

    fn roles(&mut self, value: &Value<'_>) -> Vec<DraftRole> {
        let Some(table) = self.table(value, "roles") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, members) in table {
            let name: &str = key.get_ref();
            if !is_name(name) {
                self.report(key.span(), msg::bad_name("roles", "a role", name));
                continue;
            }
            let path = join("roles", name);
            out.push(DraftRole {
                name: At {
                    span: key.span(),
                    value: name.to_owned(),
                },
                members: self.references(members, &path, "an operator"),
            });
        }
        out
    }

    fn signers(&mut self, value: &Value<'_>) -> Vec<DraftSigner> {
        let Some(table) = self.table(value, "signers") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, roles) in table {
            let kind: &str = key.get_ref();
            let path = join("signers", kind);
            if !SIGNER_KINDS.contains(&kind) {
                self.report(
                    key.span(),
                    msg::unknown_signer_kind(&path, kind, &SIGNER_KINDS),
                );
                continue;
            }
            out.push(DraftSigner {
                kind: At {
                    span: key.span(),
                    value: kind.to_owned(),
                },
                roles: self.references(roles, &path, "a role"),
            });
        }
        out
    }

    fn environment(
        &mut self,
        name: At<String>,
        table: &DeTable<'_>,
        _span: Range<usize>,
    ) -> DraftEnvironment {
        let path = join("environments", &name.value);
        self.fields(table, &path, &ENVIRONMENT_FIELDS);
        let after = get(table, "after")
            .and_then(|v| self.reference(v, &join(&path, "after"), "an environment"));
        let gates = get(table, "gates")
            .map(|v| self.references(v, &join(&path, "gates"), "a gate"))
            .unwrap_or_default();
        let approvals = get(table, "approvals")
            .map(|v| self.approvals(v, &join(&path, "approvals")))
            .unwrap_or_default();
        let approval_ttl =
            get(table, "approval_ttl").and_then(|v| self.duration(v, &join(&path, "approval_ttl")));
        let freeze = get(table, "freeze")
            .map(|v| self.freeze(v, &join(&path, "freeze")))
            .unwrap_or_default();
        let rollback =
            get(table, "rollback").and_then(|v| self.rollback(v, &join(&path, "rollback")));
        DraftEnvironment {
            name,
            after,
            gates,
            approvals,
            approval_ttl,
            freeze,
            rollback,
        }
    }

    fn approvals(&mut self, value: &Value<'_>, path: &str) -> Vec<DraftApproval> {
        let Some(items) = self.array(value, path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let Some(table) = self.table(item, &item_path) else {
                continue;
            };
            self.fields(table, &item_path, &APPROVAL_FIELDS);
            let span = item.span();
            let mut approval = DraftApproval::default();
            if let Some(v) = self.required(table, &span, &item_path, "role") {
                approval.role = self.reference(v, &join(&item_path, "role"), "a role");
            }
            if let Some(v) = self.required(table, &span, &item_path, "count") {
                approval.count = self.count(v, &join(&item_path, "count"), "count");
            }
            out.push(approval);
        }
        out
    }

    fn freeze(&mut self, value: &Value<'_>, path: &str) -> Vec<FreezeWindow> {
        let Some(items) = self.array(value, path) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let Some(table) = self.table(item, &item_path) else {
                continue;
            };
            self.fields(table, &item_path, &FREEZE_FIELDS);
            let span = item.span();
            let from = self
                .required(table, &span, &item_path, "from")
                .and_then(|v| self.timestamp(v, &join(&item_path, "from")));
            let to = self
                .required(table, &span, &item_path, "to")
                .and_then(|v| self.timestamp(v, &join(&item_path, "to")));
            let reason = self
                .required(table, &span, &item_path, "reason")
                .and_then(|v| self.text(v, &join(&item_path, "reason")));
            let (Some(from), Some(to), Some(reason)) = (from, to, reason) else {
                continue;
            };
            if from >= to {
                let at = get(table, "from").map_or(span, Spanned::span);
                self.report(
                    at,
                    msg::freeze_backwards(&item_path, &rfc3339(from), &rfc3339(to)),
                );
                continue;
            }
            out.push(FreezeWindow { from, to, reason });
        }
        out
    }

    fn rollback(&mut self, value: &Value<'_>, path: &str) -> Option<DraftRollback> {
        let table = self.table(value, path)?;
        self.fields(table, path, &ROLLBACK_FIELDS);
        let span = value.span();
        let mut rollback = DraftRollback::default();
        if let Some(v) = self.required(table, &span, path, "roles") {
            rollback.roles = self.references(v, &join(path, "roles"), "a role");
        }
        if let Some(v) = self.required(table, &span, path, "count") {
            rollback.count = self.count(v, &join(path, "count"), "count");
        }
        Some(rollback)
    }

    fn gate(&mut self, name: At<String>, table: &DeTable<'_>, span: Range<usize>) -> DraftGate {
        let path = join("gates", &name.value);
        let kind = self.required(table, &span, &path, "kind").and_then(|v| {
            let kind_path = join(&path, "kind");
            let text = self.string(v, &kind_path)?;
            let parsed = text.value.parse::<GateKind>().ok();
            if parsed.is_none() {
                let kinds: Vec<&str> = GateKind::ALL.iter().map(|k| k.as_str()).collect();
                self.report(
                    text.span,
                    msg::unknown_gate_kind(&kind_path, &text.value, &kinds),
                );
            }
            parsed
        });
        let remediation =
            get(table, "remediation").and_then(|v| self.text(v, &join(&path, "remediation")));
        let waivable_by =
            get(table, "waivable_by").and_then(|v| self.waiver(v, &join(&path, "waivable_by")));
        let mut settings = toml::Table::new();
        for (key, value) in table {
            let key: &str = key.get_ref();
            if GATE_FIELDS.contains(&key) {
                continue;
            }
            match toml_value(value) {
                Some(v) => {
                    settings.insert(key.to_owned(), v);
                }
                None => self.report(
                    value.span(),
                    msg::wrong_type(
                        &join(&path, key),
                        "a TOML value",
                        value.get_ref().type_str(),
                    ),
                ),
            }
        }
        if let Some(kind) = kind {
            self.gate_settings(kind, table, &span, &path);
        }
        DraftGate {
            name,
            kind,
            remediation,
            waivable_by,
            settings,
        }
    }

    /// Checks the kind-specific keys against the typed settings of `kind`,
    /// reporting the first problem where it was written.
    fn gate_settings(
        &mut self,
        kind: GateKind,
        table: &DeTable<'_>,
        span: &Range<usize>,
        path: &str,
    ) {
        let mut rest = DeTable::new();
        for (key, value) in table {
            if !GATE_FIELDS.contains(&key.get_ref().as_ref()) {
                rest.insert(key.clone(), value.clone());
            }
        }
        let value = Spanned::new(span.clone(), DeValue::Table(rest));
        match GateSettings::deserialize_kind(kind, toml::de::ValueDeserializer::from(value)) {
            Err(e) => {
                let at = e.span().unwrap_or_else(|| span.clone());
                self.report(at, msg::bad_gate_settings(path, kind.as_str(), e.message()));
            }
            Ok(settings) => {
                for problem in settings.problems() {
                    self.report(
                        span.clone(),
                        msg::bad_gate_settings(path, kind.as_str(), &problem),
                    );
                }
            }
        }
    }

    fn waiver(&mut self, value: &Value<'_>, path: &str) -> Option<DraftWaiver> {
        let table = self.table(value, path)?;
        self.fields(table, path, &WAIVER_FIELDS);
        let span = value.span();
        let mut waiver = DraftWaiver::default();
        if let Some(v) = self.required(table, &span, path, "role") {
            waiver.role = self.reference(v, &join(path, "role"), "a role");
        }
        if let Some(v) = self.required(table, &span, path, "count") {
            waiver.count = self.count(v, &join(path, "count"), "count");
        }
        if let Some(v) = self.required(table, &span, path, "max_ttl") {
            waiver.max_ttl = self.duration(v, &join(path, "max_ttl"));
        }
        Some(waiver)
    }
}

/// Converts a parsed TOML value to an owned `toml::Value` for gate settings.
fn toml_value(value: &Value<'_>) -> Option<toml::Value> {
    use serde::Deserialize as _;
    toml::Value::deserialize(toml::de::ValueDeserializer::from(value.clone())).ok()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}
