//! A resident's rights over their personal information (China's Personal
//! Information Protection Law, articles 45 and 47): an export of
//! everything held about them, and erasure.
//!
//! The export is read from each service through its own API, as the
//! resident (no back door: what a service shows them of themselves is what
//! they get), plus the gateway's own records of them, in protobuf's JSON
//! mapping. Erasure is asked for by the resident and carried out (or
//! declined, with a reason) by staff of their community: the
//! organizations service erases the person and tells every service
//! (`PersonErased`); the gateway forgets the codes sent to the number, ends
//! and blanks the sessions and drops the notices.

use cogov_kit::auth::Principal;
use cogov_kit::filter::{Field, Kind};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::{Check, read_id};
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::gateway::*;
use cogov_proto::organizations::{ErasePersonRequest, GetPersonRequest};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use tonic::metadata::MetadataMap;
use uuid::Uuid;

use super::sessions;
use crate::Gateway;
use crate::entity::erasure_requests::{self as rows, Column, Entity, Model};
use crate::entity::{resident_notices, resident_sessions, sign_in_codes};
use crate::proto_json::value_of;

const COLLECTION: &str = "erasureRequests";

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> ErasureRequest {
    ErasureRequest {
        name: name(m.id),
        person: names::format("persons", m.person_id),
        community: names::format("communities", m.community_id),
        reason: m.reason.clone(),
        state: m.state,
        decided_by: m.decided_by.clone(),
        decline_reason: m.decline_reason.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        decide_time: m.decide_time.map(convert::timestamp),
    }
}

/// Calls the services as `principal`, through the channels the gateway
/// forwards on.
struct AsResident<'a> {
    gw: &'a Gateway,
    principal: Principal,
}

impl AsResident<'_> {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut metadata = MetadataMap::new();
        self.gw.internal.attach(
            &mut metadata,
            &self.principal,
            chrono::Duration::seconds(60),
        );
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = metadata;
        request
    }
}

fn unavailable(what: &str) -> impl Fn(tonic::Status) -> Error + '_ {
    move |s| Error::Unavailable(format!("{what}: {}", s.message()))
}

/// Every page of a list, for an export.
macro_rules! all_pages {
    ($client:expr, $call:ident, $as:expr, $request:expr, $items:ident) => {{
        let mut out = Vec::new();
        let mut request = $request;
        loop {
            let page = $client
                .$call($as.request(request.clone()))
                .await
                .map_err(unavailable(stringify!($call)))?
                .into_inner();
            out.extend(page.$items.iter().map(value_of));
            if page.next_page_token.is_empty() || out.len() > 100_000 {
                break;
            }
            request.page_token = page.next_page_token;
        }
        Value::Array(out)
    }};
}

/// ExportMyData.
pub async fn export(
    gw: &Gateway,
    principal: &Principal,
    req: ExportMyDataRequest,
) -> Result<PersonalDataExport> {
    use cogov_proto::deliberation::deliberation_service_client::DeliberationServiceClient;
    use cogov_proto::deliberation::{ListSeatsRequest, ListTopicsRequest};
    use cogov_proto::issues::issues_service_client::IssuesServiceClient;
    use cogov_proto::issues::{ListIssueUpdatesRequest, ListIssuesRequest};
    use cogov_proto::organizations::ListMembershipsRequest;
    use cogov_proto::organizations::organizations_service_client::OrganizationsServiceClient;
    use cogov_proto::volunteers::volunteers_service_client::VolunteersServiceClient;
    use cogov_proto::volunteers::{
        GetPointsAccountRequest, ListPointsEntriesRequest, ListServiceRecordsRequest,
        ListSignupsRequest, ListVolunteersRequest,
    };

    let person = super::own_person(
        principal,
        &req.parent,
        "do this for a resident; residents do it for themselves",
    )?;
    let me = names::format("persons", person);
    let backends = gw
        .backends
        .get()
        .ok_or_else(|| Error::Internal("the gateway serves without its backends".into()))?;
    let as_me = AsResident {
        gw,
        principal: principal.clone(),
    };

    let mut orgs = OrganizationsServiceClient::new(backends.organizations.clone());
    let record = orgs
        .get_person(as_me.request(GetPersonRequest { name: me.clone() }))
        .await
        .map_err(unavailable("GetPerson"))?
        .into_inner();
    let memberships = all_pages!(
        orgs,
        list_memberships,
        as_me,
        ListMembershipsRequest {
            page_size: 1000,
            filter: format!("person = {me:?}"),
            ..Default::default()
        },
        memberships
    );

    let mut issues = IssuesServiceClient::new(backends.issues.clone());
    let mut reports = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = issues
            .list_issues(as_me.request(ListIssuesRequest {
                page_size: 1000,
                page_token: page_token.clone(),
                filter: format!("reporter = {me:?}"),
                ..Default::default()
            }))
            .await
            .map_err(unavailable("ListIssues"))?
            .into_inner();
        for issue in &page.issues {
            let timeline = all_pages!(
                issues,
                list_issue_updates,
                as_me,
                ListIssueUpdatesRequest {
                    parent: issue.name.clone(),
                    page_size: 1000,
                    ..Default::default()
                },
                updates
            );
            reports.push(json!({"issue": value_of(issue), "timeline": timeline}));
        }
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    // Others' issues they follow.
    let following = all_pages!(
        issues,
        list_issues,
        as_me,
        ListIssuesRequest {
            page_size: 1000,
            filter: "followed = true".into(),
            ..Default::default()
        },
        issues
    );

    let mut volunteers = VolunteersServiceClient::new(backends.volunteers.clone());
    let records = volunteers
        .list_volunteers(as_me.request(ListVolunteersRequest {
            page_size: 10,
            ..Default::default()
        }))
        .await
        .map_err(unavailable("ListVolunteers"))?
        .into_inner()
        .volunteers;
    let mut volunteering = Vec::new();
    for v in &records {
        let signups = all_pages!(
            volunteers,
            list_signups,
            as_me,
            ListSignupsRequest {
                parent: "activities/-".into(),
                page_size: 1000,
                filter: format!("volunteer = {:?}", v.name),
                ..Default::default()
            },
            signups
        );
        let hours = all_pages!(
            volunteers,
            list_service_records,
            as_me,
            ListServiceRecordsRequest {
                page_size: 1000,
                filter: format!("volunteer = {:?}", v.name),
                ..Default::default()
            },
            service_records
        );
        let account = volunteers
            .get_points_account(as_me.request(GetPointsAccountRequest {
                name: format!("{}/pointsAccount", v.name),
            }))
            .await
            .map(|r| value_of(&r.into_inner()))
            .unwrap_or(Value::Null);
        let points = all_pages!(
            volunteers,
            list_points_entries,
            as_me,
            ListPointsEntriesRequest {
                parent: v.name.clone(),
                page_size: 1000,
                ..Default::default()
            },
            entries
        );
        volunteering.push(json!({
            "volunteer": value_of(v),
            "signups": signups,
            "serviceRecords": hours,
            "pointsAccount": account,
            "pointsEntries": points,
        }));
    }

    let mut deliberation = DeliberationServiceClient::new(backends.deliberation.clone());
    let seats = all_pages!(
        deliberation,
        list_seats,
        as_me,
        ListSeatsRequest {
            parent: "councils/-".into(),
            page_size: 1000,
            filter: format!("person = {me:?}"),
            ..Default::default()
        },
        seats
    );
    let topics: Vec<Value> = match all_pages!(
        deliberation,
        list_topics,
        as_me,
        ListTopicsRequest {
            page_size: 1000,
            ..Default::default()
        },
        topics
    ) {
        Value::Array(all) => all
            .into_iter()
            .filter(|t| t["proposer"] == Value::String(me.clone()))
            .collect(),
        _ => Vec::new(),
    };

    let own_sessions: Vec<Value> = resident_sessions::Entity::find()
        .filter(resident_sessions::Column::PersonId.eq(person))
        .order_by_asc(resident_sessions::Column::Id)
        .all(gw.ctx.db.read())
        .await?
        .iter()
        .map(|s| value_of(&sessions::to_proto(s, None)))
        .collect();
    let notices: Vec<Value> = resident_notices::Entity::find()
        .filter(resident_notices::Column::PersonId.eq(person))
        .order_by_asc(resident_notices::Column::Id)
        .all(gw.ctx.db.read())
        .await?
        .iter()
        .map(|n| {
            json!({
                "kind": n.kind, "subject": n.subject, "createTime": n.create_time.to_rfc3339(),
                "read": n.read_time.is_some(),
            })
        })
        .collect();

    let now = gw.ctx.clock.now();
    let document = json!({
        "person": value_of(&record),
        "exportTime": now.to_rfc3339(),
        "organizations": {"memberships": memberships},
        "issues": {"reports": reports, "following": following},
        "volunteers": volunteering,
        "deliberation": {"seats": seats, "topicsProposed": topics},
        "gateway": {"sessions": own_sessions, "notices": notices},
    });
    Ok(PersonalDataExport {
        export_time: Some(convert::timestamp(now)),
        person: me,
        json: serde_json::to_string_pretty(&document).expect("JSON"),
    })
}

/// RequestErasure: one pending request per person at a time.
pub async fn request(
    gw: &Gateway,
    principal: &Principal,
    req: RequestErasureRequest,
) -> Result<ErasureRequest> {
    let person = super::own_person(
        principal,
        &req.parent,
        "do this for a resident; residents do it for themselves",
    )?;
    let mut c = Check::new();
    c.text("reason", &req.reason, 0, 1000);
    c.finish()?;
    let pending = || {
        Entity::find()
            .filter(Column::PersonId.eq(person))
            .filter(Column::State.eq(ErasureState::Pending as i32))
            .one(gw.ctx.db.write())
    };
    if let Some(pending) = pending().await? {
        return Ok(to_proto(&pending));
    }
    let community = gw
        .directory
        .person(person)
        .await?
        .ok_or_else(|| Error::out_of_reach(names::format("persons", person)))?
        .community;
    let row = rows::ActiveModel {
        id: Set(names::new_id()),
        person_id: Set(person),
        community_id: Set(community),
        reason: Set(req.reason),
        state: Set(ErasureState::Pending as i32),
        decided_by: Set(String::new()),
        decline_reason: Set(String::new()),
        create_time: Set(gw.ctx.clock.now()),
        decide_time: Set(None),
    }
    .insert(gw.ctx.db.write())
    .await;
    match row {
        Ok(row) => Ok(to_proto(&row)),
        // Another request of theirs won the race (one pending per person).
        Err(e) => match pending().await? {
            Some(pending) => Ok(to_proto(&pending)),
            None => Err(e.into()),
        },
    }
}

/// ListErasureRequests.
pub async fn list(
    gw: &Gateway,
    principal: &Principal,
    req: ListErasureRequestsRequest,
) -> Result<ListErasureRequestsResponse> {
    let fields = [
        Field::column(
            "state",
            Column::State,
            Kind::Enum(
                |s| ErasureState::from_str_name(s).map(|v| v as i32),
                "ERASURE_STATE_",
            ),
        ),
        Field::column("community", Column::CommunityId, Kind::Name("communities")),
    ];
    let query = ListQuery::new(
        "ListErasureRequests",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let mut spec = Spec::new(&fields, &[], Column::Id);
    spec.newest_first = true;
    let base = match principal {
        Principal::StreetAdmin { .. } | Principal::Service { .. } => Entity::find(),
        Principal::CommunityAdmin { community, .. } => {
            Entity::find().filter(Column::CommunityId.eq(*community))
        }
        Principal::Resident { person, .. } => Entity::find().filter(Column::PersonId.eq(*person)),
        Principal::Partner { .. } => return Err(Error::forbidden("list erasure requests")),
    };
    let (rows, next_page_token) =
        listing::list(&gw.ctx.tokens, &gw.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListErasureRequestsResponse {
        erasure_requests: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// A pending request that the caller, staff of its community, decides.
async fn decidable(gw: &Gateway, principal: &Principal, id: Uuid) -> Result<Model> {
    let name = &names::format(COLLECTION, id);
    let row = Entity::find_by_id(id)
        .one(gw.ctx.db.write())
        .await?
        .ok_or_else(|| Error::NotFound {
            resource_type: "ErasureRequest",
            name: name.to_owned(),
        })?;
    match principal {
        Principal::StreetAdmin { .. } => {}
        Principal::CommunityAdmin { community, .. } if *community == row.community_id => {}
        Principal::CommunityAdmin { .. } => return Err(Error::out_of_reach(name)),
        _ => return Err(Error::forbidden("decide erasure requests; staff only")),
    }
    if row.state != ErasureState::Pending as i32 {
        let state = ErasureState::try_from(row.state).unwrap_or_default();
        return Err(Error::illegal_transition(
            name,
            state.as_str_name().trim_start_matches("ERASURE_STATE_"),
            "decided",
        ));
    }
    Ok(row)
}

/// CarryOutErasure.
pub async fn carry_out(
    gw: &Gateway,
    principal: &Principal,
    req: CarryOutErasureRequest,
) -> Result<ErasureRequest> {
    let row = decidable(gw, principal, read_id("name", &req.name, COLLECTION)?).await?;
    let person = names::format("persons", row.person_id);
    let mut orgs = gw.directory.organizations();
    // The number, to forget the codes sent to it, before it goes.
    let phone = match orgs
        .get_person(GetPersonRequest {
            name: person.clone(),
        })
        .await
    {
        Ok(p) => p.into_inner().phone_e164,
        Err(s) if s.code() == tonic::Code::NotFound => String::new(),
        Err(s) => return Err(Error::Unavailable(s.message().to_owned())),
    };
    orgs.erase_person(ErasePersonRequest {
        name: person.clone(),
    })
    .await
    .map_err(|s| Error::Unavailable(format!("erasing {person}: {}", s.message())))?;

    let now = gw.ctx.clock.now();
    let db = gw.ctx.db.write();
    for ended in sessions::end_all(db, row.person_id, SessionEnd::EndedByStaff, now).await? {
        gw.residents.revocations().note(ended);
    }
    resident_sessions::Entity::update_many()
        .col_expr(resident_sessions::Column::Device, Expr::value(""))
        .col_expr(resident_sessions::Column::Peer, Expr::value(""))
        .filter(resident_sessions::Column::PersonId.eq(row.person_id))
        .exec(db)
        .await?;
    resident_notices::Entity::delete_many()
        .filter(resident_notices::Column::PersonId.eq(row.person_id))
        .exec(db)
        .await?;
    if !phone.is_empty() {
        sign_in_codes::Entity::delete_many()
            .filter(sign_in_codes::Column::Phone.eq(&phone))
            .exec(db)
            .await?;
        db.execute(
            sea_orm::sea_query::Query::delete()
                .from_table(super::codes::NUMBERS)
                .and_where(Expr::col("phone").eq(phone)),
        )
        .await?;
    }
    let mut am: rows::ActiveModel = row.into();
    am.state = Set(ErasureState::Done as i32);
    am.decided_by = Set(principal.describe());
    am.decide_time = Set(Some(now));
    let saved = am.update(db).await?;
    Ok(to_proto(&saved))
}

/// DeclineErasure.
pub async fn decline(
    gw: &Gateway,
    principal: &Principal,
    req: DeclineErasureRequest,
) -> Result<ErasureRequest> {
    let mut c = Check::new();
    let id = c.name("name", &req.name, COLLECTION);
    c.text("reason", &req.reason, 1, 1000);
    c.finish()?;
    let row = decidable(gw, principal, id).await?;
    let mut am: rows::ActiveModel = row.into();
    am.state = Set(ErasureState::Declined as i32);
    am.decided_by = Set(principal.describe());
    am.decline_reason = Set(req.reason);
    am.decide_time = Set(Some(gw.ctx.clock.now()));
    Ok(to_proto(&am.update(gw.ctx.db.write()).await?))
}
