#!/usr/bin/env python3
"""Checks a metrics exposition with the official Python client's parsers.

    openmetrics_check.py [--prometheus-text] [FILE | -]

Reads the exposition from FILE, or from standard input when FILE is `-` or
missing, and parses it with

* `prometheus_client.openmetrics.parser.text_string_to_metric_families`
  (OpenMetrics 1.0, the default): strict; it raises on invalid input, and the
  generator is consumed to its end so that a missing `# EOF` is an error;
* `prometheus_client.parser.text_string_to_metric_families` with
  `--prometheus-text` (Prometheus text format 0.0.4), a laxer parser.

Exit 0: the exposition parsed; a JSON summary goes to standard output:

    {"format": "openmetrics", "families": [
      {"name": "orders", "type": "counter", "unit": "", "help": "...",
       "samples": [{"name": "orders_total", "labels": {...}, "value": 3.0,
                    "timestamp": null,
                    "exemplar": {"labels": {...}, "value": 1.0,
                                 "timestamp": 1700000000.123}}]}]}

Values that JSON can't hold are strings: "NaN", "+Inf", "-Inf". Timestamps
are seconds since the epoch, as floats, or null.

Exit 1: the parser rejected it; its error goes to standard error.
Exit 2: bad usage, unreadable file or not UTF-8.

Run it with the venv that scripts/install-test-deps.sh makes:
target/test-venv/bin/python tests/tools/openmetrics_check.py FILE
"""

import argparse
import json
import math
import sys


def number(value):
    """A float, or a string for what JSON can't represent."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def timestamp(ts):
    # The OpenMetrics parser gives a float, or a prometheus_client.samples
    # Timestamp (sec, nsec) whose float() is seconds.
    return None if ts is None else float(ts)


def exemplar(ex):
    if ex is None:
        return None
    return {
        "labels": dict(ex.labels),
        "value": number(ex.value),
        "timestamp": timestamp(ex.timestamp),
    }


def sample(s):
    return {
        "name": s.name,
        "labels": dict(s.labels),
        "value": number(s.value),
        "timestamp": timestamp(s.timestamp),
        "exemplar": exemplar(s.exemplar),
    }


def family(f):
    return {
        "name": f.name,
        "type": f.type,
        "unit": f.unit,
        "help": f.documentation,
        "samples": [sample(s) for s in f.samples],
    }


def main():
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument(
        "--prometheus-text",
        action="store_true",
        help="parse Prometheus text format 0.0.4 instead of OpenMetrics 1.0",
    )
    args.add_argument("file", nargs="?", default="-", help="the exposition; - for stdin")
    opts = args.parse_args()

    try:
        if opts.file == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(opts.file, "rb") as f:
                raw = f.read()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"openmetrics_check: cannot read {opts.file}: {e}", file=sys.stderr)
        return 2

    if opts.prometheus_text:
        from prometheus_client.parser import text_string_to_metric_families

        fmt = "prometheus-text-0.0.4"
    else:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families

        fmt = "openmetrics"

    try:
        # list(): the parser is a generator, and some checks (# EOF) run
        # only once the input is exhausted.
        families = [family(f) for f in text_string_to_metric_families(text)]
    except Exception as e:  # the parsers raise ValueError, and sometimes others
        message = str(e) or "(the parser gave no message)"
        print(f"openmetrics_check: invalid {fmt}: {type(e).__name__}: {message}", file=sys.stderr)
        return 1

    json.dump({"format": fmt, "families": families}, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
