//! JUnit XML test reports (the Ant/Jenkins dialect pytest, nextest, Surefire
//! and most CI tools write), with a `<testsuites>` or a bare `<testsuite>`
//! root. Totals come from the `<testcase>` elements, never from the
//! `tests=`/`failures=` attributes, which tools fill inconsistently.
//!
//! The reader streams events, so memory does not grow with the report, and
//! refuses any DOCTYPE that declares entities (quick-xml never expands
//! custom entities; refusing them makes that explicit to the person).

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::{EvidenceError, EvidenceFile, text};

const FORMAT: &str = "JUnit XML";
/// Failing cases kept for display; the counts include all of them.
pub const MAX_LISTED: usize = 20;

/// How one test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Errored,
    Skipped,
}

/// A failed or errored case, for the evidence pane.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedCase {
    pub name: String,
    pub outcome: Outcome,
    pub message: String,
    /// The case's `time` attribute in seconds, when it is a finite number.
    pub time: Option<f64>,
}

/// Totals over every test case of a report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub tests: u64,
    pub failures: u64,
    pub errors: u64,
    pub skipped: u64,
    pub failed: Vec<FailedCase>,
}

impl Report {
    pub fn merge(&mut self, other: Report) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
        let room = MAX_LISTED.saturating_sub(self.failed.len());
        self.failed.extend(other.failed.into_iter().take(room));
    }
}

/// The test case being read: its name and the worst outcome seen so far.
struct Open {
    depth: usize,
    name: String,
    outcome: Outcome,
    message: String,
    time: Option<f64>,
}

fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| err.to_string())?;
        if a.key.local_name().as_ref() == key {
            return a
                .normalized_value(XmlVersion::Implicit1_0)
                .map(|v| Some(v.into_owned()))
                .map_err(|err| err.to_string());
        }
    }
    Ok(None)
}

pub fn parse(file: &EvidenceFile<'_>) -> Result<Report, EvidenceError> {
    let body = text(file)?;
    let bad = |detail: String| EvidenceError::malformed(file.name, FORMAT, detail);
    let mut reader = Reader::from_str(body);
    let mut report = Report::default();
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut open: Option<Open> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| bad(format!("{e} (at byte {})", reader.error_position())))?;
        match event {
            Event::DocType(d) => {
                let decl = d.as_ref();
                if decl.contains("<!ENTITY") {
                    return Err(EvidenceError::EntityDeclaration {
                        name: file.name.to_owned(),
                        detail: "<!DOCTYPE … <!ENTITY …>".to_owned(),
                    });
                }
            }
            Event::GeneralRef(r) => {
                let predefined = matches!(r.as_ref(), "lt" | "gt" | "amp" | "apos" | "quot");
                if !predefined && !r.is_char_ref() {
                    return Err(bad(format!(
                        "it refers to the undeclared entity &{};",
                        r.as_ref()
                    )));
                }
            }
            Event::Start(e) => {
                start(&e, depth, &mut root_seen, &mut open, &mut report, false).map_err(bad)?;
                depth += 1;
            }
            Event::Empty(e) => {
                start(&e, depth, &mut root_seen, &mut open, &mut report, true).map_err(bad)?;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if open.as_ref().is_some_and(|o| o.depth == depth)
                    && let Some(case) = open.take()
                {
                    finish(case, &mut report);
                }
            }
            Event::Eof if depth > 0 => {
                return Err(bad(format!(
                    "the document ends inside {depth} open element(s); the report is truncated"
                )));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err(bad(
            "it has no <testsuites> or <testsuite> root element".to_owned()
        ));
    }
    Ok(report)
}

fn start(
    e: &BytesStart<'_>,
    depth: usize,
    root_seen: &mut bool,
    open: &mut Option<Open>,
    report: &mut Report,
    is_empty: bool,
) -> Result<(), String> {
    let local = e.local_name();
    let tag = local.as_ref();
    if depth == 0 {
        if tag != "testsuites" && tag != "testsuite" {
            return Err(format!(
                "the root element is <{tag}>; a JUnit report starts with <testsuites> or <testsuite>"
            ));
        }
        *root_seen = true;
        return Ok(());
    }
    if tag == "testcase" && open.is_none() {
        let name = attr(e, "name")?.unwrap_or_default();
        let name = match attr(e, "classname")? {
            Some(class) if !class.is_empty() => format!("{class}::{name}"),
            _ => name,
        };
        let time = attr(e, "time")?
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|t| t.is_finite());
        let case = Open {
            depth,
            name,
            outcome: Outcome::Passed,
            message: String::new(),
            time,
        };
        if is_empty {
            finish(case, report);
        } else {
            *open = Some(case);
        }
        return Ok(());
    }
    if let Some(case) = open.as_mut()
        && depth == case.depth + 1
    {
        let outcome = match tag {
            "failure" => Outcome::Failed,
            "error" => Outcome::Errored,
            "skipped" => Outcome::Skipped,
            // Surefire's flaky/rerun elements and output are not outcomes.
            _ => return Ok(()),
        };
        // A failure or error outweighs a skip, whatever the order.
        if case.outcome == Outcome::Passed || case.outcome == Outcome::Skipped {
            case.outcome = outcome;
            case.message = attr(e, "message")?.unwrap_or_default();
        }
    }
    Ok(())
}

fn finish(case: Open, report: &mut Report) {
    report.tests += 1;
    match case.outcome {
        Outcome::Passed => return,
        Outcome::Skipped => {
            report.skipped += 1;
            return;
        }
        Outcome::Failed => report.failures += 1,
        Outcome::Errored => report.errors += 1,
    }
    if report.failed.len() < MAX_LISTED {
        let mut message = case.message.lines().next().unwrap_or_default().to_owned();
        if message.len() > 200 {
            let cut = (0..=200)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push('…');
        }
        report.failed.push(FailedCase {
            name: case.name,
            outcome: case.outcome,
            message,
            time: case.time,
        });
    }
}
