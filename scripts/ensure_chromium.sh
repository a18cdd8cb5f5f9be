#!/usr/bin/env bash
exec bash "$(dirname "$0")/ensure_package.sh" chromium chromium "the browser tests"
