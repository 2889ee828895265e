//! A small world for state tests: real keys, a real policy document, real
//! signatures, entries verified through the same `KeyRing` the store uses.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::format_push_string
)]

pub mod bulk;
pub mod pg;
pub mod pty;
pub mod receiver;
pub mod served;

/// The binary's allocator (`src/main.rs`): tests and benches run on what
/// production runs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use tollgate::client::evidence::Blobs;
use tollgate::client::sync::VerifiedLog;
use tollgate::digest::Digest;
use tollgate::envelope::Envelope;
use tollgate::keys::Signer;
use tollgate::policy::Policy;
use tollgate::state::{self, Folder, KeyRing, State, VerifiedEntry};
use tollgate::statement::{
    Binding, Decision, DecisionAction, Deployment, DeploymentStatus, DeploymentTarget, GateResult,
    GateStatus, ObservedCheckpoint, Predicate, PromotionRequest, RootHash, SourceRef, Statement,
    new_nonce,
};
use tollgate::tui::app::{App, Effect, Msg, Session};
use tollgate::tui::data::Data;
use tollgate::tui::detail::Answers;
use tollgate::tui::{load_keymap, load_theme};

/// A bench's setting from the environment variable `name`, else `default`;
/// a value that does not parse stops the bench with its name.
#[allow(clippy::panic)]
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a valid value")),
        Err(_) => default,
    }
}

/// The cockpit's app as it starts for `me`, signed in to a test store, at
/// `now`: the default keymap and theme (`no_color` as `--no-color`).
pub fn cockpit(me: &str, read_only: bool, no_color: bool, now: OffsetDateTime) -> App {
    let session = Session {
        store: "https://audit.test:8443".into(),
        me: me.into(),
        read_only,
    };
    App::new(
        session,
        load_keymap(None, None).unwrap(),
        load_theme(None, no_color, None).unwrap(),
        now,
    )
}

/// The cockpit's app with the part of its client task that answers the
/// screen's questions about the verified log (a promotion's detail, what an
/// action would sign): every update's questions are answered at once.
pub struct Cockpit {
    pub app: App,
    pub answers: Answers,
}

impl Cockpit {
    /// [`cockpit`] on `log`, synced and sized 120×40.
    pub fn on(
        log: VerifiedLog,
        me: &str,
        read_only: bool,
        no_color: bool,
        now: OffsetDateTime,
    ) -> Self {
        Self::with_evidence(log, Blobs::new(), me, read_only, no_color, now)
    }

    /// [`Self::on`], the evidence documents `blobs` read already (as the
    /// client task reads them from its blob cache).
    pub fn with_evidence(
        log: VerifiedLog,
        blobs: Blobs,
        me: &str,
        read_only: bool,
        no_color: bool,
        now: OffsetDateTime,
    ) -> Self {
        let data = Data::from_log(&log, now);
        let mut answers = Answers::new(std::sync::Arc::new(log), data.index.clone());
        for (digest, blob) in blobs {
            answers.add_blob(digest, blob);
        }
        let mut cockpit = Self {
            app: cockpit(me, read_only, no_color, now),
            answers,
        };
        cockpit.update(Msg::Synced(Box::new(data)));
        cockpit.update(Msg::Resize(120, 40));
        cockpit
    }

    /// [`App::update`], its questions answered; the other effects.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = self.app.update(msg);
        self.answers.settle(&mut self.app, effects)
    }
}

impl std::ops::Deref for Cockpit {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl std::ops::DerefMut for Cockpit {
    fn deref_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

pub const ORIGIN: &str = "audit.test/tollgate";
pub const T0: OffsetDateTime = datetime!(2026-11-27 09:00 UTC);

pub const PEOPLE: &[(&str, &[&str])] = &[
    ("alice", &["release-manager"]),
    ("erin", &["release-manager", "policy-admin"]),
    ("bob", &["security", "policy-admin"]),
    ("dana", &["security"]),
    ("grace", &["release-manager", "security"]),
    ("carol", &["oncall"]),
    ("frank", &["policy-admin"]),
    ("ci-main", &["ci"]),
];

pub fn policy_text(version: u64, signers: &BTreeMap<String, Signer>) -> String {
    let mut text = format!(
        "version = {version}\norigin = \"{ORIGIN}\"\nadmins = {{ role = \"policy-admin\", threshold = 2 }}\n\n"
    );
    for (name, signer) in signers {
        text.push_str(&format!(
            "[operators.{name}]\nkey = \"{}\"\n",
            signer.public()
        ));
    }
    let mut roles: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, rs) in PEOPLE {
        for r in *rs {
            roles.entry(r).or_default().push(name);
        }
    }
    text.push_str("\n[roles]\n");
    for (role, members) in roles {
        let list = members
            .iter()
            .map(|m| format!("\"{m}\""))
            .collect::<Vec<_>>()
            .join(", ");
        text.push_str(&format!("{role} = [{list}]\n"));
    }
    text.push_str(
        r#"
[signers]
promotion-request = ["ci", "release-manager"]
gate-result = ["ci"]
snapshot = ["ci"]
deployment = ["ci"]

[environments.dev]
gates = ["unit-tests"]

[environments.staging]
after = "dev"
gates = ["unit-tests"]
approvals = [{ role = "release-manager", count = 1 }]

[environments.prod]
after = "staging"
gates = ["unit-tests", "sast"]
approvals = [{ role = "release-manager", count = 1 }, { role = "security", count = 1 }]
approval_ttl = "24h"
freeze = [{ from = "2026-12-20T00:00:00Z", to = "2027-01-04T00:00:00Z", reason = "year-end" }]
rollback = { roles = ["oncall", "release-manager"], count = 1 }

[gates.unit-tests]
kind = "junit"
remediation = "Fix the failing tests and push again."

[gates.sast]
kind = "sarif"
remediation = "Fix the findings, or ask security for a time-boxed waiver (w)."
waivable_by = { role = "security", count = 1, max_ttl = "72h" }
"#,
    );
    text
}

pub struct World {
    pub signers: BTreeMap<String, Signer>,
    pub policy: Policy,
    pub ring: KeyRing,
    pub entries: Vec<VerifiedEntry>,
    pub envelopes: Vec<Envelope>,
    pub clock: OffsetDateTime,
}

impl World {
    pub fn new() -> Self {
        let signers: BTreeMap<String, Signer> = PEOPLE
            .iter()
            .map(|(n, _)| ((*n).to_owned(), Signer::generate(n)))
            .collect();
        let policy = Policy::parse(&policy_text(1, &signers), "policy.toml").unwrap();
        let ring = KeyRing::of(&policy);
        Self {
            signers,
            policy,
            ring,
            entries: Vec::new(),
            envelopes: Vec::new(),
            clock: T0,
        }
    }

    /// A world whose policy is the test policy with prod also requiring a
    /// `drift` gate (prod must equal staging except `ignore`).
    pub fn with_drift_gate(ignore: &[&str]) -> Self {
        let mut world = Self::new();
        let ignore = ignore
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let text = policy_text(1, &world.signers).replace(
            "gates = [\"unit-tests\", \"sast\"]",
            "gates = [\"unit-tests\", \"sast\", \"drift\"]",
        ) + &format!(
            "\n[gates.drift]\nkind = \"drift\"\nignore = [{ignore}]\nremediation = \"Reconcile prod with staging, or capture fresh snapshots.\"\n"
        );
        world.policy = Policy::parse(&text, "policy.toml").unwrap();
        world.ring = KeyRing::of(&world.policy);
        world
    }

    /// Signs `statement` as `who`, verifies it like the store would, and
    /// appends it to the log. Returns the entry id.
    pub fn submit(&mut self, who: &str, statement: &Statement) -> Digest {
        let envelope = self.signers[who].sign_statement(statement.to_payload());
        self.submit_envelope(envelope)
    }

    pub fn submit_envelope(&mut self, envelope: Envelope) -> Digest {
        let index = self.entries.len() as u64;
        let entry = self.ring.verify(index, &envelope.to_json()).unwrap();
        let id = entry.id;
        self.entries.push(entry);
        self.envelopes.push(envelope);
        self.clock += Duration::minutes(1);
        id
    }

    pub fn folder(&self) -> Folder {
        let mut folder = Folder::new(std::sync::Arc::new(self.policy.clone()));
        folder.apply_all(&self.entries);
        folder
    }

    pub fn state(&self) -> State {
        state::fold(&self.policy, &self.entries, self.clock)
    }

    pub fn state_at(&self, now: OffsetDateTime) -> State {
        state::fold(&self.policy, &self.entries, now)
    }

    /// The refusal recorded for entry `id`, if the fold ignored it.
    pub fn refusal(&self, id: Digest) -> Option<String> {
        self.state()
            .ignored
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.reason.to_string())
    }

    pub fn request(
        &mut self,
        who: &str,
        service: &str,
        artifact: Digest,
        from: Option<&str>,
        to: &str,
    ) -> Digest {
        let statement = Statement::about(
            service,
            artifact,
            Predicate::PromotionRequest(PromotionRequest {
                service: service.into(),
                version: format!("v-{}", artifact.short()),
                from: from.map(Into::into),
                to: to.into(),
                source: SourceRef {
                    repo: "git@example.com:app.git".into(),
                    commit: "0a1b2c".into(),
                },
                release_notes: None,
                requested_at: self.clock,
                nonce: new_nonce(),
            }),
        );
        self.submit(who, &statement)
    }

    pub fn artifact_of(&self, promotion: Digest) -> Digest {
        self.folder().raw_state().promotions[&promotion].artifact
    }

    pub fn gate(&mut self, promotion: Digest, gate: &str, status: GateStatus) -> Digest {
        let artifact = self.artifact_of(promotion);
        let statement = Statement::about(
            "app",
            artifact,
            Predicate::GateResult(GateResult {
                promotion,
                gate: gate.into(),
                status,
                summary: format!("{gate} {status:?}"),
                measurements: Vec::new(),
                evidence: Vec::new(),
                remediation: None,
                produced_at: self.clock,
                evaluator: None,
            }),
        );
        self.submit("ci-main", &statement)
    }

    /// The gate result `statement` for `gate` of `promotion`: CI states
    /// `status` for evidence whose bytes are `evidence` (cited by digest,
    /// as `gate submit` does; nothing evaluates them here).
    pub fn gate_result(
        &self,
        promotion: Digest,
        gate: &str,
        status: GateStatus,
        evidence: &[&[u8]],
    ) -> Statement {
        let artifact = self.artifact_of(promotion);
        Statement::about(
            "app",
            artifact,
            Predicate::GateResult(GateResult {
                promotion,
                gate: gate.into(),
                status,
                summary: format!("{gate} {status:?}"),
                measurements: Vec::new(),
                evidence: evidence
                    .iter()
                    .map(|bytes| tollgate::statement::EvidenceRef {
                        kind: gate.into(),
                        media_type: "application/octet-stream".into(),
                        digest: Digest::of(bytes),
                    })
                    .collect(),
                remediation: None,
                produced_at: self.clock,
                evaluator: Some(tollgate::evidence::EVALUATOR_VERSION.into()),
            }),
        )
    }

    pub fn deployed(&mut self, promotion: Digest, ok: bool) -> Digest {
        let folder = self.folder();
        let p = &folder.raw_state().promotions[&promotion];
        let statement = Statement::about(
            &p.request.service,
            p.artifact,
            Predicate::Deployment(Deployment {
                target: DeploymentTarget::Promotion(promotion),
                environment: p.request.to.clone(),
                service: p.request.service.clone(),
                status: if ok {
                    DeploymentStatus::Succeeded
                } else {
                    DeploymentStatus::Failed
                },
                at: self.clock,
            }),
        );
        drop(folder);
        self.submit("ci-main", &statement)
    }

    /// A promotion of `artifact` of `service` all the way into `to`, with every
    /// earlier environment passed and deployed.
    pub fn through(&mut self, service: &str, artifact: Digest, upto: &str) {
        let chain = ["dev", "staging", "prod"];
        let mut from = None;
        for env in chain {
            let p = self.request("ci-main", service, artifact, from, env);
            for gate in self.folder().raw_state().promotions[&p]
                .gates
                .keys()
                .cloned()
                .collect::<Vec<_>>()
            {
                self.gate(p, &gate, GateStatus::Pass);
            }
            if env == "staging" {
                self.approve("alice", "release-manager", p);
            }
            if env == "prod" {
                self.approve("alice", "release-manager", p);
                self.approve("dana", "security", p);
            }
            self.deployed(p, true);
            if env == upto {
                return;
            }
            from = Some(env);
        }
    }

    /// A decision bound to what the log shows now (policy, gates, snapshot).
    pub fn decision(&self, role: &str, action: DecisionAction) -> Decision {
        let folder = self.folder();
        let (gate_results, snapshot) = match action
            .promotion()
            .and_then(|p| folder.raw_state().promotions.get(p))
        {
            Some(p) => (state::gate_results_digest(p), folder.current_snapshot(p)),
            None => (Digest::of(b""), None),
        };
        Decision {
            action,
            role: role.into(),
            rationale: "reviewed the evidence".into(),
            issued_at: self.clock,
            expires_at: self.clock + Duration::days(7),
            nonce: new_nonce(),
            bound: Binding {
                policy: self.policy.digest(),
                gate_results,
                snapshot,
            },
            observed: ObservedCheckpoint {
                origin: ORIGIN.into(),
                size: self.entries.len() as u64,
                root: RootHash(self.root()),
            },
        }
    }

    /// The root of the world's log as it is now.
    pub fn root(&self) -> tollgate::ledger::Hash {
        let leaves: Vec<_> = self
            .envelopes
            .iter()
            .map(|e| tollgate::ledger::leaf_hash(&e.to_json()))
            .collect();
        tollgate::ledger::root_of(&leaves)
    }

    pub fn decide(&mut self, who: &str, artifact: Digest, decision: Decision) -> Digest {
        let statement = Statement::about("app", artifact, Predicate::Decision(decision));
        self.submit(who, &statement)
    }

    pub fn approve(&mut self, who: &str, role: &str, promotion: Digest) -> Digest {
        let d = self.decision(role, DecisionAction::Approve { promotion });
        let artifact = self.artifact_of(promotion);
        self.decide(who, artifact, d)
    }
}

/// Helpers for the store tests: build and sign statements without adding
/// them to the world's log (the store decides whether they are accepted).
impl World {
    /// Signs `statement` as `who` without appending it anywhere.
    pub fn sign(&self, who: &str, statement: &Statement) -> Envelope {
        self.signers[who].sign_statement(statement.to_payload())
    }

    /// A promotion request at the current clock, not appended.
    pub fn request_statement(
        &self,
        service: &str,
        artifact: Digest,
        from: Option<&str>,
        to: &str,
    ) -> Statement {
        Statement::about(
            service,
            artifact,
            Predicate::PromotionRequest(PromotionRequest {
                service: service.into(),
                version: format!("v-{}", artifact.short()),
                from: from.map(Into::into),
                to: to.into(),
                source: SourceRef {
                    repo: "git@example.com:app.git".into(),
                    commit: "0a1b2c".into(),
                },
                release_notes: None,
                requested_at: self.clock,
                nonce: new_nonce(),
            }),
        )
    }

    /// An approval statement by the current view, not appended.
    pub fn approval_statement(&self, role: &str, promotion: Digest) -> Statement {
        let decision = self.decision(role, DecisionAction::Approve { promotion });
        Statement::about(
            "app",
            self.artifact_of(promotion),
            Predicate::Decision(decision),
        )
    }
}

/// The world's log as a client sees it after a verified sync: signed by a
/// log key, checked by the production `verify_log_snapshot`.
impl World {
    pub fn verified_log(&self) -> tollgate::client::sync::VerifiedLog {
        use tollgate::ledger::{Checkpoint, SignedCheckpoint, leaf_hash, root_of};
        let log_key = Signer::generate(ORIGIN);
        let vkey = tollgate::keys::vkey::NoteVerifierKey::of_signer(&log_key).unwrap();
        let entries: Vec<Vec<u8>> = self.envelopes.iter().map(Envelope::to_json).collect();
        let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
        let checkpoint = Checkpoint {
            origin: ORIGIN.into(),
            size: entries.len() as u64,
            root: root_of(&leaves),
        };
        let signed = SignedCheckpoint::sign(&checkpoint, &log_key)
            .unwrap()
            .into_bytes();
        tollgate::client::sync::verify_log_snapshot(&tollgate::client::sync::LogInputs {
            log_vkey: &vkey,
            policy_digest: self.policy.digest(),
            served_policy: Some(self.policy.document()),
            checkpoint: &signed,
            entries: &entries,
            trusted: None,
            consistency: &[],
        })
        .unwrap()
    }
}
