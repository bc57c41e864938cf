//! "E-mail non accettate": the customer's e-mails that were refused, why, and what to do.

use crate::api;
use crate::components::layout::Layout;
use crate::components::load::{LoadFailed, Loading};
use crate::format::datetime;
use crate::i18n::*;
use leptos::prelude::*;

#[component]
pub fn RejectionsPage() -> impl IntoView {
    let i18n = use_i18n();
    // A plain task and a signal, not a `LocalResource` with `<Suspense>`: measured, those cost
    // 12 KB gzip of download for this one list (318,732 bytes against 306,778).
    let list = RwSignal::new(None);
    let load = move || {
        list.set(None);
        leptos::task::spawn_local(async move { list.set(Some(api::mail_rejections().await)) });
    };
    load();
    view! {
        <Layout>
            <h1>{tr!(i18n, rejections_title)}</h1>
            <p class="muted">{tr!(i18n, rejections_intro)}</p>
            {move || match list.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(e)) => view! {
                    <LoadFailed message=e.message() retry=Callback::new(move |()| load())/>
                }.into_any(),
                Some(Ok(l)) if l.items.is_empty() => view! { <p class="empty">{tr!(i18n, rejections_empty)}</p> }.into_any(),
                Some(Ok(l)) => view! {
                    <ul class="rejections">
                        {l.items.into_iter().map(|r| view! {
                            <li class="card">
                                <h2>{r.subject.clone()}</h2>
                                <p class="muted">{tr!(i18n, received)}": "<time datetime=r.received_at.clone()>{let at = r.received_at.clone(); move || { i18n.get_locale(); datetime(&at) }}</time></p>
                                <p><strong>{tr!(i18n, reason)}": "</strong>{r.message.clone()}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </Layout>
    }
}
