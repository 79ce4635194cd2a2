# The two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# Tests run against the machine's PostgreSQL and Redis (override for other hosts).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lprnvr
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: run test fuzz install install-dev system-deps test-services lint assets clean

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

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: test-services install-dev assets lint
	export DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) VAR_DIR=$(CURDIR)/var/test; \
	$(PY) manage.py check --fail-level WARNING && \
	$(PY) manage.py makemigrations --check --dry-run && \
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null && \
	$(PY) -m pytest $(PYTEST_ARGS)
	VENV=$(VENV) scripts/fuzz-api.sh

# schemathesis over the OpenAPI schema as an admin, the product in a loopback-only network namespace
# (SQLite, filesystem broker): 0 server errors. Bounded (FUZZ_MAX_EXAMPLES, FUZZ_MAX_TIME seconds).
fuzz: install-dev
	VENV=$(VENV) scripts/fuzz-api.sh

clean:
	rm -rf $(VENV) node_modules var/test
