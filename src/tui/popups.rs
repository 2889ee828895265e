//! Popups stacked over the views (gitui's popup stack): text prompts, the
//! confirm dialog that is the only way to sign, help, the command palette,
//! and messages (refusals).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::action::Action;
use super::app::{App, Draft, Effect, Pending, Submission};
use super::keymap::Mode;
use super::strings as s;
use crate::client::actions::Prepared;

/// A text prompt with one or more fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptPopup {
    pub title: String,
    pub fields: Vec<(String, String)>,
    pub focus: usize,
    pub pending: Pending,
}

impl PromptPopup {
    pub fn new(title: String, fields: Vec<(String, String)>, pending: Pending) -> Self {
        // Focus starts on the first empty field (the rationale, usually).
        let focus = fields.iter().position(|(_, v)| v.is_empty()).unwrap_or(0);
        Self {
            title,
            fields,
            focus,
            pending,
        }
    }
}

/// The confirm dialog: what will be signed, focus starting on "No"; a
/// rollback also wants the environment's name typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmPopup {
    pub draft: Draft,
    /// What will be signed, as the action layer prepared it.
    pub prepared: Prepared,
    pub yes_focused: bool,
    /// For rollbacks: the name to type, and what was typed.
    pub typed: Option<(String, String)>,
}

impl ConfirmPopup {
    pub fn new(draft: Draft, prepared: Prepared) -> Self {
        let typed = match &draft {
            Draft::Rollback { environment, .. } => Some((environment.clone(), String::new())),
            _ => None,
        };
        Self {
            draft,
            prepared,
            yes_focused: false,
            typed,
        }
    }

    fn ready(&self) -> bool {
        self.typed.as_ref().is_none_or(|(want, got)| want == got)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Prompt(PromptPopup),
    Confirm(Box<ConfirmPopup>),
    Help { scroll: usize },
    Palette { query: String, selected: usize },
    Message { title: String, text: String },
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Edits `text` with a typed key; true when the key was text editing.
fn edit(text: &mut String, key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            text.push(c);
            true
        }
        KeyCode::Backspace => {
            text.pop();
            true
        }
        _ => false,
    }
}

impl Popup {
    /// Handles a key; returns the popup if it stays open.
    pub fn key(self, app: &mut App, key: &KeyEvent) -> Option<Self> {
        if is_ctrl_c(key) {
            app.emit(Effect::Quit);
            return None;
        }
        let action = app.keymap.action(Mode::Dialog, key);
        match self {
            Self::Prompt(mut p) => {
                match action {
                    Some(Action::Cancel) => return None,
                    Some(Action::Confirm) => {
                        app.prompt_done(p.pending, &p.fields);
                        return None;
                    }
                    Some(Action::ToggleFocus)
                        if key.code != KeyCode::Left && key.code != KeyCode::Right =>
                    {
                        p.focus = (p.focus + 1) % p.fields.len().max(1);
                    }
                    _ => {
                        if let Some((_, value)) = p.fields.get_mut(p.focus) {
                            edit(value, key);
                        }
                    }
                }
                Some(Self::Prompt(p))
            }
            Self::Confirm(mut c) => {
                match action {
                    Some(Action::Cancel) => return None,
                    Some(Action::ToggleFocus) => c.yes_focused = !c.yes_focused,
                    Some(Action::Confirm) => {
                        // Enter on "No" closes without signing; on "Yes"
                        // it signs only once the typed name matches.
                        if !c.yes_focused {
                            return None;
                        }
                        if c.ready() {
                            app.confirmed(Submission {
                                draft: c.draft,
                                prepared: c.prepared,
                            });
                            return None;
                        }
                    }
                    _ => {
                        if let Some((_, typed)) = &mut c.typed {
                            edit(typed, key);
                        } else if matches!(key.code, KeyCode::Char('y')) {
                            c.yes_focused = true;
                        } else if matches!(key.code, KeyCode::Char('n')) {
                            return None;
                        }
                    }
                }
                Some(Self::Confirm(c))
            }
            Self::Help { scroll } => {
                if let Some(Action::Cancel | Action::Confirm) = action {
                    return None;
                }
                match app.keymap.action(Mode::Normal, key) {
                    Some(Action::Help | Action::Quit | Action::Back) => None,
                    Some(Action::Down) => Some(Self::Help { scroll: scroll + 1 }),
                    Some(Action::Up) => Some(Self::Help {
                        scroll: scroll.saturating_sub(1),
                    }),
                    _ => Some(Self::Help { scroll }),
                }
            }
            Self::Palette {
                mut query,
                mut selected,
            } => {
                match (action, key.code) {
                    (Some(Action::Cancel), _) => return None,
                    (Some(Action::Confirm), _) => {
                        if let Some(a) = palette_matches(app, &query).get(selected) {
                            app.act(*a);
                        }
                        return None;
                    }
                    (_, KeyCode::Down) => selected += 1,
                    (_, KeyCode::Up) => selected = selected.saturating_sub(1),
                    _ => {
                        if edit(&mut query, key) {
                            selected = 0;
                        }
                    }
                }
                let len = palette_matches(app, &query).len();
                selected = selected.min(len.saturating_sub(1));
                Some(Self::Palette { query, selected })
            }
            Self::Message { .. } => match action {
                Some(Action::Cancel | Action::Confirm) => None,
                _ => Some(self),
            },
        }
    }

    pub fn draw(&self, app: &App, frame: &mut Frame<'_>, area: Rect) {
        let t = &app.theme;
        match self {
            Self::Prompt(p) => {
                let height = u16::try_from(p.fields.len() * 3 + 4).unwrap_or(12);
                let rect = centered(area, 72, height);
                frame.render_widget(Clear, rect);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.style("border_focus"))
                    .title(Span::styled(format!(" {} ", p.title), t.style("title")));
                let inner = block.inner(rect);
                frame.render_widget(block, rect);
                let mut lines = Vec::new();
                for (i, (label, value)) in p.fields.iter().enumerate() {
                    lines.push(Line::from(Span::styled(label.clone(), t.style("dim"))));
                    let cursor = if i == p.focus { "▏" } else { "" };
                    let style = if i == p.focus {
                        t.style("selection")
                    } else {
                        t.style("text")
                    };
                    lines.push(Line::from(Span::styled(
                        format!("> {value}{cursor}"),
                        style,
                    )));
                    lines.push(Line::default());
                }
                lines.push(hint_line(
                    app,
                    &[Action::Confirm, Action::ToggleFocus, Action::Cancel],
                ));
                frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
            }
            Self::Confirm(c) => {
                let rollback = c.typed.is_some();
                let height = u16::try_from(c.prepared.details.len() + 10).unwrap_or(20);
                let rect = centered(area, 96, height);
                frame.render_widget(Clear, rect);
                let title = if rollback {
                    s::ROLLBACK_TITLE
                } else {
                    s::CONFIRM_TITLE
                };
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.style("danger"))
                    .title(Span::styled(format!(" {title} "), t.style("danger")));
                let inner = block.inner(rect);
                frame.render_widget(block, rect);
                let details = &c.prepared.details;
                let width = details.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
                let mut lines: Vec<Line<'_>> = vec![
                    Line::from(Span::styled(c.prepared.summary.clone(), t.style("title"))),
                    Line::default(),
                ];
                lines.extend(details.iter().map(|(label, value)| {
                    Line::from(vec![
                        Span::styled(format!("{label:>width$}  "), t.style("dim")),
                        Span::styled(value.clone(), t.style("text")),
                    ])
                }));
                lines.push(Line::default());
                if let Some((want, got)) = &c.typed {
                    lines.push(Line::from(s::rollback_type_prompt(want)));
                    lines.push(Line::from(Span::styled(
                        format!("> {got}▏"),
                        t.style("selection"),
                    )));
                } else {
                    lines.push(Line::default());
                    lines.push(Line::default());
                }
                let button = |label: &str, focused: bool| {
                    let style = if focused {
                        t.style("button_focus").add_modifier(Modifier::REVERSED)
                    } else {
                        t.style("button")
                    };
                    Span::styled(format!("[ {label} ]"), style)
                };
                lines.push(Line::from(vec![
                    button(s::NO, !c.yes_focused),
                    Span::raw("   "),
                    button(s::YES, c.yes_focused),
                ]));
                lines.push(hint_line(
                    app,
                    &[Action::ToggleFocus, Action::Confirm, Action::Cancel],
                ));
                frame.render_widget(Paragraph::new(lines), inner);
            }
            Self::Help { scroll } => {
                let rect = centered(area, 70, area.height.saturating_sub(4));
                frame.render_widget(Clear, rect);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.style("border_focus"))
                    .title(Span::styled(
                        format!(" {} ", s::HELP_TITLE),
                        t.style("title"),
                    ));
                let mut lines = Vec::new();
                for mode in Mode::ALL {
                    lines.push(Line::from(Span::styled(mode.name(), t.style("title"))));
                    for b in app.keymap.bindings(mode) {
                        if b.action.is_write() && app.session.read_only {
                            continue;
                        }
                        lines.push(Line::from(vec![
                            Span::styled(
                                format!("  {:>10}  ", b.chord.to_string()),
                                t.style("key"),
                            ),
                            Span::styled(format!("{:<18}", b.action.name()), t.style("text")),
                            Span::styled(b.desc.clone(), t.style("dim")),
                        ]));
                    }
                }
                let skip = (*scroll).min(lines.len().saturating_sub(1));
                frame.render_widget(Paragraph::new(lines.split_off(skip)).block(block), rect);
            }
            Self::Palette { query, selected } => {
                let rect = centered(area, 60, 16);
                frame.render_widget(Clear, rect);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.style("border_focus"))
                    .title(Span::styled(
                        format!(" {} ", s::PALETTE_TITLE),
                        t.style("title"),
                    ));
                let mut lines = vec![Line::from(format!(": {query}▏")), Line::default()];
                for (i, a) in palette_matches(app, query).iter().enumerate().take(12) {
                    let style = if i == *selected {
                        t.style("selection")
                    } else {
                        t.style("text")
                    };
                    let desc = app
                        .keymap
                        .bindings(Mode::Normal)
                        .iter()
                        .find(|b| b.action == *a)
                        .map(|b| b.desc.clone())
                        .unwrap_or_default();
                    lines.push(Line::from(Span::styled(
                        format!("{:<18} {desc}", a.name()),
                        style,
                    )));
                }
                frame.render_widget(Paragraph::new(lines).block(block), rect);
            }
            Self::Message { title, text } => {
                let rect = centered(area, 70, 8);
                frame.render_widget(Clear, rect);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.style("fail"))
                    .title(Span::styled(format!(" {title} "), t.style("fail")));
                let lines = vec![
                    Line::from(Span::styled(format!("✖ {text}"), t.style("text"))),
                    Line::default(),
                    hint_line(app, &[Action::Confirm, Action::Cancel]),
                ];
                frame.render_widget(
                    Paragraph::new(lines)
                        .block(block)
                        .wrap(Wrap { trim: false }),
                    rect,
                );
            }
        }
    }
}

/// Actions the palette offers for `query` (read-only hides writes).
pub fn palette_matches(app: &App, query: &str) -> Vec<Action> {
    let q = query.to_lowercase();
    Action::ALL
        .into_iter()
        .filter(|a| {
            !matches!(
                a,
                Action::Noop
                    | Action::Confirm
                    | Action::Cancel
                    | Action::ToggleFocus
                    | Action::Palette
            )
        })
        .filter(|a| !(a.is_write() && app.session.read_only))
        .filter(|a| a.name().to_lowercase().contains(&q))
        .collect()
}

fn hint_line<'a>(app: &App, actions: &[Action]) -> Line<'a> {
    let mut spans = Vec::new();
    for a in actions {
        if let Some(chord) = app.keymap.key_for(Mode::Dialog, *a) {
            spans.push(Span::styled(format!("{chord}"), app.theme.style("key")));
            spans.push(Span::styled(
                format!(" {}  ", a.name()),
                app.theme.style("dim"),
            ));
        }
    }
    Line::from(spans)
}

/// A rectangle of at most `width`×`height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    let [_, mid, _] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(h),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [_, rect, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(w),
        Constraint::Fill(1),
    ])
    .areas(mid);
    rect
}
