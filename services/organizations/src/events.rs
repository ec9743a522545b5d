//! The events the organizations service publishes, appended to its outbox
//! in the transaction of the change (see `cogov_kit::events`).

use chrono::{DateTime, Utc};
use cogov_kit::Result;
use cogov_kit::events::{NewEvent, outbox};
use cogov_kit::write::Defers;
use cogov_proto::organizations::*;

/// `AgreementChanged`: whoever caches reach forgets it.
pub async fn agreement_changed<C: Defers>(
    conn: &C,
    agreement: &Agreement,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = AgreementChanged {
        agreement: agreement.name.clone(),
        organization: agreement.organization.clone(),
        courtyards: agreement.courtyards.clone(),
        communities: agreement.communities.clone(),
        state: agreement.state,
    };
    // Street staff watch agreements; a partner learns of its reach by
    // calling ResolveReach, not from the stream.
    publish(conn, &payload, agreement.name.clone(), now).await
}

/// `PersonRegistered`: a resident registered themselves; community staff
/// are to verify them. Street staff see it on the stream; the persons'
/// names are no business of partners, so it concerns no place.
pub async fn person_registered<C: Defers>(
    conn: &C,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = PersonRegistered {
        person: person.name.clone(),
        community: person.community.clone(),
        courtyard: person.courtyard.clone(),
    };
    publish(conn, &payload, person.name.clone(), now).await
}

/// `PersonVerified`: the resident may now take part in full (the gateway
/// tells them in their inbox).
pub async fn person_verified<C: Defers>(
    conn: &C,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = PersonVerified {
        person: person.name.clone(),
        community: person.community.clone(),
        courtyard: person.courtyard.clone(),
    };
    publish(conn, &payload, person.name.clone(), now).await
}

/// `PersonChanged`: whoever caches who the person is forgets them. Like
/// `PersonRegistered`, it concerns no place.
pub async fn person_changed<C: Defers>(
    conn: &C,
    person: &Person,
    now: DateTime<Utc>,
) -> Result<()> {
    let payload = PersonChanged {
        person: person.name.clone(),
        community: person.community.clone(),
        courtyard: person.courtyard.clone(),
    };
    publish(conn, &payload, person.name.clone(), now).await
}

/// `PersonErased`: every service erases what it holds of the person.
pub async fn person_erased<C: Defers>(conn: &C, person: &str, now: DateTime<Utc>) -> Result<()> {
    let payload = PersonErased {
        person: person.to_owned(),
    };
    publish(conn, &payload, person.to_owned(), now).await
}

/// Appends `payload`, about `subject`, to the outbox in the caller's
/// transaction.
async fn publish<C: Defers, M: prost::Message + prost::Name>(
    conn: &C,
    payload: &M,
    subject: String,
    now: DateTime<Utc>,
) -> Result<()> {
    outbox::append(conn, crate::ROLE, NewEvent::of(payload, subject), now).await?;
    Ok(())
}
