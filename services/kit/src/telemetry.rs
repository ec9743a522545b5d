//! Logging and tracing setup, in one place.
//!
//! `tracing` with an `EnvFilter` in front of every layer (so h2/hyper
//! internals never reach the exporter); pretty output for people, JSON
//! lines for collectors. OpenTelemetry joins when traces are exported
//! (`OTEL_EXPORTER_OTLP_ENDPOINT` is set) or logs are JSON (whose lines
//! then carry the trace and span ids); otherwise tracing costs nothing
//! beyond the log lines.
//!
//! W3C trace context crosses every boundary: a server adopts the caller's
//! `traceparent` ([`rpc_span`]), a caller sends its own
//! ([`current_trace_context`]), and an event carries the context of the
//! call that committed it to its consumers ([`consumer_span`]).

use std::collections::HashMap;

use cogov_proto::common::Event;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal (development).
    #[default]
    Pretty,
    /// One JSON object per line, with the trace and span ids (production).
    Json,
}

/// The installed tracing; flushes and stops the exporter when dropped
/// (keep it until the process ends, inside the tokio runtime).
#[must_use = "dropping it stops trace export"]
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("flushing traces: {e}");
        }
    }
}

/// Installs the global subscriber. `filter` uses `EnvFilter` syntax
/// (`info,cogov_organizations=debug`); `service` names the process in
/// traces unless `OTEL_SERVICE_NAME` does. Traces go by OTLP/gRPC to
/// `OTEL_EXPORTER_OTLP_ENDPOINT` when it is set, and nowhere otherwise.
///
/// Call it inside the tokio runtime (`Runtime::enter`): the exporter's
/// channel lives there. Calling it twice keeps the first subscriber.
pub fn init(format: LogFormat, filter: &str, service: &str) -> Telemetry {
    let exporting = std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some_and(|v| !v.is_empty());
    let provider = if exporting {
        match otlp_provider(service) {
            Ok(provider) => Some(provider),
            Err(e) => {
                eprintln!("OTLP trace export is off: {e}");
                None
            }
        }
    } else {
        None
    };
    // JSON lines carry trace ids, which need the OpenTelemetry layer even
    // when nothing is exported: a provider without exporters.
    let provider = provider.or_else(|| {
        (format == LogFormat::Json).then(|| {
            SdkTracerProvider::builder()
                .with_resource(resource(service))
                .build()
        })
    });
    // Already installed (tests, or a second call): keep it.
    let _ = subscriber(format, filter, provider.as_ref(), std::io::stdout).try_init();
    Telemetry { provider }
}

fn resource(service: &str) -> opentelemetry_sdk::Resource {
    let builder = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_some() {
        builder.build()
    } else {
        builder.with_service_name(service.to_owned()).build()
    }
}

fn otlp_provider(service: &str) -> Result<SdkTracerProvider, String> {
    // Endpoint, headers, timeout and compression come from the standard
    // OTEL_EXPORTER_OTLP_* variables.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .build()
        .map_err(|e| e.to_string())?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource(service))
        .build())
}

/// The subscriber [`init`] installs, writing log lines to `writer`; with a
/// `provider`, spans become OpenTelemetry spans (tests pass one with an
/// in-memory exporter).
pub fn subscriber<W>(
    format: LogFormat,
    filter: &str,
    provider: Option<&SdkTracerProvider>,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("invalid log filter {filter:?} ({e}); using `info`");
        EnvFilter::new("info")
    });
    let otel = provider.map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("cogov"))
            .with_threads(false)
            .with_location(false)
    });
    // Boxed rather than optional: `Option<Layer>` does not pass the
    // dispatch on to its layer, and the JSON layer needs it for trace ids.
    let lines = match format {
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(writer)
            .boxed(),
        LogFormat::Json => json_subscriber::layer()
            .with_writer(writer)
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_opentelemetry_ids(provider.is_some())
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(otel)
        .with(lines)
}

/// Whether a request is gRPC or gRPC-Web, rather than plain HTTP (such as
/// the gateway's Open311).
pub fn is_grpc<B>(request: &http::Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/grpc"))
}

/// The span of one incoming call, named and attributed as OpenTelemetry's
/// RPC (or, for plain HTTP, HTTP server) conventions say, and continuing
/// the caller's trace when the request carries a `traceparent`.
/// [`record_response`] completes it.
pub fn rpc_span<B>(role: &'static str, request: &http::Request<B>) -> Span {
    let span = if is_grpc(request) {
        let path = request.uri().path().trim_start_matches('/');
        let (service, method) = path.split_once('/').unwrap_or((path, ""));
        tracing::info_span!(
            "rpc",
            otel.name = path,
            otel.kind = "server",
            otel.status_code = Empty,
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = Empty,
            role,
        )
    } else {
        let path = request.uri().path();
        // The last segment is an ID or a file name: keep span names few.
        let route = path
            .rsplit_once('/')
            .map_or_else(|| path.to_owned(), |(dir, _)| format!("{dir}/{{file}}"));
        tracing::info_span!(
            "http",
            otel.name = format!("{} {route}", request.method()),
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = %request.method(),
            http.route = route,
            url.path = path,
            http.response.status_code = Empty,
            role,
        )
    };
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    continue_trace(&span, header("traceparent"), header("tracestate"));
    span
}

/// Records a call's outcome on its span: the gRPC code (OK unless the
/// response head says otherwise) or the HTTP status. Codes that mean the
/// server failed (not the caller) mark the span an error.
pub fn record_response(span: &Span, grpc_code: i32, http_status: u16) {
    // Only the fields the span declared are kept.
    span.record("rpc.grpc.status_code", grpc_code);
    span.record("http.response.status_code", http_status);
    if grpc_server_fault(grpc_code) || http_status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

fn grpc_server_fault(code: i32) -> bool {
    use tonic::Code;
    matches!(
        Code::from_i32(code),
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    )
}

/// The span of one event applied by a consumer, a child of the call that
/// committed the event.
pub fn consumer_span(event: &Event) -> Span {
    let span = tracing::info_span!(
        "consume",
        otel.name = format!("process {}", event.r#type),
        otel.kind = "consumer",
        messaging.system = "cogov",
        messaging.operation.type = "process",
        messaging.destination.name = event.r#type.as_str(),
        messaging.message.id = event.id.as_str(),
        event.source = event.source.as_str(),
    );
    continue_trace(&span, &event.traceparent, &event.tracestate);
    span
}

/// Makes `span` a child of the remote span that `traceparent` names; an
/// absent or malformed `traceparent` leaves it a root.
fn continue_trace(span: &Span, traceparent: &str, tracestate: &str) {
    if traceparent.is_empty() || span.is_disabled() {
        return;
    }
    let mut carrier = HashMap::with_capacity(2);
    carrier.insert("traceparent".to_owned(), traceparent.to_owned());
    if !tracestate.is_empty() {
        carrier.insert("tracestate".to_owned(), tracestate.to_owned());
    }
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        // Fails only once the span was entered; this one is new.
        let _ = span.set_parent(parent);
    }
}

/// The W3C trace context of the current span, for a call or an event
/// leaving this process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceContext {
    /// The `traceparent` header value.
    pub traceparent: String,
    /// The `tracestate` header value; often empty.
    pub tracestate: String,
}

/// The current span's trace context, or none when tracing is off.
pub fn current_trace_context() -> Option<TraceContext> {
    let cx = Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::with_capacity(2);
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    Some(TraceContext {
        traceparent: carrier.remove("traceparent")?,
        tracestate: carrier.remove("tracestate").unwrap_or_default(),
    })
}

/// Sets `traceparent` (and `tracestate`) on an outgoing call's metadata
/// to the current span, so the callee's span becomes its child; leaves
/// them as they are when tracing is off.
pub fn propagate(metadata: &mut tonic::metadata::MetadataMap) {
    let Some(cx) = current_trace_context() else {
        return;
    };
    if let Ok(v) = cx.traceparent.parse() {
        metadata.insert("traceparent", v);
    }
    match cx
        .tracestate
        .parse()
        .ok()
        .filter(|_| !cx.tracestate.is_empty())
    {
        Some(v) => metadata.insert("tracestate", v),
        None => metadata.remove("tracestate"),
    };
}
