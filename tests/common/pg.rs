//! The PostgreSQL the tests use: `TOLLGATE_TEST_DATABASE_URL`, or the local
//! default `postgres://postgres@127.0.0.1:5432/test`. When it does not answer,
//! each PostgreSQL test prints one line and skips, unless
//! `TOLLGATE_REQUIRE_POSTGRES=1` (set by `.ci/run`) turns that into a failure.
#![allow(dead_code, clippy::panic)]

use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs as _};
use std::sync::OnceLock;
use std::time::Duration;

pub const ENV: &str = "TOLLGATE_TEST_DATABASE_URL";
pub const REQUIRE_ENV: &str = "TOLLGATE_REQUIRE_POSTGRES";
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The URL the tests use, whether or not anything answers there.
pub fn configured_url() -> String {
    std::env::var(ENV).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `host:port` of a `postgres://user@host:port/db` URL (port 5432 when absent).
fn host_port(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() {
        return None;
    }
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(']'));
    Some(if has_port {
        host.to_owned()
    } else {
        format!("{host}:5432")
    })
}

fn answers(url: &str) -> bool {
    let Some(addr) = host_port(url) else {
        return false;
    };
    let Ok(addrs) = addr.to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// The PostgreSQL URL for the running test, or `None` after printing one
/// line saying it is skipped. Panics instead when
/// `TOLLGATE_REQUIRE_POSTGRES=1`.
pub fn url() -> Option<String> {
    static REACHABLE: OnceLock<bool> = OnceLock::new();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a PostgreSQL test");
    let url = configured_url();
    if *REACHABLE.get_or_init(|| answers(&url)) {
        return Some(url);
    }
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: PostgreSQL does not answer at {url} and {REQUIRE_ENV}=1 requires it; \
         start it (pg_ctlcluster <version> main start) or point {ENV} at one"
    );
    // Straight to the process's stderr: the test harness captures
    // `eprintln!`, and a skip must be seen.
    let _ = writeln!(
        std::io::stderr(),
        "skipped {test} on PostgreSQL: nothing answers at {url} \
         (set {ENV} to use another, {REQUIRE_ENV}=1 to fail instead)"
    );
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_port_forms() {
        assert_eq!(
            super::host_port("postgres://postgres@127.0.0.1:5432/test").as_deref(),
            Some("127.0.0.1:5432")
        );
        assert_eq!(
            super::host_port("postgres://localhost/test").as_deref(),
            Some("localhost:5432")
        );
        assert_eq!(super::host_port("nonsense"), None);
    }
}
