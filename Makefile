# Apparatus: `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-e2e migrate seed clean

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

run: seed
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite. DATABASE_URL=postgres://… runs it on PostgreSQL.
test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

# Only the browser tests.
test-e2e: $(VENV)/.installed
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
