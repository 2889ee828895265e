//! The demo's people and machines: who they are, what they do, their keys,
//! and the demo policy that names them.
//!
//! Keys are fresh for every live demo. For screenshots they are derived
//! from the persona's name, so that every run draws the same pictures; such
//! keys are public knowledge and are only ever used on a demo store.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::digest::Digest;
use crate::keys::Signer;
use crate::policy::{Policy, PolicyErrors};

/// The demo policy, with `{key:NAME}` and `{freeze:from|to}` placeholders.
const POLICY_TEMPLATE: &str = include_str!("policy.toml");

/// Someone `tollgate demo --as NAME` can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Persona {
    pub name: &'static str,
    /// What they do, in the words `--help` and the demo banner use.
    pub role: &'static str,
}

/// The personas a demo can be run as (DESIGN.md §5), the default first.
pub const PERSONAS: [Persona; 5] = [
    Persona {
        name: "alice",
        role: "release manager",
    },
    Persona {
        name: "dana",
        role: "security reviewer",
    },
    Persona {
        name: "carol",
        role: "on-call engineer",
    },
    Persona {
        name: "frank",
        role: "developer",
    },
    Persona {
        name: "ci-main",
        role: "CI system",
    },
];

/// Operators of the demo policy who appear only in its history.
const OTHERS: [&str; 2] = ["bob", "erin"];

/// The key that signs build provenance (a builder, not an operator).
pub const BUILDER: &str = "builder";

/// Finds a persona by name.
pub fn persona(name: &str) -> Option<Persona> {
    PERSONAS.iter().copied().find(|p| p.name == name)
}

/// Every key the demo needs: operators and the builder.
#[derive(Debug)]
pub struct Keys {
    pub signers: BTreeMap<String, Signer>,
}

impl Keys {
    fn names() -> impl Iterator<Item = &'static str> {
        PERSONAS
            .iter()
            .map(|p| p.name)
            .chain(OTHERS)
            .chain([BUILDER])
    }

    /// Fresh keys from the operating system's randomness.
    pub fn fresh() -> Self {
        Self {
            signers: Self::names()
                .map(|n| (n.to_owned(), Signer::generate(n)))
                .collect(),
        }
    }

    /// Keys derived from the names: the same on every run (screenshots).
    pub fn fixed() -> Result<Self, crate::keys::KeyError> {
        let signers = Self::names()
            .map(|n| {
                let seed = Digest::of(format!("tollgate demo key {n}").as_bytes());
                Signer::from_signing_key(n, SigningKey::from_bytes(seed.as_bytes()))
                    .map(|s| (n.to_owned(), s))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { signers })
    }

    /// The signer called `name`.
    pub fn get(&self, name: &str) -> Option<&Signer> {
        self.signers.get(name)
    }
}

/// The demo policy's text for `keys`, with the year-end freeze starting
/// ten days after `now` (so it shows in the cockpit without blocking the
/// demo).
pub fn policy_text(keys: &Keys, now: OffsetDateTime) -> String {
    let mut text = POLICY_TEMPLATE.to_owned();
    for (name, signer) in &keys.signers {
        text = text.replace(&format!("{{key:{name}}}"), &signer.public().to_string());
    }
    let day = |d: i64| {
        (now.replace_time(time::Time::MIDNIGHT) + time::Duration::days(d))
            .format(&Rfc3339)
            .unwrap_or_default()
    };
    text.replace("{freeze:from}", &day(10))
        .replace("{freeze:to}", &day(20))
}

/// The demo policy for `keys`.
pub fn policy(keys: &Keys, now: OffsetDateTime) -> Result<Policy, PolicyErrors> {
    Policy::parse(&policy_text(keys, now), "demo-policy.toml")
}
