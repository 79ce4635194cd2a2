# The two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# Tests run against the machine's PostgreSQL and Redis (override for other hosts). When the machine's
# PostgreSQL does not let `postgres` in without a password (a fresh Debian), scripts/test-services.sh
# runs a private cluster instead and writes the URL it chose to var/test/database_url.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test fuzz install install-dev system-deps test-services preflight lint assets clean pristine-test messages

run: system-deps install assets
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py ensure_admin
	PORT=$(PORT) $(PY) manage.py runstack

system-deps:
	@scripts/system-deps.sh runtime

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install-dev: $(VENV)/.installed-dev

assets: package.json
	@if [ ! -d node_modules ] || [ package.json -nt node_modules ]; then npm install --no-audit --no-fund --loglevel=error && touch node_modules; fi

test-services:
	@scripts/system-deps.sh test
	@scripts/test-services.sh

# Everything the suite needs from the machine, checked by function (GStreamer elements, ffmpeg muxers...).
preflight: install
	$(PY) -m tests.preflight

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: test-services install-dev assets preflight lint
	export DATABASE_URL=$$(cat var/test/database_url) REDIS_URL=$(TEST_REDIS_URL) VAR_DIR=$(CURDIR)/var/test; \
	$(PY) manage.py check --fail-level WARNING && \
	$(PY) manage.py makemigrations --check --dry-run && \
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null && \
	$(PY) -m pytest $(PYTEST_ARGS)
	VENV=$(VENV) scripts/fuzz-api.sh

# schemathesis over the OpenAPI schema as an admin, the product in a loopback-only network namespace
# (SQLite, filesystem broker): 0 server errors. Bounded (FUZZ_MAX_EXAMPLES, FUZZ_MAX_TIME seconds).
fuzz: install-dev
	VENV=$(VENV) scripts/fuzz-api.sh

# The Spanish catalogue: collect our strings, then compile. tests/test_spanish_catalogue.py runs the same
# collection and fails on any string left untranslated or fuzzy.
MESSAGES_IGNORE := .venv node_modules var bench scripts docs */tests/* tests
messages: install-dev
	$(PY) manage.py makemessages -l es --no-obsolete $(foreach p,$(MESSAGES_IGNORE),--ignore='$(p)')
	$(PY) manage.py compilemessages -l es --ignore=.venv --ignore=node_modules

# `make test` as a new user runs it: a fresh Debian 12 root (debootstrap), a clone of HEAD, then the
# README's command in a network namespace with only loopback (scripts/pristine-test.sh).
pristine-test:
	scripts/pristine-test.sh

clean:
	rm -rf $(VENV) node_modules var/test
