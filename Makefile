# 小哥 — every job is one command. `make help` lists them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run setup test lint check migrations-check clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

install: $(BIN)/.installed ## Create .venv and install the pinned dependencies

setup: install ## Migrate, create the page tree and the dev admin, load content/
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) bootstrap_site
	$(MANAGE) collectstatic --noinput -v0

run: setup ## Set everything up, then serve the site and the admin on 127.0.0.1
	@echo ""
	@echo "  网站 (site):   http://$(HOST):$(PORT)/"
	@echo "  后台 (admin):  http://$(HOST):$(PORT)/admin/   登录: admin / xiaoge-dev-2026"
	@echo ""
	$(MANAGE) runserver --nostatic $(HOST):$(PORT)

lint: install ## ruff
	$(BIN)/ruff check .

check: install ## Django system checks and a check that no migration is missing
	DJANGO_SETTINGS_MODULE=cms.settings.test $(MANAGE) check
	DJANGO_SETTINGS_MODULE=cms.settings.test $(MANAGE) makemigrations --check --dry-run

test: lint check ## Lint, checks, then the test suite
	$(BIN)/pytest

clean: ## Remove the local database, media and built site (keeps .venv)
	rm -rf db.sqlite3 db.sqlite3-* var site
