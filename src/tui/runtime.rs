//! The terminal side: raw mode and the alternate screen (restored on exit
//! and by the panic hook), the event loop over terminal input and client
//! messages, and frame pacing (draw only when dirty, at most 60 fps). The
//! first frame is drawn before any network work starts.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::app::{App, Effect, Msg, Session};
use super::clock::{Clock, SystemClock};
use super::config::ConfigError;
use super::worker::{self, Request};
use super::{Options, color_disabled, load_keymap, load_theme, logging, render};
use crate::client::config::{self, ClientConfig};
use crate::client::http::StoreClient;

/// At most 60 frames a second.
const FRAME: Duration = Duration::from_micros(16_667);
/// Countdowns move on once a second.
const TICK: Duration = Duration::from_secs(1);

/// Why the cockpit could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Client(#[from] config::ConfigError),
    #[error("{0}")]
    Key(#[from] crate::keys::file::KeyFileError),
    #[error("cannot reach the store: {0}")]
    Store(#[from] crate::client::http::StoreError),
    #[error("{0}")]
    NoHome(#[from] crate::paths::NoHomeError),
    #[error("the terminal: {0}")]
    Terminal(#[from] io::Error),
}

/// Opens the cockpit on the configured store.
pub fn run(config_path: Option<&std::path::Path>, options: &Options) -> Result<(), RunError> {
    let config_dir = crate::paths::config_dir().ok();
    let keymap = load_keymap(options.keymap.as_deref(), config_dir.as_deref())?;
    let theme = load_theme(
        options.theme.as_deref(),
        color_disabled(options.no_color),
        config_dir.as_deref(),
    )?;
    let client_config = config::load(config_path)?;
    let signer = crate::keys::file::read(&client_config.key)?;
    let me = signer.name().to_owned();
    let client = StoreClient::new(&client_config, Arc::new(signer))?;
    let log_file = logging::init();
    tracing::info!(log = ?log_file, "cockpit starting");
    let clock = SystemClock;
    let session = Session {
        store: client_config.store.clone(),
        me,
        read_only: options.read_only,
    };
    let mut app = App::new(session, keymap, theme, clock.now());
    app.status.clone_from(&options.notice);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(event_loop(app, client_config, client, &clock))
}

async fn event_loop(
    mut app: App,
    client_config: ClientConfig,
    client: StoreClient,
    clock: &dyn Clock,
) -> Result<(), RunError> {
    // Panics are logged to the file first; ratatui's hook, installed by
    // `try_init` on top of this one, restores the terminal before either runs.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(%info, "panic");
        previous(info);
    }));
    let mut terminal = ratatui::try_init()?;
    let size = terminal.size()?;
    app.update(Msg::Resize(size.width, size.height));
    // The first frame, before any network work.
    terminal.draw(|f| render::draw(&app, f))?;
    app.dirty = false;

    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let (req_tx, req_rx) = mpsc::unbounded_channel();
    let worker = tokio::spawn(worker::run(client_config, client, msg_tx, req_rx));
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut last_draw = Instant::now();
    let result = loop {
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Some(Msg::Key(key)),
                Some(Ok(Event::Resize(w, h))) => Some(Msg::Resize(w, h)),
                Some(Ok(_)) => None,
                Some(Err(e)) => break Err(RunError::Terminal(e)),
                None => break Ok(()),
            },
            msg = msg_rx.recv() => msg,
            _ = tick.tick() => Some(Msg::Tick(clock.now())),
            () = tokio::time::sleep(FRAME.saturating_sub(last_draw.elapsed())), if app.dirty => None,
        };
        if let Some(msg) = msg {
            for effect in app.update(msg) {
                match effect {
                    Effect::Quit => {}
                    Effect::SyncNow => {
                        let _ = req_tx.send(Request::SyncNow);
                    }
                    Effect::Submit(submission) => {
                        let _ = req_tx.send(Request::Submit(submission));
                    }
                    Effect::Ask(question) => {
                        let _ = req_tx.send(Request::Ask(question));
                    }
                }
            }
        }
        if app.quit {
            break Ok(());
        }
        if app.dirty && last_draw.elapsed() >= FRAME {
            terminal.draw(|f| render::draw(&app, f))?;
            app.dirty = false;
            last_draw = Instant::now();
        }
    };
    worker.abort();
    ratatui::restore();
    result
}
