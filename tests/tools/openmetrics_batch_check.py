#!/usr/bin/env python3
"""Checks many metrics expositions in one run, with the official Python
client's parsers (the ones openmetrics_check.py uses, one body at a time).

    openmetrics_batch_check.py < bodies.json

Standard input is a JSON array of {"format": "openmetrics" | "prometheus-text",
"body": "..."}; each body is parsed with

* `prometheus_client.openmetrics.parser.text_string_to_metric_families`
  (OpenMetrics 1.0, strict, the generator consumed to its end so that a
  missing `# EOF` is an error) for "openmetrics";
* `prometheus_client.parser.text_string_to_metric_families` (Prometheus text
  0.0.4, a laxer parser) for "prometheus-text".

Standard output is a JSON array as long as the input: null for a body that
parsed, the parser's error (a string) for one that did not. Exit 0 when the
checker ran (whatever the bodies), 2 on bad input.

Run it with the venv that scripts/install-test-deps.sh makes.
"""

import json
import sys

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families as text_families


def check(item):
    parse = openmetrics_families if item["format"] == "openmetrics" else text_families
    try:
        for _ in parse(item["body"]):
            pass
    except Exception as e:  # the parsers raise ValueError, and sometimes others
        return f"{type(e).__name__}: {e or '(the parser gave no message)'}"
    return None


def main():
    try:
        items = json.load(sys.stdin)
    except ValueError as e:
        print(f"openmetrics_batch_check: stdin is not a JSON array: {e}", file=sys.stderr)
        return 2
    json.dump([check(item) for item in items], sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
