# Apparatus: `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run dev test test-e2e fuzz migrate seed clean bench lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py load_seed_collection
	$(BIN)/python manage.py create_demo_accounts
	$(BIN)/python manage.py load_demo_critiques

# Links in emails point at the address the site is served on (the worker writes them, so it needs it
# too); set APPARATUS_SITE_URL for another (the address others reach when HOST=0.0.0.0).
run dev: export APPARATUS_SITE_URL ?= http://$(HOST):$(PORT)

# The embedded default as a real server: gunicorn (one process, THREADS threads) on SQLite in WAL mode,
# with the task worker beside it (the notification emails); Ctrl-C stops both. Debug settings, no autoreload.
THREADS ?= 8
run: seed
	@$(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	APPARATUS_BIND=$(HOST):$(PORT) APPARATUS_WORKERS=1 APPARATUS_THREADS=$(THREADS) \
	  $(BIN)/gunicorn -c config/gunicorn.py config.wsgi

# Development: Django's runserver with autoreload, emails on the console, tasks run in the request.
dev: seed
	APPARATUS_TASKS_BACKEND=immediate $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite. DATABASE_URL=postgres://… runs it on PostgreSQL.
test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

# The linters CI runs: ruff (style and errors) and import-linter (the layering, contracts in pyproject.toml).
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Only the browser tests.
test-e2e: $(VENV)/.installed
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

# The README's pictures of the reading page (docs/reading-*.png), from the site `make run` serves.
.PHONY: screenshots
screenshots: $(VENV)/.installed
	$(BIN)/python -m tests.screenshots http://$(HOST):$(PORT)

# Production-shaped serving: collected static files, gunicorn with config/gunicorn.py.
# Needs DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, APPARATUS_SITE_URL and APPARATUS_RELEASE (debug is off
# unless DJANGO_DEBUG=1; `check --deploy` fails without them); see the README's "Scaling out".
.PHONY: serve loadtest
serve: $(VENV)/.installed
	@if [ -z "$$DJANGO_SECRET_KEY" ] && [ "$${DJANGO_DEBUG:-0}" = "0" ]; then \
	  echo "make serve runs production settings: set DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS (or DJANGO_DEBUG=1 to try it locally)." >&2; exit 1; fi
	DJANGO_DEBUG=$${DJANGO_DEBUG:-0} $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=$${DJANGO_DEBUG:-0} exec $(BIN)/gunicorn -c config/gunicorn.py config.wsgi

# 60 s of mixed load on the production topology with faults injected: its own replica (a second
# PostgreSQL cluster: root needed), its own Redis, the primary behind a proxy it can cut; database
# apparatus_load, replaced. LOADTEST_ARGS="--no-faults --seconds 30". See the README's "Load test".
loadtest: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=tests.bench.settings $(BIN)/python -m tests.bench.loadtest $(LOADTEST_ARGS)

# A streaming hot-standby replica of the local PostgreSQL on port 5433 (a second cluster made with
# pg_basebackup -R; root needed). REPLICA_ACTION=stop|start|drop|status.
.PHONY: replica
REPLICA_ACTION ?= create
replica: $(VENV)/.installed
	$(BIN)/python -m tests.replica $(REPLICA_ACTION)

# 60 concurrent writers of every kind against `make run` itself, on SQLite (a temporary file) and on
# PostgreSQL (database apparatus_concurrency, replaced); prints both side by side. Not part of CI.
.PHONY: concurrency
concurrency: $(VENV)/.installed
	$(BIN)/python -m tests.bench.concurrency $(CONCURRENCY_ARGS)

# Benchmarks, apart from the tests: builds its own PostgreSQL database (apparatus_bench, dropped and
# created again; DATABASE_URL is not used) and prints one table. BENCH_ARGS=--quick for a short run.
bench: $(VENV)/.installed
	command -v wrk >/dev/null || apt-get install -y wrk || (apt-get update && apt-get install -y wrk)
	DJANGO_SETTINGS_MODULE=tests.bench.settings $(BIN)/python manage.py bench $(BENCH_ARGS)

# The schemathesis run against the whole API (left out of `make test`).
fuzz: $(VENV)/.installed
	$(BIN)/pytest -m fuzz tests/fuzz $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
