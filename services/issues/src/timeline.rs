//! The timeline: CreateIssueComment, ListIssueUpdates, and the entries
//! every other change records in its own transaction.

use chrono::{DateTime, Utc};
use cogov_kit::auth::Principal;
use cogov_kit::idempotency::{self, Key};
use cogov_kit::listing::{self, ListQuery, Spec};
use cogov_kit::paging::SortKey;
use cogov_kit::validate::Check;
use cogov_kit::write::Defers;
use cogov_kit::{Error, Result, convert, names};
use cogov_proto::common::Media;
use cogov_proto::issues::*;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryTrait};
use uuid::Uuid;

use crate::entity::updates::{self, Column, Entity, Model};
use crate::issues::{self as issue_store, COLLECTION};
use crate::{Issues, media, read_id};
use cogov_kit::scope::Scope;

/// A timeline entry to record.
#[derive(Debug, Clone)]
pub struct Entry {
    kind: IssueUpdateKind,
    from: IssueState,
    to: IssueState,
    author: String,
    text: String,
    organization: Option<Uuid>,
    reason_code: String,
    internal: bool,
    media: Vec<Media>,
    time: DateTime<Utc>,
}

impl Entry {
    /// An entry of `kind` by `author` at `time`.
    pub fn new(kind: IssueUpdateKind, author: &str, time: DateTime<Utc>) -> Self {
        Self {
            kind,
            from: IssueState::Unspecified,
            to: IssueState::Unspecified,
            author: author.to_owned(),
            text: String::new(),
            organization: None,
            reason_code: String::new(),
            internal: false,
            media: Vec::new(),
            time,
        }
    }

    /// A state transition.
    pub fn transition(from: IssueState, to: IssueState, author: &str, time: DateTime<Utc>) -> Self {
        Self {
            from,
            to,
            ..Self::new(IssueUpdateKind::Transition, author, time)
        }
    }

    /// With a text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Naming an organisation (assignee, summoned party).
    pub fn with_organization(mut self, org: Uuid) -> Self {
        self.organization = Some(org);
        self
    }

    /// With a reason code.
    pub fn with_reason(mut self, code: &str) -> Self {
        self.reason_code = code.to_owned();
        self
    }

    /// With media.
    pub fn with_media(mut self, media: Vec<Media>) -> Self {
        self.media = media;
        self
    }

    /// Staff only.
    pub fn internal(mut self, internal: bool) -> Self {
        self.internal = internal;
        self
    }
}

/// Records `entry` on issue `issue`.
pub async fn record<C: Defers>(conn: &C, issue: Uuid, entry: Entry) -> Result<Model> {
    let row = Model {
        id: names::new_id(),
        issue_id: issue,
        kind: entry.kind as i32,
        from_state: entry.from as i32,
        to_state: entry.to as i32,
        author: entry.author,
        text: entry.text,
        organization_id: entry.organization,
        reason_code: entry.reason_code,
        internal: entry.internal,
        media: media::to_json(&entry.media),
        create_time: entry.time,
    };
    // Nothing reads an issue's timeline later in the write that adds to it:
    // the entry goes in at the commit.
    let insert =
        updates::Entity::insert(row.clone().into_active_model()).build(conn.get_database_backend());
    conn.defer(insert).await?;
    Ok(row)
}

fn to_proto(m: &Model, scope: &Scope) -> IssueUpdate {
    // Partners, and residents other than the author, see who acted by
    // role, not which resident.
    let own = scope
        .resident()
        .is_some_and(|me| m.author == format!("resident:{}", names::format("persons", me)));
    let author = if (scope.masks() || scope.resident().is_some())
        && !own
        && m.author.starts_with("resident:")
    {
        "resident".to_owned()
    } else {
        m.author.clone()
    };
    IssueUpdate {
        name: format!(
            "{}/updates/{}",
            issue_store::name(m.issue_id),
            m.id.as_hyphenated()
        ),
        kind: m.kind,
        from_state: m.from_state,
        to_state: m.to_state,
        author,
        text: m.text.clone(),
        organization: m
            .organization_id
            .map(|o| names::format("organizations", o))
            .unwrap_or_default(),
        reason_code: m.reason_code.clone(),
        internal: m.internal,
        media: media::from_json(&m.media),
        create_time: Some(convert::timestamp(m.create_time)),
    }
}

/// CreateIssueComment.
pub async fn comment(
    svc: &Issues,
    scope: &Scope,
    principal: &Principal,
    req: CreateIssueCommentRequest,
) -> Result<IssueUpdate> {
    let key = Key::new("CreateIssueComment", &req.request_id, principal, &req);
    let id = read_id("parent", &req.parent, COLLECTION)?;
    let mut c = Check::new();
    c.text("text", &req.text, 1, 4000);
    media::check(&mut c, "media", &req.media);
    c.request_id(&req.request_id);
    c.finish()?;
    if req.internal && !scope.is_staff() {
        return Err(Error::forbidden("write staff-only notes"));
    }
    let now = svc.ctx.clock.now();
    let author = principal.describe();
    idempotency::create(&svc.ctx.db, &key, now, async move |txn| {
        let issue = issue_store::get_visible(txn, scope, id).await?;
        if let Some(me) = scope.resident()
            && issue.reporter_id != Some(me)
        {
            return Err(Error::forbidden(
                "comment on another resident's report; follow it, or report your own",
            ));
        }
        if !req.internal {
            crate::events::tell_answered(txn, &issue, scope.resident(), &req.text, now).await?;
        }
        let entry = Entry::new(IssueUpdateKind::Comment, &author, now)
            .with_text(req.text)
            .with_media(req.media)
            .internal(req.internal);
        Ok(to_proto(&record(txn, id, entry).await?, scope))
    })
    .await
}

/// ListIssueUpdates.
pub async fn list(
    svc: &Issues,
    scope: &Scope,
    req: ListIssueUpdatesRequest,
) -> Result<ListIssueUpdatesResponse> {
    let id = read_id("parent", &req.parent, COLLECTION)?;
    let conn = svc.ctx.db.read();
    issue_store::get_visible(conn, scope, id).await?;
    let query = ListQuery {
        parent: &req.parent,
        ..ListQuery::new("ListIssueUpdates", req.page_size, &req.page_token, "", "")
    };
    let spec = Spec::new(&[], &[], Column::Id);
    let mut base = Entity::find().filter(Column::IssueId.eq(id));
    if !scope.is_staff() {
        base = base.filter(Column::Internal.eq(false));
    }
    let (rows, next_page_token) =
        listing::list(&svc.ctx.tokens, &svc.ctx.db, query, spec, base, |m| {
            (SortKey::None, m.id)
        })
        .await?;
    Ok(ListIssueUpdatesResponse {
        updates: rows.iter().map(|m| to_proto(m, scope)).collect(),
        next_page_token,
    })
}
