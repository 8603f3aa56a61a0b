# Portail assuré: `make run` starts the portal, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PORT ?= 8000
HOST ?= 127.0.0.1
WEB_WORKERS ?= 2

# The first interpreter that is Python 3.12 or newer: `python3` (pyenv reads
# .python-version), then python3.13 and python3.12 on the PATH.
FIND_PYTHON := for candidate in python3 python3.13 python3.12; do \
	  if command -v $$candidate >/dev/null 2>&1 && $$candidate -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	    command -v $$candidate; exit 0; fi; done; exit 1

.PHONY: help
help:
	@echo "make run      install, migrate, load demo data, start web server and task worker on http://$(HOST):$(PORT)"
	@echo "make run-scale  the same on PostgreSQL + Redis (DATABASE_URL, REDIS_URL), WEB_WORKERS and TASK_WORKERS"
	@echo "make test     install and run the whole test suite"
	@echo "make lint     ruff check and ruff format --check"
	@echo "make bench    run the benchmarks under bench/ (QUICK=1 for a short run; BENCH_DATABASE_URL, BENCH_REDIS_URL: docs/benchmarks.md)"
	@echo "make load     load test: 200 simulated members on PostgreSQL + Redis (QUICK=1 for 20 s)"
	@echo "make messages refresh and compile the English translation catalogue"

$(VENV)/.installed: requirements.lock
	@python=$$($(FIND_PYTHON)) || { \
	  echo "Portail assuré needs Python 3.12 or newer (Django 6.1 requires it), and none was found."; \
	  echo "Install one (for example: pyenv install 3.13.0) and run the command again."; exit 1; }; \
	echo "Using $$python ($$($$python --version))"; \
	[ -x $(PY) ] || $$python -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $@

.PHONY: install
install: $(VENV)/.installed

.PHONY: setup
setup: install
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) demo_data

.PHONY: run
run: setup
	@echo "Portail assuré: http://$(HOST):$(PORT)/  (Ctrl-C stops the web server and the task worker)"
	PORTAIL_BASE_URL=$${PORTAIL_BASE_URL:-http://$(HOST):$(PORT)} HOST=$(HOST) WEB_WORKERS=$(WEB_WORKERS) exec $(VENV)/bin/honcho start --port $(PORT) --procfile Procfile

# At scale: PostgreSQL and Redis, N web workers, M task workers, one scheduler.
# DATABASE_URL=postgresql://... REDIS_URL=redis://... make run-scale WEB_WORKERS=8 TASK_WORKERS=4
TASK_WORKERS ?= 2
.PHONY: run-scale
run-scale: install
	@[ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ] || { echo "run-scale needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)."; exit 1; }
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo "Portail assuré at scale: http://$(HOST):$(PORT)/ ($(WEB_WORKERS) web workers, $(TASK_WORKERS) task workers)"
	PORTAIL_BASE_URL=$${PORTAIL_BASE_URL:-http://$(HOST):$(PORT)} HOST=$(HOST) WEB_WORKERS=$(WEB_WORKERS) exec $(VENV)/bin/honcho start --port $(PORT) --procfile Procfile.scale --concurrency worker=$(TASK_WORKERS)

.PHONY: test
test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: messages
messages: install
	cd portail && ../$(PY) ../manage.py makemessages --locale en --no-obsolete --add-location file
	cd portail && ../$(PY) ../manage.py compilemessages --locale en

# Load test: 200 simulated members on loopback against PostgreSQL + Redis (see docs/operations.md).
.PHONY: load
load: install
	$(PY) -m bench.load $(if $(QUICK),--quick,)

.PHONY: bench
bench: install
	$(PY) -m bench $(if $(QUICK),--quick,)

.PHONY: lock
lock:
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.12 -o requirements.lock
