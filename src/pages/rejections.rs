//! "E-mail non accettate": the customer's e-mails that were refused, why, and what to do.

use crate::api;
use crate::components::layout::Layout;
use crate::format::datetime;
use crate::texts::tx;
use leptos::prelude::*;

#[component]
pub fn RejectionsPage() -> impl IntoView {
    let t = tx();
    let list = LocalResource::new(api::mail_rejections);
    view! {
        <Layout>
            <h1>{t.rejections_title}</h1>
            <p class="muted">{t.rejections_intro}</p>
            {move || match list.get() {
                None => view! { <p class="loading" role="status">{t.loading}</p> }.into_any(),
                Some(Err(e)) => view! {
                    <div class="alert error" role="alert">
                        <p>{e.message()}</p>
                        <button type="button" on:click=move |_| list.refetch()>{t.retry}</button>
                    </div>
                }.into_any(),
                Some(Ok(l)) if l.items.is_empty() => view! { <p class="empty">{t.rejections_empty}</p> }.into_any(),
                Some(Ok(l)) => view! {
                    <ul class="rejections">
                        {l.items.into_iter().map(|r| view! {
                            <li class="card">
                                <h2>{r.subject.clone()}</h2>
                                <p class="muted">{t.received}": "<time datetime=r.received_at.clone()>{datetime(&r.received_at)}</time></p>
                                <p><strong>{t.reason}": "</strong>{r.message.clone()}</p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </Layout>
    }
}
