//! The guided open-ticket wizard: one problem and one service per ticket, a specific subject,
//! a detailed description. The step lives in a signal (never in the URL, so the widget never
//! rewrites the panel's address) and in the draft.

mod draft;
mod steps;

use crate::api::{self, use_api, Api, ApiError};
use crate::components::attachments::{drop_expired, Attached};
use crate::components::layout::Layout;
use crate::components::slow::{slow_notice, Patience};
use crate::drafts;
use crate::embed::{use_embed, Prefill};
use crate::i18n::*;
use crate::nav::Nav;
use crate::session::use_session;
use draft::{Draft, Step};
use helpdesk_core::api::{
    Assessment, Channel, Department, NewTicket, Priority, Service, Ticket, TicketSummary, Verdict,
};
use helpdesk_core::limits::{self, char_len};
use helpdesk_core::subject::{assess, SubjectContext};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::time::Duration;

const DRAFT: &str = "wizard";

/// A ticket to start from a refused e-mail, handed over by its page (`FromMail::open`) to the
/// wizard: the prefill, and the names of the e-mail's files. Provided once by `App`.
#[derive(Clone, Copy)]
pub struct FromMail(StoredValue<Option<(Prefill, Vec<String>)>>);

impl Default for FromMail {
    fn default() -> Self {
        FromMail(StoredValue::new(None))
    }
}

pub fn use_from_mail() -> FromMail {
    use_context::<FromMail>().unwrap_or_default()
}

impl FromMail {
    /// Opens the wizard on a new ticket with a refused e-mail's subject and text. Its files
    /// cannot come along (the server kept none of them as uploads): the page names them, to
    /// attach again.
    pub fn open(self, nav: Nav, subject: String, text: String, files: Vec<String>) {
        let p = Prefill {
            subject: Some(subject),
            description: Some(text),
            ..Prefill::default()
        };
        self.0.set_value(Some((p, files)));
        nav.navigate("/nuovo");
    }
}

/// Everything the steps share.
#[derive(Clone, Copy)]
pub(crate) struct Wizard {
    pub draft: RwSignal<Draft>,
    pub services: RwSignal<Vec<Service>>,
    pub services_state: RwSignal<Option<Result<(), String>>>,
    pub uploads: RwSignal<Vec<Attached>>,
    pub pending_uploads: RwSignal<usize>,
    /// The customer tried to leave the step: its problem, if any, shows (and goes as soon as it
    /// is fixed, since it is worked out from the answers as they are now).
    pub tried: RwSignal<bool>,
    /// The server's refusal; when it is about the answers (`error_about` not empty: the
    /// answers it refused), it shows only while those answers are unchanged.
    pub error: RwSignal<Option<String>>,
    pub error_about: StoredValue<String>,
    pub server_hints: RwSignal<Vec<helpdesk_core::api::Hint>>,
    pub open_here: RwSignal<Vec<TicketSummary>>,
    pub assessment: Memo<Assessment>,
    /// Whose draft this is (where it is saved).
    pub customer: StoredValue<String>,
    /// A service asked for by id or identifier, chosen once the customer's services are known.
    pub service_hint: StoredValue<Option<String>>,
    /// Where the customer came from to change an earlier answer ("Modifica", "cambia", the step
    /// bar): "Avanti" goes back there, stopping only at a step the change left unanswered.
    pub return_to: RwSignal<Option<Step>>,
    /// Set with a step chosen for the customer (a prefill, a refusal): the focus then goes where
    /// they answer, not to the step's heading.
    pub focus_field: RwSignal<bool>,
    pub api: Api,
    pub i18n: leptos_i18n::I18nContext<Locale>,
}

impl Wizard {
    /// Saves the draft at once, for a change made without notifying (one that must not rebuild
    /// the part of the page that shows it).
    pub fn save_quietly(&self) {
        let mut d = self.draft.get_untracked();
        d.uploads = self.uploads.get_untracked();
        if let Some(j) = crate::json::stringify(&d) {
            drafts::save(&self.customer.get_value(), DRAFT, &j);
        }
    }

    pub fn step(&self) -> Step {
        self.draft.with(|d| d.step)
    }

    pub fn chosen_service(&self) -> Option<Service> {
        let id = self.draft.with(|d| d.service_id.clone())?;
        self.services
            .with(|s| s.iter().find(|x| x.id == id).cloned())
    }

    /// What keeps the customer on this step, if anything, from the answers as they are now.
    pub fn problem(&self, step: Step) -> Option<String> {
        let l = self.i18n.get_locale_untracked();
        let d = self.draft.get();
        match step {
            Step::Department => d
                .department
                .is_none()
                .then(|| td_string!(l, department_required).into()),
            Step::Service => {
                let known = d
                    .service_id
                    .as_ref()
                    .is_some_and(|id| self.services.with(|s| s.iter().any(|x| &x.id == id)));
                let ok = known || (d.no_service && d.department == Some(Department::Sales));
                (!ok).then(|| td_string!(l, service_required).into())
            }
            Step::Subject => {
                let n = char_len(&d.subject);
                if self.assessment.with(|a| a.verdict) == Verdict::Generic
                    || n > limits::SUBJECT_MAX_CHARS
                {
                    Some(td_string!(l, subject_blocked).into())
                } else {
                    None
                }
            }
            Step::Description => {
                (char_len(&d.description) < limits::DESCRIPTION_MIN_CHARS).then(|| {
                    td_string!(l, description_min, min = limits::DESCRIPTION_MIN_CHARS).to_string()
                })
            }
            Step::Priority => d
                .priority
                .is_none()
                .then(|| td_string!(l, priority_required).into()),
            Step::Attachments => {
                (self.pending_uploads.get() > 0).then(|| td_string!(l, attachments_wait).into())
            }
            Step::Review => None,
        }
    }

    /// The error to show now: the step's own problem once the customer has tried to go on, else
    /// the server's refusal while the answers it refused are unchanged. Never a stale one.
    pub fn shown_error(&self) -> Option<String> {
        if self.tried.get() {
            if let Some(p) = self.problem(self.step()) {
                return Some(p);
            }
        }
        let current = self
            .error_about
            .with_value(|about| about.is_empty() || self.draft.with(|d| answers(d) == *about));
        self.error.get().filter(|_| current)
    }

    pub fn go(&self, step: Step) {
        self.tried.set(false);
        self.error.set(None);
        self.draft.update(|d| d.step = step);
        if step == Step::Review {
            self.load_open_tickets();
        }
    }

    /// Whether the step bar takes the customer to `step`: a step already answered, or one up to
    /// where they came from to change an answer.
    pub fn can_jump(&self, step: Step) -> bool {
        let cur = self.step().index();
        let back_to = self.return_to.get().map_or(cur, |r| r.index().max(cur));
        step.index() != cur && step.index() <= back_to
    }

    /// To another step from the step bar, "Modifica" or "cambia". Back: "Avanti" will come back
    /// here. Forward (while changing an answer): as "Avanti" would go, if this step is answered.
    pub fn jump(&self, step: Step) {
        let cur = self.step();
        if step.index() < cur.index() {
            let back_to = self
                .return_to
                .get_untracked()
                .filter(|r| r.index() > cur.index())
                .unwrap_or(cur);
            self.go(step);
            self.return_to.set(Some(back_to));
        } else if untrack(|| self.problem(cur)).is_some() {
            self.tried.set(true);
            focus_answer(cur, true);
        } else {
            self.forward(step);
        }
    }

    /// Goes on towards `target`, stopping at the first step before it still unanswered (a change
    /// of department can leave the service so).
    pub fn forward(&self, target: Step) {
        let cur = self.step().index();
        let stop = Step::ALL
            .get(cur + 1..target.index())
            .unwrap_or_default()
            .iter()
            .copied()
            .find(|s| untrack(|| self.problem(*s)).is_some());
        let dest = stop.unwrap_or(target);
        self.go(dest);
        if self.return_to.get_untracked() == Some(dest) {
            self.return_to.set(None);
        }
    }

    /// The customer's open tickets on the chosen service, for the warning on the service step
    /// and the summary. An answer about a service since changed is dropped.
    pub fn load_open_tickets(&self) {
        let (open_here, draft, api) = (self.open_here, self.draft, self.api);
        open_here.set(Vec::new());
        let id = self
            .draft
            .with_untracked(|d| d.service_id.clone().filter(|_| !d.no_service));
        if let Some(id) = id {
            leptos::task::spawn_local(async move {
                if let Ok(list) = api.open_tickets_on(&id).await {
                    let same = draft
                        .try_with_untracked(|d| d.service_id.as_deref() == Some(id.as_str()))
                        .unwrap_or(false);
                    if same {
                        open_here.set(list);
                    }
                }
            });
        }
    }

    /// Starts a new ticket with what the address or the panel's widget asked for. They are hints:
    /// a value that is no department, or no service of the customer's, is left for the customer
    /// to choose, never shown as an error. A service implies the Helpdesk department.
    pub fn start_from(&self, p: Prefill) {
        let department = p
            .department
            .as_deref()
            .and_then(Department::parse)
            .or(p.service.is_some().then_some(Department::Helpdesk));
        self.restart(department, None);
        // Cut to the limits; the server cleans what it stores, as for anything typed.
        let cut = |s: Option<String>, max: usize| {
            s.unwrap_or_default()
                .trim()
                .chars()
                .take(max)
                .collect::<String>()
        };
        self.draft.update(|d| {
            d.subject = cut(p.subject, limits::SUBJECT_MAX_CHARS);
            d.description = cut(p.description, limits::BODY_MAX_CHARS);
        });
        // Without a service to look for, the customer answers the step `restart` chose: the focus
        // goes there at once (else once the service is found).
        if p.service.is_none() {
            self.focus_field.set(true);
        }
        self.service_hint.set_value(p.service);
        self.resolve_service();
    }

    /// Once the customer's services are known: chooses the hinted service (by our id or the
    /// panel's, else when exactly one has that identifier) and goes to the first step still missing.
    pub fn resolve_service(&self) {
        if self
            .services_state
            .with_untracked(|s| !matches!(s, Some(Ok(()))))
        {
            return;
        }
        let Some(hint) = self.service_hint.try_update_value(|h| h.take()).flatten() else {
            return;
        };
        let hint = hint.trim();
        let found: Vec<String> = self.services.with_untracked(|all| {
            let by_id: Vec<String> = all
                .iter()
                .filter(|s| s.id == hint || s.panel_id.as_deref() == Some(hint))
                .map(|s| s.id.clone())
                .collect();
            if by_id.is_empty() {
                all.iter()
                    .filter(|s| s.identifier.eq_ignore_ascii_case(hint))
                    .map(|s| s.id.clone())
                    .collect()
            } else {
                by_id
            }
        });
        if let [id] = found.as_slice() {
            self.draft.update(|d| d.service_id = Some(id.clone()));
        }
        let missing = [
            Step::Department,
            Step::Service,
            Step::Subject,
            Step::Description,
        ]
        .into_iter()
        .find(|s| {
            untrack(|| {
                self.problem(*s).is_some()
                    || (*s == Step::Subject && self.draft.with(|d| d.subject.trim().is_empty()))
            })
        })
        .unwrap_or(Step::Priority);
        self.draft.update(|d| d.step = missing);
        self.focus_field.set(true);
    }

    /// Starts over, optionally on a given department and service (a separate ticket).
    pub fn restart(&self, department: Option<Department>, service_id: Option<String>) {
        let step = match (department, &service_id) {
            (Some(_), Some(_)) => Step::Subject,
            (Some(_), None) => Step::Service,
            _ => Step::Department,
        };
        self.uploads.set(Vec::new());
        self.tried.set(false);
        self.error.set(None);
        self.return_to.set(None);
        self.server_hints.set(Vec::new());
        self.draft.set(Draft {
            step,
            department,
            service_id,
            idempotency_key: api::random_key(),
            ..Draft::default()
        });
    }
}

/// The answers a server refusal can be about, as one comparable value.
fn answers(d: &Draft) -> String {
    [
        d.subject.as_str(),
        &d.description,
        d.service_id.as_deref().unwrap_or_default(),
    ]
    .join("\u{0}")
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Moves the focus, after the step is drawn, to where the customer answers it: its text field,
/// its chosen option or else its first one (for a missing answer, the first option even where
/// the services' filter comes first).
pub(crate) fn focus_answer(step: Step, invalid: bool) {
    let selectors: &[&str] = match step {
        Step::Department => &["input[name=department]:checked", "input[name=department]"],
        Step::Service if invalid => &["input[name=service]", "#service-filter"],
        Step::Service => &["input[name=service]:checked", "#service-filter"],
        Step::Subject => &["#subject"],
        Step::Description => &["#description"],
        Step::Priority => &["input[name=priority]:checked", "input[name=priority]"],
        Step::Attachments => &[
            "#wizard-files .uploads button",
            "#wizard-files input[type=file]",
        ],
        Step::Review => &[],
    };
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        let doc = document();
        let found = selectors.iter().find_map(|s| {
            doc.query_selector(&["form.card ", s].concat())
                .ok()
                .flatten()
        });
        if let Some(el) = found.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}

#[component]
pub fn WizardPage() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let customer_id = session.customer_id_untracked().unwrap_or_default();

    // The saved draft, unless the address (`?servizio=…&reparto=…`) or the panel's widget asks
    // for a fresh ticket.
    let (service, department) =
        use_query_map().with_untracked(|q| (q.get("servizio"), q.get("reparto")));
    let (api, embed) = (use_api(), use_embed());
    let (from_mail, attach_again) = use_from_mail()
        .0
        .try_update_value(Option::take)
        .flatten()
        .map_or((None, Vec::new()), |(p, files)| (Some(p), files));
    let attach_again = StoredValue::new(attach_again.join(", "));
    let prefill = if service.is_some() || department.is_some() {
        Some(Prefill {
            service,
            department,
            ..Prefill::default()
        })
    } else {
        from_mail
            .or_else(|| embed.and_then(|e| e.prefill.try_update_untracked(|p| p.take()).flatten()))
    };
    let saved: Option<Draft> =
        drafts::load(&customer_id, DRAFT).and_then(|j| crate::json::parse(&j));
    let restored = RwSignal::new(false);
    let uploads_expired = RwSignal::new(false);
    let mut initial = match saved {
        Some(d) if !d.is_blank() && prefill.is_none() => {
            restored.set(true);
            d
        }
        _ => Draft::default(),
    };
    if initial.idempotency_key.is_empty() {
        initial.idempotency_key = api::random_key();
    }
    let mut files = std::mem::take(&mut initial.uploads);
    if drop_expired(&mut files, now_ms()) {
        uploads_expired.set(true);
    }

    let draft = RwSignal::new(initial);
    let services = RwSignal::new(Vec::<Service>::new());
    let services_state = RwSignal::new(None::<Result<(), String>>);
    let assessment = Memo::new(move |_| {
        // The hints in the language on screen (core's one table of hints, in both languages).
        let lang = crate::language::core_lang(i18n.get_locale());
        draft.with(|d| {
            services.with(|all| {
                let chosen = d
                    .service_id
                    .as_ref()
                    .and_then(|id| all.iter().find(|s| &s.id == id));
                assess(
                    &d.subject,
                    &SubjectContext {
                        department: d.department,
                        chosen_service: chosen,
                        services: all,
                        channel: Channel::Web,
                        lang,
                    },
                )
            })
        })
    });
    let created = RwSignal::new(None::<Ticket>);
    let w = Wizard {
        draft,
        services,
        services_state,
        uploads: RwSignal::new(files),
        pending_uploads: RwSignal::new(0),
        tried: RwSignal::new(false),
        error: RwSignal::new(None),
        error_about: StoredValue::new(String::new()),
        server_hints: RwSignal::new(Vec::new()),
        open_here: RwSignal::new(Vec::new()),
        customer: StoredValue::new(customer_id.clone()),
        service_hint: StoredValue::new(None),
        return_to: RwSignal::new(None),
        focus_field: RwSignal::new(false),
        assessment,
        api,
        i18n,
    };
    if let Some(p) = prefill {
        w.start_from(p);
    }
    // The panel asks for a new ticket while the wizard is already open: its prefill starts one.
    if let Some(embed) = embed {
        let mut first = true;
        crate::effect(move || {
            embed.new_ticket.track();
            if std::mem::take(&mut first) {
                return;
            }
            if let Some(p) = embed.prefill.try_update_untracked(|p| p.take()).flatten() {
                restored.set(false);
                created.set(None);
                w.start_from(p);
            }
        });
    }
    // A plain closure, not a memo: it is cheap, and a memo of this type costs download.
    let shown_error = move || w.shown_error();

    let load_services = move || {
        services_state.set(None);
        leptos::task::spawn_local(async move {
            match api.services().await {
                Ok(list) => {
                    services.set(list.items);
                    services_state.set(Some(Ok(())));
                    w.resolve_service();
                }
                Err(ApiError::Unauthorized) => {}
                Err(e) => services_state.set(Some(Err(e.message(i18n.get_locale_untracked())))),
            }
        });
    };
    load_services();
    if w.step() == Step::Review {
        w.load_open_tickets();
    }

    // Save the draft shortly after each change (not on every keystroke).
    let generation = StoredValue::new(0u32);
    let cid = customer_id.clone();
    crate::effect(move || {
        let snapshot = draft.get();
        let files = w.uploads.get();
        if created.with_untracked(|c| c.is_some()) {
            return;
        }
        let gen = generation.get_value() + 1;
        generation.set_value(gen);
        let cid = cid.clone();
        set_timeout(
            move || {
                // A save still pending when the ticket was sent must not bring the draft back,
                // nor may a newer edit be overwritten. When the customer has already left the
                // page the last edit is still saved; `try_` reads never panic on a page gone.
                let newer = generation.try_get_value().is_some_and(|g| g != gen);
                let sent = created.try_with_untracked(|c| c.is_some()).unwrap_or(false);
                if newer || sent {
                    return;
                }
                // The draft as it is now, changes made quietly since included (the snapshot when
                // the page is gone).
                let mut d = draft.try_get_untracked().unwrap_or(snapshot);
                d.uploads = files;
                if let Some(j) = crate::json::stringify(&d) {
                    drafts::save(&cid, DRAFT, &j);
                }
            },
            Duration::from_millis(300),
        );
    });

    // Focus follows the step, so keyboard and screen-reader users land on the new question; on
    // a step chosen for them (a prefill, a refusal), in the field where they answer it.
    let heading = NodeRef::<leptos::html::H2>::new();
    let step_memo = Memo::new(move |_| draft.with(|d| d.step));
    let mut prev = None;
    crate::effect(move || {
        let s = step_memo.get();
        let field = w.focus_field.get();
        if field {
            w.focus_field.set(false);
            focus_answer(s, false);
        }
        if prev.replace(s).is_some_and(|p| p != s) && !field {
            request_animation_frame(move || {
                if let Some(h) = heading.get_untracked() {
                    let _ = h.focus();
                }
            });
        }
    });

    // Sent by a plain task with a busy signal (an `Action` costs download for one request).
    let busy = RwSignal::new(false);
    // A slow send can be sent again: the draft's key makes it the same ticket.
    let patience = Patience::new();
    // Runs when the answer comes, even if the customer has left the page meanwhile: it only
    // writes signals (a no-op once disposed) and never reads one that may be gone.
    let answered = move |result: Result<Ticket, ApiError>, cid: &str| {
        match result {
            Ok(ticket) => {
                drafts::clear(cid, DRAFT);
                if let Some(e) = embed {
                    e.ticket_created(api, &ticket.code);
                }
                created.set(Some(ticket));
            }
            // The login comes back; the draft is saved and the submit can be sent again.
            Err(ApiError::Unauthorized) => {}
            Err(e) => {
                let field_step = e.body().and_then(|b| {
                    if b.fields.contains_key("subject") {
                        Some(Step::Subject)
                    } else if b.fields.contains_key("description") {
                        Some(Step::Description)
                    } else if b.fields.contains_key("service_id") {
                        Some(Step::Service)
                    } else if b.fields.contains_key("upload_ids") {
                        Some(Step::Attachments)
                    } else {
                        None
                    }
                });
                if let Some(b) = e.body() {
                    w.server_hints.set(b.hints.clone());
                }
                if let Some(s) = field_step {
                    w.go(s);
                    // Fixed, the answer goes back to the summary; the focus is on it meanwhile.
                    w.return_to.set(Some(Step::Review));
                    w.focus_field.set(true);
                    let about = draft.try_with_untracked(answers).unwrap_or_default();
                    w.error_about.try_set_value(about);
                    w.error.set(Some(e.message(i18n.get_locale_untracked())));
                } else {
                    w.error_about.try_set_value(String::new());
                    w.error.set(Some(
                        [
                            e.message(i18n.get_locale_untracked()).as_str(),
                            " ",
                            t_string!(i18n, submit_failed),
                        ]
                        .concat(),
                    ));
                }
            }
        }
    };
    let send = move || {
        let d = draft.get_untracked();
        let (Some(department), Some(priority)) = (d.department, d.priority) else {
            return;
        };
        let ticket = NewTicket {
            department,
            service_id: if d.no_service {
                None
            } else {
                d.service_id.clone()
            },
            subject: d.subject.trim().to_string(),
            description: d.description.trim().to_string(),
            priority,
            upload_ids: w
                .uploads
                .with_untracked(|f| f.iter().map(|a| a.upload.id.clone()).collect()),
        };
        w.error.set(None);
        busy.set(true);
        // Read now, while the page is surely there.
        let cid = w.customer.get_value();
        let (attempt, until) = patience.begin();
        leptos::task::spawn_local(async move {
            let result = api
                .create_ticket(&ticket, &d.idempotency_key, until.as_ref())
                .await;
            if !patience.answered(attempt) {
                return;
            }
            busy.set(false);
            answered(result, &cid);
        });
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let step = w.step();
        if untrack(|| w.problem(step)).is_some() {
            w.tried.set(true);
            focus_answer(step, true);
            return;
        }
        if step == Step::Review {
            if !busy.get_untracked() {
                send();
            }
        } else {
            let target = w
                .return_to
                .get_untracked()
                .filter(|r| r.index() > step.index())
                .unwrap_or(step.next());
            w.forward(target);
        }
    };

    view! {
        <Layout>
            {move || match created.get() {
                Some(ticket) => view! { <steps::Success ticket=ticket wizard=w created=created/> }.into_any(),
                None => view! {
                    <section class="wizard" aria-labelledby="wizard-title">
                        <h1 id="wizard-title">{tr!(i18n, wizard_title)}</h1>
                        <Show when=move || restored.get()>
                            <div class="alert ok" role="status">
                                <p>{tr!(i18n, draft_restored)}</p>
                                <button type="button" on:click=move |_| { restored.set(false); w.restart(None, None); }>
                                    {tr!(i18n, discard_draft)}
                                </button>
                            </div>
                        </Show>
                        <Show when=move || uploads_expired.get()>
                            <p class="alert warn" role="status">{tr!(i18n, uploads_expired)}</p>
                        </Show>
                        {move || attach_again.with_value(|names| (!names.is_empty()).then(|| {
                            let names = names.clone();
                            view! { <p class="alert warn" role="status">{move || t_string!(i18n, attach_again, names = names.clone()).to_string()}</p> }
                        }))}
                        <div class="progress-line">
                            <span>{t!(i18n, step_of, n = move || w.step().index() + 1, total = Step::ALL.len())}</span>
                        </div>
                        // Answered steps can be gone back to in one press; the others are only named.
                        <ol class="steps" aria-label=tr!(i18n, steps_label)>
                            {Step::ALL.into_iter().map(|s| view! {
                                <li class=move || {
                                    let cur = w.step().index();
                                    if s.index() < cur { "done" } else if s.index() == cur { "current" } else { "" }
                                } aria-current=move || (w.step() == s).then_some("step")>
                                    {move || if w.can_jump(s) {
                                        view! { <button type="button" class="link" on:click=move |_| w.jump(s)>{s.title(i18n.get_locale())}</button> }.into_any()
                                    } else {
                                        view! { <span>{s.title(i18n.get_locale())}</span> }.into_any()
                                    }}
                                </li>
                            }).collect_view()}
                        </ol>
                        <form class="card" on:submit=on_submit novalidate>
                            <h2 tabindex="-1" node_ref=heading>{move || w.step().title(i18n.get_locale())}</h2>
                            <steps::ChosenService wizard=w/>
                            <steps::StepBody wizard=w reload_services=load_services/>
                            <Show when=move || shown_error().is_some()>
                                <p class="alert error" role="alert" id="wizard-error">{shown_error}</p>
                            </Show>
                            {slow_notice(patience, send)}
                            <div class="nav-buttons">
                                <button type="button" disabled=move || w.step() == Step::Department
                                    on:click=move |_| { w.return_to.set(None); w.go(w.step().prev()); }>{tr!(i18n, back)}</button>
                                {move || if w.step() == Step::Review {
                                    view! {
                                        <button type="submit" class="primary" disabled=move || busy.get()
                                            aria-busy=move || busy.get().to_string()>
                                            {move || if busy.get() { t_string!(i18n, submitting) } else { t_string!(i18n, submit) }}
                                        </button>
                                    }.into_any()
                                } else {
                                    view! { <button type="submit" class="primary">{tr!(i18n, next)}</button> }.into_any()
                                }}
                            </div>
                        </form>
                    </section>
                }.into_any(),
            }}
        </Layout>
    }
}

/// Labels for priorities with what they mean, in the order shown.
pub(crate) fn priorities() -> [(Priority, &'static str); 2] {
    let i18n = use_i18n();
    [
        (Priority::Low, t_string!(i18n, priority_low_help)),
        (Priority::Normal, t_string!(i18n, priority_normal_help)),
    ]
}
