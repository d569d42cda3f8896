# Glowworm: `make run` to use it, `make test` to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run dev test test-unit bench lint format vendor deps-system clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: a second `make run` installs nothing unless the requirements changed.
$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# mysqlclient only when DATABASE_URL asks for MySQL/MariaDB (it needs Debian's libmariadb-dev to build).
$(VENV)/.mysql: requirements-mysql.txt | $(VENV)/bin/python
	@bin/system-deps mysql
	$(PY) -m pip install -q -r requirements-mysql.txt
	touch $@

MYSQL_STAMP := $(if $(filter mysql://% mariadb://%,$(DATABASE_URL)),$(VENV)/.mysql)

var/secret_key:
	@mkdir -p var
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@chmod 600 $@

run: $(VENV)/.runtime $(MYSQL_STAMP) var/secret_key
	@SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}" $(PY) manage.py serve

# Like `make run`, for editing: DEBUG on, Daphne (Django's autoreloader) restarts on Python changes and
# re-reads templates, the RQ workers restart on Python and template changes (watchfiles, requirements-dev.txt).
dev: $(VENV)/.dev $(MYSQL_STAMP) var/secret_key
	@DEBUG="$${DEBUG:-true}" SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}" $(PY) manage.py serve --reload

test: $(VENV)/.dev $(MYSQL_STAMP)
	@bin/system-deps chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# Only tests that start no process (no Daphne, workers, chromium or subprocess; tests/conftest.py marks them).
test-unit: $(VENV)/.dev
	$(PY) -m pytest -m "not live and not browser" $(PYTEST_ARGS)

# Naive Pillow vs pyvips vs our engine; prints the table kept in docs/performance.md (takes a few minutes).
bench: $(VENV)/.dev
	$(PY) -m pip install -q -r requirements-bench.txt
	$(PY) -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Re-vendor the front-end files from npm at the versions pinned in package.json.
vendor:
	rm -rf /tmp/glowworm-vendor && mkdir -p /tmp/glowworm-vendor && cp package.json /tmp/glowworm-vendor/
	cd /tmp/glowworm-vendor && npm install --silent --no-audit --no-fund
	cp /tmp/glowworm-vendor/node_modules/htmx.org/dist/htmx.min.js static/js/htmx.min.js
	cp /tmp/glowworm-vendor/node_modules/htmx-ext-ws/dist/ws.min.js static/js/ws.min.js

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
