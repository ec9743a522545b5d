//! Courses and completions: GetCourse, ListCourses, CreateCourse,
//! UpdateCourse, CreateCompletion, ListCompletions. A completion of a
//! certifying course is a certification, valid for the course's days.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::fieldmask::{Fields, UpdateMask};
use cogov_kit::filter::{Field, Kind, Op};
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::scope::Scope;
use cogov_kit::store::Versioned;
use cogov_kit::validate::Check;
use cogov_kit::{Error, Result, convert, etag, names};
use cogov_proto::volunteers::*;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::entity::completions;
use crate::entity::courses::{self as rows, Column, Entity, Model};
use crate::{Volunteers, read_id, required, volunteers};

const COLLECTION: &str = "courses";
const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    revision: Column::Revision,
    update_time: Some(Column::UpdateTime),
};

fn name(id: Uuid) -> String {
    names::format(COLLECTION, id)
}

fn to_proto(m: &Model) -> Course {
    Course {
        name: name(m.id),
        title: m.title.clone(),
        description: m.description.clone(),
        certifies: m.certifies,
        validity_days: m.validity_days,
        organizer: m.organizer.clone(),
        create_time: Some(convert::timestamp(m.create_time)),
        update_time: Some(convert::timestamp(m.update_time)),
        etag: etag::format(m.revision),
    }
}

fn completion_proto(m: &completions::Model) -> Completion {
    Completion {
        name: names::format_child(COLLECTION, m.course_id, "completions", m.id),
        volunteer: volunteers::name(m.volunteer_id),
        complete_time: Some(convert::timestamp(m.complete_time)),
        expire_time: convert::opt_timestamp(m.expire_time),
        grade: m.grade.clone(),
    }
}

/// Loads a course named in a request's `field`.
pub async fn reference<C: ConnectionTrait>(conn: &C, field: &str, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::invalid(field, format!("{} does not exist", name(id))))
}

/// The required courses `volunteer` holds no valid certification of at `at`.
pub async fn missing_certifications<C: ConnectionTrait>(
    conn: &C,
    volunteer: Uuid,
    required: &[Uuid],
    at: DateTime<Utc>,
) -> Result<Vec<Uuid>> {
    let mut missing = Vec::new();
    for course in required {
        let valid = completions::Entity::find()
            .filter(completions::Column::VolunteerId.eq(volunteer))
            .filter(completions::Column::CourseId.eq(*course))
            .filter(completions::Column::CompleteTime.lte(at))
            .filter(
                Condition::any()
                    .add(completions::Column::ExpireTime.is_null())
                    .add(completions::Column::ExpireTime.gt(at)),
            )
            .one(conn)
            .await?;
        if valid.is_none() {
            missing.push(*course);
        }
    }
    Ok(missing)
}

/// The volunteers holding a valid certificate of every `required` course at
/// `at`, in one query (matching scores hundreds of candidates).
pub async fn certified_volunteers<C: ConnectionTrait>(
    conn: &C,
    required: &[Uuid],
    at: DateTime<Utc>,
) -> Result<HashSet<Uuid>> {
    let rows: Vec<(Uuid, Uuid)> = completions::Entity::find()
        .select_only()
        .column(completions::Column::VolunteerId)
        .column(completions::Column::CourseId)
        .filter(completions::Column::CourseId.is_in(required.iter().copied()))
        .filter(completions::Column::CompleteTime.lte(at))
        .filter(
            Condition::any()
                .add(completions::Column::ExpireTime.is_null())
                .add(completions::Column::ExpireTime.gt(at)),
        )
        .into_tuple()
        .all(conn)
        .await?;
    let mut held: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    for (volunteer, course) in rows {
        held.entry(volunteer).or_default().insert(course);
    }
    Ok(held
        .into_iter()
        .filter(|(_, courses)| required.iter().all(|c| courses.contains(c)))
        .map(|(volunteer, _)| volunteer)
        .collect())
}

fn check(c: &mut Check, m: &Course, mask: Option<&UpdateMask>) {
    let want = |f: &str| mask.is_none_or(|k| k.has(f));
    if want("title") {
        c.line("course.title", &m.title, 1, 200);
    }
    if want("description") {
        c.text("course.description", &m.description, 0, 4000);
    }
    if want("validity_days") {
        c.range("course.validity_days", m.validity_days.into(), 0, 36_500);
    }
    if want("organizer")
        && !m.organizer.is_empty()
        && names::parse("organizations", &m.organizer).is_none()
        && names::parse("teams", &m.organizer).is_none()
    {
        c.add(
            "course.organizer",
            "must be an `organizations/…` or `teams/…` name",
        );
    }
}

fn require_staff(scope: &Scope) -> Result<()> {
    if scope.is_staff() {
        Ok(())
    } else {
        Err(Error::forbidden("manage training; staff only"))
    }
}

/// GetCourse.
pub async fn get(svc: &Volunteers, scope: &Scope, req: GetCourseRequest) -> Result<Course> {
    let id = read_id("name", &req.name, COLLECTION)?;
    Entity::find_by_id(id)
        .one(svc.ctx.db.read())
        .await?
        .map(|m| to_proto(&m))
        .ok_or_else(|| scope.missing("Course", &req.name))
}

/// ListCourses.
pub async fn list(
    svc: &Volunteers,
    _scope: &Scope,
    req: ListCoursesRequest,
) -> Result<ListCoursesResponse> {
    let fields = [
        Field::column("certifies", Column::Certifies, Kind::Bool),
        Field::column("organizer", Column::Organizer, Kind::Text),
    ];
    let query = ListQuery::new(
        "ListCourses",
        req.page_size,
        &req.page_token,
        &req.filter,
        "",
    );
    let spec = Spec::new(&fields, &[], Column::Id);
    let (rows, next_page_token) = listing::list(
        &svc.ctx.tokens,
        &svc.ctx.db,
        query,
        spec,
        Entity::find(),
        |m| (SortKey::None, m.id),
    )
    .await?;
    Ok(ListCoursesResponse {
        courses: rows.iter().map(to_proto).collect(),
        next_page_token,
    })
}

/// CreateCourse.
pub async fn create(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateCourseRequest,
) -> Result<Course> {
    require_staff(scope)?;
    let key = Key::new("CreateCourse", &req.request_id, principal, &req);
    let m = required("course", req.course)?;
    let mut c = Check::new();
    check(&mut c, &m, None);
    c.request_id(&req.request_id);
    c.finish()?;
    let now = svc.ctx.clock.now();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let row = rows::ActiveModel {
            id: Set(names::new_id()),
            title: Set(m.title),
            description: Set(m.description),
            certifies: Set(m.certifies),
            validity_days: Set(m.validity_days),
            organizer: Set(m.organizer),
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

const FIELDS: Fields<Course, rows::ActiveModel> = Fields::new(&[
    ("title", |am, m| am.title = Set(m.title.clone())),
    ("description", |am, m| {
        am.description = Set(m.description.clone())
    }),
    ("certifies", |am, m| am.certifies = Set(m.certifies)),
    ("validity_days", |am, m| {
        am.validity_days = Set(m.validity_days)
    }),
    ("organizer", |am, m| am.organizer = Set(m.organizer.clone())),
]);

/// UpdateCourse. A new validity applies to later completions.
pub async fn update(svc: &Volunteers, scope: &Scope, req: UpdateCourseRequest) -> Result<Course> {
    require_staff(scope)?;
    let m = required("course", req.course)?;
    let id = read_id("course.name", &m.name, COLLECTION)?;
    let mask = FIELDS.mask(req.update_mask.as_ref())?;
    let mut c = Check::new();
    check(&mut c, &m, Some(&mask));
    c.finish()?;
    let txn = svc.ctx.db.begin_write().await?;
    let row = Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| scope.missing("Course", &m.name))?;
    let mut edit = VERSIONED.edit(row, &m.etag, &m.name, svc.ctx.clock.now())?;
    edit.apply(&FIELDS, &mask, &m);
    let saved = edit.save(&txn).await?;
    txn.commit().await?;
    Ok(to_proto(&saved))
}

/// CreateCompletion.
pub async fn create_completion(
    svc: &Volunteers,
    scope: &Scope,
    principal: &Principal,
    req: CreateCompletionRequest,
) -> Result<Completion> {
    require_staff(scope)?;
    let key = Key::new("CreateCompletion", &req.request_id, principal, &req);
    let course_id = read_id("parent", &req.parent, COLLECTION)?;
    let m = required("completion", req.completion)?;
    let now = svc.ctx.clock.now();
    let mut c = Check::new();
    let volunteer = c.name("completion.volunteer", &m.volunteer, "volunteers");
    c.line("completion.grade", &m.grade, 0, 20);
    let complete_time = match m.complete_time.as_ref().map(convert::from_timestamp) {
        Some(Some(t)) if t <= now => t,
        Some(Some(_)) => {
            c.add("completion.complete_time", "must not be in the future");
            now
        }
        Some(None) => {
            c.add("completion.complete_time", "out of range");
            now
        }
        None => {
            c.add("completion.complete_time", "is required");
            now
        }
    };
    c.request_id(&req.request_id);
    c.finish()?;
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let course = reference(txn, "parent", course_id).await?;
        let v = volunteers::reference(txn, "completion.volunteer", volunteer).await?;
        if !scope.staff_covers(v.community_id) {
            return Err(Error::out_of_reach(volunteers::name(volunteer)));
        }
        let expire_time = (course.certifies && course.validity_days > 0)
            .then(|| complete_time + Duration::days(course.validity_days.into()));
        let row = completions::ActiveModel {
            id: Set(names::new_id()),
            course_id: Set(course_id),
            volunteer_id: Set(volunteer),
            complete_time: Set(complete_time),
            expire_time: Set(expire_time),
            grade: Set(m.grade),
            create_time: Set(now),
        }
        .insert(txn)
        .await?;
        Ok(completion_proto(&row))
    })
    .await
}

/// ListCompletions: of one course, or `courses/-` for all.
pub async fn list_completions(
    svc: &Volunteers,
    scope: &Scope,
    req: ListCompletionsRequest,
) -> Result<ListCompletionsResponse> {
    let course = if req.parent == "courses/-" {
        None
    } else {
        Some(read_id("parent", &req.parent, COLLECTION)?)
    };
    let now = svc.ctx.clock.now();
    let fields = [
        Field::column(
            "volunteer",
            completions::Column::VolunteerId,
            Kind::Name("volunteers"),
        ),
        Field::custom("valid", move |op, value| {
            let valid = match (op, value) {
                (Op::Eq | Op::Has, "true") | (Op::Ne, "false") => true,
                (Op::Eq | Op::Has, "false") | (Op::Ne, "true") => false,
                _ => return Err("expected `valid = true` or `valid = false`".into()),
            };
            let cond = Condition::any()
                .add(completions::Column::ExpireTime.is_null())
                .add(completions::Column::ExpireTime.gt(now));
            Ok(if valid {
                cond.into()
            } else {
                cond.not().into()
            })
        }),
    ];
    let query = ListQuery {
        parent: &req.parent,
        ..ListQuery::new(
            "ListCompletions",
            req.page_size,
            &req.page_token,
            &req.filter,
            "",
        )
    };
    let spec = Spec::new(&fields, &[], completions::Column::Id);
    let mut base = completions::Entity::find();
    if let Some(course) = course {
        base = base.filter(completions::Column::CourseId.eq(course));
    }
    // Residents see their own certifications; partners none.
    match scope {
        Scope::Resident { person, .. } => {
            let mine = crate::access::volunteer_of(svc.ctx.db.read(), *person)
                .await?
                .map(|v| v.id);
            base = base.filter(completions::Column::VolunteerId.eq(mine.unwrap_or_default()));
        }
        Scope::Partner { .. } => return Err(Error::forbidden("read training records")),
        Scope::Community(community) => {
            base = base.filter(
                completions::Column::VolunteerId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(crate::entity::volunteers::Column::Id)
                        .from(crate::entity::volunteers::Entity)
                        .and_where(crate::entity::volunteers::Column::CommunityId.eq(*community))
                        .to_owned(),
                ),
            );
        }
        Scope::All => {}
    }
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListCompletionsResponse {
        completions: rows.iter().map(completion_proto).collect(),
        next_page_token,
    })
}
