//! The wizard's seven questions and its success page; each step reads and writes the draft.

use super::draft::Step;
use super::{priorities, Wizard};
use crate::components::attachments::Attachments;
use crate::components::load::{LoadFailed, Loading};
use crate::i18n::*;
use crate::nav::Link;
use crate::texts::{
    checklist, department_label, family_label, priority_label, product_label, service_status_label,
};
use helpdesk_core::api::{Department, ServiceFamily, ServiceStatus, Ticket, Verdict};
use helpdesk_core::limits::{self, char_len};
use helpdesk_core::mentions::services_named_in;
use leptos::prelude::*;

#[component]
pub(super) fn StepBody(
    wizard: Wizard,
    reload_services: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let w = wizard;
    // Only a change of step builds the step anew: rebuilt on every answer, a step would lose the
    // focus (Space on a service) and its own state (the service filter).
    // A change of language builds it anew too, in the new language.
    let i18n = use_i18n();
    let step = Memo::new(move |_| (w.step(), i18n.get_locale()));
    move || match step.get().0 {
        Step::Department => department(w).into_any(),
        Step::Service => service(w, reload_services).into_any(),
        Step::Subject => subject(w).into_any(),
        Step::Description => description(w).into_any(),
        Step::Priority => priority(w).into_any(),
        Step::Attachments => attachments(w).into_any(),
        Step::Review => review(w).into_any(),
    }
}

/// The service chosen, on every step after its own, with the way back to change it: a prefill
/// from the panel chose it for the customer, who must see which it is.
#[component]
pub(super) fn ChosenService(wizard: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    let w = wizard;
    let shown = move || {
        let step = w.step();
        step.index() > Step::Service.index() && step != Step::Review
    };
    let name = move || {
        if w.draft.with(|d| d.no_service) {
            Some(t_string!(i18n, service_none).to_string())
        } else {
            w.chosen_service()
                .map(|s| [s.identifier.as_str(), " (", s.product.as_str(), ")"].concat())
        }
    };
    view! {
        <Show when=move || shown() && name().is_some()>
            <p class="chosen-service">
                {tr!(i18n, chosen_service)}" "<strong>{name}</strong>" "
                <button type="button" class="link" aria-label=tr!(i18n, change_service)
                    on:click=move |_| w.jump(Step::Service)>{tr!(i18n, change)}</button>
            </p>
        </Show>
    }
}

/// "Hai già un ticket aperto su questo servizio", with the way to each: on the service step,
/// where the customer can still go there instead, and on the summary.
fn open_tickets_warning(w: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || w.open_here.with(|v| !v.is_empty())>
            <div class="alert warn" role="status">
                <p>{tr!(i18n, open_tickets_warning)}</p>
                <ul>
                    {move || w.open_here.get().into_iter().map(|o| view! {
                        <li><Link to=["/tickets/", &o.code].concat()>{o.code.clone()}" — "{o.subject.clone()}</Link></li>
                    }).collect_view()}
                </ul>
            </div>
        </Show>
    }
}

/// Ties a field to the step's error while one shows: marked invalid, the error read with it.
fn invalid(w: Wizard) -> impl Fn() -> Option<&'static str> + Copy {
    move || w.shown_error().is_some().then_some("true")
}

fn described_by(w: Wizard, own: &'static str) -> impl Fn() -> String + Copy {
    move || {
        if w.shown_error().is_some() {
            [own, " wizard-error"].concat()
        } else {
            own.to_string()
        }
    }
}

fn department(w: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    let option = move |d: Department, help: &'static str| {
        view! {
            <label class="choice">
                <input type="radio" name="department" value=d.as_str()
                    prop:checked=move || w.draft.with(|x| x.department == Some(d))
                    on:change=move |_| w.draft.update(|x| {
                        if x.department != Some(d) {
                            x.department = Some(d);
                            // A technical ticket always has a service.
                            if d == Department::Helpdesk { x.no_service = false; }
                        }
                    }) />
                <span><span class="title">{department_label(l, d)}</span><span class="help">{help}</span></span>
            </label>
        }
    };
    view! {
        <fieldset aria-describedby=move || w.shown_error().map(|_| "wizard-error")>
            <legend>{tr!(i18n, department_question)}</legend>
            {option(Department::Helpdesk, t_string!(i18n, helpdesk_help))}
            {option(Department::Sales, t_string!(i18n, sales_help))}
        </fieldset>
    }
}

fn service(w: Wizard, reload: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    let filter = RwSignal::new(String::new());
    let is_sales = move || w.draft.with(|d| d.department == Some(Department::Sales));
    // The customer's open tickets on the service as soon as it is chosen, not only at the end.
    let mut asked = None;
    crate::effect(move || {
        let id = w
            .draft
            .with(|d| d.service_id.clone().filter(|_| !d.no_service));
        if asked.as_ref() != Some(&id) {
            asked = Some(id);
            w.load_open_tickets();
        }
    });
    let groups = move || {
        let f = filter.get().to_lowercase();
        let f = f.trim();
        w.services.with(|all| {
            ServiceFamily::ALL
                .iter()
                .copied()
                .filter_map(|family| {
                    let items: Vec<_> = all
                        .iter()
                        .filter(|s| s.family == family)
                        .filter(|s| {
                            f.is_empty()
                                || s.identifier.to_lowercase().contains(f)
                                || s.product.to_lowercase().contains(f)
                        })
                        .cloned()
                        .collect();
                    (!items.is_empty()).then_some((family, items))
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <fieldset aria-describedby=move || w.shown_error().map(|_| "wizard-error")>
            <legend>{tr!(i18n, service_question)}</legend>
            <p class="muted">{tr!(i18n, one_problem_rule)}</p>
            <label for="service-filter">{tr!(i18n, service_filter)}</label>
            <input id="service-filter" type="search" autocomplete="off" bind:value=filter />
            {move || match w.services_state.get() {
                None => view! { <Loading/> }.into_any(),
                Some(Err(msg)) => view! {
                    <LoadFailed message=[t_string!(i18n, services_loading_failed), " ", &msg].concat() retry=Callback::new(move |()| reload())/>
                }.into_any(),
                Some(Ok(())) => {
                    let g = groups();
                    let empty = g.is_empty();
                    view! {
                        <div class="service-groups">
                            {g.into_iter().map(|(family, items)| view! {
                                <h3 class="family">{family_label(l, family)}</h3>
                                {items.into_iter().map(|s| {
                                    let id = s.id.clone();
                                    let id2 = s.id.clone();
                                    let inactive = s.status != ServiceStatus::Active;
                                    view! {
                                        <label class="choice">
                                            <input type="radio" name="service" value=s.id.clone()
                                                prop:checked=move || w.draft.with(|d| !d.no_service && d.service_id.as_deref() == Some(id.as_str()))
                                                on:change=move |_| w.draft.update(|d| { d.service_id = Some(id2.clone()); d.no_service = false; }) />
                                            <span>
                                                <span class="title">{s.identifier.clone()}</span>
                                                <span class="help">{product_label(l, s.family, &s.product)}
                                                    {inactive.then(|| view! { " · "<strong>{service_status_label(l, s.status)}</strong> })}
                                                </span>
                                            </span>
                                        </label>
                                    }
                                }).collect_view()}
                            }).collect_view()}
                            {empty.then(|| view! { <p class="empty">{tr!(i18n, service_no_match)}</p> })}
                        </div>
                    }.into_any()
                }
            }}
            <Show when=is_sales>
                <h3 class="family">{tr!(i18n, service_none)}</h3>
                <label class="choice">
                    <input type="radio" name="service" value=""
                        prop:checked=move || w.draft.with(|d| d.no_service)
                        on:change=move |_| w.draft.update(|d| { d.no_service = true; d.service_id = None; }) />
                    <span><span class="title">{tr!(i18n, service_none)}</span><span class="help">{tr!(i18n, service_none_help)}</span></span>
                </label>
            </Show>
        </fieldset>
        {open_tickets_warning(w)}
    }
}

fn subject(w: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    let verdict = move || w.assessment.with(|a| a.verdict);
    let verdict_text = move || match verdict() {
        Verdict::Generic => t_string!(i18n, verdict_generic),
        Verdict::Weak => t_string!(i18n, verdict_weak),
        Verdict::Good => t_string!(i18n, verdict_good),
    };
    let verdict_class = move || match verdict() {
        Verdict::Generic => "verdict verdict-generic",
        Verdict::Weak => "verdict verdict-weak",
        Verdict::Good => "verdict verdict-good",
    };
    let empty = move || w.draft.with(|d| d.subject.trim().is_empty());
    view! {
        <label for="subject">{tr!(i18n, subject_label)}</label>
        <p id="subject-help" class="muted">{tr!(i18n, subject_help)}</p>
        <input id="subject" type="text" autocomplete="off" maxlength=limits::SUBJECT_MAX_CHARS
            aria-describedby=described_by(w, "subject-help subject-quality") aria-invalid=invalid(w)
            prop:value=move || w.draft.with(|d| d.subject.clone())
            on:input=move |ev| w.draft.update(|d| d.subject = event_target_value(&ev)) />
        <div id="subject-quality" role="status">
            <Show when=move || !empty()>
                <p>
                    <label for="subject-meter" class="inline">{tr!(i18n, subject_quality)}": "</label>
                    <span class=verdict_class>{verdict_text}</span>
                </p>
                <meter id="subject-meter" min="0" max="100" low="40" high="70" optimum="100"
                    prop:value=move || w.assessment.with(|a| f64::from(a.score))></meter>
                <ul class="hints">
                    {move || w.assessment.with(|a| a.hints.clone()).into_iter().map(|h| view! {
                        <li data-code=h.code>{h.message}</li>
                    }).collect_view()}
                </ul>
            </Show>
        </div>
    }
}

fn description(w: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    let dep = w
        .draft
        .with_untracked(|d| d.department.unwrap_or(Department::Helpdesk));
    let count = move || w.draft.with(|d| char_len(&d.description));
    // Other services of the customer that the text names: one service per ticket.
    let others = move || {
        // The chosen service's own name (a hosting and its domain share one) is not "another".
        let chosen = w.chosen_service().map(|s| s.identifier.to_lowercase());
        w.draft.with(|d| {
            w.services.with(|all| {
                let mut others: Vec<_> = services_named_in(&d.description, all)
                    .into_iter()
                    .filter(|s| Some(s.identifier.to_lowercase()) != chosen)
                    .cloned()
                    .collect();
                let mut seen: Vec<String> = Vec::new();
                others.retain(|s| {
                    let name = s.identifier.to_lowercase();
                    let new = !seen.contains(&name);
                    seen.push(name);
                    new
                });
                others
            })
        })
    };
    view! {
        <label for="description">{tr!(i18n, description_label)}</label>
        <div id="description-checklist">
            <p class="muted">{tr!(i18n, description_checklist)}</p>
            <ul class="checklist">{checklist(l, dep).into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
        </div>
        <textarea id="description" rows="10" aria-invalid=invalid(w)
            aria-describedby=described_by(w, "description-checklist description-count")
            prop:value=move || w.draft.with(|d| d.description.clone())
            on:input=move |ev| w.draft.update(|d| d.description = event_target_value(&ev))></textarea>
        <p id="description-count" class="counter">
            {t!(i18n, description_count, count = move || count() as u64, min = limits::DESCRIPTION_MIN_CHARS)}
        </p>
        {move || {
            let list = others();
            (!list.is_empty()).then(|| view! {
                <div class="alert warn" role="status">
                    {list.into_iter().map(|s| {
                        let id = s.id.clone();
                        let id2 = s.id.clone();
                        let cb = ["separate-", s.id.as_str()].concat();
                        view! {
                            <p>{t!(i18n, other_service, service = s.identifier.clone(), <b> = <strong/>)}</p>
                            <p>
                                <input type="checkbox" id=cb.clone()
                                    prop:checked=move || w.draft.with(|d| d.separate.contains(&id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        // Untracked: a notified draft would rebuild this
                                        // warning and take the focus from the checkbox that
                                        // was just ticked; so it is saved here, at once.
                                        w.draft.update_untracked(|d| {
                                            d.separate.retain(|x| x != &id2);
                                            if on { d.separate.push(id2.clone()); }
                                        });
                                        w.save_quietly();
                                    } />
                                " "<label for=cb class="inline">{tr!(i18n, remember_separate)}</label>
                            </p>
                        }
                    }).collect_view()}
                </div>
            })
        }}
    }
}

fn priority(w: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    view! {
        <fieldset aria-describedby=move || w.shown_error().map(|_| "wizard-error")>
            <legend>{tr!(i18n, priority_question)}</legend>
            {priorities().into_iter().map(|(p, help)| view! {
                <label class="choice">
                    <input type="radio" name="priority" value=p.as_str()
                        prop:checked=move || w.draft.with(|d| d.priority == Some(p))
                        on:change=move |_| w.draft.update(|d| d.priority = Some(p)) />
                    <span><span class="title">{priority_label(l, p)}</span><span class="help">{help}</span></span>
                </label>
            }).collect_view()}
        </fieldset>
    }
}

fn attachments(w: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="muted">{tr!(i18n, attachments_help)}</p>
        <Attachments id="wizard-files" files=w.uploads pending=w.pending_uploads/>
    }
}

fn review(w: Wizard) -> impl IntoView {
    let i18n = use_i18n();
    let l = i18n.get_locale_untracked();
    let d = w.draft.get_untracked();
    let service = if d.no_service {
        t_string!(i18n, service_none).to_string()
    } else {
        w.chosen_service()
            .map(|s| {
                [
                    s.identifier.as_str(),
                    " (",
                    &product_label(l, s.family, &s.product),
                    ")",
                ]
                .concat()
            })
            .unwrap_or_default()
    };
    let files: Vec<String> = w
        .uploads
        .with_untracked(|f| f.iter().map(|a| a.upload.name.clone()).collect());
    // Each answer with its "Modifica": to its step, and "Avanti" from there comes back here.
    let term = move |step: Step| {
        let title = step.title(l);
        view! {
            <dt>
                <span>{title}</span>
                <button type="button" class="link" on:click=move |_| w.jump(step)
                    aria-label=t_string!(i18n, edit_section, section = title).to_string()>
                    {tr!(i18n, edit)}
                </button>
            </dt>
        }
    };
    view! {
        <p>{tr!(i18n, review_intro)}</p>
        {open_tickets_warning(w)}
        <dl class="review">
            {term(Step::Department)}<dd>{d.department.map(|x| department_label(l, x))}</dd>
            {term(Step::Service)}<dd>{service}</dd>
            {term(Step::Subject)}<dd>{d.subject.clone()}</dd>
            {term(Step::Description)}<dd>{d.description.clone()}</dd>
            {term(Step::Priority)}<dd>{d.priority.map(|x| priority_label(l, x))}</dd>
            {term(Step::Attachments)}
            <dd>{if files.is_empty() { "—".to_string() } else { files.join(", ") }}</dd>
        </dl>
    }
}

#[component]
pub(super) fn Success(
    ticket: Ticket,
    wizard: Wizard,
    created: RwSignal<Option<Ticket>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let w = wizard;
    let heading = NodeRef::<leptos::html::H1>::new();
    crate::effect(move || {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    let separate: Vec<(String, String)> = w.draft.with_untracked(|d| {
        w.services.with_untracked(|all| {
            d.separate
                .iter()
                .filter_map(|id| all.iter().find(|s| &s.id == id))
                .map(|s| (s.id.clone(), s.identifier.clone()))
                .collect()
        })
    });
    let department = w.draft.with_untracked(|d| d.department);
    view! {
        <section class="success card wizard" aria-labelledby="success-title">
            <h1 id="success-title" tabindex="-1" node_ref=heading>{tr!(i18n, success_title)}</h1>
            <p>{tr!(i18n, success_code_label)}</p>
            <p class="big-code" data-testid="ticket-code">{ticket.code.clone()}</p>
            <p>{tr!(i18n, success_email)}</p>
            <p><strong>{tr!(i18n, success_keep_code)}</strong></p>
            <p class="actions">
                <Link to=["/tickets/", &ticket.code].concat() class="button primary">{tr!(i18n, view_ticket)}</Link>
                {separate.into_iter().map(|(id, name)| view! {
                    <button type="button" on:click=move |_| {
                        created.set(None);
                        w.restart(department, Some(id.clone()));
                    }>{t!(i18n, open_separate_for, service = name)}</button>
                }).collect_view()}
            </p>
        </section>
    }
}
