//! The Drift tab on ratatui's `TestBackend` (120×40): the table of what
//! prod runs differently from staging, computed from the snapshots in the
//! verified log when the data is built, and the unified text toggled with
//! `t`. Snapshots built through the library's own capture path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crossterm::event::KeyCode;
use tollgate::digest::Digest;
use tollgate::drift::{self, HmacKey, Identity, Parts};
use tollgate::statement::{Predicate, Statement};
use tollgate::tui::app::{DetailTab, DriftView, RowKey};

use crate::common::{Cockpit, World};
use crate::tui::{key, select, snapshot};

fn capture(
    world: &mut World,
    env: &str,
    artifact: Digest,
    yaml: &str,
    flags: &str,
    password: &str,
    tokio: &str,
) {
    let key = HmacKey::new("test.key", b"a collectors' shared key of 32b").unwrap();
    let mut parts = Parts::default();
    parts
        .add_config(
            "c.yaml",
            drift::capture::parse("c.yaml", yaml.as_bytes(), None).unwrap(),
        )
        .unwrap();
    parts
        .add_flags(
            "f.json",
            drift::capture::parse("f.json", flags.as_bytes(), None).unwrap(),
        )
        .unwrap();
    parts
        .add_secrets(
            "s.env",
            drift::capture::parse_secrets(
                "s.env",
                format!("DB_PASSWORD={password}\n").as_bytes(),
                None,
            )
            .unwrap(),
        )
        .unwrap();
    let purl = format!("pkg:cargo/tokio@{tokio}");
    parts.add_dependencies([("tokio", Some(purl.as_str()), tokio)]);
    let snapshot = parts
        .into_snapshot(
            Identity {
                environment: env.into(),
                service: "app".into(),
                artifact,
                captured_at: world.clock,
            },
            Some(&key),
        )
        .unwrap();
    let statement = Statement::about("app", artifact, Predicate::Snapshot(snapshot));
    world.submit("ci-main", &statement);
}

fn drift_app() -> Cockpit {
    let mut world = World::with_drift_gate(&["/config/replicas"]);
    let v1 = Digest::of(b"app 1.0");
    let v2 = Digest::of(b"app 2.0");
    world.through("app", v1, "prod");
    world.through("app", v2, "staging");
    let prod = world.request("ci-main", "app", v2, Some("staging"), "prod");
    capture(
        &mut world,
        "staging",
        v2,
        "replicas: 2\nlog_level: info\n",
        r#"{"new_checkout": false}"#,
        "old-secret-1",
        "1.38.1",
    );
    capture(
        &mut world,
        "prod",
        v1,
        "replicas: 5\nlog_level: info\n",
        r#"{"new_checkout": true}"#,
        "rotated-secret-2",
        "1.40.0",
    );
    let now = world.clock;
    let mut app = Cockpit::on(world.verified_log(), "alice", false, false, now);
    key(&mut app, KeyCode::Char('2'));
    select(&mut app, |r| *r == RowKey::Promotion(prod));
    while app.tab != DetailTab::Drift {
        key(&mut app, KeyCode::Char('l'));
    }
    app
}

#[test]
fn the_drift_tab_shows_the_three_drifted_rows_and_toggles_to_unified_text() {
    let mut app = drift_app();
    let pane = app.selected_detail().unwrap().drift.clone();
    let paths: Vec<&str> = pane.rows.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/dependencies/pkg:cargo~1tokio",
            "/flags/new_checkout",
            "/secrets/DB_PASSWORD"
        ]
    );
    assert!(!pane.text.contains("rotated-secret-2") && !pane.text.contains("old-secret-1"));
    snapshot("tab_drift_table", &app);
    key(&mut app, KeyCode::Char('t'));
    assert_eq!(app.drift_view, DriftView::Text);
    snapshot("tab_drift_text", &app);
    key(&mut app, KeyCode::Char('t'));
    assert_eq!(app.drift_view, DriftView::Table);
}
