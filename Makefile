# 小哥 — every job is one command. `make help` lists them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
SITE_PORT ?= 8001

.DEFAULT_GOAL := help
.PHONY: help install run setup test lint check clean bench backup restore lighthouse

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

# axe-core for the accessibility tests (test-only, pinned in package-lock.json). Without npm the
# accessibility tests skip; nothing on the public site needs Node.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the accessibility tests will skip (apt install npm, then make install)"; \
	fi

install: $(BIN)/.installed node_modules/.installed ## Create .venv and install the pinned dependencies (and axe-core when npm exists)

setup: install ## Migrate, create the page tree and the dev admin, load content/ (first run), build the site
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) bootstrap_site
	SITE_AUTO_BUILD=false $(MANAGE) import_content --publish --initial
	$(MANAGE) build_site

run: setup ## Set everything up, then serve the static site, the CMS and the build worker on 127.0.0.1
	@echo ""
	@echo "  公开网站（静态，site/current）: http://$(HOST):$(SITE_PORT)/"
	@echo "  后台 CMS（中文）:              http://$(HOST):$(PORT)/admin/   登录: admin / xiaoge-dev-2026"
	@echo "  试用审核流程:                  editor（编辑）、reviewer（审核员），密码同上"
	@echo "  在后台发布后，几秒内静态网站就会更新（构建任务由 db_worker 执行）。按 Ctrl-C 全部停止。"
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	$(MANAGE) serve_site --host $(HOST) --port $(SITE_PORT) & \
	nice -n 10 $(MANAGE) db_worker --interval 0.5 --no-startup-delay & \
	$(MANAGE) publish_scheduled_loop & \
	$(MANAGE) runserver --nostatic $(HOST):$(PORT)

lint: install ## ruff
	$(BIN)/ruff check .

check: install ## Django system checks and a check that no migration is missing
	DJANGO_SETTINGS_MODULE=cms.settings.test $(MANAGE) check
	DJANGO_SETTINGS_MODULE=cms.settings.test $(MANAGE) makemigrations --check --dry-run

test: lint check ## Lint, checks, then the test suite
	$(BIN)/pytest

bench: install ## Benchmark the static build on 2,000 generated stories (prints figures; several minutes)
	$(BIN)/python bench/publish_bench.py

.PHONY: bench-curve
bench-curve: install ## The publishing benchmark at 200, 2,000 and 20,000 generated stories, and their table (about an hour)
	$(BIN)/python bench/publish_bench.py --stories 200 2000 20000 --plain-sample 500

.PHONY: bench-search
bench-search: install ## Search index at 2,000 and 20,000 generated stories: build, publish update, bytes and query time in Chromium, recall (prints figures; 10–30 minutes)
	$(BIN)/python bench/search_bench.py

.PHONY: bench-targets
bench-targets: install ## Publishing to an S3 bucket on loopback (moto) at 2,000 generated stories: first full sync, one publish's objects, bytes and seconds until visible (prints figures; a few minutes)
	$(BIN)/python bench/targets_bench.py

.PHONY: load faults audit editors
load: install ## nginx under wrk load while 100 publishes go live: failed requests (must be 0), latency, publish rate
	$(BIN)/python bench/load_publish.py

faults: install ## Kill builds, fill the disk, lock the database: the live site must not change (root for tmpfs)
	$(BIN)/python bench/faults.py

# Locust and gunicorn are bench-only (bench/requirements.txt): `make test` does not need them. Both runs
# happen even if the first misses a target; the target fails if either does. PAGES: generated stories.
PAGES ?= 2000
editors: install ## 10 editors under locust, SQLite and PostgreSQL, PAGES stories (2000; make editors PAGES=20000): p95, errors, click to live
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	@status=0; \
	$(BIN)/python bench/editors_load.py --db sqlite --pages $(PAGES) || status=1; \
	$(BIN)/python bench/editors_load.py --db postgres --pages $(PAGES) || status=1; \
	exit $$status

lighthouse: install ## Lighthouse (mobile) on every page type of a release built from content/ (prints scores)
	cd bench/lighthouse && npm ci --no-audit --no-fund
	$(BIN)/python bench/lighthouse_bench.py

audit: install ## Known vulnerabilities in the installed pins (pip-audit via OSV; AUDIT_OSV_URL for a mirror). Exit 2: not audited
	$(BIN)/python tools/audit.py

backup: install ## Back up the database and media into var/backups/ (SQLite copy or pg_dump)
	$(MANAGE) backup_site

restore: install ## Restore BACKUP=var/backups/xiaoge-….tar.gz, then rebuild the static site from it
	@test -n "$(BACKUP)" || (echo "用法：make restore BACKUP=var/backups/xiaoge-….tar.gz" && exit 2)
	$(MANAGE) restore_site "$(BACKUP)" $(if $(FORCE),--force,)
	$(MANAGE) build_site --full

clean: ## Remove the local database, media and built site (keeps .venv)
	rm -rf db.sqlite3 db.sqlite3-* var site
