//! Open311 inputs (`cogov_gateway::open311::inputs`): any parameters are
//! read or refused without a panic, and every ListIssues filter built from
//! them is one the issues service parses.

#![no_main]

use chrono::{TimeZone, Utc};
use cogov_gateway::open311::inputs;
use cogov_gateway::open311::wire::Format;
use cogov_kit::filter::Filter;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    params: Vec<(Name, String)>,
    lat: String,
    long: String,
    description: String,
    file: String,
}

/// Mostly the names GeoReport uses, so the fuzzer reaches the parsing.
#[derive(Arbitrary, Debug)]
enum Name {
    StartDate,
    EndDate,
    ServiceCode,
    Status,
    ServiceRequestId,
    Other(String),
}

impl Name {
    fn text(&self) -> String {
        match self {
            Name::StartDate => "start_date".into(),
            Name::EndDate => "end_date".into(),
            Name::ServiceCode => "service_code".into(),
            Name::Status => "status".into(),
            Name::ServiceRequestId => "service_request_id".into(),
            Name::Other(s) => s.clone(),
        }
    }
}

fuzz_target!(|input: Input| {
    let params: Vec<(String, String)> = input
        .params
        .iter()
        .map(|(name, value)| (name.text(), value.clone()))
        .collect();
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
    if let Ok(filter) = inputs::list_filter(&params, now) {
        if let Err(e) = Filter::parse(&filter) {
            panic!("list_filter built {filter:?}, which the service refuses: {e}");
        }
    }
    if let Ok(point) = inputs::coordinates(&input.lat, &input.long) {
        assert!((-90.0..=90.0).contains(&point.latitude));
        assert!((-180.0..=180.0).contains(&point.longitude));
    }
    let title = inputs::title_of(&input.description, "code");
    assert!(!title.is_empty() && title.chars().count() <= 80);
    let _ = Format::split(&input.file);
});
