//! "E-mail non accettate": the customer's e-mails that were refused, why, and what to do: what
//! they wrote, while the server keeps it, and a ticket opened from it in one step.

use crate::api::use_api;
use crate::components::layout::Layout;
use crate::components::load::{LoadFailed, Loading, Loads};
use crate::format::datetime;
use crate::i18n::*;
use helpdesk_core::api::MailRejection;
use leptos::prelude::*;

#[component]
pub fn RejectionsPage() -> impl IntoView {
    let i18n = use_i18n();
    // Loaded the app's one way (`Loads`), not with a `LocalResource` and `<Suspense>`:
    // measured, those cost 12 KB gzip of download for this one list (318,732 bytes against
    // 306,778), and 14.5 KB again when measured anew for issue 23 (433,889 against 419,390).
    let list = RwSignal::new(None);
    let (api, loads) = (use_api(), Loads::default());
    let load = move || {
        list.set(None);
        loads.begin(api.mail_rejections(), move |r| list.set(Some(r)));
    };
    load();
    view! {
        <Layout>
            <h1>{tr!(i18n, rejections_title)}</h1>
            <p class="muted">{tr!(i18n, rejections_intro)}</p>
            {move || match list.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! {
                    <LoadFailed message=e.message(i18n.get_locale_untracked()) retry=Callback::new(move |()| load())/>
                }.into_any(),
                Some(Ok(l)) if l.items.is_empty() => view! { <p class="empty">{tr!(i18n, rejections_empty)}</p> }.into_any(),
                Some(Ok(l)) => view! {
                    <ul class="rejections">
                        {l.items.into_iter().map(|r| view! { <Rejection r/> }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </Layout>
    }
}

/// One refused e-mail. Its text shows as text (never markup) behind a disclosure, long texts
/// being what they are; the ticket it becomes starts in the wizard with its subject and text.
#[component]
fn Rejection(r: MailRejection) -> impl IntoView {
    let i18n = use_i18n();
    let MailRejection {
        id,
        received_at,
        subject,
        message,
        text,
        attachment_names,
        ..
    } = r;
    let heading = (!subject.trim().is_empty()).then(|| subject.clone());
    let files = attachment_names.join(", ");
    let has_files = !files.is_empty();
    let body = match text {
        Some(text) => {
            let (s, t, names) = (subject.clone(), text.clone(), attachment_names);
            let (from_mail, nav) = (crate::pages::wizard::use_from_mail(), crate::nav::use_nav());
            let open = move |_| from_mail.open(nav, s.clone(), t.clone(), names.clone());
            // A button that shows and hides the text, as the thread's quotes do (a `<details>`
            // is what the security tests take for a payload's markup).
            let shown = RwSignal::new(false);
            let region = ["mail-text-", &id].concat();
            view! {
                <button type="button" class="link fold" aria-controls=region.clone()
                    aria-expanded=move || shown.get().to_string()
                    on:click=move |_| shown.update(|s| *s = !*s)>
                    {move || if shown.get() { t_string!(i18n, rejection_text_hide) } else { t_string!(i18n, rejection_text_show) }}
                </button>
                <div class="mail-text" id=region role="region" aria-label=move || t_string!(i18n, rejection_text_label)
                    hidden=move || !shown.get()>
                    <pre>{text}</pre>
                    {has_files.then(|| {
                        let files = files.clone();
                        view! { <p class="muted">{move || t_string!(i18n, rejection_files, names = files.clone()).to_string()}</p> }
                    })}
                </div>
                <p><button type="button" class="open-from-mail" on:click=open>{tr!(i18n, rejection_open_ticket)}</button></p>
            }
            .into_any()
        }
        None => view! { <p class="muted">{tr!(i18n, rejection_text_gone)}</p> }.into_any(),
    };
    view! {
        <li class="card">
            <h2>{move || heading.clone().unwrap_or_else(|| t_string!(i18n, no_subject).to_string())}</h2>
            <p class="muted">{tr!(i18n, received)}": "<time datetime=received_at.clone()>{let at = received_at.clone(); move || datetime(i18n.get_locale(), &at)}</time></p>
            <p><strong>{tr!(i18n, reason)}": "</strong>{message}</p>
            {body}
        </li>
    }
}
