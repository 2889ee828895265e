//! The cockpit without a terminal: every view and detail tab rendered on
//! ratatui's `TestBackend` at 120×40 from a log of real signed entries
//! (insta snapshots, ids filtered), the styles that carry meaning, and
//! flows driven by key events: filter, read-only, and the dialogs that
//! produce what will be signed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use time::Duration;

use tollgate::digest::Digest;
use tollgate::statement::GateStatus;
use tollgate::tui::app::{App, DetailTab, Draft, Effect, Msg, RowKey, View};
use tollgate::tui::render;

use crate::common::{Cockpit, World};

/// The scenario: app 0.9 and 1.0 ran in prod (so 0.9 is the last known
/// good), app 2.0 waits in prod for a release manager with sast failed,
/// web waits in dev for its unit tests.
struct Scenario {
    world: World,
    v1: Digest,
    v09: Digest,
    prod_v2: Digest,
    web_dev: Digest,
}

fn scenario() -> Scenario {
    let mut world = World::new();
    let v09 = Digest::of(b"app 0.9");
    let v1 = Digest::of(b"app 1.0");
    let v2 = Digest::of(b"app 2.0");
    world.through("app", v09, "prod");
    world.through("app", v1, "prod");
    world.through("app", v2, "staging");
    let prod_v2 = world.request("ci-main", "app", v2, Some("staging"), "prod");
    world.gate(prod_v2, "unit-tests", GateStatus::Pass);
    world.gate(prod_v2, "sast", GateStatus::Fail);
    world.approve("dana", "security", prod_v2);
    let web = Digest::of(b"web 3.1");
    let web_dev = world.request("ci-main", "web", web, None, "dev");
    Scenario {
        world,
        v1,
        v09,
        prod_v2,
        web_dev,
    }
}

fn app_for(s: &Scenario, me: &str, read_only: bool, no_color: bool) -> Cockpit {
    Cockpit::on(
        s.world.verified_log(),
        me,
        read_only,
        no_color,
        s.world.clock,
    )
}

/// The drafts of the submissions among `effects`.
fn drafts(effects: &[Effect]) -> Vec<Draft> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Submit(s) => Some(s.draft.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn key(app: &mut Cockpit, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut Cockpit, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn draw(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|f| render::draw(app, f)).unwrap();
    terminal
}

/// Ids and digests are random per run (fresh keys and nonces): filter them.
pub(crate) fn snapshot(name: &str, app: &App) {
    let terminal = draw(app);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[digest]");
    settings.add_filter(r"\b[0-9a-f]{8,12}\b", "[id]");
    // Ids cut short at the edge of a column.
    settings.add_filter(
        r"\b(for|approve|reject|revoke|promotion|rollback) [0-9a-f]{1,12}│",
        "$1 [id]│",
    );
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, terminal.backend()));
}

pub(crate) fn select(app: &mut Cockpit, pred: impl Fn(&RowKey) -> bool) {
    key(app, KeyCode::Char('g'));
    for _ in 0..app.rows.len() {
        if app.selected_row().as_ref().is_some_and(&pred) {
            return;
        }
        key(app, KeyCode::Char('j'));
    }
    panic!("no row matches");
}

pub(crate) fn select_promotion(app: &mut Cockpit, id: Digest) {
    key(app, KeyCode::Char('2'));
    select(app, |r| *r == RowKey::Promotion(id));
}

#[test]
fn every_view_renders() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    snapshot("view_inbox", &app);
    key(&mut app, KeyCode::Char('2'));
    snapshot("view_promotions", &app);
    key(&mut app, KeyCode::Char('3'));
    snapshot("view_environments", &app);
    key(&mut app, KeyCode::Char('4'));
    snapshot("view_audit", &app);
}

#[test]
fn every_detail_tab_renders() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    select_promotion(&mut app, s.prod_v2);
    for (tab, name) in [
        (DetailTab::Gates, "tab_gates"),
        (DetailTab::Approvals, "tab_approvals"),
        (DetailTab::Drift, "tab_drift"),
        (DetailTab::Evidence, "tab_evidence"),
        (DetailTab::Timeline, "tab_timeline"),
    ] {
        assert_eq!(app.tab, tab);
        snapshot(name, &app);
        key(&mut app, KeyCode::Char('l'));
    }
}

#[test]
fn inbox_is_role_aware() {
    let s = scenario();
    let alice = app_for(&s, "alice", false, false);
    // alice (release-manager) sees app 2.0 → prod waiting for her role,
    // and may roll back app in prod.
    let text = format!("{:?}", alice.rows);
    assert!(text.contains("WaitingForMe"), "{text}");
    assert!(text.contains("RollbackCandidates"), "{text}");
    // carol (oncall) is not asked to approve anything.
    let carol = app_for(&s, "carol", false, false);
    assert!(!format!("{:?}", carol.rows).contains("WaitingForMe"));
}

#[test]
fn a_failed_gate_is_red_bold_and_has_a_glyph_and_no_color_keeps_the_glyph_and_bold() {
    let s = scenario();
    for no_color in [false, true] {
        let mut app = app_for(&s, "alice", false, no_color);
        select_promotion(&mut app, s.prod_v2);
        let terminal = draw(&app);
        let buffer = terminal.backend().buffer();
        let area = buffer.area;
        let cross = (0..area.height)
            .flat_map(|y| (66..area.width).map(move |x| (x, y)))
            .find(|(x, y)| buffer[(*x, *y)].symbol() == "✖")
            .expect("a ✖ glyph in the gates tab");
        let cell = &buffer[cross];
        assert!(cell.modifier.contains(Modifier::BOLD));
        if no_color {
            assert_eq!(cell.fg, Color::Reset);
        } else {
            assert_eq!(cell.fg, Color::Red);
        }
    }
}

#[test]
fn the_selected_row_is_styled_and_an_alarm_cannot_be_missed() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, true);
    key(&mut app, KeyCode::Char('2'));
    let terminal = draw(&app);
    let buffer = terminal.backend().buffer();
    // mono: the selection is reverse video. Row 0 of the list is at y=4.
    assert!(buffer[(2, 4)].modifier.contains(Modifier::REVERSED));

    app.update(Msg::Alarm(
        "the log was rewound from 40 to 12 entries".into(),
    ));
    snapshot("alarm_banner", &app);
}

#[test]
fn a_small_terminal_says_so() {
    let s = scenario();
    let app = app_for(&s, "alice", false, false);
    let mut terminal = Terminal::new(TestBackend::new(60, 10)).unwrap();
    terminal.draw(|f| render::draw(&app, f)).unwrap();
    let text = format!("{}", terminal.backend());
    assert!(text.contains("Terminal too small"), "{text}");
}

#[test]
fn help_is_generated_from_the_keymap() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    key(&mut app, KeyCode::Char('?'));
    snapshot("help", &app);
    key(&mut app, KeyCode::Esc);
    assert!(app.popups.is_empty());
}

#[test]
fn filter_narrows_the_list_and_esc_clears_it() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    key(&mut app, KeyCode::Char('2'));
    let all = app.rows.len();
    key(&mut app, KeyCode::Char('/'));
    typed(&mut app, "web");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.rows.to_vec(), vec![RowKey::Promotion(s.web_dev)]);
    // n/N move between matches; with one match they stay.
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.selected_row(), Some(RowKey::Promotion(s.web_dev)));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.rows.len(), all);
}

#[test]
fn read_only_blocks_every_action() {
    let s = scenario();
    let mut app = app_for(&s, "alice", true, false);
    select_promotion(&mut app, s.prod_v2);
    for k in ['a', 'x', 'v', 'w', 'R'] {
        let effects = key(&mut app, KeyCode::Char(k));
        assert!(effects.is_empty(), "{k}: {effects:?}");
        assert!(app.popups.is_empty(), "{k} opened a dialog");
        assert!(app.status.as_deref().unwrap_or("").contains("Read-only"));
    }
    // Not through the palette either.
    key(&mut app, KeyCode::Char(':'));
    typed(&mut app, "Approve");
    key(&mut app, KeyCode::Enter);
    assert!(app.popups.is_empty());
    // And the confirmed path refuses too.
    let prepared = tollgate::client::actions::prepare(
        &s.world.verified_log(),
        "alice",
        &tollgate::client::actions::Intent::Approve {
            promotion: s.prod_v2,
            role: None,
            rationale: "x".into(),
        },
        s.world.clock,
    )
    .unwrap();
    app.confirmed(tollgate::tui::app::Submission {
        draft: Draft::Approve {
            promotion: s.prod_v2,
            rationale: "x".into(),
        },
        prepared,
    });
    let effects = key(&mut app, KeyCode::Char('j'));
    assert!(effects.is_empty());
    let hints = format!("{}", draw(&app).backend());
    assert!(hints.contains("READ-ONLY"));
    assert!(!hints.contains("approve"), "{hints}");
}

/// Opens the dialog with `k`, types the rationale, then returns the effects
/// of moving to "Yes" and pressing Enter.
fn sign(app: &mut Cockpit, k: char, rationale: &str) -> Vec<Effect> {
    key(app, KeyCode::Char(k));
    assert_eq!(
        app.popups.len(),
        1,
        "{k} opened no prompt: {:?}",
        app.status
    );
    typed(app, rationale);
    key(app, KeyCode::Enter);
    assert_eq!(app.popups.len(), 1, "no confirm dialog: {:?}", app.popups);
    key(app, KeyCode::Tab);
    key(app, KeyCode::Enter)
}

#[test]
fn approve_shows_what_will_be_signed_and_focus_starts_on_no() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    select_promotion(&mut app, s.prod_v2);
    key(&mut app, KeyCode::Char('a'));
    typed(&mut app, "release notes reviewed");
    key(&mut app, KeyCode::Enter);
    snapshot("confirm_approve", &app);
    // Enter right away answers "No".
    let effects = key(&mut app, KeyCode::Enter);
    assert!(effects.is_empty());
    assert!(app.popups.is_empty());

    let effects = sign(&mut app, 'a', "release notes reviewed");
    assert_eq!(
        drafts(&effects),
        vec![Draft::Approve {
            promotion: s.prod_v2,
            rationale: "release notes reviewed".into()
        }]
    );
}

/// The confirmed approval, signed by alice's real key into an outbox in a
/// temporary directory: the statement the dialog showed, verifiable under
/// the policy, an approval of that promotion.
#[test]
fn a_confirmed_approval_lands_signed_in_the_outbox() {
    use tollgate::client::outbox::Outbox;
    use tollgate::statement::{DecisionAction, Predicate};
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    select_promotion(&mut app, s.prod_v2);
    let effects = sign(&mut app, 'a', "release notes reviewed");
    let [Effect::Submit(submission)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(dir.path());
    let item = tollgate::tui::prepare::sign_and_queue(
        &s.world.signers["alice"],
        &outbox,
        &submission.prepared,
        s.world.clock,
    )
    .unwrap();
    assert_eq!(outbox.counts().unwrap().queued, 1);
    assert_eq!(item.promotion_id, Some(s.prod_v2));
    let entry = s
        .world
        .ring
        .verify(99, &item.envelope_bytes().unwrap())
        .unwrap();
    assert_eq!(entry.signer, "alice");
    assert_eq!(entry.statement, submission.prepared.statement);
    let Predicate::Decision(d) = &entry.statement.predicate else {
        panic!("{:?}", entry.statement);
    };
    assert_eq!(
        d.action,
        DecisionAction::Approve {
            promotion: s.prod_v2
        }
    );
    assert_eq!(d.role, "release-manager");
    assert_eq!(d.rationale, "release notes reviewed");
    // And the store's own fold accepts it.
    let mut folder = s.world.folder();
    folder.apply(&entry).unwrap();
}

#[test]
fn reject_and_waive_produce_their_drafts() {
    let s = scenario();
    let mut app = app_for(&s, "dana", false, false);
    select_promotion(&mut app, s.prod_v2);
    assert_eq!(
        drafts(&sign(&mut app, 'x', "sast findings are real")),
        vec![Draft::Reject {
            promotion: s.prod_v2,
            rationale: "sast findings are real".into()
        }]
    );
    assert_eq!(
        drafts(&sign(&mut app, 'w', "false positive, fix in 2.0.1")),
        vec![Draft::Waive {
            promotion: s.prod_v2,
            gate: "sast".into(),
            ttl: Duration::hours(24),
            rationale: "false positive, fix in 2.0.1".into()
        }]
    );
}

#[test]
fn revoke_finds_my_own_decision() {
    let s = scenario();
    let mut app = app_for(&s, "dana", false, false);
    select_promotion(&mut app, s.prod_v2);
    let mine = app.selected_promotion().unwrap().approvals[0].decision.id;
    assert_eq!(
        drafts(&sign(&mut app, 'v', "approved too early")),
        vec![Draft::Revoke {
            decision: mine,
            rationale: "approved too early".into()
        }]
    );
    // alice has no decision there: a refusal with the reason, nothing signed.
    let mut app = app_for(&s, "alice", false, false);
    select_promotion(&mut app, s.prod_v2);
    let effects = key(&mut app, KeyCode::Char('v'));
    assert!(effects.is_empty());
    assert!(format!("{:?}", app.popups).contains("no standing decision"));
}

#[test]
fn my_own_request_is_refused_before_signing() {
    let mut s = scenario();
    let own = s
        .world
        .request("alice", "api", Digest::of(b"api 1"), Some("dev"), "staging");
    let mut app = app_for(&s, "alice", false, false);
    select_promotion(&mut app, own);
    key(&mut app, KeyCode::Char('a'));
    typed(&mut app, "mine");
    let effects = key(&mut app, KeyCode::Enter);
    assert!(effects.is_empty());
    assert!(
        format!("{:?}", app.popups).contains("cannot approve"),
        "{:?}",
        app.popups
    );
}

#[test]
fn rollback_proposes_the_last_known_good_and_wants_the_environment_typed() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    key(&mut app, KeyCode::Char('3'));
    select(&mut app, |r| {
        *r == RowKey::Service {
            environment: "prod".into(),
            service: "app".into(),
        }
    });
    key(&mut app, KeyCode::Char('R'));
    typed(&mut app, "1.0 breaks checkout");
    key(&mut app, KeyCode::Enter);
    snapshot("confirm_rollback", &app);
    // Yes without the typed name does nothing.
    key(&mut app, KeyCode::Tab);
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert_eq!(app.popups.len(), 1);
    typed(&mut app, "prod");
    let effects = key(&mut app, KeyCode::Enter);
    assert_eq!(
        drafts(&effects),
        vec![Draft::Rollback {
            environment: "prod".into(),
            service: "app".into(),
            to: Some(s.v09),
            rationale: "1.0 breaks checkout".into()
        }]
    );
    assert_ne!(s.v09, s.v1);
}

#[test]
fn quit_keys_and_views() {
    let s = scenario();
    let mut app = app_for(&s, "alice", false, false);
    key(&mut app, KeyCode::Char('4'));
    assert_eq!(app.view, View::Audit);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Audit);
    assert_eq!(key(&mut app, KeyCode::Char('q')), vec![Effect::Quit]);
    let mut app = app_for(&s, "alice", false, false);
    let effects = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(effects, vec![Effect::Quit]);
}

/// `tollgate ui` with an invalid user file in the config directory stops
/// before touching the terminal: exit 2, file:line:column and the value.
#[test]
fn an_invalid_user_keymap_or_theme_stops_the_binary_with_its_location() {
    for (file, fixture, want) in [
        (
            "keymap.toml",
            include_str!("../fixtures/tui/keymap-bad-action.toml"),
            "keymap.toml:3:7: unknown action `Aprove`",
        ),
        (
            "theme.toml",
            include_str!("../fixtures/tui/theme-bad-color.toml"),
            "theme.toml:2:15: `reddish` is not a colour",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(file), fixture).unwrap();
        let out = std::process::Command::new(crate::common::served::bin())
            .arg("ui")
            .env("TOLLGATE_CONFIG_DIR", dir.path())
            .env("TOLLGATE_DATA_DIR", dir.path())
            .env_remove("TOLLGATE_CONFIG")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(want), "{stderr}");
    }
}

/// A deployment reported while its promotion was not ready is an audit
/// finding: flagged in the Environments list and spelled out in its detail.
#[test]
fn an_unapproved_deployment_is_a_finding_in_environments() {
    let mut s = scenario();
    s.world.deployed(s.web_dev, true);
    let mut app = app_for(&s, "alice", false, false);
    key(&mut app, KeyCode::Char('3'));
    select(&mut app, |r| {
        *r == RowKey::Service {
            environment: "dev".into(),
            service: "web".into(),
        }
    });
    let screen = format!("{}", draw(&app).backend());
    assert!(screen.contains("! 1"), "{screen}");
    assert!(screen.contains("unapproved deployment"), "{screen}");
}

/// The real binary in a pseudo-terminal against a real `tollgate serve`
/// (HTTPS, SQLite): alice opens the cockpit, her inbox shows the promotion
/// waiting for her role, she approves it through the dialogs, the outbox
/// delivers it, `q` quits, and the store's log makes the promotion ready.
#[test]
fn the_real_cockpit_shows_the_inbox_and_approves_through_the_outbox() {
    use crate::common::served::{Db, Served};

    let world = World::new();
    let served = Served::start(&world, Db::Sqlite);
    let staging = served.staging_waiting_for_approval();

    let persona = served.data_path("alice");
    let persona = persona.parent().unwrap();
    let mut cockpit = crate::common::pty::Pty::start(
        &[],
        &[
            ("TOLLGATE_CONFIG_DIR", &persona.join("config")),
            ("TOLLGATE_DATA_DIR", &persona.join("data")),
            ("TOLLGATE_CACHE_DIR", &persona.join("cache")),
        ],
    );
    cockpit.wait_for("Inbox — alice");
    let contents = cockpit.wait_for("Waiting for my role");
    assert!(contents.contains("payments 1.4.2 → staging"), "{contents}");
    assert!(contents.contains("[release-manager]"), "{contents}");
    // Approve it from the cockpit: rationale, then "Yes" in the confirm
    // dialog; the outbox signs, stores and delivers it, the receipt is kept.
    cockpit.send(b"a");
    cockpit.wait_for("Rationale");
    cockpit.send(b"tests and notes reviewed");
    cockpit.wait_for("tests and notes reviewed");
    cockpit.send(b"\r");
    cockpit.wait_for("Yes, sign it");
    cockpit.send(b"\t");
    cockpit.send(b"\r");
    cockpit.wait_for("outbox 0q 1s 0r");
    cockpit.quit();
    // The store took alice's approval: the promotion is ready now.
    served.expect(0, "alice", &["status", &staging]);
    // And the cockpit kept its verified receipt, as the CLI does: one
    // remembered submission, so its later disappearance would be an ALARM.
    let submitted = std::fs::read_dir(persona.join("data").join("submitted"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert_eq!(submitted.lines().count(), 1, "{submitted}");
}
