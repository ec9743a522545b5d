//! The events the organizations service publishes, appended to its outbox
//! in the transaction of the change (see `cogov_kit::events`).

use chrono::{DateTime, Utc};
use cogov_kit::Result;
use cogov_kit::events::{NewEvent, outbox};
use cogov_proto::organizations::*;
use sea_orm::ConnectionTrait;

/// `AgreementChanged`: whoever caches reach forgets it.
pub async fn agreement_changed<C: ConnectionTrait>(
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
    outbox::append(
        conn,
        crate::ROLE,
        NewEvent::of(&payload, agreement.name.clone()),
        now,
    )
    .await?;
    Ok(())
}
