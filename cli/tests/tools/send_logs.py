#!/usr/bin/env python3
"""The Python side of cli/tests/receive_logs.rs: a trace and its log records
made with the OpenTelemetry Python SDK (the `logging` module through the
SDK's LoggingHandler), both exported over OTLP/HTTP (protobuf, gzip) to
`tracelink receive`.

    send_logs.py http://127.0.0.1:PORT

Makes a SERVER span `GET /orders` (service `py-shop`) and in it a span
`charge`; logs `order 42 placed` (INFO, `order.id`) and `slow response`
(WARNING) in the first, `card declined` (ERROR, `card.brand`) in the
second, and one line outside any span, which carries no trace. Prints the
ids as JSON on stdout, one line, once every span and record is sent
(Simple*Processors export each as it ends; shutdown() returns after).
"""

import json
import logging
import sys
import warnings

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


def main() -> None:
    base = sys.argv[1]
    resource = Resource.create({"service.name": "py-shop"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces"))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(
            OTLPLogExporter(endpoint=f"{base}/v1/logs", compression=Compression.Gzip)
        )
    )
    with warnings.catch_warnings():
        # The SDK's handler is deprecated for opentelemetry-instrumentation-logging's.
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.DEBUG, logger_provider=logger_provider)
    log = logging.getLogger("shop.orders")
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    log.propagate = False

    tracer = tracer_provider.get_tracer("tracelink-cli-test")
    log.info("before any span")
    with tracer.start_as_current_span("GET /orders", kind=trace.SpanKind.SERVER) as root:
        log.info("order %s placed", 42, extra={"order.id": 42})
        with tracer.start_as_current_span("charge") as charge:
            log.error("card declined", extra={"card.brand": "visa"})
        log.warning("slow response")
    ids = {
        "trace_id": format(root.get_span_context().trace_id, "032x"),
        "root": format(root.get_span_context().span_id, "016x"),
        "charge": format(charge.get_span_context().span_id, "016x"),
    }
    logger_provider.shutdown()
    tracer_provider.shutdown()
    print(json.dumps(ids), flush=True)


if __name__ == "__main__":
    main()
