# make run | make test | make lint | make docs | make install.  DB=sqlite|postgres|mariadb selects the test database.
# Another stack in its own venv, as CI runs the current release:
#   make test PYTHON=/opt/python3.13/bin/python3.13 VENV=.venv-django61 DJANGO='Django>=6.1,<6.2'
PYTHON ?= python3
VENV ?= .venv
DJANGO ?=
PIN_DJANGO := $(if $(DJANGO),"$(DJANGO)")
BIN := $(VENV)/bin
DB ?= sqlite
EXTRAS_sqlite := test,drf,redis,browser
EXTRAS_postgres := test,drf,redis,postgres,browser
EXTRAS_mariadb := test,drf,redis,mysql,browser
EXTRAS := $(EXTRAS_$(DB))
STAMP := $(VENV)/.installed-$(DB)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-all lint format docs clean bench

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]" $(PIN_DJANGO)
	touch $@

DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),docs]" $(PIN_DJANGO)
	touch $@

run: $(STAMP)
	$(BIN)/python example_project/manage.py migrate --verbosity 0
	$(BIN)/python example_project/manage.py demo_users
	$(BIN)/python example_project/manage.py runserver $(HOST):$(PORT)

# The suite checks the manual too (tests/test_docs.py loads its Sphinx extension): docs extra.
test: $(DOCS_STAMP)
	DB=$(DB) $(BIN)/python -m pytest $(PYTEST_ARGS)
	DB=$(DB) DJANGO_SETTINGS_MODULE=tests.settings_custom_user $(BIN)/python -m pytest tests/test_custom_user.py $(PYTEST_ARGS)
	DJANGO_SETTINGS_MODULE=example_project.settings $(BIN)/python -m pytest example_project/tests $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff check auth_token tests example_project benchmarks docs
	$(BIN)/python -m ruff format --check auth_token tests example_project benchmarks docs
	$(BIN)/python -m django makemigrations --check --dry-run --settings=tests.settings

# HTML into docs/_build/html (ignored); warnings are errors.
docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

format: $(STAMP)
	$(BIN)/python -m ruff check --fix auth_token tests example_project
	$(BIN)/python -m ruff format auth_token tests example_project

# The benchmark (benchmarks/README.md): its own venv, local PostgreSQL and Redis, < 15 minutes.
# The current release in a venv of its own (results/django61/; the scale run is the same on both):
#   make bench PYTHON=/opt/python3.13/bin/python3.13 BENCH_VENV=benchmarks/.venv-django61 \
#     DJANGO='Django>=6.1,<6.2' BENCH_ARGS=--no-scale
BENCH_VENV ?= benchmarks/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): benchmarks/requirements.txt pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements.txt -e . $(PIN_DJANGO)
	touch $@

bench: $(BENCH_STAMP)
	cd benchmarks && $(CURDIR)/$(BENCH_VENV)/bin/python run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-* *.egg-info .pytest_cache .ruff_cache example_project/db.sqlite3
