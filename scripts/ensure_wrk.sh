#!/usr/bin/env bash
exec bash "$(dirname "$0")/ensure_package.sh" wrk wrk "the HTTP benchmarks"
