# MCPshop: `make run` sets everything up and serves the shop; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES := default-libmysqlclient-dev pkg-config gettext chromium fonts-wqy-microhei wrk

.PHONY: run serve-http worker test ucp-conformance lint setup system-packages messages bench clean inspector audit

run: setup
	$(PY) manage.py seed_demo --if-empty
	@set -a; source .env; set +a; \
	  DJANGO_SUPERUSER_USERNAME=admin DJANGO_SUPERUSER_EMAIL=admin@example.com \
	  DJANGO_SUPERUSER_PASSWORD="$$DEV_STAFF_PASSWORD" $(PY) manage.py createsuperuser --noinput >/dev/null 2>&1 || true; \
	  echo; echo "  MCPshop: http://$(HOST):$(PORT)/   staff: http://$(HOST):$(PORT)/admin/ (admin / $$DEV_STAFF_PASSWORD)"; echo
	@# The job workers run beside the server (their lines start with "worker |" and "search |"); when the
	@# server stops (Ctrl-C, or the server dies), they are stopped too: each finishes its job in hand, then exits.
	@# Like daphne it does not reload on code changes (a reload would kill the job in hand): restart.
	@# WebSocket messages over 64 KB are refused by daphne itself (its default buffers 1 MiB per message);
	@# the chat closes anything over 8 KB with 4009 (docs/deploy.md uses the same limit).
	@# Links in the emails it sends point at this server (unless SHOP_BASE_URL is set in the environment).
	@# Two workers, as the Procfile has them: embedding a large batch (the demo catalog at the first start)
	@# never holds up an order's expiry or its email.
	@export SHOP_BASE_URL=$${SHOP_BASE_URL:-http://$(HOST):$(PORT)}; \
	  $(PY) -u manage.py run_worker --no-reload --exclude-queues search > >(trap '' INT; sed -u 's/^/worker | /') 2>&1 & worker=$$!; \
	  $(PY) -u manage.py run_worker --no-reload --queue-name search > >(trap '' INT; sed -u 's/^/search | /') 2>&1 & search=$$!; \
	  trap 'wait $$worker $$search' INT; trap 'kill $$worker $$search 2>/dev/null; wait $$worker $$search' EXIT; \
	  $(VENV)/bin/daphne -b $(HOST) -p $(PORT) --websocket-max-message-size 65536 mcpshop_site.asgi:application

# The production HTTP server, chosen by measurement (bench B1: about twice daphne's requests/s): gunicorn
# with threads serves pages, the API and the admin; daphne (as in `make run`) keeps the WebSocket chat,
# /mcp and the async chat API, routed there by the reverse proxy (docs/deploy.md).
WORKERS ?= 2
serve-http: setup
	$(VENV)/bin/gunicorn mcpshop_site.wsgi:application --bind $(HOST):$(PORT) --workers $(WORKERS) \
	  --worker-class gthread --threads 4

# One job worker alone for every queue (the Procfile splits them in two), until stopped (SIGTERM: the job in hand
# ends first).
worker: setup
	$(PY) manage.py run_worker --no-reload

setup: $(VENV)/.installed .env messages
	$(PY) manage.py migrate --noinput

test: $(VENV)/.installed .env messages lint inspector
	$(PY) manage.py makemigrations --check --dry-run
	@# SQLite (with the browser tests) in the foreground; MariaDB, PostgreSQL and the database fault tests
	@# (tests/other_databases.py runs them) side by side, and the UCP conformance suite on SQLite then
	@# PostgreSQL (tests/ucp_conformance.py --all), its output shown at the end.
	@$(PY) tests/other_databases.py & others=$$!; \
	  ucplog=$$(mktemp); $(PY) tests/ucp_conformance.py --all >$$ucplog 2>&1 & ucp=$$!; \
	  $(PY) -m pytest --ignore=tests/security/test_faults_database.py; sqlite=$$?; \
	  wait $$others; others=$$?; wait $$ucp; ucp=$$?; \
	  echo "==== UCP conformance ===="; cat $$ucplog; rm -f $$ucplog; \
	  echo "SQLite suite: exit $$sqlite; other databases: exit $$others; UCP conformance: exit $$ucp"; \
	  exit $$(( sqlite || others || ucp ))

# The UCP conformance suite (../shared/ucp-conformance, or UCP_SUITE) against a fresh shop loaded with its
# flower_shop data; the last line is the suite's score, the exit status its runner's (docs/agents.md,
# "Conformance"). SQLite by default; UCP_DATABASE_URL=postgres://.../name runs it on that PostgreSQL
# database, dropped and created again.
ucp-conformance: $(VENV)/.installed .env messages
	@$(PY) tests/ucp_conformance.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Known vulnerabilities in every installed package (the pins and what they pull in), from PyPI's advisory
# data through pip-audit; needs network. --strict: a package that cannot be checked (service unreachable)
# fails the audit instead of passing unchecked. tests/security/test_hardening_audit.py runs it in make test.
audit: $(VENV)/.installed
	$(VENV)/bin/pip-audit --strict --progress-spinner off

messages: $(VENV)/.installed
	$(PY) manage.py compilemessages --ignore=.venv -v 0

bench: setup
	$(PY) bench/run.py $(if $(ONLY),--only $(ONLY))

# The MCP Inspector CLI (npm), a real MCP client for tests/assistant/test_mcp_inspector.py, pinned by
# .ci/inspector/package-lock.json and installed there once (the tests never download anything).
inspector:
	@if [ -x .ci/inspector/node_modules/.bin/mcp-inspector ]; then :; \
	elif command -v npm >/dev/null 2>&1; then npm ci --prefix .ci/inspector --no-audit --no-fund --loglevel=error; \
	else echo "npm is not installed: the MCP Inspector test will be skipped."; fi

# System libraries: mysqlclient builds against libmysqlclient; browser tests need chromium and CJK fonts.
system-packages:
	@if ! dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then \
	  echo "Installing system packages: $(APT_PACKAGES)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt | system-packages
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

# A development .env with fresh random keys (never committed).
.env:
	@$(PYTHON) -c "import secrets; print(f'DEBUG=1\nSECRET_KEY={secrets.token_urlsafe(48)}\nJWT_SIGNING_KEY={secrets.token_urlsafe(48)}\nDEV_STAFF_PASSWORD={secrets.token_urlsafe(9)}')" > $@
	@echo "Wrote .env (development settings with fresh keys)."

clean:
	rm -rf $(VENV) staticfiles .test-db-*.sqlite3*
