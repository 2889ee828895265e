//! The cockpit's state and its reducer: key events (through the keymap) and
//! messages from client tasks change the state and may ask for effects
//! (sync, submit, quit). No I/O here: effects are carried out by the runner.

use std::cell::RefCell;
use std::rc::Rc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use time::{Duration, OffsetDateTime};

use super::action::Action;
use super::component::EventState;
use super::data::{Data, InboxItem, Target};
use super::detail::{Detail, Question};
use super::keymap::{Keymap, Mode};
use super::popups::{ConfirmPopup, Popup, PromptPopup};
use super::strings as s;
use super::theme::Theme;
use super::views;
use crate::client::actions::Prepared;
use crate::client::outbox::Counts;
use crate::digest::Digest;
use crate::state::{GateVerdict, Promotion, Standing, Summary};

/// The four views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Inbox,
    Promotions,
    Environments,
    Audit,
}

impl View {
    pub const ALL: [Self; 4] = [
        Self::Inbox,
        Self::Promotions,
        Self::Environments,
        Self::Audit,
    ];

    const fn index(self) -> usize {
        match self {
            Self::Inbox => 0,
            Self::Promotions => 1,
            Self::Environments => 2,
            Self::Audit => 3,
        }
    }
}

/// The detail pane's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailTab {
    Gates,
    Approvals,
    Drift,
    Evidence,
    Timeline,
}

impl DetailTab {
    pub const ALL: [Self; 5] = [
        Self::Gates,
        Self::Approvals,
        Self::Drift,
        Self::Evidence,
        Self::Timeline,
    ];
}

/// How the Drift tab shows the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftView {
    Table,
    /// The unified text of the same diff.
    Text,
}

impl DriftView {
    #[must_use]
    pub const fn toggled(self) -> Self {
        match self {
            Self::Table => Self::Text,
            Self::Text => Self::Table,
        }
    }
}

/// Which pane has focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    Detail,
}

/// Where the data stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncState {
    Starting,
    Syncing,
    Synced { at: OffsetDateTime },
    Failed(String),
}

/// How changes reach the cockpit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// The log is polled (the event stream is down or not open yet).
    Polling,
    /// The store's event stream is open: changes show as they happen.
    Live,
}

/// A row of the current list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Inbox(InboxItem),
    Promotion(Digest),
    Service {
        environment: String,
        service: String,
    },
    Entry(usize),
}

/// What an operator asked to sign, as collected by the dialogs; the action
/// layer turns it into the statement (see `client::actions`).
/// The current list's rows, after the filter. The audit log unfiltered
/// is every entry in log order, and holds no key per entry (a million-entry
/// log would hold a million of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rows {
    Keys(Vec<RowKey>),
    /// Entries `0..n` of the log.
    Entries(usize),
}

impl Default for Rows {
    fn default() -> Self {
        Self::Keys(Vec::new())
    }
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Self::Keys(keys) => keys.len(),
            Self::Entries(n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key of row `i`.
    pub fn get(&self, i: usize) -> Option<RowKey> {
        match self {
            Self::Keys(keys) => keys.get(i).cloned(),
            Self::Entries(n) => (i < *n).then_some(RowKey::Entry(i)),
        }
    }

    /// Every key, in order.
    pub fn to_vec(&self) -> Vec<RowKey> {
        (0..self.len()).filter_map(|i| self.get(i)).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft {
    Approve {
        promotion: Digest,
        rationale: String,
    },
    Reject {
        promotion: Digest,
        rationale: String,
    },
    Revoke {
        decision: Digest,
        rationale: String,
    },
    Waive {
        promotion: Digest,
        gate: String,
        ttl: Duration,
        rationale: String,
    },
    Rollback {
        environment: String,
        service: String,
        to: Option<Digest>,
        rationale: String,
    },
}

/// Messages from the terminal and the client tasks.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    /// Time moved on (expiry countdowns).
    Tick(OffsetDateTime),
    Syncing,
    Synced(Box<Data>),
    SyncFailed(String),
    /// The log forked, rewound or broke its rules.
    Alarm(String),
    Outbox(Counts),
    Delivered(String),
    Queued(String),
    /// Whether the store's event stream is open (else the log is polled).
    Live(bool),
    /// The client task's answer to [`Question::Detail`].
    Detail(Box<Detail>),
    /// Its answer to [`Question::Prepare`]: what the draft would sign, or
    /// why it is refused.
    Prepared(Box<Draft>, Box<Result<Prepared, String>>),
}

/// A confirmed action: what the operator asked for, and the statement they
/// were shown (the one that will be signed).
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub draft: Draft,
    pub prepared: Prepared,
}

/// What the runner must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    SyncNow,
    /// Sign the prepared statement, put it in the outbox, and deliver it.
    Submit(Box<Submission>),
    /// A question for the client task, answered with a [`Msg`].
    Ask(Box<Question>),
}

/// Fixed facts about this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub store: String,
    pub me: String,
    pub read_only: bool,
}

/// A promotion's timeline: its id, the entries indexed when it was looked
/// up, and the log indexes of its entries.
type Timeline = (Digest, usize, Rc<[usize]>);

/// The whole cockpit state.
#[derive(Debug)]
pub struct App {
    pub session: Session,
    pub keymap: Keymap,
    pub theme: Theme,
    pub now: OffsetDateTime,
    pub data: Option<Data>,
    pub sync: SyncState,
    pub alarm: Option<String>,
    pub outbox: Counts,
    pub status: Option<String>,
    pub view: View,
    pub pane: Pane,
    pub tab: DetailTab,
    /// How the Drift tab shows the diff.
    pub drift_view: DriftView,
    pub selected: [usize; 4],
    pub filter: [String; 4],
    pub filtering: bool,
    pub popups: Vec<Popup>,
    pub size: (u16, u16),
    pub rows: Rows,
    pub dirty: bool,
    pub quit: bool,
    /// How changes reach the cockpit.
    pub feed: Feed,
    /// Evidence tab: raw JSON folding and scrolling.
    pub evidence: super::evidence::PaneState,
    /// The Timeline tab's rows of the promotion it showed last, for the
    /// index of that many entries: the tab looks through the log's rows once
    /// per promotion and sync, not at every frame.
    timeline: RefCell<Option<Timeline>>,
    /// The selected promotion judged in full, once the client task answered
    /// (it may be the last sync's until the next answer comes).
    pub detail: Option<Box<Detail>>,
    /// The promotion whose detail was asked for last, and the log size it
    /// was asked for at.
    asked: Option<(Digest, u64)>,
    effects: Vec<Effect>,
}

impl App {
    pub fn new(session: Session, keymap: Keymap, theme: Theme, now: OffsetDateTime) -> Self {
        Self {
            session,
            keymap,
            theme,
            now,
            data: None,
            sync: SyncState::Starting,
            alarm: None,
            outbox: Counts::default(),
            status: None,
            view: View::Inbox,
            pane: Pane::List,
            tab: DetailTab::Gates,
            drift_view: DriftView::Table,
            selected: [0; 4],
            filter: Default::default(),
            filtering: false,
            popups: Vec::new(),
            size: (120, 40),
            rows: Rows::default(),
            dirty: true,
            evidence: super::evidence::PaneState::default(),
            quit: false,
            feed: Feed::Polling,
            timeline: RefCell::new(None),
            detail: None,
            asked: None,
            effects: Vec::new(),
        }
    }

    /// Applies one message; returns the effects it asks for.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        self.dirty = true;
        match msg {
            Msg::Key(key) => self.key(&key),
            Msg::Resize(w, h) => self.size = (w, h),
            // Countdowns move with the clock; readiness is re-folded by the
            // client task with every sync (at least every LIVE_POLL), never
            // here: a fold of a large log has no place on the input path.
            Msg::Tick(now) => self.now = now,
            Msg::Syncing => self.sync = SyncState::Syncing,
            Msg::Synced(data) => {
                if let Some(me) = &data.me {
                    self.session.me.clone_from(me);
                }
                // The view model it replaces (a whole evaluated state) is
                // freed on another thread: freeing it here held the next
                // frame for tens of milliseconds on a large log.
                if let Some(replaced) = self.data.replace(*data) {
                    rayon::spawn(move || drop(replaced));
                }
                if self
                    .status
                    .as_deref()
                    .is_some_and(|t| t.starts_with(s::SYNC_FAILED))
                {
                    self.status = None;
                }
                self.sync = SyncState::Synced { at: self.now };
                self.recompute();
                // The promotion on screen is judged again on this log.
                self.asked = None;
            }
            Msg::SyncFailed(reason) => {
                self.status = Some(s::sync_failed(&reason));
                self.sync = SyncState::Failed(reason);
            }
            Msg::Alarm(summary) => {
                self.sync = SyncState::Failed(s::ALARM_SHORT.to_owned());
                self.alarm = Some(summary);
            }
            Msg::Outbox(counts) => self.outbox = counts,
            Msg::Delivered(summary) => self.status = Some(s::delivered(&summary)),
            Msg::Queued(summary) => self.status = Some(s::queued(&summary)),
            Msg::Live(live) => {
                self.feed = if live { Feed::Live } else { Feed::Polling };
            }
            Msg::Detail(detail) => {
                if self.selected_promotion_id() == Some(detail.promotion.id) {
                    self.detail = Some(detail);
                }
            }
            Msg::Prepared(draft, prepared) => match *prepared {
                Ok(prepared) => self.popups.push(Popup::Confirm(Box::new(ConfirmPopup::new(
                    *draft, prepared,
                )))),
                Err(reason) => self.refuse(&reason),
            },
        }
        self.take_effects()
    }

    /// The effects asked for since the last call (by [`Self::update`] or
    /// [`Self::act`]), with the selected promotion's detail asked for when
    /// it was not yet.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.ask_detail();
        std::mem::take(&mut self.effects)
    }

    pub fn emit(&mut self, effect: Effect) {
        if effect == Effect::Quit {
            self.quit = true;
        }
        self.effects.push(effect);
    }

    fn key(&mut self, key: &KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        if let Some(popup) = self.popups.pop() {
            // The popup may open another on top of itself (prompt → confirm);
            // if it stays open it goes back where it was, below the new one.
            let base = self.popups.len();
            if let Some(keep) = popup.key(self, key) {
                self.popups.insert(base, keep);
            }
            return;
        }
        if self.filtering {
            self.filter_key(key);
            return;
        }
        if let Some(action) = self.keymap.action(Mode::Normal, key) {
            self.act(action);
        }
    }

    fn filter_key(&mut self, key: &KeyEvent) {
        let i = self.view.index();
        match key.code {
            KeyCode::Esc => {
                self.filter[i].clear();
                self.filtering = false;
            }
            KeyCode::Enter => self.filtering = false,
            KeyCode::Backspace => {
                self.filter[i].pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.emit(Effect::Quit);
            }
            KeyCode::Char(c) => self.filter[i].push(c),
            _ => {}
        }
        self.selected[i] = 0;
        self.recompute();
    }

    /// Runs a named action (from the keymap or the palette).
    pub fn act(&mut self, action: Action) {
        if action.is_write() && self.session.read_only {
            self.status = Some(s::BLOCKED_READ_ONLY.to_owned());
            return;
        }
        let view = views::of(self.view);
        if view.event(self, action) == EventState::Consumed {
            return;
        }
        if self.selected_promotion().is_some()
            && super::tabs::of(self.tab).event(self, action) == EventState::Consumed
        {
            return;
        }
        let i = self.view.index();
        match action {
            Action::Noop
            | Action::Confirm
            | Action::Cancel
            | Action::ToggleFocus
            | Action::ToggleFold => {}
            Action::Quit => self.emit(Effect::Quit),
            Action::Help => self.popups.push(Popup::Help { scroll: 0 }),
            Action::Palette => self.popups.push(Popup::Palette {
                query: String::new(),
                selected: 0,
            }),
            Action::Filter => self.filtering = true,
            Action::NextMatch => self.step(1),
            Action::PrevMatch => self.step(-1),
            Action::Down => self.move_by(1),
            Action::Up => self.move_by(-1),
            Action::PageDown => self.move_by(self.page()),
            Action::PageUp => self.move_by(-self.page()),
            Action::Top => self.selected[i] = 0,
            Action::Bottom => self.selected[i] = self.rows.len().saturating_sub(1),
            Action::NextPane | Action::PrevPane => {
                self.pane = match self.pane {
                    Pane::List => Pane::Detail,
                    Pane::Detail => Pane::List,
                };
            }
            Action::NextTab => self.tab = cycle(&DetailTab::ALL, self.tab, 1),
            Action::PrevTab => self.tab = cycle(&DetailTab::ALL, self.tab, -1),
            Action::ToggleText => self.drift_view = self.drift_view.toggled(),
            Action::ViewInbox => self.switch(View::Inbox),
            Action::ViewPromotions => self.switch(View::Promotions),
            Action::ViewEnvironments => self.switch(View::Environments),
            Action::ViewAudit => self.switch(View::Audit),
            Action::Back => {
                if self.pane == Pane::Detail {
                    self.pane = Pane::List;
                } else {
                    self.filter[i].clear();
                    self.status = None;
                    self.recompute();
                }
            }
            Action::Refresh => self.emit(Effect::SyncNow),
            Action::Approve => self.start_decision(true),
            Action::Reject => self.start_decision(false),
            Action::Revoke => self.start_revoke(),
            Action::Waive => self.start_waive(),
            Action::Rollback => self.start_rollback(),
        }
    }

    fn page(&self) -> isize {
        isize::try_from(self.size.1 / 2).unwrap_or(10).max(1)
    }

    fn step(&mut self, by: isize) {
        let len = self.rows.len();
        if len == 0 {
            return;
        }
        let i = self.view.index();
        let len = isize::try_from(len).unwrap_or(isize::MAX);
        let at = isize::try_from(self.selected[i]).unwrap_or(0);
        self.selected[i] = usize::try_from((at + by).rem_euclid(len)).unwrap_or(0);
    }

    fn move_by(&mut self, by: isize) {
        let i = self.view.index();
        let last = self.rows.len().saturating_sub(1);
        self.selected[i] = self.selected[i].saturating_add_signed(by).min(last);
    }

    fn switch(&mut self, view: View) {
        self.view = view;
        self.pane = Pane::List;
        self.filtering = false;
        self.recompute();
    }

    /// Rebuilds the current list's row keys (after data, view or filter changes).
    pub fn recompute(&mut self) {
        self.rows = views::rows(self);
        let i = self.view.index();
        self.selected[i] = self.selected[i].min(self.rows.len().saturating_sub(1));
    }

    pub fn selected_row(&self) -> Option<RowKey> {
        self.rows.get(self.selected[self.view.index()])
    }

    pub fn filter_text(&self) -> &str {
        &self.filter[self.view.index()]
    }

    /// The promotion the selected row is about.
    /// The log indexes of every entry about `promotion`, in log order
    /// (remembered for the promotion shown last, see [`Self::timeline`]).
    pub fn timeline_of(&self, promotion: &Promotion) -> Rc<[usize]> {
        let Some(data) = &self.data else {
            return Rc::from([]);
        };
        let len = data.index.len();
        if let Some((id, indexed, rows)) = &*self.timeline.borrow()
            && *id == promotion.id
            && *indexed == len
        {
            return Rc::clone(rows);
        }
        let rows: Rc<[usize]> = data.index.timeline(&promotion.id, promotion.index).into();
        *self.timeline.borrow_mut() = Some((promotion.id, len, Rc::clone(&rows)));
        rows
    }

    /// The id of the promotion the selected row is about.
    pub fn selected_promotion_id(&self) -> Option<Digest> {
        match &self.selected_row()? {
            RowKey::Promotion(id)
            | RowKey::Inbox(InboxItem {
                target: Target::Promotion(id),
                ..
            }) => Some(*id),
            RowKey::Entry(i) => self.data.as_ref()?.index.get(*i)?.promotion,
            _ => None,
        }
    }

    /// The promotion the selected row is about, in brief.
    pub fn selected_summary(&self) -> Option<&Summary> {
        let id = self.selected_promotion_id()?;
        self.data.as_ref()?.summaries.get(&id)
    }

    /// The promotion the selected row is about, judged in full, once the
    /// client task has answered.
    pub fn selected_promotion(&self) -> Option<&Promotion> {
        self.selected_detail().map(|d| &d.promotion)
    }

    /// The selected promotion's detail, once the client task has answered.
    pub fn selected_detail(&self) -> Option<&Detail> {
        let id = self.selected_promotion_id()?;
        self.detail.as_deref().filter(|d| d.promotion.id == id)
    }

    /// Asks for the selected promotion's detail, unless it was asked for
    /// on this log already.
    fn ask_detail(&mut self) {
        let Some(id) = self.selected_promotion_id() else {
            return;
        };
        let Some(data) = &self.data else {
            return;
        };
        let size = data.index.len() as u64;
        if self.asked == Some((id, size)) || !data.summaries.contains(&id) {
            return;
        }
        self.asked = Some((id, size));
        self.emit(Effect::Ask(Box::new(Question::Detail {
            promotion: id,
            at: self.now,
        })));
    }

    /// The environment/service the selected row is about.
    pub fn selected_service(&self) -> Option<(String, String)> {
        match &self.selected_row()? {
            RowKey::Service {
                environment,
                service,
            }
            | RowKey::Inbox(InboxItem {
                target:
                    Target::Service {
                        environment,
                        service,
                    },
                ..
            }) => Some((environment.clone(), service.clone())),
            RowKey::Promotion(_) | RowKey::Inbox(_) | RowKey::Entry(_) => {
                let p = self.selected_summary()?;
                Some((p.to.to_string(), p.service.to_string()))
            }
        }
    }

    fn refuse(&mut self, text: &str) {
        self.popups.push(Popup::Message {
            title: s::REFUSED_TITLE.to_owned(),
            text: text.to_owned(),
        });
    }

    fn start_decision(&mut self, approve: bool) {
        let Some(p) = self.selected_summary() else {
            return self.refuse(s::NOT_A_PROMOTION);
        };
        let id = p.id;
        let title = format!(
            "{} {} {} → {}",
            if approve { "Approve" } else { "Reject" },
            p.service,
            p.version,
            p.to
        );
        self.popups.push(Popup::Prompt(PromptPopup::new(
            title,
            vec![(s::RATIONALE.to_owned(), String::new())],
            if approve {
                Pending::Approve(id)
            } else {
                Pending::Reject(id)
            },
        )));
    }

    fn start_revoke(&mut self) {
        if self.selected_summary().is_none() {
            return self.refuse(s::NOT_A_PROMOTION);
        }
        let Some(p) = self.selected_promotion() else {
            return self.refuse(s::DETAIL_NOT_YET);
        };
        let me = &self.session.me;
        let mine = p
            .approvals
            .iter()
            .filter(|a| !matches!(a.standing, Standing::Revoked { .. }))
            .map(|a| &a.decision)
            .chain(p.rejections.iter())
            .find(|d| &d.signer == me)
            .map(|d| d.id);
        let Some(decision) = mine else {
            return self.refuse(s::NO_DECISION_TO_REVOKE);
        };
        let title = format!("Revoke my decision {}", decision.short());
        self.popups.push(Popup::Prompt(PromptPopup::new(
            title,
            vec![(s::RATIONALE.to_owned(), String::new())],
            Pending::Revoke(decision),
        )));
    }

    fn start_waive(&mut self) {
        if self.selected_summary().is_none() {
            return self.refuse(s::NOT_A_PROMOTION);
        }
        let Some(p) = self.selected_promotion() else {
            return self.refuse(s::DETAIL_NOT_YET);
        };
        let gate = p
            .gates
            .values()
            .find(|g| matches!(g.verdict, GateVerdict::Failed | GateVerdict::Missing))
            .map(|g| g.name.clone());
        let Some(gate) = gate else {
            return self.refuse(s::NO_FAILED_GATE);
        };
        let id = p.id;
        let title = format!(
            "Waive a gate of {} {}",
            p.request.service, p.request.version
        );
        self.popups.push(Popup::Prompt(PromptPopup::new(
            title,
            vec![
                (s::GATE.to_owned(), gate),
                (s::TTL.to_owned(), "24h".to_owned()),
                (s::RATIONALE.to_owned(), String::new()),
            ],
            Pending::Waive(id),
        )));
    }

    fn start_rollback(&mut self) {
        let Some((environment, service)) = self.selected_service() else {
            return self.refuse(s::NOT_A_SERVICE);
        };
        let lkg = self
            .data
            .as_ref()
            .and_then(|d| d.service(&environment, &service))
            .and_then(|st| st.last_known_good().cloned());
        let Some(lkg) = lkg else {
            return self.refuse(s::NO_KNOWN_GOOD);
        };
        let title = format!(
            "Roll {service} in {environment} back to {} ({})",
            super::data::version_of(&lkg),
            lkg.artifact.short()
        );
        self.popups.push(Popup::Prompt(PromptPopup::new(
            title,
            vec![(s::RATIONALE.to_owned(), String::new())],
            Pending::Rollback {
                environment,
                service,
                to: lkg.artifact,
            },
        )));
    }

    /// A prompt was filled in: show exactly what will be signed.
    pub fn prompt_done(&mut self, pending: Pending, fields: &[(String, String)]) {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(l, _)| l == name)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let rationale = field(s::RATIONALE);
        let draft = match pending {
            Pending::Approve(promotion) => Draft::Approve {
                promotion,
                rationale,
            },
            Pending::Reject(promotion) => Draft::Reject {
                promotion,
                rationale,
            },
            Pending::Revoke(decision) => Draft::Revoke {
                decision,
                rationale,
            },
            Pending::Waive(promotion) => {
                let ttl_text = field(s::TTL);
                let Some(ttl) = humantime::parse_duration(&ttl_text)
                    .ok()
                    .and_then(|d| Duration::try_from(d).ok())
                else {
                    return self.refuse(&format!(
                        "`{ttl_text}` is not a duration; write e.g. 24h or 90m"
                    ));
                };
                Draft::Waive {
                    promotion,
                    gate: field(s::GATE),
                    ttl,
                    rationale,
                }
            }
            Pending::Rollback {
                environment,
                service,
                to,
            } => Draft::Rollback {
                environment,
                service,
                to: Some(to),
                rationale,
            },
        };
        if matches!(&draft, Draft::Approve { rationale, .. } | Draft::Reject { rationale, .. } | Draft::Revoke { rationale, .. } | Draft::Waive { rationale, .. } | Draft::Rollback { rationale, .. } if rationale.is_empty())
        {
            return self.refuse("A rationale is required: say why, in a few words.");
        }
        // The client task says what it would sign (or why not): the
        // confirm dialog opens with its answer.
        let question = Question::Prepare {
            draft,
            me: self.session.me.clone(),
            at: self.now,
        };
        self.emit(Effect::Ask(Box::new(question)));
    }

    /// The confirm dialog said yes: the only path to signing.
    pub fn confirmed(&mut self, submission: Submission) {
        if self.session.read_only {
            self.status = Some(s::BLOCKED_READ_ONLY.to_owned());
            return;
        }
        self.emit(Effect::Submit(Box::new(submission)));
    }

    /// Key hints for the bar: the focused component's actions.
    pub fn hints(&self) -> Vec<Action> {
        let mut out = views::of(self.view).hints(self);
        out.retain(|a| !(a.is_write() && self.session.read_only));
        if self.tab == DetailTab::Drift && self.selected_promotion().is_some() {
            out.push(Action::ToggleText);
        }
        out.extend([
            Action::Filter,
            Action::NextPane,
            Action::NextTab,
            Action::Help,
            Action::Palette,
            Action::Quit,
        ]);
        out
    }
}

/// What a prompt is collecting input for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    Approve(Digest),
    Reject(Digest),
    Revoke(Digest),
    Waive(Digest),
    Rollback {
        environment: String,
        service: String,
        to: Digest,
    },
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: T, by: isize) -> T {
    let len = isize::try_from(all.len()).unwrap_or(1);
    let at = all.iter().position(|t| *t == current).unwrap_or(0);
    let next = (isize::try_from(at).unwrap_or(0) + by).rem_euclid(len);
    all[usize::try_from(next).unwrap_or(0)]
}

#[cfg(test)]
mod tests;
