//! Unit tests of the policy model: the role rules of `DESIGN.md` §3.3, the
//! query API the `state` fold relies on, and value-level validation.

use std::fmt::Write as _;
use std::time::Duration;

use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::keys::Signer;

fn example() -> Policy {
    Policy::parse(EXAMPLE_POLICY, "example.toml").unwrap()
}

/// A small policy around `operators` and a `[roles]` body.
fn doc(operators: &[(&str, PublicKey)], rest: &str) -> String {
    let mut text = String::from(
        "version = 1\norigin = \"audit.example.com/tollgate\"\nadmins = { role = \"policy-admin\", threshold = 1 }\n",
    );
    for (name, key) in operators {
        let _ = write!(text, "[operators.{name}]\nkey = \"{key}\"\n");
    }
    text.push_str(rest);
    text
}

fn messages(text: &str) -> Vec<String> {
    Policy::parse(text, "p.toml")
        .unwrap_err()
        .iter()
        .map(|e| e.message.clone())
        .collect()
}

#[test]
fn the_example_parses_into_the_documented_model() {
    let p = example();
    assert_eq!(p.version, 1);
    assert_eq!(p.origin, "audit.example.com/tollgate");
    assert_eq!(
        p.admins,
        AdminRule {
            role: "policy-admin".into(),
            threshold: 2
        }
    );
    assert_eq!(p.operators.len(), 7);
    assert_eq!(p.roles["policy-admin"], ["bob", "erin", "frank"]);
    let prod = p.environment("prod").unwrap();
    assert_eq!(prod.after.as_deref(), Some("staging"));
    assert_eq!(prod.gates.len(), 6);
    assert_eq!(
        prod.approvals,
        [
            ApprovalRequirement {
                role: "release-manager".into(),
                count: 1
            },
            ApprovalRequirement {
                role: "security".into(),
                count: 1
            }
        ]
    );
    assert_eq!(prod.approval_ttl, Some(Duration::from_hours(24)));
    assert_eq!(prod.freeze[0].from, datetime!(2026-12-20 00:00 UTC));
    assert_eq!(prod.freeze[0].reason, "year-end");
    assert!(prod.freeze[0].contains(datetime!(2026-12-25 12:00 UTC)));
    assert!(
        !prod.freeze[0].contains(datetime!(2027-01-04 00:00 UTC)),
        "`to` is exclusive"
    );
    assert_eq!(
        prod.rollback,
        Some(RollbackRule {
            roles: vec!["oncall".into(), "release-manager".into()],
            count: 1
        })
    );
    let sast = p.gate("sast").unwrap();
    assert_eq!(sast.kind, GateKind::Sarif);
    assert_eq!(
        sast.waivable_by,
        Some(WaiverRule {
            role: "security".into(),
            count: 1,
            max_ttl: Duration::from_hours(72)
        })
    );
    assert!(sast.settings.contains_key("block_on"));
    assert!(
        !sast.settings.contains_key("kind"),
        "known fields are not settings"
    );
    let licenses = p.gate("licenses").unwrap();
    assert_eq!(licenses.settings["allow"].as_array().unwrap().len(), 4);
    assert_eq!(
        licenses.waivable_by.as_ref().unwrap().max_ttl,
        Duration::from_hours(168)
    );
    for env in p.environments.values() {
        for gate in &env.gates {
            assert!(
                p.gate(gate).is_some(),
                "{gate} is referenced but not defined"
            );
        }
    }
}

#[test]
fn digest_and_document_are_the_exact_bytes() {
    let p = example();
    assert_eq!(p.document(), EXAMPLE_POLICY);
    assert_eq!(p.digest(), Digest::of(EXAMPLE_POLICY.as_bytes()));
    // A comment changes the bytes, so it changes what decisions bind.
    let edited = format!("{EXAMPLE_POLICY}\n# edited\n");
    assert_ne!(
        Policy::parse(&edited, "p.toml").unwrap().digest(),
        p.digest()
    );
}

#[test]
fn pinned_refuses_any_other_document() {
    let pin = Digest::of(EXAMPLE_POLICY.as_bytes());
    assert_eq!(
        Policy::pinned(EXAMPLE_POLICY, "p.toml", pin).unwrap(),
        example()
    );
    let edited = EXAMPLE_POLICY.replacen("threshold = 2", "threshold = 1", 1);
    let errors = Policy::pinned(&edited, "p.toml", pin).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors.0[0].message.contains("is pinned"), "{errors}");
}

#[test]
fn role_queries_answer_per_role() {
    let p = example();
    assert!(p.has_role("bob", "security"));
    assert!(p.has_role("bob", "policy-admin"));
    assert_eq!(p.roles_of("erin"), ["policy-admin", "release-manager"]);
    assert!(p.roles_of("nobody").is_empty());
    let names: Vec<&str> = p
        .members("security")
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(names, ["bob", "dana"]);
    assert!(p.members("no-such-role").is_empty());
    let bob = p.operator("bob").unwrap();
    assert_eq!(p.operator_for_key(&bob.key).unwrap().name, "bob");
    assert!(
        p.operator_for_key(&Signer::generate("x").public())
            .is_none()
    );
}

#[test]
fn a_key_authorised_for_one_role_is_not_a_member_of_another() {
    let p = example();
    // alice is a release manager only.
    let alice = p.operator("alice").unwrap();
    let holder = p.operator_for_key(&alice.key).unwrap();
    assert!(p.has_role(&holder.name, "release-manager"));
    assert!(!p.has_role(&holder.name, "security"));
    assert!(!p.has_role(&holder.name, "policy-admin"));
    assert!(!p.members("security").iter().any(|o| o.key == alice.key));
    // Signing machine statements follows [signers], not operator membership.
    assert!(p.may_sign("promotion-request", "alice"));
    assert!(!p.may_sign("gate-result", "alice"));
    assert!(p.may_sign("gate-result", "ci-main"));
    assert!(
        !p.may_sign("decision", "ci-main"),
        "unknown kinds are never signable"
    );
}

#[test]
fn signers_default_when_absent() {
    let ci = Signer::generate("ci");
    let rm = Signer::generate("rm");
    let ops = [("ci-main", ci.public()), ("rita", rm.public())];
    let text = doc(
        &ops,
        "[roles]\npolicy-admin = [\"rita\"]\nci = [\"ci-main\"]\nrelease-manager = [\"rita\"]\n[environments.dev]\n",
    );
    let p = Policy::parse(&text, "p.toml").unwrap();
    assert_eq!(p.signers["promotion-request"], ["ci", "release-manager"]);
    assert_eq!(p.signers["gate-result"], ["ci"]);
    assert_eq!(p.signers["snapshot"], ["ci"]);
    assert_eq!(p.signers["deployment"], ["ci"]);

    // Without a release-manager role only CI requests promotions; an
    // explicit entry replaces the default for that kind alone.
    let text = doc(
        &ops,
        "[roles]\npolicy-admin = [\"rita\"]\nci = [\"ci-main\"]\n[signers]\nsnapshot = [\"policy-admin\"]\n[environments.dev]\n",
    );
    let p = Policy::parse(&text, "p.toml").unwrap();
    assert_eq!(p.signers["promotion-request"], ["ci"]);
    assert_eq!(p.signers["snapshot"], ["policy-admin"]);
    assert!(p.may_sign("snapshot", "rita"));
    assert!(!p.may_sign("snapshot", "ci-main"));
}

#[test]
fn thresholds_count_distinct_public_keys() {
    let shared = Signer::generate("shared").public();
    let other = Signer::generate("other").public();
    // One key under two names: refused, and it cannot make a threshold of 2
    // reachable either.
    let text = doc(
        &[("bob", shared), ("robert", shared), ("carol", other)],
        "[roles]\npolicy-admin = [\"bob\", \"robert\"]\nsecurity = [\"bob\", \"robert\", \"carol\"]\n\
         [environments.prod]\napprovals = [{ role = \"policy-admin\", count = 2 }, { role = \"security\", count = 2 }]\n",
    );
    let errors = messages(&text);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("same public key as operator \"bob\""),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("count 2 is larger than role \"policy-admin\", which has 1 member"),
        "{errors:?}"
    );
}

#[test]
fn one_operator_twice_in_a_role_is_refused_not_counted_twice() {
    let a = Signer::generate("a").public();
    let text = doc(
        &[("alice", a)],
        "[roles]\npolicy-admin = [\"alice\", \"alice\"]\n[environments.dev]\n",
    );
    let errors = messages(&text);
    assert_eq!(errors, [msg_member_twice("policy-admin", "alice")]);
    let text = text.replace("threshold = 1", "threshold = 2");
    let errors = messages(&text);
    assert!(
        errors.iter().any(|e| e.contains("threshold 2 is larger")),
        "{errors:?}"
    );
}

fn msg_member_twice(role: &str, operator: &str) -> String {
    messages::member_twice(role, operator)
}

#[test]
fn rollback_counts_the_union_of_its_roles() {
    let a = Signer::generate("a").public();
    let b = Signer::generate("b").public();
    // alice is in both roles: two roles, two distinct people.
    let rest = "[roles]\npolicy-admin = [\"alice\"]\noncall = [\"alice\", \"bob\"]\nrm = [\"alice\"]\n\
                [environments.prod]\nrollback = { roles = [\"oncall\", \"rm\"], count = COUNT }\n";
    let ok = doc(&[("alice", a), ("bob", b)], &rest.replace("COUNT", "2"));
    assert!(Policy::parse(&ok, "p.toml").is_ok());
    let too_many = doc(&[("alice", a), ("bob", b)], &rest.replace("COUNT", "3"));
    let errors = messages(&too_many);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("which have 2 distinct members"),
        "{errors:?}"
    );
}

#[test]
fn origins_must_be_log_origins() {
    let a = Signer::generate("a").public();
    let rest = "[roles]\npolicy-admin = [\"alice\"]\n[environments.dev]\n";
    let base = doc(&[("alice", a)], rest);
    for bad in ["", "audit example", "audit.example.com/a+b", "a\\tb"] {
        let text = base.replace("audit.example.com/tollgate", bad);
        let errors = messages(&text);
        assert_eq!(errors.len(), 1, "{bad:?}: {errors:?}");
        assert!(errors[0].starts_with("`origin`"), "{bad:?}: {errors:?}");
    }
}

#[test]
fn environment_order_is_topological_with_branches() {
    let a = Signer::generate("a").public();
    let rest = "[roles]\npolicy-admin = [\"alice\"]\n\
                [environments.prod]\nafter = \"staging\"\n\
                [environments.qa]\nafter = \"dev\"\n\
                [environments.staging]\nafter = \"dev\"\n\
                [environments.dev]\n\
                [environments.sandbox]\n";
    let p = Policy::parse(&doc(&[("alice", a)], rest), "p.toml").unwrap();
    assert_eq!(
        p.environment_order(),
        ["dev", "sandbox", "qa", "staging", "prod"]
    );
}

#[test]
fn timestamps_may_be_toml_datetimes_and_durations_take_units() {
    let a = Signer::generate("a").public();
    let rest = "[roles]\npolicy-admin = [\"alice\"]\n\
                [environments.prod]\napproval_ttl = \"1h 30m\"\n\
                freeze = [{ from = 2026-12-20T00:00:00+01:00, to = \"2027-01-04T00:00:00Z\", reason = \"r\" }]\n";
    let p = Policy::parse(&doc(&[("alice", a)], rest), "p.toml").unwrap();
    let prod = p.environment("prod").unwrap();
    assert_eq!(prod.approval_ttl, Some(Duration::from_mins(90)));
    assert_eq!(prod.freeze[0].from, datetime!(2026-12-19 23:00 UTC));
}

#[test]
fn gate_kinds_have_one_spelling() {
    for kind in GateKind::ALL {
        assert_eq!(kind.as_str().parse::<GateKind>().unwrap(), kind);
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{kind}\""));
    }
    assert!("Sarif".parse::<GateKind>().is_err());
}

#[test]
fn oversized_documents_are_refused_before_parsing() {
    let text = "#".repeat(MAX_POLICY_BYTES + 1);
    let errors = Policy::parse(&text, "big.toml").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors
            .to_string()
            .starts_with("big.toml:1:1: the policy is")
    );
}

#[test]
fn errors_locate_the_offending_value() {
    let a = Signer::generate("a").public();
    let text = doc(
        &[("alice", a)],
        "[roles]\npolicy-admin = [\"alice\"]\n[environments.dev]\ngates = [\"nope\"]\n",
    );
    let errors = Policy::parse(&text, "p.toml").unwrap_err();
    let line = text.lines().position(|l| l.starts_with("gates")).unwrap() + 1;
    assert_eq!((errors.0[0].line, errors.0[0].column), (line, 10));
    assert_eq!(errors.0[0].file, "p.toml");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Hostile text never panics, and whatever is reported is located
    /// inside the document.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        if let Err(errors) = Policy::parse(&text, "f.toml") {
            let lines = text.split('\n').count();
            for e in &errors {
                prop_assert!(e.line >= 1 && e.line <= lines);
                prop_assert!(e.column >= 1);
            }
        }
    }

    /// Mutating one byte of a valid policy never panics.
    #[test]
    fn mutated_example_never_panics(index in 0usize..EXAMPLE_POLICY.len(), byte in 0u8..128) {
        let mut bytes = EXAMPLE_POLICY.as_bytes().to_vec();
        bytes[index] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            let _ = Policy::parse(&text, "f.toml");
        }
    }
}

#[test]
fn approval_requirements_are_checked_jointly_for_distinct_people() {
    let a = Signer::generate("a").public();
    let b = Signer::generate("b").public();
    let ops = [("alice", a), ("bob", b)];
    // alice could fill either seat; bob only release-manager. A greedy fill
    // that seats alice as release manager first would wrongly refuse this.
    let feasible = "[roles]\npolicy-admin = [\"alice\"]\nrelease-manager = [\"alice\", \"bob\"]\nsecurity = [\"alice\"]\n\
                    [environments.prod]\napprovals = [{ role = \"release-manager\", count = 1 }, { role = \"security\", count = 1 }]\n";
    assert!(Policy::parse(&doc(&ops, feasible), "p.toml").is_ok());
    let infeasible = feasible.replace(
        "release-manager = [\"alice\", \"bob\"]",
        "release-manager = [\"alice\"]",
    );
    let errors = messages(&doc(&ops, &infeasible));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("needs 2 distinct people"), "{errors:?}");
}

#[test]
fn gate_settings_are_typed_and_errors_are_located() {
    let text = EXAMPLE_POLICY.replace("min_tests = 1", "min_test = 1");
    let errors = Policy::parse(&text, "p.toml").unwrap_err();
    let line = text
        .lines()
        .position(|l| l.starts_with("min_test = 1"))
        .unwrap()
        + 1;
    let found = errors
        .0
        .iter()
        .find(|e| e.message.contains("min_test"))
        .unwrap_or_else(|| panic!("{errors}"));
    assert_eq!(found.line, line, "{errors}");
    assert!(
        found.message.contains("gates.unit-tests"),
        "{}",
        found.message
    );

    let text = EXAMPLE_POLICY.replace(
        "block_on = { level = \"error\", security_severity = 7.0 }",
        "block_on = { level = \"fatal\" }",
    );
    let errors = Policy::parse(&text, "p.toml").unwrap_err();
    assert!(errors.to_string().contains("fatal"), "{errors}");

    let text = EXAMPLE_POLICY.replace(
        "\"BSD-3-Clause\", \"ISC\"]",
        "\"BSD-3-Clause\", \"Apache 2\"]",
    );
    let errors = Policy::parse(&text, "p.toml").unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("\"Apache 2\" is not an SPDX licence id"),
        "{errors}"
    );

    let policy = Policy::parse(EXAMPLE_POLICY, "example.toml").unwrap();
    for gate in policy.gates.values() {
        let settings = gate.typed_settings().unwrap();
        assert_eq!(settings.kind(), gate.kind);
    }
}

#[test]
fn a_drift_gate_comparing_with_an_unknown_environment_is_named() {
    let text = EXAMPLE_POLICY.replace(
        "kind = \"drift\"\n",
        "kind = \"drift\"\ncompare_with = \"stagign\"\n",
    );
    let found = messages(&text);
    assert!(
        found
            .iter()
            .any(|m| m.contains("gates.drift.compare_with") && m.contains("\"stagign\"")),
        "{found:?}"
    );
    let text = EXAMPLE_POLICY.replace(
        "kind = \"drift\"\n",
        "kind = \"drift\"\ncompare_with = \"staging\"\n",
    );
    assert!(Policy::parse(&text, "p.toml").is_ok());
}
