//! Licence and ban policy for SBOM components, shaped like cargo-deny's
//! `[licenses]`: everything not explicitly allowed is denied; `exceptions`
//! allow extra licences for one package; `clarify` states a package's
//! licence when its SBOM entry is wrong or missing; `unknown` says what to
//! do when no SPDX licence can be read; `bans` refuse packages outright.
//! Expressions are evaluated with the `spdx` crate (the engine cargo-deny
//! uses); a strict parse is tried first, then the lax one (`MIT/Apache-2.0`).

use spdx::{Expression, LicenseReq, Licensee, ParseMode};

use super::sbom::Component;
use crate::policy::gates::{SbomSettings, UnknownLicense};

/// Longest licence expression evaluated; SBOM text is untrusted.
const MAX_EXPRESSION: usize = 1024;

/// What the policy says about one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    Allowed,
    /// Not allowed; the text says which licences failed.
    Denied(String),
    /// No SPDX licence could be read; the text says why.
    Unknown(String),
    Banned(String),
}

/// The allow-list parsed once per evaluation.
#[derive(Debug)]
pub struct LicensePolicy<'s> {
    settings: &'s SbomSettings,
    allow: Vec<Licensee>,
    exceptions: Vec<(&'s str, Vec<Licensee>)>,
}

fn licensees(list: &[String]) -> Result<Vec<Licensee>, String> {
    list.iter()
        .map(|l| {
            Licensee::parse(l).map_err(|e| {
                format!("\"{l}\" in the gate's allow list is not an SPDX licence id: {e}")
            })
        })
        .collect()
}

/// Whether a policy purl (`pkg:pypi/requests`, optionally `@version`)
/// names the component's purl. Qualifiers and subpaths are ignored.
pub fn purl_matches(pattern: &str, purl: &str) -> bool {
    let base = |p: &str| -> String {
        let p = p.split(['?', '#']).next().unwrap_or(p);
        p.to_ascii_lowercase()
    };
    let pattern = base(pattern);
    let purl = base(purl);
    if pattern.contains('@') {
        pattern == purl
    } else {
        purl.split('@').next() == Some(pattern.as_str())
    }
}

impl<'s> LicensePolicy<'s> {
    pub fn new(settings: &'s SbomSettings) -> Result<Self, String> {
        let allow = licensees(&settings.allow)?;
        let exceptions = settings
            .exceptions
            .iter()
            .map(|e| Ok((e.purl.as_str(), licensees(&e.allow)?)))
            .collect::<Result<_, String>>()?;
        Ok(Self {
            settings,
            allow,
            exceptions,
        })
    }

    pub fn judge(&self, c: &Component) -> Judgement {
        let purl = c.purl.as_deref().unwrap_or("");
        if let Some(ban) = self
            .settings
            .bans
            .iter()
            .find(|b| !purl.is_empty() && purl_matches(&b.purl, purl))
        {
            return Judgement::Banned(match &ban.reason {
                Some(r) => format!("banned by policy ({}): {r}", ban.purl),
                None => format!("banned by policy ({})", ban.purl),
            });
        }
        let clarified = self
            .settings
            .clarify
            .iter()
            .find(|x| !purl.is_empty() && purl_matches(&x.purl, purl))
            .map(|x| x.expression.as_str());
        let Some(text) = clarified.or(c.license.as_deref()) else {
            return Judgement::Unknown(match &c.unknown_license {
                Some(name) => format!("licence \"{name}\" is not an SPDX id"),
                None => "the SBOM states no licence".to_owned(),
            });
        };
        if text.len() > MAX_EXPRESSION {
            return Judgement::Unknown(format!(
                "licence expression is {} bytes; at most {MAX_EXPRESSION} are read",
                text.len()
            ));
        }
        let expr = match Expression::parse(text)
            .or_else(|_| Expression::parse_mode(text, ParseMode::LAX))
        {
            Ok(e) => e,
            Err(e) => {
                return Judgement::Unknown(format!(
                    "\"{text}\" is not an SPDX expression: {}",
                    e.reason
                ));
            }
        };
        let extra: Vec<&Licensee> = self
            .exceptions
            .iter()
            .filter(|(p, _)| !purl.is_empty() && purl_matches(p, purl))
            .flat_map(|(_, l)| l)
            .collect();
        let allowed = |req: &LicenseReq| {
            self.allow.iter().any(|l| l.satisfies(req)) || extra.iter().any(|l| l.satisfies(req))
        };
        match expr.evaluate_with_failures(allowed) {
            Ok(()) => Judgement::Allowed,
            Err(failed) => {
                let names: Vec<String> = failed.iter().map(|f| f.req.to_string()).collect();
                Judgement::Denied(format!(
                    "\"{text}\" is not allowed ({} not in the allow list)",
                    names.join(", ")
                ))
            }
        }
    }

    /// Whether an unknown licence blocks, warns or passes.
    pub fn unknown(&self) -> UnknownLicense {
        self.settings.unknown
    }
}
