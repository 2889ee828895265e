//! A real `tollgate serve` process for end-to-end tests: the release binary's
//! sibling debug binary, real HTTPS on 127.0.0.1, SQLite or PostgreSQL, and
//! personas with their own key files and client configurations.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use tollgate::keys::file;

use super::World;

/// Which database a served store uses.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite,
    Postgres { url: String, schema: String },
}

impl Db {
    /// SQLite, and PostgreSQL when it answers (see [`super::pg`]).
    pub fn both() -> Vec<Db> {
        std::iter::once(Db::Sqlite).chain(Db::postgres()).collect()
    }

    /// A fresh schema on the tests' PostgreSQL, or `None` (one line printed)
    /// when it does not answer and `TOLLGATE_REQUIRE_POSTGRES` is not set.
    pub fn postgres() -> Option<Db> {
        let url = super::pg::url()?;
        let schema = format!("tge2e_{}", tollgate::statement::new_nonce());
        Some(Db::Postgres { url, schema })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Db::Sqlite => "sqlite",
            Db::Postgres { .. } => "postgres",
        }
    }
}

/// A running store and everything a client needs to reach it.
pub struct Served {
    pub dir: tempfile::TempDir,
    pub db: Db,
    pub policy_file: PathBuf,
    child: Option<Child>,
    twins: Vec<Child>,
    pub addr: String,
    pub pin: String,
    pub vkey: String,
    pub policy_digest: String,
}

/// Passing evidence for the test policy's gates, produced by real tools
/// (tests/fixtures/evidence/SOURCES.md): `gate submit` computes the status
/// from it.
pub fn passing_evidence(gate: &str) -> PathBuf {
    let name = match gate {
        "sast" => "ruff-clean.sarif",
        _ => "pytest-pass.xml",
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/evidence")
        .join(name)
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tollgate")
}

impl Served {
    /// CI submits passing evidence for `gate` of `promotion`.
    pub fn pass_gate(&self, promotion: &str, gate: &str) {
        let evidence = passing_evidence(gate);
        self.expect(
            0,
            "ci-main",
            &[
                "gate",
                "submit",
                promotion,
                "--gate",
                gate,
                evidence.to_str().unwrap(),
            ],
        );
    }

    pub fn start(world: &World, db: Db) -> Self {
        Self::start_with(world, db, "")
    }

    /// Starts with extra `serve.toml` text (e.g. `[[hooks]]` tables).
    pub fn start_with(world: &World, db: Db, serve_toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("serve.toml"), serve_toml).unwrap();
        let policy_file = dir.path().join("policy.toml");
        std::fs::write(&policy_file, world.policy.document()).unwrap();
        for (name, signer) in &world.signers {
            let persona = dir.path().join("people").join(name);
            file::write(&persona.join("key"), signer, false).unwrap();
        }
        let mut served = Self {
            dir,
            db,
            policy_file,
            child: None,
            twins: Vec::new(),
            addr: String::new(),
            pin: String::new(),
            vkey: String::new(),
            policy_digest: String::new(),
        };
        served.launch("127.0.0.1:0");
        for name in world.signers.keys() {
            served.write_config(name);
        }
        served
    }

    pub fn server_data(&self) -> PathBuf {
        self.dir.path().join("server")
    }

    fn launch(&mut self, listen: &str) {
        let mut command = Command::new(bin());
        command
            .args(["serve", "--self-signed", "--listen", listen, "--policy"])
            .arg(&self.policy_file)
            .arg("--serve-config")
            .arg(self.dir.path().join("serve.toml"))
            .env("TOLLGATE_DATA_DIR", self.server_data())
            .env("TOLLGATE_CONFIG_DIR", self.dir.path().join("server-config"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.path().join("server.log"))
                    .unwrap(),
            ));
        if let Db::Postgres { url, schema } = &self.db {
            command.args(["--database", url, "--schema", schema]);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let value = |line: &str, key: &str| {
            line.strip_prefix(key)
                .map(|rest| rest.trim().trim_matches('"').to_owned())
        };
        loop {
            let Some(Ok(line)) = lines.next() else {
                let log =
                    std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
                panic!("tollgate serve exited before it was ready:\n{log}");
            };
            if let Some(v) = value(&line, "store = ") {
                v.trim_start_matches("https://").clone_into(&mut self.addr);
            } else if let Some(v) = value(&line, "pin = ") {
                self.pin = v;
            } else if let Some(v) = value(&line, "log_vkey = ") {
                self.vkey = v;
            } else if let Some(v) = value(&line, "policy_digest = ") {
                self.policy_digest = v;
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    /// A second `tollgate serve` process on the same database and data
    /// directory (same log key and certificate), on another port: what a
    /// team behind a load balancer runs. Returns its address.
    pub fn start_twin(&mut self) -> String {
        let first = (self.child.take(), self.addr.clone());
        self.launch("127.0.0.1:0");
        let twin_addr = std::mem::replace(&mut self.addr, first.1);
        let twin = std::mem::replace(&mut self.child, first.0);
        self.twins.extend(twin);
        twin_addr
    }

    fn persona_dir(&self, name: &str) -> PathBuf {
        self.dir.path().join("people").join(name)
    }

    fn write_config(&self, name: &str) {
        let persona = self.persona_dir(name);
        let config = format!(
            "store = \"https://{}\"\npin = \"{}\"\nkey = \"{}\"\nlog_vkey = \"{}\"\npolicy_digest = \"{}\"\n",
            self.addr,
            self.pin,
            persona.join("key").display(),
            self.vkey,
            self.policy_digest
        );
        std::fs::create_dir_all(persona.join("config")).unwrap();
        std::fs::write(persona.join("config").join("config.toml"), config).unwrap();
    }

    /// Runs the CLI as `persona`.
    pub fn run(&self, persona: &str, args: &[&str]) -> Output {
        let dir = self.persona_dir(persona);
        Command::new(bin())
            .args(args)
            .env("TOLLGATE_CONFIG_DIR", dir.join("config"))
            .env("TOLLGATE_DATA_DIR", dir.join("data"))
            .env("TOLLGATE_CACHE_DIR", dir.join("cache"))
            .env_remove("TOLLGATE_KEY")
            .env_remove("TOLLGATE_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs the CLI as `persona` and expects exit code `code`.
    pub fn expect(&self, code: i32, persona: &str, args: &[&str]) -> String {
        let out = self.run(persona, args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "`tollgate {}` as {persona} ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
            args.join(" "),
            self.db.name()
        );
        format!("{stdout}{stderr}")
    }

    /// The `entry id:` a submitting command printed.
    pub fn entry_id(output: &str) -> String {
        output
            .lines()
            .find_map(|l| l.strip_prefix("entry id:").map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("no entry id in:\n{output}"))
    }

    /// kill -9: no shutdown, no flush.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server is running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().unwrap()
    }

    /// Starts the same store again on the same address.
    pub fn restart(&mut self) {
        let addr = self.addr.clone();
        self.launch(&addr);
    }

    /// The process id of the (first) serve process.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is running").id()
    }

    pub fn data_path(&self, persona: &str) -> PathBuf {
        self.persona_dir(persona).join("data")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.kill9();
        for mut twin in self.twins.drain(..) {
            let _ = twin.kill();
            let _ = twin.wait();
        }
        if let Db::Postgres { url, schema } = &self.db {
            let _ = Command::new("psql")
                .arg(url)
                .args(["-qc", &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")])
                .output();
        }
    }
}

/// Story steps several tests share.
impl Served {
    /// payments 1.4.2 through dev (gated, deployed) and requested into
    /// staging with its gate passed: waiting for a release manager. Returns
    /// the staging promotion's id.
    pub fn staging_waiting_for_approval(&self) -> String {
        let artifact = tollgate::digest::Digest::of(b"payments 1.4.2").to_string();
        let request = |from: Option<&str>, to: &str| {
            let mut args = vec![
                "promote",
                "request",
                "--service",
                "payments",
                "--version",
                "1.4.2",
                "--digest",
                &artifact,
                "--to",
                to,
                "--repo",
                "git@example.com:payments.git",
                "--commit",
                "4f2a9c1",
            ];
            if let Some(from) = from {
                args.extend(["--from", from]);
            }
            Self::entry_id(&self.expect(0, "ci-main", &args))
        };
        let dev = request(None, "dev");
        self.pass_gate(&dev, "unit-tests");
        self.expect(0, "ci-main", &["deployed", &dev, "--status", "succeeded"]);
        let staging = request(Some("dev"), "staging");
        self.pass_gate(&staging, "unit-tests");
        staging
    }
}

/// Raw access for tests that play a client or a dishonest operator.
impl Served {
    /// A store client signing as `persona`, trusting the store's pin.
    pub fn client(&self, persona: &str) -> tollgate::client::http::StoreClient {
        let signer = file::read(&self.path().join("people").join(persona).join("key")).unwrap();
        let trust = tollgate::tls::Trust::Pin(tollgate::tls::parse_pin(&self.pin).unwrap());
        tollgate::client::http::StoreClient::with_trust(
            &format!("https://{}", self.addr),
            &trust,
            std::sync::Arc::new(signer),
        )
        .unwrap()
    }

    /// The `n`th of many distinct promotion requests of service `web` to
    /// dev, signed by CI, not sent.
    pub fn request_envelope(&self, n: usize) -> Vec<u8> {
        use tollgate::statement::{Predicate, PromotionRequest, SourceRef, Statement, new_nonce};
        let signer = file::read(&self.path().join("people/ci-main/key")).unwrap();
        let statement = Statement::about(
            "web",
            tollgate::digest::Digest::of(format!("artifact-{n}").as_bytes()),
            Predicate::PromotionRequest(PromotionRequest {
                service: "web".into(),
                version: format!("1.0.{n}"),
                from: None,
                to: "dev".into(),
                source: SourceRef {
                    repo: "git@example.com:web.git".into(),
                    commit: "0".into(),
                },
                release_notes: None,
                requested_at: time::OffsetDateTime::now_utc(),
                nonce: new_nonce(),
            }),
        );
        signer.sign_statement(statement.to_payload()).to_json()
    }

    /// What a dishonest operator does: stop the store, delete its log, and
    /// start it again on the same address (same log key), empty.
    pub fn wipe_database(&mut self) {
        self.stop();
        match &self.db {
            Db::Sqlite => {
                for name in ["store.db", "store.db-wal", "store.db-shm"] {
                    let _ = std::fs::remove_file(self.server_data().join(name));
                }
            }
            Db::Postgres { url, schema } => {
                let status = Command::new("psql")
                    .arg(url)
                    .args(["-qc", &format!("DROP SCHEMA {schema} CASCADE")])
                    .status()
                    .unwrap();
                assert!(status.success());
            }
        }
        self.restart();
    }
}

/// Opens a store with `config` and serves it in this process over HTTPS on
/// 127.0.0.1 (a free port) with `identity`, as `tollgate serve` does: for
/// the benches that time clients against it.
pub async fn serve_in_process(
    config: tollgate::store::StoreConfig,
    identity: &tollgate::tls::Identity,
) -> (
    tollgate::store::Store,
    tollgate::store::server::RunningServer,
) {
    let store = tollgate::store::Store::open(config).await.unwrap();
    let running = tollgate::store::server::start(
        store.clone(),
        identity,
        "127.0.0.1:0".parse().unwrap(),
        tollgate::store::server::Limits::default(),
    )
    .await
    .unwrap();
    (store, running)
}
