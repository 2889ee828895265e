//! Evidence tab: for each gate of the selected promotion, the signed
//! result, this client's re-judgement, and every evidence document with its
//! digest and signature status, then by kind: failing tests, findings,
//! licences, provenance, performance budgets; the raw JSON folded or
//! unfolded (`ToggleFold`). Reads the view model built in the data step
//! (`tui::evidence`); no I/O, no parsing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::state::{Rejudgement, status_word};
use crate::tui::action::Action;
use crate::tui::app::{App, Pane};
use crate::tui::component::{Component, EventState};
use crate::tui::evidence::{Detail, Document, Fetched, GateEvidence};
use crate::tui::strings as s;
use crate::tui::theme::Theme;
use crate::tui::widgets::shorten_digests;

#[derive(Debug)]
pub struct Evidence;

impl Component for Evidence {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let Some(detail) = app.selected_detail() else {
            return;
        };
        let p = &detail.promotion;
        let t = &app.theme;
        let mut lines = Vec::new();
        for gate in p.gates.values() {
            let model = gate
                .latest
                .as_ref()
                .and_then(|l| detail.evidence.get(&l.id));
            match (model, &gate.latest) {
                (Some(model), _) => gate_lines(&mut lines, t, model, app.evidence.unfolded),
                (None, Some(latest)) => {
                    lines.push(title(t, &gate.name));
                    lines.push(dim(
                        t,
                        format!("  {} (by {})", s::EVIDENCE_LOADING, latest.signer),
                    ));
                }
                (None, None) => {
                    lines.push(title(t, &gate.name));
                    lines.push(dim(t, format!("  {}", s::EVIDENCE_NO_RESULT)));
                }
            }
            lines.push(Line::default());
        }
        let scroll = u16::try_from(app.evidence.scroll).unwrap_or(u16::MAX);
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            area,
        );
    }

    fn event(&self, app: &mut App, action: Action) -> EventState {
        match action {
            Action::ToggleFold => {
                app.evidence.unfolded = !app.evidence.unfolded;
                EventState::Consumed
            }
            Action::Down if app.pane == Pane::Detail => {
                app.evidence.scroll = app.evidence.scroll.saturating_add(1);
                EventState::Consumed
            }
            Action::Up if app.pane == Pane::Detail => {
                app.evidence.scroll = app.evidence.scroll.saturating_sub(1);
                EventState::Consumed
            }
            Action::PageDown if app.pane == Pane::Detail => {
                app.evidence.scroll = app.evidence.scroll.saturating_add(10);
                EventState::Consumed
            }
            Action::PageUp if app.pane == Pane::Detail => {
                app.evidence.scroll = app.evidence.scroll.saturating_sub(10);
                EventState::Consumed
            }
            Action::Top if app.pane == Pane::Detail => {
                app.evidence.scroll = 0;
                EventState::Consumed
            }
            _ => EventState::NotConsumed,
        }
    }

    fn hints(&self, _app: &App) -> Vec<Action> {
        vec![Action::ToggleFold]
    }
}

fn title(t: &Theme, gate: &str) -> Line<'static> {
    Line::from(Span::styled(gate.to_owned(), t.style("title")))
}

fn dim(t: &Theme, text: String) -> Line<'static> {
    Line::from(Span::styled(text, t.style("dim")))
}

fn styled(style: Style, text: String) -> Line<'static> {
    Line::from(Span::styled(text, style))
}

fn gate_lines(lines: &mut Vec<Line<'static>>, t: &Theme, g: &GateEvidence, unfolded: bool) {
    lines.push(title(t, &g.gate));
    lines.push(Line::from(format!(
        "  signed {} by {} (entry {})",
        status_word(g.stated),
        g.signer,
        g.entry.short()
    )));
    let (slot, text) = match &g.rejudged {
        None => ("dim", s::REJUDGED_NOT.to_owned()),
        Some(Rejudgement::Agrees) => ("ok", s::REJUDGED_AGREES.to_owned()),
        Some(Rejudgement::Disputed {
            computed,
            evaluator,
            ..
        }) => (
            "fail",
            s::rejudged_disputed(status_word(*computed), evaluator),
        ),
        Some(Rejudgement::EvidenceMissing { .. }) => ("fail", s::REJUDGED_MISSING.to_owned()),
        Some(Rejudgement::NotRejudged { problem }) => {
            ("warn", s::rejudged_unavailable(&shorten_digests(problem)))
        }
    };
    lines.push(styled(t.style(slot), format!("  {text}")));
    if g.documents.is_empty() {
        lines.push(dim(t, format!("  {}", s::EVIDENCE_NONE)));
    }
    for d in &g.documents {
        document_lines(lines, t, d, unfolded);
    }
}

fn document_lines(lines: &mut Vec<Line<'static>>, t: &Theme, d: &Document, unfolded: bool) {
    let format = d.format.map_or("unknown format", |f| f.as_str());
    let (slot, status) = match &d.fetched {
        Fetched::Verified => (
            "ok",
            format!("✔ {} · {format}, {} bytes", s::DIGEST_VERIFIED, d.size),
        ),
        Fetched::Missing => ("fail", format!("✖ {}", s::EVIDENCE_MISSING)),
        Fetched::Unavailable(why) => ("warn", format!("… {}", shorten_digests(why))),
    };
    lines.push(Line::from(format!("  ▸ {}", d.digest.short())));
    lines.push(styled(t.style(slot), format!("    {status}")));
    match &d.detail {
        Detail::Nothing => {}
        Detail::Unreadable(why) => lines.push(styled(t.style("fail"), format!("    {why}"))),
        Detail::Tests {
            summary,
            failing,
            more,
        } => {
            lines.push(Line::from(format!("    {summary}")));
            for f in failing {
                let time = f.time.map_or_else(String::new, |x| format!(" ({x:.2}s)"));
                let what = if f.errored { "error" } else { "failed" };
                lines.push(styled(
                    t.style("fail"),
                    format!("    ✖ {what} {}{time}", f.name),
                ));
                if !f.message.is_empty() {
                    lines.push(dim(t, format!("      {}", f.message)));
                }
            }
            if *more > 0 {
                lines.push(dim(t, format!("    {}", s::more_rows(*more))));
            }
        }
        Detail::Findings { rows, more } => {
            lines.push(dim(
                t,
                format!("    {:<9}{:<10}{}", "severity", "rule", "file:line"),
            ));
            for f in rows {
                let slot = if f.suppression.is_some() {
                    "dim"
                } else if matches!(f.severity.as_str(), "error" | "high" | "critical") {
                    "fail"
                } else {
                    "warn"
                };
                lines.push(styled(
                    t.style(slot),
                    format!("    {:<9}{:<10}{}", f.severity, f.rule, f.location),
                ));
                lines.push(Line::from(format!("      {}", f.message)));
                if let Some(why) = &f.suppression {
                    lines.push(dim(t, format!("      {}", s::suppressed(why))));
                }
            }
            if *more > 0 {
                lines.push(dim(t, format!("    {}", s::more_rows(*more as u64))));
            }
        }
        Detail::Licenses {
            components,
            judged,
            rows,
            more,
        } => {
            lines.push(Line::from(format!(
                "    {}",
                if *judged {
                    s::license_summary(*components, rows.len() + more)
                } else {
                    s::license_unjudged(*components)
                }
            )));
            for r in rows {
                let slot = if r.verdict == "listed" { "dim" } else { "fail" };
                lines.push(styled(
                    t.style(slot),
                    format!("    {:<8}{}", r.verdict, r.component),
                ));
                lines.push(dim(t, format!("      {}", r.clause)));
            }
            if *more > 0 {
                lines.push(dim(t, format!("    {}", s::more_rows(*more as u64))));
            }
        }
        Detail::Provenance(p) => {
            let (slot, sig) = if p.signature_verified {
                ("ok", s::PROVENANCE_SIGNED)
            } else {
                ("fail", s::PROVENANCE_UNSIGNED)
            };
            lines.push(styled(t.style(slot), format!("    {sig}")));
            lines.push(Line::from(format!("    builder  {}", or_dash(&p.builder))));
            lines.push(Line::from(format!("    source   {}", or_dash(&p.source))));
            for problem in &p.problems {
                lines.push(styled(
                    t.style("fail"),
                    format!("    ✖ {}", shorten_digests(problem)),
                ));
            }
        }
        Detail::Budgets(rows) => {
            lines.push(dim(
                t,
                format!("    {:<22}{:>10}  {:<10}", "metric", "value", "budget"),
            ));
            for r in rows {
                let (slot, glyph) = match r.within {
                    Some(true) => ("ok", "✔"),
                    Some(false) => ("fail", "✖"),
                    None => ("dim", "·"),
                };
                let value = r
                    .value
                    .map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"));
                lines.push(styled(
                    t.style(slot),
                    format!(
                        "  {glyph} {:<22}{value:>10}  {}",
                        r.metric,
                        r.budget.as_deref().unwrap_or("—")
                    ),
                ));
            }
        }
        Detail::Vex(rows) => {
            for r in rows {
                lines.push(Line::from(format!("    {} {}", r.status, r.ids)));
                if !r.reason.is_empty() {
                    lines.push(dim(t, format!("      {}", r.reason)));
                }
            }
        }
    }
    let raw = if unfolded { &d.raw_open } else { &d.raw_folded };
    if !raw.is_empty() {
        lines.push(dim(
            t,
            format!(
                "    {}",
                if unfolded {
                    s::RAW_UNFOLDED
                } else {
                    s::RAW_FOLDED
                }
            ),
        ));
        for l in raw {
            lines.push(dim(t, format!("    {l}")));
        }
    }
}

fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "—".to_owned()
    } else {
        text.to_owned()
    }
}
