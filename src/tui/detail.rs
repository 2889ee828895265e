//! The promotion a person looks at, judged in full ([`Detail`]): its
//! gates, approvals, drift and evidence. The lists hold every promotion in
//! brief ([`crate::state::Summary`]); the screen asks for the detail of the
//! one selected ([`Question::Detail`]), and what exactly an action would
//! sign ([`Question::Prepare`]), and the client task answers
//! ([`Answers`]), so the screen never reads the verified log, which is
//! partly on disk. Answering is pure over the verified log and the evidence
//! documents read for it: the client task fetches those first
//! ([`Answers::evidence_wanted`]).

use std::sync::Arc;

use time::OffsetDateTime;

use super::app::{App, Draft, Effect, Msg};
use super::data::DriftPane;
use super::evidence::{Evidence, Models};
use super::index::LogIndex;
use crate::client::actions::Prepared;
use crate::client::evidence::{Blob, Blobs};
use crate::client::sync::VerifiedLog;
use crate::digest::Digest;
use crate::state::Promotion;

/// One promotion judged in full, with what its tabs show.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub promotion: Promotion,
    /// The drift it would carry into its target environment.
    pub drift: DriftPane,
    /// The models of its latest gate results' evidence, by entry id.
    pub evidence: Evidence,
    /// The size of the log it was judged on.
    pub size: u64,
}

/// What the screen asks the client task.
#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    /// The detail of a promotion, judged at `at`.
    Detail {
        promotion: Digest,
        at: OffsetDateTime,
    },
    /// What `draft` would sign for `me` at `at`, or why it is refused.
    Prepare {
        draft: Draft,
        me: String,
        at: OffsetDateTime,
    },
}

/// Answers the screen's questions about the verified log on screen.
#[derive(Debug)]
pub struct Answers {
    log: Arc<VerifiedLog>,
    index: LogIndex,
    /// Evidence documents read for details of this log.
    blobs: Blobs,
    /// Evidence models, kept across logs.
    models: Models,
}

impl Answers {
    pub fn new(log: Arc<VerifiedLog>, index: LogIndex) -> Self {
        Self {
            log,
            index,
            blobs: Blobs::new(),
            models: Models::default(),
        }
    }

    /// Answers about `log` from now on (the evidence models are kept; a
    /// document that could not be read is asked for again).
    pub fn renew(&mut self, log: Arc<VerifiedLog>, index: LogIndex) {
        self.log = log;
        self.index = index;
        self.blobs.clear();
    }

    pub fn log(&self) -> &Arc<VerifiedLog> {
        &self.log
    }

    /// The evidence documents the latest gate results of `promotion` cite
    /// that were not read yet.
    pub fn evidence_wanted(&self, promotion: &Digest) -> Vec<Digest> {
        let Some(p) = self.log.folder.raw_state().promotions.get(promotion) else {
            return Vec::new();
        };
        p.gates
            .values()
            .filter_map(|gate| gate.latest.as_ref())
            .flat_map(|latest| &latest.result.evidence)
            .map(|e| e.digest)
            .filter(|digest| !self.blobs.contains_key(digest))
            .collect()
    }

    /// Keeps a document read for a detail.
    pub fn add_blob(&mut self, digest: Digest, blob: Blob) {
        self.blobs.insert(digest, blob);
    }

    /// `promotion` judged at `at`, with its tabs' content.
    pub fn detail(&mut self, promotion: &Digest, at: OffsetDateTime) -> Option<Detail> {
        let log = &self.log;
        let p = log.folder.judged_promotion(promotion, at, &log.rejudged)?;
        let policy = log.policy();
        let snapshots = self.index.latest_snapshots(log.folder.raw_state());
        let drift = DriftPane::of(policy, &p, &snapshots);
        let evidence = self.models.of_promotion(policy, &p, &self.blobs);
        Some(Detail {
            promotion: p,
            drift,
            evidence,
            size: log.tree.len(),
        })
    }

    /// What `draft` would sign for `me` at `at`, or the refusal's words
    /// (which carry the fix): the action layer's judgement, the store's.
    pub fn prepare(&self, me: &str, draft: &Draft, at: OffsetDateTime) -> Result<Prepared, String> {
        crate::client::actions::prepare(&self.log, me, &draft.to_intent(), at)
            .map_err(|r| r.to_string())
    }

    /// Answers every question among `effects` at once and gives `app` the
    /// answers (a screen without a client task: the screenshots, tests);
    /// returns the other effects, those of the answers included.
    pub fn settle(&mut self, app: &mut App, effects: Vec<Effect>) -> Vec<Effect> {
        let mut pending = effects;
        let mut out = Vec::new();
        while !pending.is_empty() {
            for effect in std::mem::take(&mut pending) {
                match effect {
                    Effect::Ask(question) => {
                        if let Some(msg) = self.answer(&question) {
                            pending.extend(app.update(msg));
                        }
                    }
                    other => out.push(other),
                }
            }
        }
        out
    }

    /// The answer to `question`, as the message the screen takes.
    pub fn answer(&mut self, question: &Question) -> Option<Msg> {
        match question {
            Question::Detail { promotion, at } => self
                .detail(promotion, *at)
                .map(|detail| Msg::Detail(Box::new(detail))),
            Question::Prepare { draft, me, at } => Some(Msg::Prepared(
                Box::new(draft.clone()),
                Box::new(self.prepare(me, draft, *at)),
            )),
        }
    }
}
