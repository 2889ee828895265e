//! The real binary in a pseudo-terminal, its screen parsed by vt100: what
//! a person at a terminal would see. Waits are on visible text, never on
//! time alone (the limit only ends a hang).

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

pub struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
}

impl Pty {
    /// Starts `tollgate ARGS` at 120×40 with `env` (and nothing else of
    /// this process's environment but PATH).
    pub fn start(args: &[&str], env: &[(&str, &std::path::Path)]) -> Self {
        Self::start_sized(args, env, (40, 120))
    }

    /// [`Self::start`] at `(rows, cols)`.
    pub fn start_sized(
        args: &[&str],
        env: &[(&str, &std::path::Path)],
        (rows, cols): (u16, u16),
    ) -> Self {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(super::served::bin());
        cmd.args(args);
        cmd.env_clear();
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let feed = Arc::clone(&screen);
        std::thread::spawn(move || {
            // The master must outlive the reader thread's reads.
            let _master = pty.master;
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });
        Self {
            screen,
            writer,
            child,
        }
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `text`; returns the screen.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_every(text, Duration::from_millis(50))
    }

    /// [`Self::wait_for`], looking at the screen every `poll` (a bench
    /// timing what appears looks often).
    pub fn wait_for_every(&self, text: &str, poll: Duration) -> String {
        let deadline = Instant::now() + Duration::from_mins(2);
        loop {
            let contents = self.contents();
            if contents.contains(text) {
                return contents;
            }
            assert!(
                Instant::now() < deadline,
                "never showed {text:?}; screen:\n{contents}"
            );
            std::thread::sleep(poll);
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Presses `q` and waits for a clean exit.
    pub fn quit(mut self) {
        self.send(b"q");
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status:?}; screen:\n{}", self.contents());
    }
}
