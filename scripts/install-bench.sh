#!/bin/sh
# Load generator for `make bench`: Debian's wrk (the gate benchmark falls back to an asyncio
# load generator when it is missing and cannot be installed).
if ! command -v wrk >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1)) \
        || echo "wrk not installed; the gate benchmark uses its built-in load generator" >&2
fi
exit 0
