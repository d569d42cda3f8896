# Glowworm: `make run` to use it, `make test` to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run dev test test-unit bench lint format lock vendor deps-system clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Installs are hash-locked: requirements*.txt list every package, transitive ones too, with their hashes (`make
# lock` compiles them from the requirements*.in files people edit), and pip refuses any file whose hash is not there.
# pip's own configuration stays in force: a mirror or a find-links directory may serve the files, since pip checks
# each one (this kind of machine has local indexes; the files they hold are PyPI's, byte for byte).
PIP_INSTALL := $(PY) -m pip install -q --require-hashes

# Stamp files: a second `make run` installs nothing unless the requirements changed.
$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements.txt
	touch $@

# requirements-dev.txt holds all of requirements.txt, at the same versions.
$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

# mysqlclient only when DATABASE_URL asks for MySQL/MariaDB (it needs Debian's libmariadb-dev to build). It is an
# sdist, which pip would build in an isolated environment holding whatever setuptools the index has that day, unhashed.
# --no-build-isolation builds it against the venv's setuptools instead, which requirements.txt locks: so .runtime first
# (nothing to do after .dev, which holds it too).
$(VENV)/.mysql: requirements-mysql.txt $(VENV)/.runtime
	@bin/system-deps mysql
	$(PIP_INSTALL) --no-build-isolation -r requirements-mysql.txt
	touch $@

MYSQL_STAMP := $(if $(filter mysql://% mariadb://%,$(DATABASE_URL)),$(VENV)/.mysql)

var/secret_key:
	@mkdir -p -m 700 var
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

# Naive Pillow vs pyvips vs sharp vs our engine; prints the table kept in docs/performance.md (takes a few minutes).
# pyvips is an sdist too: built like mysqlclient, against the locked setuptools and cffi. Without pkgconfig it
# builds no C binding of its own, and needs none: pyvips-binary brings libvips and the binding.
# sharp (bench/node/, npm ci from its package-lock) joins when there is a Node: 0.35 needs Node >= 20.9, so an older
# Node (Debian 12's 18) gets sharp 0.34, and the bench prints which it timed.
bench: $(VENV)/.dev
	$(PIP_INSTALL) --no-build-isolation -r requirements-bench.txt
	@if ! command -v node >/dev/null; then echo "bench: no node on PATH, sharp is left out"; \
	elif node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a == 20 && b >= 9) ? 0 : 1)'; then \
		cd bench/node && npm ci --silent --no-audit --no-fund; \
	else echo "bench: Node $$(node --version) is older than 20.9, so sharp 0.34 instead of 0.35"; \
		cd bench/node && npm ci --silent --no-audit --no-fund --ignore-scripts && npm install --silent --no-save --no-audit --no-fund sharp@0.34; \
	fi
	$(PY) -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Recompiles the hash-locked requirements*.txt from the requirements*.in files, after an edit there. Versions a .in
# file does not pin stay as locked unless its pins need others; `make lock LOCK_ARGS=--upgrade` takes the newest
# (or `LOCK_ARGS="--upgrade-package NAME"`). Against PyPI alone: this machine's local indexes and find-links (pip
# config, PIP_FIND_LINKS) are left out, so the hashes are PyPI's and the locks install anywhere, in the Dockerfile
# too. The order matters: dev and mysql are constrained to requirements.txt, bench to requirements-dev.txt.
PIP_COMPILE := env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null \
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple $(LOCK_ARGS)

lock: $(VENV)/.dev
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) -o requirements-mysql.txt requirements-mysql.in
	$(PIP_COMPILE) -o requirements-bench.txt requirements-bench.in
	bin/check-locks

# Re-vendor the front-end files from npm at the versions pinned in package.json.
vendor:
	rm -rf /tmp/glowworm-vendor && mkdir -p /tmp/glowworm-vendor && cp package.json /tmp/glowworm-vendor/
	cd /tmp/glowworm-vendor && npm install --silent --no-audit --no-fund
	cp /tmp/glowworm-vendor/node_modules/htmx.org/dist/htmx.min.js static/js/htmx.min.js
	cp /tmp/glowworm-vendor/node_modules/htmx-ext-ws/dist/ws.min.js static/js/ws.min.js

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
