//! The drift capture parsers (JSON, YAML, .env, Kubernetes manifests, by
//! detection and forced) and what follows a successful capture (keyed-array
//! normalisation, fingerprints, the diff) never panic, and a secrets file's
//! error never quotes the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use tollgate::digest::Digest;
use tollgate::drift::capture::{InputFormat, parse, parse_secrets};
use tollgate::drift::{HmacKey, Identity, Parts, compare};

fuzz_target!(|data: &[u8]| {
    let formats = [
        None,
        Some(InputFormat::Json),
        Some(InputFormat::Yaml),
        Some(InputFormat::Env),
        Some(InputFormat::Kubernetes),
    ];
    let key = HmacKey::new("fuzz.key", b"0123456789abcdef0123456789abcdef").expect("key");
    for format in formats {
        if let Ok(captured) = parse("fuzz", data, format) {
            let mut parts = Parts::default();
            if parts.add_config("fuzz", captured).is_ok() {
                let who = Identity {
                    environment: "prod".into(),
                    service: "fuzz".into(),
                    artifact: Digest::of(b"fuzz"),
                    captured_at: OffsetDateTime::UNIX_EPOCH,
                };
                if let Ok(snapshot) = parts.into_snapshot(who, Some(&key)) {
                    let empty = tollgate::statement::Snapshot {
                        config: Default::default(),
                        flags: Default::default(),
                        ..snapshot.clone()
                    };
                    let c = compare(&empty, &snapshot, &["/config/a".to_owned()]);
                    let _ = c.unified();
                }
            }
        }
        let _ = parse_secrets("fuzz", data, format);
    }
    // A secret value next to hostile lines is never echoed in an error.
    let mut with_secret = data.to_vec();
    with_secret.extend_from_slice(b"\nDB_PASSWORD=Zq93-marker-secret-7781\n");
    if let Err(e) = parse_secrets("fuzz.env", &with_secret, Some(InputFormat::Env)) {
        assert!(!e.to_string().contains("Zq93-marker-secret-7781"), "{e}");
    }
});
