#!/usr/bin/env python3
"""The Python side of tests/cross_language.rs: a small service traced with the
OpenTelemetry Python SDK, its spans exported over OTLP/HTTP.

    py_service.py --otlp-endpoint http://127.0.0.1:PORT/v1/traces [--service-name NAME]

It listens on a free port of 127.0.0.1 (the standard library's
`http.server`, one thread per request) and, once it does, prints one JSON
line on standard output: {"port": N}. It runs until it is killed, or until
its standard input closes (so it never outlives the test that started it).

Endpoints (JSON in, JSON out):

  POST /start     body {"url": URL, "baggage": {"key": "value", ...}}
      With that baggage in the context, starts a root span `py checkout`,
      and inside it a CLIENT span `POST` that POSTs {} to URL, the context
      written into the request's headers by the SDK's propagators (W3C
      traceparent and baggage). Answers {"trace_id", "root_span_id",
      "client_span_id", "traceparent" (as sent), "status", "body"} about
      that call.

  POST /callback
      A SERVER span `POST /callback` whose parent is read from the request's
      headers. Answers {"trace_id", "span_id", "parent_span_id",
      "traceparent", "tracestate", "baggage"} as this side saw them.

Spans go through a SimpleSpanProcessor: each is exported when it ends,
before the answer is written, so the test finds them at its OTLP receiver
once it has the answer.

Trace flags: the SDK (1.45) sets the W3C Level 2 random-trace-id bit on the
traces it starts, so its traceparent ends in `-03`; the test checks that it
does.
"""

import argparse
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry import baggage, context, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

tracer = None


def hex_ids(span):
    ctx = span.get_span_context()
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        sys.stderr.write("py_service: %s\n" % (format % args))

    def read_json(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw else None

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        try:
            if self.path == "/start":
                self.answer(200, self.start(self.read_json() or {}))
            elif self.path == "/callback":
                self.read_json()
                self.answer(200, self.callback())
            else:
                self.answer(404, {"error": "no such path: " + self.path})
        except Exception as error:  # report it to the test rather than hang up
            self.answer(500, {"error": "%s: %s" % (type(error).__name__, error)})

    def start(self, request):
        url = request["url"]
        ctx = context.get_current()
        for key, value in (request.get("baggage") or {}).items():
            ctx = baggage.set_baggage(key, value, context=ctx)
        token = context.attach(ctx)
        try:
            with tracer.start_as_current_span("py checkout") as root:
                with tracer.start_as_current_span(
                    "POST",
                    kind=SpanKind.CLIENT,
                    attributes={"http.request.method": "POST", "url.full": url},
                ) as client:
                    headers = {"content-type": "application/json"}
                    propagate.inject(headers)
                    call = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
                    try:
                        with urllib.request.urlopen(call, timeout=30) as response:
                            status, body = response.status, response.read()
                    except urllib.error.HTTPError as error:
                        status, body = error.code, error.read()
                    client.set_attribute("http.response.status_code", status)
                    trace_id, client_span_id = hex_ids(client)
                _, root_span_id = hex_ids(root)
        finally:
            context.detach(token)
        try:
            body = json.loads(body)
        except ValueError:
            body = body.decode(errors="replace")
        return {
            "trace_id": trace_id,
            "root_span_id": root_span_id,
            "client_span_id": client_span_id,
            "traceparent": headers.get("traceparent"),
            "status": status,
            "body": body,
        }

    def callback(self):
        carrier = {name.lower(): value for name, value in self.headers.items()}
        parent = propagate.extract(carrier)
        with tracer.start_as_current_span(
            "POST /callback",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": "POST", "http.route": "/callback"},
        ) as span:
            trace_id, span_id = hex_ids(span)
            parent_span = trace.get_current_span(parent).get_span_context()
            return {
                "trace_id": trace_id,
                "span_id": span_id,
                "parent_span_id": format(parent_span.span_id, "016x") if parent_span.is_valid else None,
                "traceparent": carrier.get("traceparent"),
                "tracestate": carrier.get("tracestate"),
                "baggage": dict(baggage.get_all(parent)),
            }


def exit_when_stdin_closes():
    """The test holds our stdin: when it goes away, so do we."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main():
    global tracer
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--otlp-endpoint", required=True, help="OTLP/HTTP traces URL, .../v1/traces")
    args.add_argument("--service-name", default="py-shop")
    opts = args.parse_args()

    provider = TracerProvider(resource=Resource.create({"service.name": opts.service_name}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=opts.otlp_endpoint)))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("py_service")
    # What OTEL_PROPAGATORS defaults to, set explicitly: W3C Trace Context and Baggage.
    propagate.set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
