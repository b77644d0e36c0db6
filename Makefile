# Pantau: two commands do all set-up on a fresh machine with Python 3.11.
#   make demo   builds the virtual environment, then runs the main job on the embedded default
#   make test   builds the virtual environment, then runs the test suite
# `make help` lists every target. Two locks: requirements.lock (production: the package and the k8s extra, what
# the Docker image installs) and requirements-dev.lock (that plus the dev tools; what `make venv` installs).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help demo test lint typecheck bench lock clean venv dashboard prod-smoke
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | expand -t 14

$(STAMP): pyproject.toml requirements-dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements-dev.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) ## the virtual environment .venv (dev lock, editable install)

# the whole pipeline, then the dashboards on http://127.0.0.1:8501 until Ctrl-C (DASHBOARD=0: stop after the summary)
DASHBOARD ?= 1
demo: $(STAMP) ## the whole pipeline on the embedded default, then the dashboards (DASHBOARD=0: summary only)
	$(VENV)/bin/pantau demo $(if $(filter 1,$(DASHBOARD)),--dashboard,)

dashboard: $(STAMP) ## the Streamlit dashboards on http://127.0.0.1:8501
	$(VENV)/bin/pantau dashboard

test: $(STAMP) ## the test suite (PYTEST_ARGS=... to narrow it)
	$(PY) -m pytest $(PYTEST_ARGS)

# the compose topology as real processes (Dagster on PostgreSQL, Celery on RabbitMQ, leased capture, lake on
# PostgreSQL + S3 on loopback, simulator, portal/API), ~6 minutes, checked from outside; see deploy/prod_smoke.py
SMOKE_ARGS ?=
prod-smoke: $(STAMP) ## the compose topology as real processes, checked from outside (~6 min)
	$(PY) deploy/prod_smoke.py $(SMOKE_ARGS)

lint: $(STAMP) ## ruff format + lint (incl. no dagster/streamlit in pure packages), deptry (declared = imported)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/deptry .

typecheck: $(STAMP) ## mypy over the packages and the tests (warehouse/ strict)
	$(VENV)/bin/mypy access ingest analytics warehouse marts alerts open_data simulate privacy assets orchestration dashboards tests

lock: ## regenerate requirements-dev.lock, then requirements.lock with the same versions minus the dev tools
	$(VENV)/bin/uv pip compile --quiet --python-version 3.11 --extra k8s --extra dev pyproject.toml -o requirements-dev.lock
	$(VENV)/bin/uv pip compile --quiet --python-version 3.11 --extra k8s -c requirements-dev.lock pyproject.toml \
		-o requirements.lock

bench: $(STAMP) ## every benchmark in bench/ (prints figures; takes long)
	for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean: ## remove .venv and pantau-data
	rm -rf $(VENV) pantau-data
