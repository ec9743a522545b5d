//! One trace from the caller through the gateway and the issues service
//! (with its database calls) into the consumers of the event the report
//! committed, exported by the OpenTelemetry SDK's in-memory exporter; and
//! JSON log lines that carry the trace id.
//!
//! A test binary of its own because the subscriber must be the process's
//! global one, as in `cogov`: spans also end on SQLite's worker threads,
//! where a subscriber set only for the test's thread would never hear that
//! a child ended, and the call's span would stay open.

#[allow(dead_code, unused_imports, clippy::cloned_ref_to_slice_refs)]
#[path = "api/support.rs"]
mod support;

use std::sync::{Arc, Mutex};

use cogov_kit::events::memory::MemoryBus;
use cogov_kit::telemetry::{self, LogFormat};
use cogov_proto::issues::issues_service_client::IssuesServiceClient;
use cogov_proto::issues::*;
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, SpanKind, TraceContextExt, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tonic::service::Interceptor;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use support::*;

/// A partner's client that sends the current span's trace context, as an
/// instrumented partner system would.
#[derive(Clone)]
struct Traced(Bearer);

impl Interceptor for Traced {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = self.0.call(request)?;
        telemetry::propagate(request.metadata_mut());
        Ok(request)
    }
}

/// Log lines, kept for reading.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a opentelemetry::Value> {
    span.attributes
        .iter()
        .find(|KeyValue { key: k, .. }| k.as_str() == key)
        .map(|kv| &kv.value)
}

fn has(span: &SpanData, key: &str, value: &str) -> bool {
    attribute(span, key).is_some_and(|v| v.as_str() == value)
}

fn describe(spans: &[SpanData]) -> String {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} {} (parent {}, role {:?})",
                s.span_context.span_id(),
                s.name,
                s.parent_span_id,
                attribute(s, "role").map(|v| v.as_str().into_owned())
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn one_trace_spans_caller_gateway_service_and_consumers() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let lines = Lines::default();
    let writer = lines.clone();
    tracing::subscriber::set_global_default(telemetry::subscriber(
        LogFormat::Json,
        "info",
        Some(&provider),
        move || writer.clone(),
    ))
    .expect("the only test of this binary installs the subscriber");

    let env = Env::start_on(
        TestDb::sqlite(),
        TestDb::sqlite(),
        settings(),
        Arc::new(MemoryBus::new()),
    )
    .await;
    let w = World::build(&env).await;

    let caller = tracing::info_span!("caller");
    let trace_id = caller.context().span().span_context().trace_id();
    let caller_id = caller.context().span().span_context().span_id();
    assert_ne!(trace_id, TraceId::INVALID);
    let mut issues =
        IssuesServiceClient::with_interceptor(env.gateway.channel.clone(), Traced(key(&w.key_a)));
    let issue = async {
        tracing::info!("reporting a pile of clutter");
        issues
            .report_issue(ReportIssueRequest {
                issue: Some(Issue {
                    courtyard: w.a1.clone(),
                    sub_item: "subItems/clutter_piling".into(),
                    title: "clutter in the stairwell".into(),
                    ..Default::default()
                }),
                request_id: request_id(),
            })
            .await
            .unwrap()
            .into_inner()
    }
    .instrument(caller.clone())
    .await;
    drop(caller);

    let event_type = "cogov.issues.v1.IssueReported";
    let consumer_name = format!("process {event_type}");
    let of_trace = || -> Vec<SpanData> {
        exporter
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .filter(|s| s.span_context.trace_id() == trace_id)
            .collect()
    };
    let is_call = |s: &SpanData, role: &str| {
        s.name == "cogov.issues.v1.IssuesService/ReportIssue" && has(s, "role", role)
    };
    // A span is exported when it ends, and the service's may end after the
    // gateway has answered.
    assert!(
        eventually(async || {
            let spans = of_trace();
            spans.iter().any(|s| s.name == consumer_name)
                && spans.iter().any(|s| is_call(s, "issues"))
        })
        .await,
        "the trace lacks the issues call or a consumer:\n{}",
        describe(&of_trace())
    );
    let spans = of_trace();
    let listing = describe(&spans);
    let rpc = |role: &str| {
        spans
            .iter()
            .find(|s| is_call(s, role))
            .unwrap_or_else(|| panic!("no {role} span for ReportIssue in:\n{listing}"))
    };

    let gateway = rpc("gateway");
    assert_eq!(gateway.parent_span_id, caller_id, "{listing}");
    assert_eq!(gateway.span_kind, SpanKind::Server);
    assert!(has(gateway, "rpc.system", "grpc"));
    assert!(has(gateway, "rpc.service", "cogov.issues.v1.IssuesService"));
    assert!(has(gateway, "rpc.method", "ReportIssue"));
    assert_eq!(
        attribute(gateway, "rpc.grpc.status_code").map(|v| v.as_str().into_owned()),
        Some("0".into()),
        "{listing}"
    );

    let service = rpc("issues");
    assert_eq!(
        service.parent_span_id,
        gateway.span_context.span_id(),
        "the gateway passes on its own span, not the caller's:\n{listing}"
    );
    let service_id = service.span_context.span_id();
    assert!(
        spans
            .iter()
            .any(|s| s.parent_span_id == service_id && has(s, "db.system", "sqlite")),
        "no database span under the issues call:\n{listing}"
    );

    let consumers: Vec<&SpanData> = spans.iter().filter(|s| s.name == consumer_name).collect();
    for consumer in &consumers {
        assert_eq!(consumer.span_kind, SpanKind::Consumer);
        assert_eq!(
            consumer.parent_span_id, service_id,
            "a consumer continues the call that committed the event:\n{listing}"
        );
        assert!(has(consumer, "messaging.destination.name", event_type));
    }
    // The gateway's event log records every event; the issue reported also
    // reaches the services that watch for clusters and two-nos status.
    assert!(!consumers.is_empty());
    assert!(issue.name.starts_with("issues/"));

    // The log line written in the caller's span names the trace.
    let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let line = logged
        .lines()
        .find(|l| l.contains("reporting a pile of clutter"))
        .unwrap_or_else(|| panic!("no log line in:\n{logged}"));
    let line: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        line["openTelemetry"]["traceId"],
        serde_json::Value::String(trace_id.to_string()),
        "{line}"
    );
    assert_eq!(
        line["openTelemetry"]["spanId"],
        serde_json::Value::String(caller_id.to_string())
    );
    assert_ne!(caller_id, SpanId::INVALID);
}
