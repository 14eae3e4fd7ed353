# Kompass: two commands. `make run` starts everything with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KOMPASS_PORT ?= 8000
export SNOWSIM_PORT ?= 8001
# Demo only: the simulator's integration user's password (in production, set it from a secret store).
export KOMPASS_SERVICENOW_PASSWORD ?= kompass
# The demo's e-mails go to files (one per message) in var/mail/outbox; set KOMPASS_EMAIL_URL for SMTP.
# django-environ drops one slash of filemail:///path, hence four before an absolute path.
MAIL_OUTBOX := $(CURDIR)/var/mail/outbox
export KOMPASS_EMAIL_URL ?= filemail:///$(MAIL_OUTBOX)
# The demo's e-mail intake reads this Maildir (drop a message into new/ to reply to a case or open one);
# set KOMPASS_INTAKE_MAILBOX for IMAP. Only for run/dev: the tests configure their own mailboxes.
MAIL_INTAKE := $(CURDIR)/var/mail/intake
run dev: export KOMPASS_INTAKE_MAILBOX ?= maildir://$(MAIL_INTAKE)

.PHONY: run dev prepare test test-fast install lint format assets messages clean-db help

help:
	@echo "make run    - set up (venv, install, migrate, demo data) and start Kompass, workers, scheduler, simulator"
	@echo "make dev    - the same, with Django's auto-reloading development server as the web process"
	@echo "make test   - set up and run the whole test suite"
	@echo "make test-fast - everything but the browser, slow and chaos tests"
	@echo "make lint   - ruff and the import contracts (import-linter)"
	@echo "make assets - refresh vendored front-end assets from package.json (needs npm)"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Kompass needs Python 3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Demo setup shared by `make run` and `make dev`.
prepare: $(STAMP)
	@mkdir -p $(MAIL_OUTBOX) $(MAIL_INTAKE)/new $(MAIL_INTAKE)/cur $(MAIL_INTAKE)/tmp
	$(BIN)/kompass migrate --no-input -v 0
	$(BIN)/kompass demo-data --quiet
	@# Static files for WhiteNoise: with DEBUG off (production) the pages' CSS comes only from here.
	$(BIN)/kompass collectstatic --no-input -v 0
	@# The simulator's CA must exist before the vendor agent starts to trust it.
	$(BIN)/python -c 'from snowsim.tls import ensure_certificate; ensure_certificate("var/snowsim/tls")'
	@echo ""
	@echo "Kompass:           http://127.0.0.1:$(KOMPASS_PORT)"
	@echo "ServiceNow (sim):  https://127.0.0.1:$(SNOWSIM_PORT)   (user admin / admin; CA: var/snowsim/tls/ca.pem)"
	@echo "Health:            http://127.0.0.1:$(KOMPASS_PORT)/healthz"
	@echo "E-mail (outbox):   $(MAIL_OUTBOX)   (unless KOMPASS_EMAIL_URL is set)"
	@echo "E-mail (intake):   $${KOMPASS_INTAKE_MAILBOX:-off}   (replies and new cases, read every minute)"
	@echo "Stop with Ctrl-C."
	@echo ""

# The web process is gunicorn, as in production; `make dev` swaps in runserver with auto-reload.
run: prepare
	$(BIN)/honcho start -f Procfile

dev: prepare
	$(BIN)/honcho start -f Procfile.dev

test: $(STAMP)
	@# The slowest tests are listed at the end, so CI's log says where its time goes.
	$(BIN)/python -m pytest --durations=30

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow and not chaos"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

assets:
	scripts/refresh-assets.sh

messages: $(STAMP)
	cd kompass && ../$(BIN)/kompass makemessages -l nb -l en --no-obsolete --no-location
	cd kompass && ../$(BIN)/kompass compilemessages

clean-db:
	rm -f var/kompass.sqlite3 var/kompass.sqlite3-wal var/kompass.sqlite3-shm
