//! Domain events: what one service tells the others.
//!
//! A handler appends an event to its service's [`outbox`] in the same
//! transaction as the change it describes. The [`relay`] publishes outbox
//! rows to the [`bus`] and marks them sent only once the bus has them, so
//! nothing committed is lost; a crash in between publishes again, and since
//! the bus message id is the event id, the [`inbox`] of every consumer
//! applies each event once. The bus is in-process ([`memory`]) when one
//! process plays every role, and NATS JetStream ([`jetstream`]) when the
//! services run apart.

pub mod bus;
pub mod inbox;
pub mod jetstream;
pub mod memory;
pub mod notices;
pub mod outbox;
pub mod relay;

pub use bus::{BatchHandler, Bus, ConsumerSpec, DeadLetter, EventBus, Handler, Published};
pub use cogov_proto::common::Event;
pub use outbox::NewEvent;

/// Decodes an event's payload as `M`, checking that the type matches.
pub fn payload<M: prost::Message + prost::Name + Default>(event: &Event) -> Result<M, String> {
    let any = event
        .payload
        .as_ref()
        .ok_or_else(|| format!("event {} has no payload", event.id))?;
    if event.r#type != M::full_name() {
        return Err(format!(
            "event {} is a {}, not a {}",
            event.id,
            event.r#type,
            M::full_name()
        ));
    }
    M::decode(any.value.as_slice()).map_err(|e| format!("event {}: payload: {e}", event.id))
}

/// Makes `directory` forget cached reach whenever an agreement changes,
/// and a cached person whenever their record changes (or everything, when
/// this process may have missed such an event), for as long as the
/// process runs.
pub fn forget_on_changes(
    bus: &Bus,
    directory: crate::directory::Directory,
) -> tokio::task::JoinHandle<()> {
    use cogov_proto::organizations::{
        AgreementChanged, PersonChanged, PersonErased, PersonVerified,
    };
    use prost::Name;
    use tokio::sync::broadcast::error::RecvError;
    let mut live = bus.watch();
    let agreement = AgreementChanged::full_name();
    let person = [
        PersonChanged::full_name(),
        PersonVerified::full_name(),
        PersonErased::full_name(),
    ];
    tokio::spawn(async move {
        loop {
            match live.recv().await {
                Ok(event) if event.r#type == agreement => directory.invalidate_reach(),
                Ok(event) if person.contains(&event.r#type) => {
                    // The subject is the person's resource name.
                    match crate::names::parse("persons", &event.subject) {
                        Some(id) => directory.forget_person(id),
                        None => directory.forget_all(),
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => directory.forget_all(),
                Err(RecvError::Closed) => return,
            }
        }
    })
}
