//! Shared widgets: the virtualised table (rows are built only for the
//! visible window), status glyphs, the header, the alarm banner and the
//! key-hint bar.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, Wrap};

use super::app::{App, Pane, SyncState};
use super::keymap::Mode;
use super::strings as s;
use crate::state::{GateVerdict, PromotionStatus, Standing};

/// A status glyph and the theme slot that colours it; the glyph alone
/// carries the meaning (NO_COLOR).
pub fn promotion_glyph(status: PromotionStatus) -> (&'static str, &'static str) {
    match status {
        PromotionStatus::Ready | PromotionStatus::Deployed => ("✔", "ok"),
        PromotionStatus::Waiting => ("…", "warn"),
        PromotionStatus::Superseded => ("·", "dim"),
        PromotionStatus::Rejected | PromotionStatus::DeployFailed => ("✖", "fail"),
    }
}

pub fn gate_glyph(verdict: &GateVerdict) -> (&'static str, &'static str) {
    match verdict {
        GateVerdict::Passed => ("✔", "ok"),
        GateVerdict::Waived { .. } => ("!", "warn"),
        GateVerdict::Failed => ("✖", "fail"),
        GateVerdict::Missing => ("…", "dim"),
    }
}

pub fn standing_glyph(standing: &Standing) -> (&'static str, &'static str) {
    match standing {
        Standing::Counted => ("✔", "ok"),
        Standing::NotNeeded => ("·", "dim"),
        Standing::Expired { .. } | Standing::Stale(_) => ("!", "warn"),
        Standing::Revoked { .. } => ("✖", "fail"),
    }
}

/// A table over `total` rows that builds only the visible ones.
#[derive(Debug)]
pub struct VirtualTable<'a> {
    pub title: String,
    pub header: Vec<&'a str>,
    pub widths: Vec<Constraint>,
    pub total: usize,
    pub selected: usize,
    pub focused: bool,
}

impl VirtualTable<'_> {
    pub fn draw<F>(self, app: &App, frame: &mut Frame<'_>, area: Rect, mut row: F)
    where
        F: FnMut(usize) -> Row<'static>,
    {
        let t = &app.theme;
        let border = if self.focused {
            "border_focus"
        } else {
            "border"
        };
        let count = if self.total == 0 {
            String::from("0")
        } else {
            format!("{}/{}", self.selected + 1, self.total)
        };
        let filter = app.filter_text();
        let filter = if filter.is_empty() && !app.filtering {
            String::new()
        } else {
            format!(
                " {}{filter}{} ",
                s::FILTER_PROMPT,
                if app.filtering { "▏" } else { "" }
            )
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.style(border))
            .title(Span::styled(format!(" {} ", self.title), t.style("title")))
            .title(Line::from(Span::styled(format!(" {count} "), t.style("dim"))).right_aligned())
            .title_bottom(Span::styled(filter, t.style("warn")));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if self.total == 0 {
            frame.render_widget(Paragraph::new(s::EMPTY_LIST).style(t.style("dim")), inner);
            return;
        }
        // Header takes one line; the rest is the window.
        let height = usize::from(inner.height.saturating_sub(1)).max(1);
        let offset = self.selected.saturating_sub(height - 1);
        let end = (offset + height).min(self.total);
        let rows: Vec<Row<'static>> = (offset..end)
            .map(|i| {
                let r = row(i);
                if i == self.selected {
                    r.style(t.style("selection"))
                } else {
                    r
                }
            })
            .collect();
        let table = Table::new(rows, self.widths)
            .header(Row::new(self.header).style(t.style("dim")))
            .column_spacing(1);
        frame.render_widget(table, inner);
    }
}

/// The header: store, sync state, verified log size, operator and roles,
/// outbox counts, read-only.
pub fn header(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let sync = match &app.sync {
        SyncState::Starting => "starting".to_owned(),
        SyncState::Syncing => "syncing…".to_owned(),
        SyncState::Synced { at } => format!("verified {}", super::data::clock_time(*at)),
        SyncState::Failed(reason) => s::sync_failed_short(reason),
    };
    let sync = if app.feed == super::app::Feed::Live && matches!(app.sync, SyncState::Synced { .. })
    {
        format!("{sync} {}", s::LIVE)
    } else {
        sync
    };
    let size = app
        .data
        .as_ref()
        .and_then(|d| d.checkpoint.as_ref().map(|c| c.size))
        .map_or_else(|| "—".to_owned(), |n| n.to_string());
    let roles = app
        .data
        .as_ref()
        .map(|d| d.policy.roles_of(&app.session.me).join(","))
        .unwrap_or_default();
    let mut spans = vec![Span::styled(format!(" {} ", s::APP), t.style("title"))];
    if app.session.read_only {
        spans.push(Span::styled(format!("{} ", s::READ_ONLY), t.style("warn")));
    }
    spans.extend([
        Span::raw(format!("{}  ", app.session.store)),
        Span::raw(format!("{sync}  ")),
        Span::raw(format!("log {size}  ")),
        Span::raw(format!("{} [{roles}]  ", app.session.me)),
        Span::raw(format!(
            "outbox {}q {}s {}r",
            app.outbox.queued, app.outbox.sent, app.outbox.refused
        )),
    ]);
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(t.style("header")),
        area,
    );
}

/// The alarm banner: red, bold, full width, impossible to miss.
pub fn alarm(app: &App, frame: &mut Frame<'_>, area: Rect, summary: &str) {
    let style = app.theme.style("alarm");
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(alarm_text(summary), style)))
            .style(style)
            .wrap(Wrap { trim: false })
            .block(Block::default().borders(Borders::ALL).border_style(style)),
        area,
    );
}

fn alarm_text(summary: &str) -> String {
    format!(" ‼ {}{summary} ", s::ALARM_PREFIX)
}

/// How many lines the alarm banner's text takes at `width` columns
/// (inside its border), at most 6.
pub fn alarm_lines(summary: &str, width: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let chars = alarm_text(summary).chars().count();
    u16::try_from(chars.div_ceil(inner))
        .unwrap_or(6)
        .clamp(1, 6)
}

/// The key-hint bar: the keys live for the focused component now.
pub fn hints(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let mut spans = Vec::new();
    for action in app.hints() {
        if let Some(chord) = app.keymap.key_for(Mode::Normal, action) {
            let desc = app
                .keymap
                .bindings(Mode::Normal)
                .iter()
                .find(|b| b.action == action)
                .map_or_else(|| action.name(), |b| b.desc.clone());
            spans.push(Span::styled(format!(" {chord}"), t.style("key")));
            spans.push(Span::styled(format!(" {desc} "), t.style("dim")));
        }
    }
    let line = match &app.status {
        Some(status) => Line::from(Span::styled(status.clone(), t.style("warn"))),
        None => Line::from(spans),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// A pane border style by focus.
pub fn pane_border(app: &App, pane: Pane) -> Style {
    app.theme.style(if app.pane == pane {
        "border_focus"
    } else {
        "border"
    })
}

/// Shortens every `sha256:<64 hex>` in `text` to its first 12 hex digits
/// and an ellipsis, so reasons fit a pane instead of wrapping mid-digest.
pub fn shorten_digests(text: &str) -> String {
    const PREFIX: &str = "sha256:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        let (before, after) = rest.split_at(at + PREFIX.len());
        out.push_str(before);
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 64 {
            out.push_str(&after[..12]);
            out.push('…');
            rest = &after[64..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn digests_are_shortened_and_the_rest_kept() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            super::shorten_digests(&format!("x {d} y sha256:12")),
            "x sha256:abababababab… y sha256:12"
        );
    }
}
