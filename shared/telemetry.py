"""OpenTelemetry setup and the trace context that rides along with events.

The outbox stores a W3C `traceparent` with each event row, and the relay re-enters that
context before publishing, so a consumer's span joins the trace of the request that
caused the event even though the event left the process later, from another task.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(service_name: str) -> TracerProvider:
    """Install the process's tracer provider once; later calls return the same one.

    Spans are exported over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and the
    exporter package is installed; otherwise they only feed trace IDs to the logs.
    """
    global _provider
    if _provider is None:
        _provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        exporter = _otlp_exporter()
        if exporter is not None:
            _provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(_provider)
    return _provider


def add_span_processor(processor: SpanProcessor) -> None:
    """Attach a processor (an exporter, or an in-memory one in tests) to the provider."""
    setup_tracing("cloudivize").add_span_processor(processor)


def _otlp_exporter():  # type: ignore[no-untyped-def]
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        return None
    return OTLPSpanExporter()


def current_trace_headers() -> dict[str, str]:
    """The active trace context as W3C headers (empty when no span is recording)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def trace_context_from(headers: Mapping[str, str]) -> Iterator[None]:
    """Run a block inside the trace context carried by `headers`."""
    token = context.attach(propagate.extract(dict(headers)))
    try:
        yield
    finally:
        context.detach(token)


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
