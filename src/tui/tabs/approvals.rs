//! Approvals tab: who, which role, when, the expiry countdown, and whether
//! it counts (stale and why, expired, revoked).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::state::Standing;
use crate::tui::app::App;
use crate::tui::component::Component;
use crate::tui::data::{countdown, when};
use crate::tui::widgets::standing_glyph;

#[derive(Debug)]
pub struct Approvals;

impl Component for Approvals {
    fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let Some(p) = app.selected_promotion() else {
            return;
        };
        let t = &app.theme;
        let mut lines = Vec::new();
        if let Some(env) = app
            .data
            .as_ref()
            .and_then(|d| d.policy.environment(&p.request.to))
        {
            let needs: Vec<String> = env
                .approvals
                .iter()
                .map(|r| format!("{}×{}", r.count, r.role))
                .collect();
            lines.push(Line::from(Span::styled(
                format!(
                    "{} needs: {}",
                    p.request.to,
                    if needs.is_empty() {
                        "none".to_owned()
                    } else {
                        needs.join(", ")
                    }
                ),
                t.style("dim"),
            )));
        }
        for a in &p.approvals {
            let (glyph, slot) = standing_glyph(&a.standing);
            let standing = match &a.standing {
                Standing::Counted => {
                    format!("counts, expires in {}", countdown(a.expires_at - app.now))
                }
                Standing::NotNeeded => "valid, not needed".to_owned(),
                Standing::Expired { at } => format!("expired at {}", when(*at)),
                Standing::Stale(reason) => format!("stale: {reason}"),
                Standing::Revoked { by } => format!("revoked by {by}"),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{glyph} "), t.style(slot)),
                Span::styled(
                    format!("{:<8} as {:<16}", a.decision.signer, a.decision.role),
                    t.style("text"),
                ),
                Span::styled(format!(" {} ", when(a.issued_at)), t.style("dim")),
                Span::styled(standing, t.style(slot)),
            ]));
            lines.push(Line::from(Span::styled(
                format!("    {:?}", a.decision.rationale),
                t.style("dim"),
            )));
        }
        for r in &p.rejections {
            lines.push(Line::from(vec![
                Span::styled("✖ ", t.style("fail")),
                Span::styled(
                    format!("{} rejected as {}: {:?}", r.signer, r.role, r.rationale),
                    t.style("fail"),
                ),
            ]));
        }
        if p.approvals.is_empty() && p.rejections.is_empty() {
            lines.push(Line::from("No approvals yet."));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }
}
