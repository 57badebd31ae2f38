# Backtrack: `make run` serves the demo, `make test` runs the whole suite,
# `make mutation` mutation-tests server/clinical/ (about 6 minutes), `make bench` runs every
# bench script in its quick mode on the local PostgreSQL and prints one table (minutes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_MODULES := clients/typescript/node_modules
NODE_STAMP := $(NODE_MODULES)/.installed
FLASK := $(BIN)/flask --app wsgi
# Prefix of the bench databases' names: give each checkout sharing a server its own.
BENCH_PREFIX ?= bench_

.PHONY: run test install db demo clean mutation bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The contract tests' npm tools: Redocly, openapi-typescript, openapi-fetch, TypeScript.
$(NODE_STAMP): clients/typescript/package.json clients/typescript/package-lock.json
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

db: $(STAMP)
	$(FLASK) db upgrade

demo: db
	$(FLASK) demo

run: demo
	@echo "Backtrack API: http://127.0.0.1:8000  docs: http://127.0.0.1:8000/api/docs"
	@echo "Scheduler: one 'flask jobs run' process beside the API; Ctrl-C stops both."
	@$(FLASK) jobs run & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT INT TERM; \
	$(BIN)/gunicorn --bind 127.0.0.1:8000 --workers 2 --access-logfile - wsgi:app

test: install
	$(BIN)/python -m pytest

mutation: $(STAMP)
	$(BIN)/python -m mutation

bench: install
	$(BIN)/python bench/run_all.py --prefix $(BENCH_PREFIX)

clean:
	rm -rf $(VENV) instance .pytest_cache mutants $(NODE_MODULES)
