//! Delivery tasks are supervised: a panic is caught, logged once at ERROR
//! with its cause, counted, and the event is tried again; after
//! `MAX_PANICS` it is dead-lettered with reason `internal_error`. So no bug
//! in delivery can leave an offset in flight for ever and jam its partition.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use futures::FutureExt as _;
use orch_telemetry::InternalEvent as _;
use rdkafka::Message;
use rdkafka::message::OwnedMessage;
use tokio_util::sync::CancellationToken;

use crate::delivery::Deliverer;
use crate::durably::Abandoned;
use crate::internal_events::TaskPanicked;

/// Tries of one event whose task panics before it is dead-lettered.
pub(crate) const MAX_PANICS: u32 = 3;

thread_local! {
    /// Set while a supervised future is being polled on this thread.
    static SUPERVISED: Cell<bool> = const { Cell::new(false) };
}

/// Keeps the default panic report (a plain line on stderr) for panics
/// nobody catches, and silences it for supervised ones, which `TaskPanicked`
/// logs once, as a structured line.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !SUPERVISED.get() {
                default(info);
            }
        }));
    });
}

/// Marks the thread as supervised for one poll; restored on unwind too.
struct Marked(bool);

impl Marked {
    fn enter() -> Self {
        Self(SUPERVISED.replace(true))
    }
}

impl Drop for Marked {
    fn drop(&mut self) {
        SUPERVISED.set(self.0);
    }
}

/// Runs `future`, turning a panic into `Err(cause)`.
async fn caught<T>(future: impl Future<Output = T>) -> Result<T, String> {
    let mut future = std::pin::pin!(future);
    let marked = std::future::poll_fn(|cx| {
        let _marked = Marked::enter();
        future.as_mut().poll(cx)
    });
    AssertUnwindSafe(marked)
        .catch_unwind()
        .await
        .map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic with no message".to_owned())
        })
}

/// Delivers `message` under supervision; `Ok` once its outcome is durable.
pub(crate) async fn supervised(
    deliverer: &Deliverer,
    message: &OwnedMessage,
    cancel: &CancellationToken,
) -> Result<(), Abandoned> {
    let mut cause = String::new();
    for try_number in 1..=MAX_PANICS {
        match caught(deliverer.process(message, cancel)).await {
            Ok(outcome) => return outcome,
            Err(panic) => {
                TaskPanicked {
                    partition: message.partition(),
                    offset: message.offset(),
                    try_number,
                    cause: &panic,
                }
                .emit();
                cause = panic;
            }
        }
    }
    let why = format!("the delivery task panicked {MAX_PANICS} times; the last: {cause}");
    caught(deliverer.give_up(message, why, cancel))
        .await
        .unwrap_or_else(|panic| {
            tracing::error!(
                partition = message.partition(),
                offset = message.offset(),
                cause = %panic,
                "Could not dead-letter an event whose task kept panicking; it stays uncommitted and is delivered again after the next rebalance or restart."
            );
            Err(Abandoned)
        })
}
