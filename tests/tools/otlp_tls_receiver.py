#!/usr/bin/env python3
"""An OTLP receiver over TLS that nobody here wrote the decoding of: the
official OTLP protos (the `opentelemetry-proto` package), gRPC served by
`grpcio` with `ssl_server_credentials`, OTLP/HTTP by the standard library's
`http.server` wrapped in `ssl`. For tests/otlp_tls_python.rs.

    otlp_tls_receiver.py --cert SERVER.pem --key SERVER.key [--client-ca CA.pem]

With --client-ca, both servers require a client certificate signed by it.
It listens on two free ports of 127.0.0.1 and prints one JSON line:
{"grpc": PORT, "http": PORT}. Then, for every span it receives, one JSON
line: {"transport", "name", "trace_id", "span_id", "kind", "attributes":
{key: [type, value]}} (type as the protobuf oneof names it: int_value,
string_value, ...). It runs until its standard input closes.
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
from opentelemetry.proto.collector.trace.v1 import (
    trace_service_pb2,
    trace_service_pb2_grpc,
)

LOCK = threading.Lock()


def report(transport, request):
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                attributes = {}
                for kv in span.attributes:
                    kind = kv.value.WhichOneof("value")
                    attributes[kv.key] = [kind, getattr(kv.value, kind)]
                line = json.dumps(
                    {
                        "transport": transport,
                        "name": span.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "kind": span.kind,
                        "attributes": attributes,
                    }
                )
                with LOCK:
                    print(line, flush=True)


class TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        report("grpc", request)
        return trace_service_pb2.ExportTraceServiceResponse()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces":
            self.send_response(404)
            self.end_headers()
            return
        request = trace_service_pb2.ExportTraceServiceRequest()
        request.ParseFromString(body)
        report("http", request)
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--client-ca")
    args = parser.parse_args()
    cert = open(args.cert, "rb").read()
    key = open(args.key, "rb").read()
    client_ca = open(args.client_ca, "rb").read() if args.client_ca else None

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceService(), server)
    credentials = grpc.ssl_server_credentials(
        [(key, cert)],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )
    grpc_port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(args.client_ca)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    with LOCK:
        print(json.dumps({"grpc": grpc_port, "http": httpd.server_address[1]}), flush=True)
    sys.stdin.read()
    server.stop(0)
    httpd.shutdown()


if __name__ == "__main__":
    main()
