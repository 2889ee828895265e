//! The four views: each a list on the left (a [`Component`]) whose rows are
//! keys into the verified data, filtered by `/`.

mod audit;
mod environments;
mod inbox;
mod promotions;

use super::app::{App, RowKey, Rows, View};
use super::component::Component;

/// The component of `view`.
pub fn of(view: View) -> &'static dyn Component {
    match view {
        View::Inbox => &inbox::Inbox,
        View::Promotions => &promotions::Promotions,
        View::Environments => &environments::Environments,
        View::Audit => &audit::Audit,
    }
}

/// The row keys of the current view, after the filter.
pub fn rows(app: &App) -> Rows {
    let Some(data) = &app.data else {
        return Rows::default();
    };
    let filter = app.filter_text().to_lowercase();
    let keep = |text: String| filter.is_empty() || text.to_lowercase().contains(&filter);
    if app.view == View::Audit && filter.is_empty() {
        return Rows::Entries(data.index.len());
    }
    let keys = match app.view {
        View::Inbox => data
            .inbox(&app.session.me, app.now)
            .into_iter()
            .filter(|item| keep(inbox::row_text(data, item)))
            .map(RowKey::Inbox)
            .collect(),
        View::Promotions => data
            .promotions()
            .filter(|p| keep(promotions::row_text(p)))
            .map(|p| RowKey::Promotion(p.id))
            .collect(),
        View::Environments => data
            .services()
            .into_iter()
            .filter(|(env, service, _)| keep(format!("{env} {service}")))
            .map(|(env, service, _)| RowKey::Service {
                environment: env.to_owned(),
                service: service.to_owned(),
            })
            .collect(),
        View::Audit => (0..data.index.len())
            .filter(|i| {
                data.index
                    .get(*i)
                    .is_some_and(|row| keep(audit::row_text(&row)))
            })
            .map(RowKey::Entry)
            .collect(),
    };
    Rows::Keys(keys)
}
