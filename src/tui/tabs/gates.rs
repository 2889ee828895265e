//! Gates tab: each required gate with its glyph, summary and remediation.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::state::{GateVerdict, Rejudgement};
use crate::tui::app::App;
use crate::tui::component::Component;
use crate::tui::data::{countdown, when};
use crate::tui::strings as s;
use crate::tui::widgets::{gate_glyph, shorten_digests};

#[derive(Debug)]
pub struct Gates;

impl Component for Gates {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let Some(p) = app.selected_promotion() else {
            return;
        };
        let t = &app.theme;
        let policy = app.data.as_ref().map(|d| &d.policy);
        let mut lines = Vec::new();
        for gate in p.gates.values() {
            let (glyph, slot) = gate_glyph(&gate.verdict);
            let verdict = match (&gate.verdict, &gate.rejudged) {
                (GateVerdict::Failed, Some(Rejudgement::Disputed { .. })) => {
                    s::GATE_DISPUTED.to_owned()
                }
                (
                    GateVerdict::Failed,
                    Some(Rejudgement::EvidenceMissing { .. } | Rejudgement::NotRejudged { .. }),
                ) => s::GATE_UNCONFIRMED.to_owned(),
                (verdict, _) => match verdict {
                    GateVerdict::Passed => "passed".to_owned(),
                    GateVerdict::Waived { until } => format!(
                        "waived until {} ({} left)",
                        when(*until),
                        countdown(*until - app.now)
                    ),
                    GateVerdict::Failed => "failed".to_owned(),
                    GateVerdict::Missing => "no result yet".to_owned(),
                },
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{glyph} "), t.style(slot)),
                Span::styled(format!("{:<14}", gate.name), t.style("text")),
                Span::styled(verdict, t.style(slot)),
            ]));
            if let Some(latest) = &gate.latest {
                lines.push(Line::from(Span::styled(
                    format!("    {} (by {})", latest.result.summary, latest.signer),
                    t.style("dim"),
                )));
            }
            if matches!(gate.verdict, GateVerdict::Failed | GateVerdict::Missing) {
                let fix = gate
                    .latest
                    .as_ref()
                    .and_then(|l| l.result.remediation.clone())
                    .or_else(|| {
                        policy
                            .and_then(|pol| pol.gate(&gate.name))
                            .and_then(|g| g.remediation.clone())
                    });
                if let Some(fix) = fix {
                    lines.push(Line::from(Span::styled(
                        format!("    fix: {fix}"),
                        t.style("warn"),
                    )));
                }
            }
        }
        if !p.blockers.is_empty() {
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(
                "not ready because",
                t.style("fail"),
            )));
            for b in &p.blockers {
                lines.push(Line::from(format!(
                    "  ✖ {}",
                    shorten_digests(&b.to_string())
                )));
            }
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }
}
