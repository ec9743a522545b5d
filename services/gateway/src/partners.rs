//! Partners: CreatePartner, GetPartner, ListPartners, UpdatePartner. A
//! partner is an organisation of the organizations service (a property
//! firm, an area unit or an owners' committee) that plugs its system in;
//! its reach is what its agreements there say.

use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, UpdateMask};
use cogov_kit::filter::{Field, Kind};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::store::Versioned;
use cogov_kit::validate::{Check, read_id, required};
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::gateway::*;
use cogov_proto::organizations::OrganizationKind;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Gateway;
use crate::entity::partners::{self as rows, Column, Entity, Model};

pub(crate) const COLLECTION: &str = "partners";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

/// `partners/{id}`.
pub fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> Partner {
    Partner {
        name: name(m.id),
        organization: names::format("organizations", m.organization_id),
        display_name: m.display_name.clone(),
        kind: m.kind,
        contact_email: m.contact_email.clone(),
        rate_limit_per_second: m.rate_limit_per_second,
        rate_limit_burst: m.rate_limit_burst,
        state: m.state,
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

/// Loads a partner.
pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound {
            resource_type: "Partner",
            name: name(id),
        })
}

/// The organisation kind a partner kind must be.
fn organization_kind(kind: PartnerKind) -> OrganizationKind {
    match kind {
        PartnerKind::PropertyFirm => OrganizationKind::PropertyFirm,
        PartnerKind::SocialUnit => OrganizationKind::SocialUnit,
        PartnerKind::OwnersCommittee => OrganizationKind::OwnersCommittee,
        PartnerKind::Unspecified => OrganizationKind::Unspecified,
    }
}

fn check(c: &mut Check, p: &Partner, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|m| m.has(f));
    if want("display_name") {
        c.line("partner.display_name", &p.display_name, 1, 100);
    }
    if want("contact_email") && !p.contact_email.is_empty() {
        let ok = p.contact_email.len() <= 254
            && p.contact_email
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
            && !p.contact_email.chars().any(char::is_whitespace);
        if !ok {
            c.add("partner.contact_email", "must be an e-mail address");
        }
    }
    if want("rate_limit_per_second") {
        c.range(
            "partner.rate_limit_per_second",
            p.rate_limit_per_second.into(),
            0,
            10_000,
        );
    }
    if want("rate_limit_burst") {
        c.range(
            "partner.rate_limit_burst",
            p.rate_limit_burst.into(),
            0,
            100_000,
        );
    }
    if want("state") {
        let _: PartnerState = c.enumeration("partner.state", p.state, false);
    }
}

/// CreatePartner: the organisation must exist and be of the partner's kind.
pub async fn create(
    gw: &Gateway,
    _caller: &Principal,
    principal: &Principal,
    req: CreatePartnerRequest,
) -> Result<Partner> {
    let key = Key::new("CreatePartner", &req.request_id, principal, &req);
    let p = required("partner", req.partner)?;
    let mut c = Check::new();
    check(&mut c, &p, None);
    let organization = c.name("partner.organization", &p.organization, "organizations");
    let kind: PartnerKind = c.enumeration("partner.kind", p.kind, true);
    c.request_id(&req.request_id);
    c.finish()?;
    let org = gw
        .directory
        .organization(organization)
        .await?
        .ok_or_else(|| Error::invalid("partner.organization", "no such organisation"))?;
    if org.kind != organization_kind(kind) as i32 {
        return Err(Error::invalid(
            "partner.kind",
            "does not match the organisation's kind",
        ));
    }
    let now = gw.ctx.clock.now();
    idempotency::create(&gw.ctx.db, &key, now, async move |txn| {
        if let Some(existing) = Entity::find()
            .filter(Column::OrganizationId.eq(organization))
            .one(txn)
            .await?
        {
            return Err(Error::AlreadyExists {
                resource_type: "Partner",
                name: name(existing.id),
            });
        }
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            organization_id: Set(organization),
            display_name: Set(p.display_name),
            kind: Set(kind as i32),
            contact_email: Set(p.contact_email),
            rate_limit_per_second: Set(p.rate_limit_per_second),
            rate_limit_burst: Set(p.rate_limit_burst),
            state: Set(PartnerState::Active as i32),
            revision: Set(1),
            create_time: Set(now),
            update_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(to_proto(&row))
    })
    .await
}

/// GetPartner.
pub async fn get(gw: &Gateway, _caller: &Principal, req: GetPartnerRequest) -> Result<Partner> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Ok(to_proto(&find(gw.ctx.db.read(), id).await?))
}

/// ListPartners.
pub async fn list(
    gw: &Gateway,
    _caller: &Principal,
    req: ListPartnersRequest,
) -> Result<ListPartnersResponse> {
    let fields = [
        Field::column(
            "kind",
            Column::Kind,
            Kind::Enum(
                |s| PartnerKind::from_str_name(s).map(|v| v as i32),
                "PARTNER_KIND_",
            ),
        ),
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| PartnerState::from_str_name(s).map(|v| v as i32),
                "PARTNER_STATE_",
            ),
        ),
        Field::column(
            "organization",
            Column::OrganizationId,
            Kind::Name("organizations"),
        ),
    ];
    let query = ListQuery::new(
        "ListPartners",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let spec = Spec::new(&fields, &[], Column::Id);
    let (rows, next_page_token) = listing::list(
        &gw.ctx.tokens,
        &gw.ctx.db,
        query,
        spec,
        Entity::find(),
        |m| (SortKey::None, m.id),
    )
    .await?;
    Ok(ListPartnersResponse {
        partners: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

const FIELDS: Fields<Partner, rows::ActiveModel> = Fields::new(&[
    ("display_name", |am, p| {
        am.display_name = Set(p.display_name.clone())
    }),
    ("contact_email", |am, p| {
        am.contact_email = Set(p.contact_email.clone())
    }),
    ("rate_limit_per_second", |am, p| {
        am.rate_limit_per_second = Set(p.rate_limit_per_second)
    }),
    ("rate_limit_burst", |am, p| {
        am.rate_limit_burst = Set(p.rate_limit_burst)
    }),
    ("state", |am, p| am.state = Set(p.state)),
]);

/// UpdatePartner: display name, contact, limits, state. Suspending stops
/// every key of the partner on the next call.
pub async fn update(
    gw: &Gateway,
    _caller: &Principal,
    req: UpdatePartnerRequest,
) -> Result<Partner> {
    let p = required("partner", req.partner)?;
    let id = read_id("partner.name", &p.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check(&mut c, &p, Some(&mask));
    if mask.has("state") && p.state == PartnerState::Unspecified as i32 {
        c.add("partner.state", "is required");
    }
    c.finish()?;
    let txn = gw.ctx.db.begin_write().await?;
    let row = find(&txn, id).await?;
    let mut edit = VERSIONED.edit(row, &p.etag, &name(id), gw.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &p);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}
