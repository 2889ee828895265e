//! The demo's story: three services across dev, staging and prod over the
//! last three days, as the signed entries a real team's log would hold.
//!
//! Every entry is built the way production builds it: requests and
//! decisions through the action layer ([`crate::client::actions`]), which
//! refuses what the store would refuse; gate results from the real
//! evaluator over real evidence documents (the tool outputs committed under
//! `tests/fixtures/evidence/`, and build provenance signed by a demo
//! builder key), so every reviewer's re-judgement agrees with CI. Pure: no
//! I/O and no clock (the caller passes `now`); the live demo then submits
//! the same entries to a real store, in order.
//!
//! What it shows:
//! - `search`: 3.0.9 and 3.1.0 ran in prod; on-call rolled prod back to
//!   3.0.9; 3.2.0 is blocked in dev by failing tests.
//! - `payments`: 1.4.0 was deployed to prod without approvals (a finding);
//!   1.4.1 waits for prod with a stale approval, one expiring soon, and
//!   drift between staging and prod (a secret rotated, a flag flipped, a
//!   dependency moved).
//! - `checkout`: 2.3.0 waits for prod with security's approval and a
//!   waiver for its SAST findings; a release manager's approval makes it
//!   ready. For 2.4.0 in dev, CI signed "pass" over a failing test report:
//!   every client re-judges it as disputed.

use std::collections::BTreeMap;

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::personas::{BUILDER, Keys};
use crate::client::actions::{self, Intent};
use crate::client::sync::{LogInputs, Mismatch, VerifiedLog, verify_log_snapshot};
use crate::digest::Digest;
use crate::envelope::{IN_TOTO_PAYLOAD_TYPE, pae};
use crate::evidence::{Context, EvidenceFile, evaluate_gate};
use crate::keys::Signer;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::{Checkpoint, SignedCheckpoint, leaf_hash, root_of};
use crate::policy::Policy;
use crate::state::Refusal;
use crate::statement::{
    Deployment, DeploymentStatus, DeploymentTarget, Predicate, Snapshot, SourceRef, Statement,
};

/// The repository every demo service is built from.
pub const REPO: &str = "https://git.example.com/shop/platform";

/// Real tool outputs (see `tests/fixtures/evidence/SOURCES.md`).
mod fixtures {
    pub const NEXTEST_PASS: &[u8] =
        include_bytes!("../../tests/fixtures/evidence/nextest-pass.xml");
    pub const PYTEST_FAIL: &[u8] = include_bytes!("../../tests/fixtures/evidence/pytest-fail.xml");
    pub const NEXTEST_FAIL: &[u8] =
        include_bytes!("../../tests/fixtures/evidence/nextest-fail.xml");
    pub const SARIF_CLEAN: &[u8] = include_bytes!("../../tests/fixtures/evidence/ruff-clean.sarif");
    pub const SARIF_FINDINGS: &[u8] =
        include_bytes!("../../tests/fixtures/evidence/ruff-findings.sarif");
    pub const SBOM: &[u8] = include_bytes!("../../tests/fixtures/evidence/cyclonedx-py.cdx.json");
    pub const METRICS_OK: &[u8] = include_bytes!("../../tests/fixtures/evidence/metrics-ok.json");
}

/// One entry of the story: who signs it, the envelope, and the evidence
/// to upload before it (media type, bytes).
#[derive(Debug, Clone)]
pub struct Step {
    pub who: String,
    pub envelope: Vec<u8>,
    pub blobs: Vec<(String, Vec<u8>)>,
}

/// Why the story could not be written (a bug in the story, never input).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the demo refused its own step `{step}`: {reason}")]
    Refused { step: String, reason: Box<Refusal> },
    #[error("the demo log does not verify: {0}")]
    Log(Box<Mismatch>),
    #[error("the demo cannot sign: {0}")]
    Sign(String),
    #[error("the demo policy has no gate {0}")]
    NoGate(String),
    #[error("the demo has no key for {0}")]
    NoKey(String),
    #[error("the demo has no promotion of {service} {version} into {env}")]
    NoPromotion {
        service: String,
        version: String,
        env: String,
    },
}

/// The story as signed entries, and the log they make.
#[derive(Debug)]
pub struct Scenario {
    pub steps: Vec<Step>,
    /// The promotion a release manager's approval makes ready.
    pub awaiting_release_manager: Digest,
    /// The promotion with drift, a stale approval and one expiring soon.
    pub drifted: Digest,
}

/// Writes the story ending at `now`, signed with `keys`, in the log whose
/// checkpoints `log_key` signs under `policy`.
pub fn build(
    keys: &Keys,
    log_key: &Signer,
    policy: &Policy,
    now: OffsetDateTime,
) -> Result<Scenario, ScenarioError> {
    let mut w = Writer::new(keys, log_key, policy, now - Duration::hours(72))?;
    let pass = Evidence::passing();

    w.through("search", "3.0.9", "prod", &pass)?;
    w.at(now - Duration::hours(60));
    w.through("payments", "1.4.0", "staging", &pass)?;
    w.at(now - Duration::hours(52));
    w.through("search", "3.1.0", "prod", &pass)?;
    // p99 doubled after 3.1.0: on-call rolls prod back to the last known
    // good, and CI reports the rollback deployed.
    w.at(now - Duration::hours(48));
    let rollback = w.decide(
        "carol",
        &Intent::Rollback {
            environment: "prod".into(),
            service: "search".into(),
            to: None,
            role: None,
            rationale: "p99 latency doubled after 3.1.0; back to 3.0.9".into(),
        },
    )?;
    w.deployed(
        DeploymentTarget::Rollback(rollback),
        "prod",
        "search",
        artifact("search", "3.0.9"),
    )?;

    w.at(now - Duration::hours(40));
    w.through("payments", "1.4.1", "staging", &pass)?;
    w.at(now - Duration::hours(30));
    w.through("checkout", "2.3.0", "staging", &pass)?;

    // payments 1.4.0 reaches prod without a single approval: a finding.
    w.at(now - Duration::hours(27));
    let unapproved = w.request("payments", "1.4.0", "prod")?;
    w.deployed(
        DeploymentTarget::Promotion(unapproved),
        "prod",
        "payments",
        artifact("payments", "1.4.0"),
    )?;

    // payments 1.4.1 → prod: erin approves, then CI re-runs the benchmark
    // (her approval goes stale); bob's approval expires within hours;
    // prod has drifted from staging.
    w.at(now - Duration::hours(23));
    w.snapshot("payments", "staging", "1.4.1", &Drift::staging())?;
    w.snapshot("payments", "prod", "1.4.0", &Drift::prod_drifted())?;
    let payments = w.request("payments", "1.4.1", "prod")?;
    w.gates(payments, &pass)?;
    w.decide("erin", &approve(payments, "release notes reviewed"))?;
    w.gate(
        payments,
        "perf-budget",
        &[("metrics.json", fixtures::METRICS_OK)],
    )?;
    w.at(now - Duration::hours(21));
    w.decide("bob", &approve(payments, "no new dependencies with CVEs"))?;

    // checkout 2.3.0 → prod: SAST findings waived by security, approved by
    // security; it waits for a release manager.
    w.at(now - Duration::hours(4));
    w.snapshot("checkout", "staging", "2.3.0", &Drift::staging())?;
    w.snapshot("checkout", "prod", "2.2.0", &Drift::staging_scaled())?;
    let checkout = w.request("checkout", "2.3.0", "prod")?;
    let mut findings = pass;
    findings.sast = ("ruff.sarif", fixtures::SARIF_FINDINGS);
    w.gates(checkout, &findings)?;
    w.decide(
        "dana",
        &Intent::Waive {
            promotion: checkout,
            gate: "sast".into(),
            ttl: Duration::hours(48),
            role: None,
            rationale: "S602 is in a test fixture, not shipped; fix tracked in SEC-212".into(),
        },
    )?;
    w.decide("dana", &approve(checkout, "threat model unchanged"))?;

    // search 3.2.0 → dev: its tests fail.
    w.at(now - Duration::hours(2));
    let search = w.request("search", "3.2.0", "dev")?;
    w.gate(
        search,
        "unit-tests",
        &[("junit.xml", fixtures::PYTEST_FAIL)],
    )?;

    // checkout 2.4.0 → dev: a misconfigured CI job signs "pass" over a
    // report with a failing test. Every client re-judges the evidence:
    // the gate is disputed, blocks, and names the signer.
    w.at(now - Duration::hours(1));
    let lied = w.request("checkout", "2.4.0", "dev")?;
    w.lie(lied, "unit-tests", ("junit.xml", fixtures::NEXTEST_FAIL))?;

    Ok(Scenario {
        steps: w.steps,
        awaiting_release_manager: checkout,
        drifted: payments,
    })
}

/// The demo's artifact of `service` `version`.
fn artifact(service: &str, version: &str) -> Digest {
    Digest::of(format!("{service}-{version}.tar.gz").as_bytes())
}

fn approve(promotion: Digest, rationale: &str) -> Intent {
    Intent::Approve {
        promotion,
        role: None,
        rationale: rationale.into(),
    }
}

/// Which document each gate is judged on.
#[derive(Debug, Clone, Copy)]
struct Evidence {
    unit: (&'static str, &'static [u8]),
    sast: (&'static str, &'static [u8]),
    sbom: (&'static str, &'static [u8]),
    perf: (&'static str, &'static [u8]),
}

impl Evidence {
    fn passing() -> Self {
        Self {
            unit: ("junit.xml", fixtures::NEXTEST_PASS),
            sast: ("ruff.sarif", fixtures::SARIF_CLEAN),
            sbom: ("sbom.cdx.json", fixtures::SBOM),
            perf: ("metrics.json", fixtures::METRICS_OK),
        }
    }
}

/// An environment's configuration as CI captured it.
struct Drift {
    config: serde_json::Value,
    flags: serde_json::Value,
    dependencies: serde_json::Value,
    secrets: serde_json::Value,
}

impl Drift {
    fn staging() -> Self {
        Self {
            config: json!({ "replicas": 2, "log_level": "debug", "timeout_ms": 800, "db_pool": 20 }),
            flags: json!({ "new_checkout_flow": true, "card_vault_v2": false }),
            dependencies: json!({ "openssl": "3.0.15", "libpq": "16.4" }),
            secrets: json!({ "DB_PASSWORD": "fp-a", "STRIPE_KEY": "fp-s" }),
        }
    }

    /// Prod as staging, scaled up: only ignored keys differ.
    fn staging_scaled() -> Self {
        let mut d = Self::staging();
        d.config["replicas"] = json!(6);
        d.config["log_level"] = json!("info");
        d
    }

    /// Prod drifted: a secret rotated, a flag flipped, a dependency moved.
    fn prod_drifted() -> Self {
        let mut d = Self::staging_scaled();
        d.secrets["STRIPE_KEY"] = json!("fp-r");
        d.flags["card_vault_v2"] = json!(true);
        d.dependencies["openssl"] = json!("3.0.13");
        d
    }
}

/// Fingerprints stand for secret values the demo never had: keyed HMACs of
/// made-up labels under a demo key id.
fn fingerprint(label: &str) -> String {
    format!(
        "hmac-sha256:demo-k1:{}",
        Digest::of(format!("demo secret {label}").as_bytes()).to_hex()
    )
}

/// Builds the log entry by entry, keeping the verified view current.
struct Writer<'a> {
    keys: &'a Keys,
    log_key: &'a Signer,
    vkey: NoteVerifierKey,
    policy: &'a Policy,
    entries: Vec<Vec<u8>>,
    steps: Vec<Step>,
    clock: OffsetDateTime,
    /// Same story, same nonces: entry ids do not change between runs.
    nonces: u64,
}

impl<'a> Writer<'a> {
    fn new(
        keys: &'a Keys,
        log_key: &'a Signer,
        policy: &'a Policy,
        start: OffsetDateTime,
    ) -> Result<Self, ScenarioError> {
        Ok(Self {
            keys,
            log_key,
            vkey: NoteVerifierKey::of_signer(log_key)
                .map_err(|e| ScenarioError::Sign(e.to_string()))?,
            policy,
            entries: Vec::new(),
            steps: Vec::new(),
            clock: start,
            nonces: 0,
        })
    }

    fn at(&mut self, t: OffsetDateTime) {
        self.clock = self.clock.max(t);
    }

    fn signer(&self, who: &str) -> Result<&'a Signer, ScenarioError> {
        self.keys
            .get(who)
            .ok_or_else(|| ScenarioError::NoKey(who.to_owned()))
    }

    /// The log as a client verifies it now.
    fn log(&self) -> Result<VerifiedLog, ScenarioError> {
        let leaves: Vec<_> = self.entries.iter().map(|e| leaf_hash(e)).collect();
        let checkpoint = Checkpoint {
            origin: self.policy.origin.clone(),
            size: self.entries.len() as u64,
            root: root_of(&leaves),
        };
        let signed = SignedCheckpoint::sign(&checkpoint, self.log_key)
            .map_err(|e| ScenarioError::Sign(e.to_string()))?
            .into_bytes();
        verify_log_snapshot(&LogInputs {
            log_vkey: &self.vkey,
            policy_digest: self.policy.digest(),
            served_policy: Some(self.policy.document()),
            checkpoint: &signed,
            entries: &self.entries,
            trusted: None,
            consistency: &[],
        })
        .map_err(|e| ScenarioError::Log(Box::new(e)))
    }

    /// Signs and appends; returns the entry id. The clock moves on a
    /// little, as it would between a team's actions.
    fn push(
        &mut self,
        who: &str,
        mut statement: Statement,
        blobs: Vec<(String, Vec<u8>)>,
    ) -> Result<Digest, ScenarioError> {
        self.nonces += 1;
        let nonce =
            Digest::of(format!("demo nonce {}", self.nonces).as_bytes()).to_hex()[..32].to_owned();
        match &mut statement.predicate {
            Predicate::Decision(d) => d.nonce = nonce,
            Predicate::PromotionRequest(r) => r.nonce = nonce,
            _ => {}
        }
        let payload = statement.to_payload();
        let id = Digest::of(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
        let envelope = self.signer(who)?.sign_statement(payload).to_json();
        self.entries.push(envelope.clone());
        self.steps.push(Step {
            who: who.to_owned(),
            envelope,
            blobs,
        });
        self.clock += Duration::minutes(7);
        Ok(id)
    }

    fn decide(&mut self, who: &str, intent: &Intent) -> Result<Digest, ScenarioError> {
        let log = self.log()?;
        let prepared = actions::prepare(&log, who, intent, self.clock).map_err(|reason| {
            ScenarioError::Refused {
                step: format!("{who}: {intent:?}"),
                reason: Box::new(reason),
            }
        })?;
        self.push(who, prepared.statement, Vec::new())
    }

    fn request(&mut self, service: &str, version: &str, to: &str) -> Result<Digest, ScenarioError> {
        let commit =
            Digest::of(format!("{service} {version}").as_bytes()).to_hex()[..40].to_owned();
        self.decide(
            "ci-main",
            &Intent::Request {
                service: service.into(),
                version: version.into(),
                artifact: artifact(service, version),
                from: None,
                to: to.into(),
                source: SourceRef {
                    repo: REPO.into(),
                    commit,
                },
                release_notes: None,
            },
        )
    }

    /// Every gate of `promotion`'s environment, judged on `evidence`.
    fn gates(&mut self, promotion: Digest, evidence: &Evidence) -> Result<(), ScenarioError> {
        let gates: Vec<String> = {
            let log = self.log()?;
            let state = log.state_at(self.clock);
            state
                .promotions
                .get(&promotion)
                .map(|p| p.gates.keys().cloned().collect())
                .unwrap_or_default()
        };
        for gate in gates {
            let owned: Vec<(String, Vec<u8>)> = match gate.as_str() {
                "provenance" => vec![("provenance.dsse.json".into(), self.provenance(promotion)?)],
                // The latest snapshots of both environments, as `gate
                // submit --gate drift` binds them.
                "drift" => self.bound_snapshots(promotion, &gate)?,
                _ => Vec::new(),
            };
            let files: Vec<(&str, &[u8])> = match gate.as_str() {
                "unit-tests" => vec![evidence.unit],
                "sast" => vec![evidence.sast],
                "licenses" => vec![evidence.sbom],
                "perf-budget" => vec![evidence.perf],
                _ => owned
                    .iter()
                    .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
                    .collect(),
            };
            self.gate(promotion, &gate, &files)?;
        }
        Ok(())
    }

    /// A gate-result that states `pass` whatever the evidence says (a
    /// lying or broken CI job; the store accepts it, every client disputes
    /// it).
    fn lie(
        &mut self,
        promotion: Digest,
        gate: &str,
        file: (&str, &[u8]),
    ) -> Result<Digest, ScenarioError> {
        self.judged(promotion, gate, &[file], true)
    }

    /// CI's gate-result: the real evaluator's verdict on `files`.
    fn gate(
        &mut self,
        promotion: Digest,
        gate: &str,
        files: &[(&str, &[u8])],
    ) -> Result<Digest, ScenarioError> {
        self.judged(promotion, gate, files, false)
    }

    fn judged(
        &mut self,
        promotion: Digest,
        gate: &str,
        files: &[(&str, &[u8])],
        lie: bool,
    ) -> Result<Digest, ScenarioError> {
        let log = self.log()?;
        let state = log.state_at(self.clock);
        let p = state
            .promotions
            .get(&promotion)
            .ok_or(ScenarioError::Refused {
                step: format!("gate {gate}"),
                reason: Box::new(Refusal::UnknownPromotion(promotion)),
            })?;
        let Some(settings) = self.policy.gate(gate) else {
            return Err(ScenarioError::NoGate(gate.to_owned()));
        };
        let inputs: Vec<EvidenceFile<'_>> = files
            .iter()
            .map(|(name, bytes)| EvidenceFile { name, bytes })
            .collect();
        let mut verdict = evaluate_gate(
            settings,
            &inputs,
            Context {
                artifact: Some(&p.artifact),
            },
        );
        if lie {
            verdict.status = crate::statement::GateStatus::Pass;
            verdict.summary = "all tests passed".into();
            verdict.remediation = None;
        }
        let evidence: Vec<_> = verdict
            .inputs
            .iter()
            .map(|input| actions::evidence_ref(gate, input))
            .collect();
        let blobs = evidence
            .iter()
            .zip(files)
            .map(|(r, (_, bytes))| (r.media_type.clone(), bytes.to_vec()))
            .collect();
        let statement =
            actions::gate_result(promotion, p, gate, verdict, evidence, false, self.clock);
        self.push("ci-main", statement, blobs)
    }

    /// The snapshot statements the drift gate `gate` of `promotion` judges.
    fn bound_snapshots(
        &self,
        promotion: Digest,
        gate: &str,
    ) -> Result<Vec<(String, Vec<u8>)>, ScenarioError> {
        let log = self.log()?;
        let state = log.state_at(self.clock);
        let p = state
            .promotions
            .get(&promotion)
            .ok_or_else(|| ScenarioError::Refused {
                step: format!("gate {gate}"),
                reason: Box::new(Refusal::UnknownPromotion(promotion)),
            })?;
        Ok(crate::drift::lookup::bound_snapshots(
            self.policy,
            &state,
            log.entries.all().unwrap_or_default(),
            p,
            gate,
        )
        .map(|bound| bound.files)
        .unwrap_or_default())
    }

    /// SLSA provenance for the promoted artifact, signed by the builder.
    fn provenance(&self, promotion: Digest) -> Result<Vec<u8>, ScenarioError> {
        let log = self.log()?;
        let state = log.state_at(self.clock);
        let Some(p) = state.promotions.get(&promotion) else {
            return Err(ScenarioError::Refused {
                step: "provenance".into(),
                reason: Box::new(Refusal::UnknownPromotion(promotion)),
            });
        };
        let name = format!("{}-{}.tar.gz", p.request.service, p.request.version);
        let started = self.clock - Duration::minutes(30);
        let fmt = |t: OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let payload = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{ "name": name, "digest": { "sha256": p.artifact.to_hex() } }],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                    "externalParameters": { "workflow": {
                        "ref": "refs/heads/main", "repository": REPO,
                        "path": ".github/workflows/release.yml" } },
                    "internalParameters": {},
                    "resolvedDependencies": [{
                        "uri": format!("git+{REPO}@refs/heads/main"),
                        "digest": { "gitCommit": p.request.source.commit }
                    }]
                },
                "runDetails": {
                    "builder": { "id": "https://github.com/actions/runner/github-hosted" },
                    "metadata": {
                        "invocationId": format!("{REPO}/actions/runs/{}", self.nonces),
                        "startedOn": fmt(started),
                        "finishedOn": fmt(started + Duration::minutes(5))
                    }
                }
            }
        });
        let bytes = serde_json::to_vec(&payload).map_err(|e| ScenarioError::Sign(e.to_string()))?;
        Ok(self.signer(BUILDER)?.sign_statement(bytes).to_json())
    }

    fn deployed(
        &mut self,
        target: DeploymentTarget,
        env: &str,
        service: &str,
        artifact: Digest,
    ) -> Result<Digest, ScenarioError> {
        let statement = Statement::about(
            service,
            artifact,
            Predicate::Deployment(Deployment {
                target,
                environment: env.into(),
                service: service.into(),
                status: DeploymentStatus::Succeeded,
                at: self.clock,
            }),
        );
        self.push("ci-main", statement, Vec::new())
    }

    fn snapshot(
        &mut self,
        service: &str,
        env: &str,
        version: &str,
        drift: &Drift,
    ) -> Result<Digest, ScenarioError> {
        let map = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
            v.as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        let strings = |v: &serde_json::Value| -> BTreeMap<String, String> {
            map(v)
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect()
        };
        let artifact = artifact(service, version);
        let statement = Statement::about(
            service,
            artifact,
            Predicate::Snapshot(Snapshot {
                environment: env.into(),
                service: service.into(),
                captured_at: self.clock,
                artifact,
                config: map(&drift.config),
                flags: map(&drift.flags),
                dependencies: strings(&drift.dependencies),
                secret_fingerprints: strings(&drift.secrets)
                    .into_iter()
                    .map(|(k, label)| (k, fingerprint(&label)))
                    .collect(),
                images: BTreeMap::new(),
            }),
        );
        self.push("ci-main", statement, Vec::new())
    }

    /// `service` `version` through every environment up to `upto`: gates
    /// passed, approvals given, deployed.
    fn through(
        &mut self,
        service: &str,
        version: &str,
        upto: &str,
        evidence: &Evidence,
    ) -> Result<(), ScenarioError> {
        for env in ["dev", "staging", "prod"] {
            let p = self.request(service, version, env)?;
            if env == "prod" {
                self.snapshot(service, "staging", version, &Drift::staging())?;
                self.snapshot(service, "prod", version, &Drift::staging_scaled())?;
            }
            self.gates(p, evidence)?;
            match env {
                "staging" => {
                    self.decide("erin", &approve(p, "release notes reviewed"))?;
                }
                "prod" => {
                    self.decide("erin", &approve(p, "release notes reviewed"))?;
                    self.decide("bob", &approve(p, "security review done"))?;
                }
                _ => {}
            }
            self.deployed(
                DeploymentTarget::Promotion(p),
                env,
                service,
                artifact(service, version),
            )?;
            if env == upto {
                return Ok(());
            }
        }
        Err(ScenarioError::NoPromotion {
            service: service.into(),
            version: version.into(),
            env: upto.into(),
        })
    }
}

/// The verified log of a story, as a client sees it after a sync.
pub fn verified(
    steps: &[Step],
    keys: &Keys,
    log_key: &Signer,
    policy: &Policy,
) -> Result<VerifiedLog, ScenarioError> {
    let mut w = Writer::new(keys, log_key, policy, OffsetDateTime::UNIX_EPOCH)?;
    w.entries = steps.iter().map(|s| s.envelope.clone()).collect();
    w.log()
}
