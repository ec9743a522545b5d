//! Spreadsheets in and out: roster imports (upload, progress, report of the
//! refused rows), empty templates, and exports of issues, statistics,
//! volunteer hours and councils as CSV or XLSX. Both go through the
//! services' APIs as the signed-in staff member (`cogov_sheets`), exactly
//! as `cogov import` and `cogov export` do.

use std::io::{Seek, SeekFrom};

use askama::Template;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use cogov_proto::issues::StatisticsGroup;
use cogov_proto::volunteers::HoursGroup;
use cogov_sheets::export::{self, Export};
use cogov_sheets::import::{self, Kind, Options};
use cogov_sheets::write::{Format, Writer};
use http::{StatusCode, header};
use serde::Deserialize;

use super::{Names, path_id};
use crate::console::jobs::{Job, Stage};
use crate::console::view::{Failure, Frame, render};
use crate::console::{Shared, Staff};

/// The largest upload read (the import's own limit).
pub const MAX_UPLOAD: usize = 32 << 20;

#[derive(Template)]
#[template(path = "console/spreadsheets.html")]
struct SheetsPage {
    f: Frame,
    communities: Vec<(String, String)>,
    kinds: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    f: Frame,
    id: String,
    file: String,
    running: bool,
    done: usize,
    total: usize,
    failed: String,
    summary: Option<Summary>,
}

struct Summary {
    kind: &'static str,
    community: String,
    dry_run: bool,
    rows: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
    refused: usize,
    ignored: String,
    problems: Vec<(usize, String, String)>,
}

/// GET /console/spreadsheets.
pub async fn page(State(_c): State<Shared>, staff: Staff) -> Result<Response, Failure> {
    let names = Names::load(&staff.calls).await?;
    let view = SheetsPage {
        f: Frame::new(&staff, "spreadsheets"),
        communities: names.collection("communities"),
        kinds: Kind::ALL.iter().map(|k| k.as_str()).collect(),
    };
    Ok(render(&view))
}

/// POST /console/imports: the upload; the import runs on and its page
/// follows it.
pub async fn start(
    State(c): State<Shared>,
    staff: Staff,
    mut multipart: Multipart,
) -> Result<Response, Failure> {
    let back = "/console/spreadsheets";
    let bad = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Failure::new(status, "sheets.too_large").back_to(back)
        } else {
            Failure::new(StatusCode::BAD_REQUEST, "error.invalid").back_to(back)
        }
    };
    let (mut csrf, mut kind, mut community, mut dry_run) =
        (String::new(), String::new(), String::new(), false);
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_owned();
                file = Some((name, field.bytes().await.map_err(bad)?));
            }
            "csrf" => csrf = field.text().await.map_err(bad)?,
            "kind" => kind = field.text().await.map_err(bad)?,
            "community" => community = field.text().await.map_err(bad)?,
            "dry_run" => dry_run = !field.text().await.map_err(bad)?.is_empty(),
            _ => {}
        }
    }
    staff.check_form(&csrf)?;
    let kind = Kind::parse(&kind)
        .ok_or_else(|| Failure::new(StatusCode::BAD_REQUEST, "error.invalid").back_to(back))?;
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(Failure::new(StatusCode::BAD_REQUEST, "sheets.no_file").back_to(back));
    };
    let Some(id) = c.jobs.start(staff.account.id, file_name) else {
        return Err(Failure::new(StatusCode::TOO_MANY_REQUESTS, "sheets.busy").back_to(back));
    };
    let jobs = c.jobs.clone();
    let clients = staff.calls.sheets();
    let options = Options {
        community,
        dry_run,
        ..Options::default()
    };
    tokio::spawn(async move {
        let progress = |done: usize, total: usize| jobs.set(id, Stage::Running { done, total });
        let stage = match import::run(&clients, kind, &bytes, &options, &progress).await {
            Ok(report) => Stage::Done(Box::new(report)),
            Err(e) => Stage::Failed(e.to_string()),
        };
        jobs.set(id, stage);
    });
    Ok(Redirect::to(&format!("/console/imports/{id}")).into_response())
}

fn job(c: &Shared, staff: &Staff, id: &str) -> Result<(uuid::Uuid, Job), Failure> {
    let id = path_id(id)?;
    let job = c
        .jobs
        .get(id, staff.account.id)
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "error.not_found"))?;
    Ok((id, job))
}

/// GET /console/imports/{id}: how far it is, then what it did.
pub async fn progress(
    State(c): State<Shared>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let (id, job) = job(&c, &staff, &id)?;
    let mut view = ImportPage {
        f: Frame::new(&staff, "spreadsheets"),
        id: id.to_string(),
        file: job.file,
        running: false,
        done: 0,
        total: 0,
        failed: String::new(),
        summary: None,
    };
    match job.stage {
        Stage::Running { done, total } => {
            view.running = true;
            view.done = done;
            view.total = total;
        }
        Stage::Failed(why) => view.failed = why,
        Stage::Done(r) => {
            view.summary = Some(Summary {
                kind: r.kind.as_str(),
                community: r.community.clone(),
                dry_run: r.dry_run,
                rows: r.rows,
                created: r.created,
                updated: r.updated,
                unchanged: r.unchanged,
                refused: r.refused.len(),
                ignored: r.ignored_columns.join(", "),
                problems: r
                    .problems
                    .iter()
                    .take(100)
                    .map(|p| (p.row, p.columns.join(", "), p.reason.clone()))
                    .collect(),
            })
        }
    }
    Ok(render(&view))
}

/// GET /console/imports/{id}/report.xlsx|csv: the refused rows, to fix and
/// import again.
pub async fn report(
    State(c): State<Shared>,
    staff: Staff,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, Failure> {
    let (_, job) = job(&c, &staff, &id)?;
    let Stage::Done(report) = job.stage else {
        return Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found"));
    };
    let format = format_of(&file)?;
    let bytes = import::report::write(&report, format, Vec::new())
        .map_err(|e| Failure::internal(e.to_string()))?;
    Ok(download(
        format,
        &format!("refused-rows.{}", format.extension()),
        Body::from(bytes),
    ))
}

/// GET /console/templates/{kind}.xlsx|csv: an empty roster with the headers
/// an import reads.
pub async fn template(
    State(_c): State<Shared>,
    _staff: Staff,
    Path(file): Path<String>,
) -> Result<Response, Failure> {
    let format = format_of(&file)?;
    let kind = file
        .rsplit_once('.')
        .and_then(|(stem, _)| Kind::parse(stem))
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "error.not_found"))?;
    let header: Vec<&str> = kind
        .columns()
        .iter()
        .map(|c| c.names.first().copied().unwrap_or(c.key))
        .collect();
    let bytes = Writer::new(format, Vec::new(), &header)
        .and_then(Writer::finish)
        .map_err(|e| Failure::internal(e.to_string()))?;
    Ok(download(format, &file, Body::from(bytes)))
}

/// An export's query.
#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    by: String,
}

/// GET /console/exports/{what}.xlsx|csv: issues (`filter` as ListIssues
/// takes it), statistics or hours (`by` a grouping), councils, two-nos.
pub async fn download_export(
    State(_c): State<Shared>,
    staff: Staff,
    Path(file): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, Failure> {
    let format = format_of(&file)?;
    let stem = file.rsplit_once('.').map_or("", |(s, _)| s);
    // An unknown grouping is refused, as the CLI refuses it: a file of
    // another grouping than asked for would pass for the one asked for.
    let by = q.by.to_uppercase().replace('-', "_");
    let grouping = |default: &str| {
        if by.is_empty() {
            default.to_owned()
        } else {
            by.clone()
        }
    };
    let unknown = || Failure::new(StatusCode::BAD_REQUEST, "error.invalid");
    let what = match stem {
        "issues" => Export::Issues { filter: q.filter },
        "statistics" => Export::Statistics {
            group_by: StatisticsGroup::from_str_name(&format!(
                "STATISTICS_GROUP_{}",
                grouping("COMMUNITY")
            ))
            .ok_or_else(unknown)?,
            interval: None,
            filter: q.filter,
        },
        "hours" => Export::Hours {
            group_by: HoursGroup::from_str_name(&format!("HOURS_GROUP_{}", grouping("TEAM")))
                .ok_or_else(unknown)?,
            interval: None,
            filter: q.filter,
        },
        "councils" => Export::Councils { filter: q.filter },
        "two-nos" => Export::TwoNos { filter: q.filter },
        _ => return Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    };
    // Rows go to a temporary file as they come, never all in memory; the
    // file is unlinked at once and read back from its open handle.
    let spool = spool().map_err(|e| Failure::internal(format!("export spool: {e}")))?;
    let clients = staff.calls.sheets();
    let out = std::io::BufWriter::new(spool);
    let (written, _) = export::run(&clients, &what, format, out, &|_| {})
        .await
        .map_err(|e| match e {
            export::ExportError::Refused(s) => Failure::from(s).back_to("/console/spreadsheets"),
            export::ExportError::Write(e) => Failure::internal(e.to_string()),
        })?;
    let mut spool = written
        .into_inner()
        .map_err(|e| Failure::internal(e.to_string()))?;
    spool
        .seek(SeekFrom::Start(0))
        .map_err(|e| Failure::internal(e.to_string()))?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(spool));
    Ok(download(
        format,
        &what.file_name(format),
        Body::from_stream(stream),
    ))
}

/// An unlinked temporary file.
fn spool() -> std::io::Result<std::fs::File> {
    let path = std::env::temp_dir().join(format!("cogov-export-{}", uuid::Uuid::new_v4()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

fn format_of(file: &str) -> Result<Format, Failure> {
    match file.rsplit_once('.').map(|(_, e)| e) {
        Some("csv") => Ok(Format::Csv),
        Some("xlsx") => Ok(Format::Xlsx),
        _ => Err(Failure::new(StatusCode::NOT_FOUND, "error.not_found")),
    }
}

fn download(format: Format, file: &str, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, format.media_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}
