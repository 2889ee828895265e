//! The store's witness client: asks the `[[witnesses]]` of `serve.toml` to
//! cosign each new checkpoint (C2SP `tlog-witness` `add-checkpoint`, with a
//! consistency proof from the size each witness last cosigned) and appends
//! their `cosignature/v1` lines to the note it serves.
//!
//! DECISION (issue 6 item 7): with witnesses configured, the store
//! acknowledges an entry only once its batch's checkpoint carries
//! `witness_quorum` valid cosignatures (default: every configured witness),
//! so every receipt checkpoint is cosigned and `GET /v1/checkpoint` only
//! ever serves a cosigned note. Cosigning runs at most once per group
//! commit, never per entry, and is pipelined: while one round is out with
//! the witnesses, the committer already commits the next batches; the next
//! round cosigns the latest checkpoint, covering all of them, and their
//! acknowledgements are released, in log order, only once a cosigned
//! checkpoint covers them. When the quorum is not reached within a bounded wait, the
//! batch's submitters get 503 `witnesses_unavailable`; their entries are
//! committed and come back as "existed" with a cosigned receipt when the
//! same entry is submitted again after the witnesses answer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::join_all;

use super::error::DatabaseError;
use crate::keys::vkey::NoteVerifierKey;
use crate::ledger::cosignature::{CosignerKey, find_cosignature};
use crate::ledger::{Hash, Note, SignedCheckpoint};
use crate::tls::Trust;
use crate::tls::client_config;

/// How long one `add-checkpoint` request may take (connect included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest a batch waits for one witness (all are asked at once), so
/// an unreachable witness delays acknowledgements by at most this.
pub const COSIGN_WAIT: Duration = Duration::from_secs(10);

/// Requests per witness per checkpoint: the first may learn the witness's
/// size from a 409, the second uses it; a third covers a race with another
/// store instance.
const ATTEMPTS: usize = 3;

/// One configured witness.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// `https://host[:port]` (the `add-checkpoint` path is appended).
    pub url: String,
    pub key: CosignerKey,
    pub trust: Trust,
}

#[derive(Debug)]
struct Endpoint {
    url: String,
    key: CosignerKey,
    http: reqwest::Client,
    /// The size this witness last cosigned, as far as we know (0: unknown).
    known: AtomicU64,
}

/// The witnesses of a store and the quorum it waits for.
#[derive(Debug)]
pub struct Witnesses {
    endpoints: Vec<Endpoint>,
    quorum: usize,
}

/// A consistency proof from an older size to the checkpoint's size.
pub type ProofSource<'a> = dyn Fn(u64) -> Result<Vec<Hash>, String> + Sync + 'a;

impl Witnesses {
    /// Checks the list and the quorum (1 ≤ quorum ≤ witnesses) and builds
    /// one HTTPS client per witness.
    pub fn new(list: Vec<WitnessEndpoint>, quorum: usize) -> Result<Self, DatabaseError> {
        if quorum == 0 || quorum > list.len() {
            return Err(DatabaseError::Config(format!(
                "witness_quorum is {quorum} but {} witnesses are configured; set it between 1 and the number of [[witnesses]]",
                list.len()
            )));
        }
        let mut endpoints = Vec::with_capacity(list.len());
        for w in list {
            if endpoints.iter().any(|e: &Endpoint| e.key == w.key) {
                return Err(DatabaseError::Config(format!(
                    "witness {} is configured twice; each [[witnesses]] needs its own vkey",
                    w.key
                )));
            }
            let tls = client_config(&w.trust)
                .map_err(|e| DatabaseError::Config(format!("witness {}: {e}", w.url)))?;
            let http = reqwest::Client::builder()
                .use_preconfigured_tls(tls)
                .https_only(true)
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .user_agent(concat!("tollgate/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| DatabaseError::Config(format!("witness {}: {e}", w.url)))?;
            endpoints.push(Endpoint {
                url: w.url.trim_end_matches('/').to_owned(),
                key: w.key,
                http,
                known: AtomicU64::new(0),
            });
        }
        Ok(Self { endpoints, quorum })
    }

    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Whether a witness is known to have cosigned a checkpoint larger
    /// than `size` (another store instance's, on a shared database).
    pub fn has_cosigned_beyond(&self, size: u64) -> bool {
        self.endpoints
            .iter()
            .any(|e| e.known.load(Ordering::Acquire) > size)
    }

    pub fn keys(&self) -> Vec<CosignerKey> {
        self.endpoints.iter().map(|e| e.key.clone()).collect()
    }

    /// Asks every witness at once to cosign `checkpoint`; returns the note
    /// with the cosignatures appended once at least the quorum answered,
    /// or what each witness said.
    pub async fn cosign(
        &self,
        checkpoint: &SignedCheckpoint,
        log_key: &NoteVerifierKey,
        proof: &ProofSource<'_>,
    ) -> Result<SignedCheckpoint, String> {
        let note = checkpoint.as_bytes();
        let size = checkpoint.checkpoint().size;
        let answers = join_all(self.endpoints.iter().map(|endpoint| async move {
            tokio::time::timeout(COSIGN_WAIT, ask(endpoint, note, size, proof))
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {} s", COSIGN_WAIT.as_secs())))
        }))
        .await;
        let mut cosigned = note.to_vec();
        let mut good = 0;
        let mut problems = Vec::new();
        for (endpoint, answer) in self.endpoints.iter().zip(answers) {
            match answer {
                Ok(line) => {
                    cosigned.extend_from_slice(line.as_bytes());
                    good += 1;
                }
                Err(problem) => problems.push(format!("{}: {problem}", endpoint.url)),
            }
        }
        if good < self.quorum {
            return Err(format!(
                "{good} of {} witnesses cosigned the checkpoint of size {size}, {} needed ({})",
                self.endpoints.len(),
                self.quorum,
                problems.join("; ")
            ));
        }
        SignedCheckpoint::parse_and_verify(&cosigned, log_key).map_err(|e| e.to_string())
    }
}

/// One witness's cosignature line for the note, after at most [`ATTEMPTS`]
/// requests.
async fn ask(
    endpoint: &Endpoint,
    note: &[u8],
    size: u64,
    proof: &ProofSource<'_>,
) -> Result<String, String> {
    let mut old = endpoint.known.load(Ordering::Acquire);
    for _ in 0..ATTEMPTS {
        if old > size {
            return Err(format!(
                "it has cosigned size {old}, beyond this checkpoint's {size}"
            ));
        }
        let hashes = if old == 0 || old == size {
            Vec::new()
        } else {
            proof(old)?
        };
        let mut body = format!("old {old}\n");
        for hash in &hashes {
            body.push_str(&crate::encoding::encode(hash));
            body.push('\n');
        }
        body.push('\n');
        let mut body = body.into_bytes();
        body.extend_from_slice(note);
        let response = endpoint
            .http
            .post(format!("{}/add-checkpoint", endpoint.url))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("unreachable ({e})"))?;
        let status = response.status().as_u16();
        let size_answer = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/x.tlog.size"));
        let text = response
            .text()
            .await
            .map_err(|e| format!("answer unreadable ({e})"))?;
        match status {
            200 => {
                let line = verified_line(note, &text, &endpoint.key)?;
                endpoint.known.store(size, Ordering::Release);
                return Ok(line);
            }
            409 if size_answer => {
                let stored = text
                    .trim_end_matches('\n')
                    .parse::<u64>()
                    .map_err(|_| format!("409 with a size that is not a number: {text:?}"))?;
                if stored == old {
                    return Err(format!(
                        "409: it refuses size {size} as inconsistent with size {stored} it cosigned"
                    ));
                }
                endpoint.known.store(stored, Ordering::Release);
                old = stored;
            }
            _ => {
                let short: String = text.chars().take(300).collect();
                return Err(format!("answered {status}: {}", short.trim_end()));
            }
        }
    }
    Err("its size kept changing; try again".to_owned())
}

/// The cosignature line by `key` in a witness's answer, verified.
fn verified_line(note: &[u8], answer: &str, key: &CosignerKey) -> Result<String, String> {
    if answer.is_empty() || !answer.ends_with('\n') {
        return Err("answered 200 without signature lines".to_owned());
    }
    let mut combined = note.to_vec();
    combined.extend_from_slice(answer.as_bytes());
    let parsed = Note::parse(&combined).map_err(|e| format!("answered a bad note line: {e}"))?;
    match find_cosignature(&parsed, key) {
        Ok(Some(cosignature)) => Ok(cosignature.to_line()),
        Ok(None) => Err("answered 200 without a cosignature by its configured key".to_owned()),
        Err(e) => Err(format!("answered an invalid cosignature: {e}")),
    }
}

/// What one cosigning round did.
#[derive(Debug)]
pub(super) enum Cosigned {
    /// The latest committed checkpoint was already served cosigned (or the
    /// store has no witnesses).
    AlreadyServed,
    /// The checkpoint now carries the quorum and is served and announced;
    /// the note is still to be recorded in the database.
    Served(SignedCheckpoint),
    /// The quorum was not reached for the checkpoint of `size`.
    Failed { size: u64, why: String },
}

/// Asks the witnesses to cosign the latest committed checkpoint if it is
/// not served yet; on success serves and announces the cosigned note (the
/// caller records it, see [`record`]). Only one round runs at a time (the
/// committer's), because a witness takes a log's checkpoints in order; it
/// may run while the committer commits the next batch, as the tree only
/// ever grows past the checkpoint being cosigned.
pub(super) async fn cosign_latest(shared: &super::pipeline::Shared) -> Cosigned {
    use super::pipeline::read;
    let Some(witnesses) = shared.witnesses.as_ref() else {
        return Cosigned::AlreadyServed;
    };
    let checkpoint = {
        let published = read(&shared.published);
        if published.served_ok && published.served.checkpoint() == published.checkpoint.checkpoint()
        {
            return Cosigned::AlreadyServed;
        }
        published.checkpoint.clone()
    };
    let size = checkpoint.checkpoint().size;
    let proof = |old: u64| {
        read(&shared.published)
            .tree
            .consistency_proof(old, size)
            .map_err(|e| e.to_string())
    };
    let cosigned = match witnesses.cosign(&checkpoint, &shared.log_key, &proof).await {
        Ok(cosigned) => cosigned,
        Err(why) => {
            tracing::warn!(size, %why, "the checkpoint is not cosigned; its entries are not acknowledged yet");
            return Cosigned::Failed { size, why };
        }
    };
    {
        let mut published = shared
            .published
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        published.served = cosigned.clone();
        published.served_ok = true;
    }
    let _ = shared.events.send(cosigned.clone());
    Cosigned::Served(cosigned)
}

/// Records a cosigned note in place of its checkpoint's log-signed one, in
/// a transaction of its own (the committer normally folds this into its
/// next append transaction instead). Failing to record is not fatal: the
/// cosignatures are valid and served, and after a restart the store asks
/// the witnesses again.
pub(super) async fn record(shared: &super::pipeline::Shared, note: &SignedCheckpoint) {
    let size = note.checkpoint().size;
    if let Err(error) = shared
        .storage
        .put_cosigned_checkpoint(size, note.as_bytes())
        .await
    {
        tracing::warn!(%error, size, "cannot record the cosigned checkpoint");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Signer;
    use crate::ledger::Checkpoint;
    use crate::ledger::cosignature::Cosignature;

    #[test]
    fn only_a_valid_line_by_the_configured_key_is_taken_from_an_answer() {
        let log = Signer::generate("audit.test/tollgate");
        let note = SignedCheckpoint::sign(
            &Checkpoint {
                origin: "audit.test/tollgate".into(),
                size: 3,
                root: [9; 32],
            },
            &log,
        )
        .unwrap();
        let text = Note::parse(note.as_bytes()).unwrap().text().to_owned();
        let w1 = Signer::generate("w1");
        let key = CosignerKey::of_signer(&w1).unwrap();
        let good = Cosignature::sign(&w1, &text, 1_700_000_000)
            .unwrap()
            .to_line();
        let other = Cosignature::sign(&Signer::generate("w2"), &text, 1_700_000_000)
            .unwrap()
            .to_line();
        // Extra lines by other keys are ignored; ours is returned.
        assert_eq!(
            verified_line(note.as_bytes(), &format!("{other}{good}"), &key).unwrap(),
            good
        );
        let e = verified_line(note.as_bytes(), &other, &key).unwrap_err();
        assert!(
            e.contains("without a cosignature by its configured key"),
            "{e}"
        );
        // A cosignature over another checkpoint does not verify.
        let elsewhere = Cosignature::sign(&w1, "audit.test/tollgate\n4\nAAAA\n", 1)
            .unwrap()
            .to_line();
        let e = verified_line(note.as_bytes(), &elsewhere, &key).unwrap_err();
        assert!(e.contains("invalid cosignature"), "{e}");
        for junk in ["", "ok", "\u{2014} w1 !!!\n"] {
            assert!(
                verified_line(note.as_bytes(), junk, &key).is_err(),
                "{junk:?}"
            );
        }
    }

    #[test]
    fn the_quorum_must_fit_the_witnesses() {
        let endpoint = |name: &str| WitnessEndpoint {
            url: "https://127.0.0.1:1".into(),
            key: CosignerKey::of_signer(&Signer::generate(name)).unwrap(),
            trust: Trust::Pin([1; 32]),
        };
        assert!(Witnesses::new(vec![endpoint("w1"), endpoint("w2")], 2).is_ok());
        for quorum in [0, 3] {
            let e = Witnesses::new(vec![endpoint("w1"), endpoint("w2")], quorum).unwrap_err();
            assert!(e.to_string().contains("set it between 1 and"), "{e}");
        }
        let one = endpoint("w1");
        let e = Witnesses::new(vec![one.clone(), one], 1).unwrap_err();
        assert!(e.to_string().contains("configured twice"), "{e}");
    }
}
