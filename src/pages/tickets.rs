//! The customer's tickets: status tabs with counts, search by code or subject, paging.

use crate::api::{use_api, ApiError};
use crate::components::layout::Layout;
use crate::components::load::{LoadFailed, Loading, Loads};
use crate::components::status::{PriorityBadge, StatusBadge};
use crate::format::datetime;
use crate::i18n::*;
use crate::live::use_live;
use crate::nav::{below_base, use_nav, Link};
use crate::texts::{status_tab, tab_help};
use helpdesk_core::api::{Status, StatusCounts, TicketList, TicketSummary};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::params::ParamsMap;
use std::time::Duration;

#[derive(Clone, PartialEq)]
enum Load {
    Loading,
    Ready,
    Failed(String),
}

#[component]
pub fn TicketListPage() -> impl IntoView {
    let i18n = use_i18n();
    // The tab and the search live in the address (`?stato=…&q=…`), so that Back from a ticket,
    // a reload or a shared link finds the list as it was left.
    let address = use_query_map();
    let location = use_location();
    let from_address = move || {
        address.with(|q| {
            (
                q.get("stato").as_deref().and_then(Status::parse),
                q.get("q").unwrap_or_default(),
            )
        })
    };
    let (s0, q0) = untrack(from_address);
    let status = RwSignal::new(s0);
    let typed = RwSignal::new(q0.clone());
    let query = RwSignal::new(q0);
    let items = RwSignal::new(Vec::<TicketSummary>::new());
    let counts = RwSignal::new(StatusCounts::default());
    let next = RwSignal::new(None::<String>);
    let state = RwSignal::new(Load::Loading);
    let more_busy = RwSignal::new(false);
    // Answers to an older request (a tab clicked quickly after another) are dropped, and so
    // are those for a page the customer has left.
    let loads = Loads::default();
    let (api, nav, live) = (use_api(), use_nav(), use_live());

    let load = move |append: bool| {
        let cursor = if append { next.get_untracked() } else { None };
        if append {
            more_busy.set(true);
        } else {
            state.set(Load::Loading);
        }
        let (s, q) = (status.get_untracked(), query.get_untracked());
        let request = async move { api.tickets(s, &q, cursor.as_deref()).await };
        let answered = move |result: Result<TicketList, ApiError>| {
            more_busy.set(false);
            match result {
                Ok(list) => {
                    if append {
                        items.update(|v| v.extend(list.items));
                    } else {
                        items.set(list.items);
                    }
                    counts.set(list.counts);
                    next.set(list.next_cursor);
                    state.set(Load::Ready);
                    // The widget's benchmark reads this mark: the list is drawn and works.
                    request_animation_frame(|| {
                        if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                            let _ = p.mark("helpdesk-list-ready");
                        }
                    });
                }
                Err(ApiError::Unauthorized) => {}
                Err(e) => state.set(Load::Failed(e.message(i18n.get_locale_untracked()))),
            }
        };
        // The next page belongs to the list on screen; a new search or tab is a new load.
        match (append, loads.latest()) {
            (true, Some(latest)) => loads.follow(latest, request, answered),
            (true, None) => {}
            (false, _) => loads.begin(request, answered),
        }
    };
    crate::effect(move || {
        status.track();
        query.track();
        load(false);
    });
    // News from the live stream: the first page and the counts again, without the loading
    // state (the table stays where it is, focus included).
    live.showing("*");
    live.on_event(move |_| {
        let (Some(latest), Some(s), Some(q)) = (
            loads.latest(),
            status.try_get_untracked(),
            query.try_get_untracked(),
        ) else {
            return;
        };
        let request = async move { api.tickets(s, &q, None).await };
        loads.follow(latest, request, move |result| {
            let Ok(list) = result else {
                return;
            };
            counts.set(list.counts);
            if next.get_untracked().is_none() {
                items.set(list.items);
                next.set(list.next_cursor);
            } else {
                // More pages shown: the first page's rows take the place of their older copies,
                // at the top, and the pages after it stay.
                items.update(|v| {
                    v.retain(|old| !list.items.iter().any(|n| n.code == old.code));
                    v.splice(0..0, list.items);
                });
            }
        });
    });
    // The address changed under the page (Back or Forward between two states of the list, a
    // link to the plain list): the page follows it.
    crate::effect(move || {
        let (s, q) = from_address();
        if status.get_untracked() != s {
            status.set(s);
        }
        if query.get_untracked() != q {
            typed.set(q.clone());
            query.set(q);
        }
    });
    // And the other way: what the customer picks goes into the address, replacing the entry
    // (Back leaves the list rather than stepping through its tabs) and keeping the scroll.
    crate::effect(move || {
        let mut params = ParamsMap::new();
        if let Some(s) = status.get() {
            params.insert("stato", s.as_str().to_string());
        }
        let q = query.get();
        if !q.is_empty() {
            params.insert("q", q);
        }
        // On the list's own address, whichever it was opened by (`/` or `/tickets`): the
        // router's, which is the new page's already while the address bar may still show the
        // page before.
        let path = location.pathname.with_untracked(|p| below_base(p));
        nav.keep_in_address(&[path.as_str(), &params.to_query_string()].concat());
    });
    // Search as the customer types, without a request per keystroke.
    crate::effect(move || {
        let v = typed.get();
        set_timeout(
            move || {
                // The page may be gone by now: read with `try_`, which never panics.
                let current = typed.try_get_untracked();
                if current.as_ref() == Some(&v) && query.try_get_untracked().as_ref() != Some(&v) {
                    query.set(v);
                }
            },
            Duration::from_millis(250),
        );
    });

    let tab = move |s: Option<Status>, label: fn(Locale) -> &'static str| {
        let selected = move || status.get() == s;
        let count = move || match s {
            Some(s) => counts.get().get(s),
            None => counts.get().total(),
        };
        view! {
            <button type="button" role="tab" class="tab" aria-selected=move || selected().to_string()
                on:click=move |_| status.set(s)>
                {move || label(i18n.get_locale())}" "<span class="count">{count}</span>
            </button>
        }
    };

    view! {
        <Layout>
            <div class="page-head">
                <h1 id="tickets-title">{tr!(i18n, tickets_title)}</h1>
                <Link to="/nuovo" class="button primary">{tr!(i18n, new_ticket)}</Link>
            </div>
            <div class="filters">
                <div role="tablist" aria-label=tr!(i18n, col_status) aria-describedby="tab-help" class="tabs">
                    {tab(None, |l| td_string!(l, all))}
                    {tab(Some(Status::Open), |l| status_tab(l, Status::Open))}
                    {tab(Some(Status::AwaitingCustomer), |l| status_tab(l, Status::AwaitingCustomer))}
                    {tab(Some(Status::Closed), |l| status_tab(l, Status::Closed))}
                </div>
                // What the chosen tab holds: "Aperti" leaves out the tickets waiting for the
                // customer, and says so.
                <p id="tab-help" class="muted tab-help" aria-live="polite">{move || tab_help(i18n.get_locale(), status.get())}</p>
                <div class="search">
                    <label for="ticket-search">{tr!(i18n, search_label)}</label>
                    <input id="ticket-search" type="search" placeholder=tr!(i18n, search_placeholder) bind:value=typed />
                </div>
            </div>
            {move || match state.get() {
                Load::Loading => view! { <Loading/> }.into_any(),
                Load::Failed(msg) => view! {
                    <LoadFailed message=msg retry=Callback::new(move |()| load(false))/>
                }.into_any(),
                Load::Ready if items.with(|v| v.is_empty()) => {
                    let text = match (query.get().is_empty(), status.get().is_none()) {
                        (true, true) => t_string!(i18n, empty_list),
                        (true, false) => t_string!(i18n, empty_tab),
                        _ => t_string!(i18n, empty_search),
                    };
                    view! { <p class="empty">{text}</p> }.into_any()
                }
                Load::Ready => view! { <TicketTable items=items/> }.into_any(),
            }}
            <Show when=move || next.get().is_some() && state.get() == Load::Ready>
                <button type="button" class="more" disabled=move || more_busy.get() on:click=move |_| load(true)>
                    {move || if more_busy.get() { t_string!(i18n, loading) } else { t_string!(i18n, load_more) }}
                </button>
            </Show>
        </Layout>
    }
}

#[component]
fn TicketTable(items: RwSignal<Vec<TicketSummary>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <table class="tickets" aria-labelledby="tickets-title">
            <thead>
                <tr>
                    <th scope="col">{tr!(i18n, col_code)}</th>
                    <th scope="col">{tr!(i18n, col_subject)}</th>
                    <th scope="col">{tr!(i18n, col_service)}</th>
                    <th scope="col">{tr!(i18n, col_status)}</th>
                    <th scope="col">{tr!(i18n, col_priority)}</th>
                    <th scope="col">{tr!(i18n, col_activity)}</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || items.get() key=|s| (s.code.clone(), s.last_activity_at.clone()) let:s>
                    <tr>
                        <td class="code" data-label=tr!(i18n, col_code)>{s.code.clone()}</td>
                        <td data-label=tr!(i18n, col_subject)>
                            <Link to=["/tickets/", &s.code].concat()>{s.subject.clone()}</Link>
                        </td>
                        <td data-label=tr!(i18n, col_service)>
                            {s.service.as_ref().map(|v| v.identifier.clone()).unwrap_or_else(|| t_string!(i18n, no_service).into())}
                        </td>
                        <td data-label=tr!(i18n, col_status)><StatusBadge status=s.status/></td>
                        <td data-label=tr!(i18n, col_priority)><PriorityBadge priority=s.priority/></td>
                        <td data-label=tr!(i18n, col_activity)>
                            <time datetime=s.last_activity_at.clone()>{let at = s.last_activity_at.clone(); move || datetime(i18n.get_locale(), &at)}</time>
                        </td>
                    </tr>
                </For>
            </tbody>
        </table>
    }
}
