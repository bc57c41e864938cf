//! A write that takes long (a stalled server, a slow line): after `SLOW_AFTER` the customer is
//! told, and offered to send it again or to keep waiting. Sending again is safe because the write
//! goes with the same `Idempotency-Key`: the server answers a retry of something it has done with
//! what it did. The request given up is aborted in the browser and its answer ignored.

use crate::i18n::*;
use leptos::prelude::*;
use std::time::Duration;

/// How long a write may take before the customer hears about it.
pub const SLOW_AFTER: Duration = Duration::from_secs(8);

/// Where a write stands, as the notice says it.
#[derive(Clone, Copy, PartialEq)]
enum Wait {
    /// Nothing to say: no write, or not for long.
    Quiet,
    /// Longer than usual: the choice is offered.
    Slow,
    /// The customer chose to send it again.
    Retrying,
    /// The customer chose to wait.
    Waiting,
}

/// The writes of one form, one at a time: each attempt has a number, and only the answer of the
/// latest counts.
#[derive(Clone, Copy)]
pub struct Patience {
    attempt: StoredValue<u32>,
    /// Each timer started has a number; a timer that is not the latest does nothing.
    timer: StoredValue<u32>,
    abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    wait: RwSignal<Wait>,
    note: NodeRef<leptos::html::P>,
}

impl Default for Patience {
    fn default() -> Self {
        Self::new()
    }
}

impl Patience {
    pub fn new() -> Self {
        Patience {
            attempt: StoredValue::new(0),
            timer: StoredValue::new(0),
            abort: StoredValue::new_local(None),
            wait: RwSignal::new(Wait::Quiet),
            note: NodeRef::new(),
        }
    }

    /// A new attempt (a retry gives up the one before): its number, and the signal its request
    /// is aborted with.
    pub fn begin(self) -> (u32, Option<web_sys::AbortSignal>) {
        if let Some(old) = self.abort.try_update_value(Option::take).flatten() {
            old.abort();
        }
        let n = self.attempt.get_value() + 1;
        self.attempt.set_value(n);
        let controller = web_sys::AbortController::new().ok();
        let signal = controller.as_ref().map(|c| c.signal());
        self.abort.set_value(controller);
        self.wait.set(Wait::Quiet);
        self.arm(SLOW_AFTER);
        (n, signal)
    }

    /// The notice comes after `after`, unless the attempt is answered first.
    fn arm(self, after: Duration) {
        let (n, timer) = (self.attempt.get_value(), self.timer.get_value() + 1);
        self.timer.set_value(timer);
        set_timeout(
            move || {
                let current = self.attempt.try_get_value() == Some(n)
                    && self.timer.try_get_value() == Some(timer);
                if current {
                    self.wait.try_set(Wait::Slow);
                }
            },
            after,
        );
    }

    /// An answer to attempt `n` came: whether it is the one awaited (an answer to an attempt
    /// given up is ignored). Once the form is gone every answer counts, so that what it does
    /// (clearing a draft that was sent) is still done.
    pub fn answered(self, n: u32) -> bool {
        match self.attempt.try_get_value() {
            Some(current) if current != n => false,
            Some(_) => {
                // No timer of this attempt may bring the notice back.
                self.timer.update_value(|t| *t += 1);
                self.abort.set_value(None);
                self.wait.set(Wait::Quiet);
                true
            }
            None => true,
        }
    }

    fn chose(self, w: Wait) {
        self.wait.set(w);
        // The buttons go; the focus goes to the sentence that says what happens now.
        request_animation_frame(move || {
            if let Some(p) = self.note.get_untracked() {
                let _ = p.focus();
            }
        });
    }
}

/// The notice of a slow write: a status line that is always there (so that what it says is
/// announced), with "Riprova" and "Continua ad attendere" while the write is slow. `retry` sends
/// the same write again (it calls `Patience::begin` in turn).
pub fn slow_notice(p: Patience, retry: impl Fn() + 'static) -> impl IntoView {
    let i18n = use_i18n();
    // Kept in the arena, so that the handlers below hold only a handle to it.
    let again = StoredValue::new_local(Box::new(retry) as Box<dyn Fn()>);
    let text = move || match p.wait.get() {
        Wait::Quiet => "",
        Wait::Slow => t_string!(i18n, slow_notice),
        Wait::Retrying => t_string!(i18n, slow_retrying),
        Wait::Waiting => t_string!(i18n, slow_waiting),
    };
    let on_retry = move |_| {
        p.chose(Wait::Retrying);
        again.with_value(|f| f());
        // `begin` made the attempt quiet again; the sentence says a retry is under way.
        p.wait.set(Wait::Retrying);
    };
    let on_wait = move |_| {
        p.chose(Wait::Waiting);
        // If the wait goes on as long again, the choice is offered again.
        p.arm(SLOW_AFTER * 2);
    };
    view! {
        <div class="slow">
            <p role="status" tabindex="-1" node_ref=p.note
                class=move || if p.wait.get() == Wait::Quiet { "" } else { "alert warn" }>{text}</p>
            <Show when=move || p.wait.get() == Wait::Slow>
                <div class="actions">
                    <button type="button" on:click=on_retry>{tr!(i18n, retry)}</button>
                    <button type="button" on:click=on_wait>{tr!(i18n, slow_wait)}</button>
                </div>
            </Show>
        </div>
    }
}
