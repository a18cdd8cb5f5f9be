# Một Cửa: `make run` starts the whole demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test install services migrate seed lint format messages clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

services: install
	$(BIN)/python scripts/services.py

migrate: services
	$(BIN)/python manage.py migrate_schemas --executor=multiprocessing --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@mkdir -p var
	@echo ""
	@echo "Một Cửa is starting: web on http://localhost:8000/ (provinces on http://<slug>.localhost:8000/), Ctrl-C stops everything."
	@echo "Logins and their TOTP keys are listed above; a current code: .venv/bin/python manage.py totp_code quantri --province danang"
	$(BIN)/honcho -f Procfile.dev start

test: services
	bash scripts/ensure_chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Benchmarks (not tests): each prints its figures as ratios against a baseline of the same run, on
# its own database (egov_bench) and Redis database 14. `make bench` runs them all (about an hour:
# it seeds a million dossiers once); `make bench BENCH=lookup` runs one.
BENCHES ?= $(if $(BENCH),$(BENCH),admin api lookup intake tenants broadcast pooler dashboard)
bench: services
	bash scripts/ensure_wrk.sh
	bash scripts/ensure_package.sh pgbouncer pgbouncer bench/pooler
	@for b in $(BENCHES); do echo "== bench/$$b"; $(BIN)/python bench/$$b/run.py || exit 1; done

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Our msgids are Vietnamese: only the English catalogue is extracted (a vi catalogue of our own
# strings would translate each to itself). locale_django/vi is hand-written Vietnamese for Django's
# own English; compilemessages compiles both. The .mo files are committed: a fresh clone runs as is.
messages: install
	$(BIN)/python manage.py makemessages -l en --ignore=$(VENV) --ignore=locale_django --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=$(VENV)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
