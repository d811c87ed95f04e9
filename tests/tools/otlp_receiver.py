#!/usr/bin/env python3
"""An OTLP receiver of traces, logs and metrics that nobody here wrote the
decoding of: the official OTLP protos (the `opentelemetry-proto` package),
gRPC served by `grpcio`, OTLP/HTTP (protobuf bodies, gzip or not) by the
standard library's `http.server`. For tests/support/python.rs.

    otlp_receiver.py [--cert SERVER.pem --key SERVER.key [--client-ca CA.pem]]

With --cert and --key both servers speak TLS; with --client-ca too, they
require a client certificate signed by it. It listens on two free ports of
127.0.0.1 and prints one JSON line: {"grpc": PORT, "http": PORT}. Then one
JSON line per export request it accepts:

    {"signal": "traces" | "logs" | "metrics", "transport": "grpc" | "http",
     "gzip": BOOL, "headers": [[NAME, VALUE], ...], "request": MESSAGE}

MESSAGE is the decoded Export*ServiceRequest written field by field from the
protos' own descriptors, every field under its proto name, so that each value
keeps its protobuf type:

  * integers and enums are JSON numbers (exact: int64 and fixed64 too);
  * doubles are strings, Python's repr ("0.5", "1e-310", "inf", "nan"), so
    that they read back bit for bit and non-finite values fit JSON;
  * bytes (ids) are lower-case hex;
  * a oneof appears as its one set member only: an AnyValue is
    {"int_value": 5} or {"string_value": "x"}..., {} when unset; a Metric
    carries one of "gauge", "sum", "histogram", ...; a data point "as_int"
    or "as_double";
  * a message field not sent, and a proto3 `optional` field not set, is null.

A request it cannot take (wrong path, content type, body) is answered 404,
415 or 400 and reported as {"problem": "..."}. gRPC metadata names no
compression (grpcio decompresses before the handler runs): "gzip" is false
over gRPC. It runs until its standard input closes.
"""

import argparse
import gzip
import http.server
import json
import ssl
import sys
import threading
from concurrent import futures

import grpc
from google.protobuf.descriptor import FieldDescriptor
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

LOCK = threading.Lock()

# signal: (request type, response type, HTTP path)
SIGNALS = {
    "traces": (
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        "/v1/traces",
    ),
    "logs": (
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        "/v1/logs",
    ),
    "metrics": (
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        "/v1/metrics",
    ),
}


def emit(line):
    text = json.dumps(line, allow_nan=False)
    with LOCK:
        print(text, flush=True)


def scalar(field, value):
    """One value of a non-message field, typed as the module doc says."""
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return repr(float(value))
    if field.type == FieldDescriptor.TYPE_BYTES:
        return value.hex()
    return value


def typed(message):
    """A message as a dict: every field by its proto name."""
    out = {}
    for field in message.DESCRIPTOR.fields:
        oneof = field.containing_oneof
        # A proto3 `optional` field sits alone in a synthetic oneof "_NAME".
        real_oneof = oneof is not None and oneof.name != "_" + field.name
        if field.is_repeated:
            values = getattr(message, field.name)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                out[field.name] = [typed(v) for v in values]
            else:
                out[field.name] = [scalar(field, v) for v in values]
            continue
        if real_oneof:
            if message.WhichOneof(oneof.name) != field.name:
                continue
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
            continue
        value = getattr(message, field.name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            out[field.name] = typed(value)
        else:
            out[field.name] = scalar(field, value)
    return out


def report(signal, transport, compressed, headers, request):
    emit(
        {
            "signal": signal,
            "transport": transport,
            "gzip": compressed,
            "headers": headers,
            "request": typed(request),
        }
    )


def grpc_headers(context):
    headers = []
    for key, value in context.invocation_metadata():
        if isinstance(value, bytes):
            value = value.hex()
        headers.append([key.lower(), value])
    return headers


class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        report("traces", "grpc", False, grpc_headers(context), request)
        return trace_service_pb2.ExportTraceServiceResponse()


class LogsService(logs_service_pb2_grpc.LogsServiceServicer):
    def Export(self, request, context):
        report("logs", "grpc", False, grpc_headers(context), request)
        return logs_service_pb2.ExportLogsServiceResponse()


class MetricsService(metrics_service_pb2_grpc.MetricsServiceServicer):
    def Export(self, request, context):
        report("metrics", "grpc", False, grpc_headers(context), request)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def answer(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self, status, problem):
        emit({"problem": problem})
        self.answer(status, "text/plain", problem.encode())

    def do_POST(self):
        body = self.read_body()
        signal = next((s for s, (_, _, path) in SIGNALS.items() if path == self.path), None)
        if signal is None:
            return self.refuse(404, f"path {self.path}")
        content_type = self.headers.get("Content-Type")
        if content_type != "application/x-protobuf":
            return self.refuse(415, f"content-type {content_type!r}")
        encoding = self.headers.get("Content-Encoding", "identity")
        if encoding not in ("identity", "gzip"):
            return self.refuse(415, f"content-encoding {encoding!r}")
        request_type, response_type, _ = SIGNALS[signal]
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            request = request_type()
            request.ParseFromString(body)
        except Exception as error:  # noqa: BLE001 - any bad body is the client's
            return self.refuse(400, f"body: {error}")
        headers = [[k.lower(), v] for k, v in self.headers.items()]
        report(signal, "http", encoding == "gzip", headers, request)
        self.answer(200, "application/x-protobuf", response_type().SerializeToString())

    def do_GET(self):
        self.refuse(405, f"method GET {self.path}")

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    args = parser.parse_args()
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")
    if args.client_ca and not args.cert:
        parser.error("--client-ca needs --cert and --key")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(LogsService(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(MetricsService(), server)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    if args.cert:
        cert = open(args.cert, "rb").read()
        key = open(args.key, "rb").read()
        client_ca = open(args.client_ca, "rb").read() if args.client_ca else None
        credentials = grpc.ssl_server_credentials(
            [(key, cert)],
            root_certificates=client_ca,
            require_client_auth=client_ca is not None,
        )
        grpc_port = server.add_secure_port("127.0.0.1:0", credentials)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    else:
        grpc_port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    emit({"grpc": grpc_port, "http": httpd.server_address[1]})
    sys.stdin.read()
    server.stop(0)
    httpd.shutdown()


if __name__ == "__main__":
    main()
