#!/usr/bin/env python3
"""The Python side of cli/tests/receive.rs: two spans made with the
OpenTelemetry Python SDK, exported over OTLP/HTTP (protobuf) to
`tracelink receive`.

    send_trace.py http://127.0.0.1:PORT/v1/traces

Makes a SERVER span `GET /checkout` (service `py-frontend`) and inside it a
CLIENT span `POST`, whose W3C traceparent it prints on stdout, one line,
for the Rust side to continue the trace from. A SimpleSpanProcessor exports
each span as it ends; shutdown() returns once both are sent.
"""

import sys

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def main() -> None:
    endpoint = sys.argv[1]
    provider = TracerProvider(resource=Resource.create({"service.name": "py-frontend"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("tracelink-cli-test")
    carrier: dict = {}
    with tracer.start_as_current_span("GET /checkout", kind=trace.SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "GET")
        root.set_attribute("url.path", "/checkout")
        with tracer.start_as_current_span("POST", kind=trace.SpanKind.CLIENT) as client:
            client.set_attribute("http.request.method", "POST")
            client.set_attribute("url.full", "http://backend/orders")
            propagate.inject(carrier)
    provider.shutdown()
    print(carrier["traceparent"], flush=True)


if __name__ == "__main__":
    main()
