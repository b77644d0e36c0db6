# Pantau: two commands do all set-up on a fresh machine with Python 3.11.
#   make demo   builds the virtual environment, then runs the main job on the embedded default
#   make test   builds the virtual environment, then runs the test suite
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck bench lock clean venv dashboard prod-smoke

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

# the whole pipeline, then the dashboards on http://127.0.0.1:8501 until Ctrl-C (DASHBOARD=0: stop after the summary)
DASHBOARD ?= 1
demo: $(STAMP)
	$(VENV)/bin/pantau demo $(if $(filter 1,$(DASHBOARD)),--dashboard,)

dashboard: $(STAMP)
	$(VENV)/bin/pantau dashboard

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# the compose topology as real processes (Dagster on PostgreSQL, Celery on RabbitMQ, leased capture, lake on
# PostgreSQL + S3 on loopback, simulator, portal/API), ~6 minutes, checked from outside; see deploy/prod_smoke.py
SMOKE_ARGS ?=
prod-smoke: $(STAMP)
	$(PY) deploy/prod_smoke.py $(SMOKE_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy access ingest analytics warehouse marts alerts open_data simulate privacy assets orchestration dashboards

lock:
	$(VENV)/bin/uv pip compile --quiet --python-version 3.11 --extra dev pyproject.toml -o requirements.lock

bench: $(STAMP)
	for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) pantau-data
