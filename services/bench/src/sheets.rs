//! Spreadsheets (issue 23): a roster of persons imported through the
//! gateway as a street admin (and imported again, changing nothing), and
//! every stored issue exported as CSV and as XLSX, with rows a second and
//! the process's peak memory while exporting.

use std::time::Instant;

use cogov_proto::organizations::GetCommunityRequest;
use cogov_sheets::export::{self, Export};
use cogov_sheets::import::{self, Kind, Options};
use cogov_sheets::link::{Clients, link};
use cogov_sheets::read::Limits;
use cogov_sheets::write::Format;
use tonic::service::interceptor::InterceptedService;

use crate::{Admin, Stack};

fn clients(stack: &Stack) -> Clients {
    Clients::new(link(InterceptedService::new(
        stack.gateway_channel.clone(),
        Admin::Bearer(stack.token.clone()),
    )))
}

/// A roster of `n` persons in one community, as a street office keeps it.
fn roster(n: usize) -> String {
    let mut csv = String::from("姓名,手机号,住址,党员,楼门长\n");
    for i in 0..n {
        csv.push_str(&format!(
            "居民{i},139{:08},牛街{}号,{},{}\n",
            i,
            i % 300 + 1,
            if i % 7 == 0 { "是" } else { "否" },
            if i % 40 == 0 { "是" } else { "" },
        ));
    }
    csv
}

/// The process's peak resident memory since [`reset_peak`], in MiB.
fn peak_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak (Linux: "5" to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Imports `persons` persons, twice.
pub async fn imports(stack: &Stack, persons: usize) {
    let clients = clients(stack);
    let community = format!("communities/{}", stack.courtyards[0].1);
    let shown = clients
        .organizations
        .clone()
        .get_community(GetCommunityRequest {
            name: community.clone(),
        })
        .await
        .expect("the community")
        .into_inner()
        .display_name;
    let bytes = roster(persons).into_bytes();
    let options = Options {
        community,
        limits: Limits::default(),
        ..Options::default()
    };
    for (round, expect) in [("first", "created"), ("again", "unchanged")] {
        let started = Instant::now();
        let report = import::run(&clients, Kind::Persons, &bytes, &options, &|_, _| {})
            .await
            .expect("import");
        let took = started.elapsed().as_secs_f64();
        let count = if expect == "created" {
            report.created
        } else {
            report.unchanged
        };
        println!(
            "| import {persons} persons into {shown} ({round}): {count} {expect}, {} refused | {took:.1} s, {:.0} rows/s |",
            report.problems.len(),
            persons as f64 / took,
        );
    }
}

/// Exports every issue the street admin sees, as CSV and XLSX.
pub async fn exports(stack: &Stack, issues: usize) {
    let clients = clients(stack);
    let what = Export::Issues {
        filter: String::new(),
    };
    for format in [Format::Csv, Format::Xlsx] {
        let path = std::env::temp_dir().join(format!(
            "cogov-bench-export-{}.{}",
            uuid::Uuid::new_v4(),
            format.extension()
        ));
        let file = std::io::BufWriter::new(std::fs::File::create(&path).expect("export file"));
        let before = peak_mib();
        reset_peak();
        let started = Instant::now();
        let (out, rows) = export::run(&clients, &what, format, file, &|_| {})
            .await
            .expect("export");
        drop(out);
        let took = started.elapsed().as_secs_f64();
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let _ = std::fs::remove_file(&path);
        println!(
            "| export {rows} of {issues} issues as {} ({:.0} MiB file) | {took:.1} s, {:.0} rows/s; peak RSS of the whole process {} MiB (before {} MiB) |",
            format.extension().to_uppercase(),
            size as f64 / (1 << 20) as f64,
            rows as f64 / took,
            peak_mib().map_or("?".into(), |m| format!("{m:.0}")),
            before.map_or("?".into(), |m| format!("{m:.0}")),
        );
    }
}
