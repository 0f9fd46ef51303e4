# Entry points for developers and CI. `run` and `test` first make sure the environment is in
# place: the venv (with uv), the Python packages (when pyproject.toml changed) and the Kafka jars.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-pyproject
UV_VERSION := 0.13.8
PYTEST_ARGS ?=

# The first interpreter that is Python 3.11 or newer.
PYTHON := $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
UV := $(shell command -v uv || echo $$HOME/.local/bin/uv)

.PHONY: help env kafka-jars deploy-tools run test lint fmt clean

help:
	@echo "make run    start Kafka, the AWS emulator and the four services (Ctrl-C stops all)"
	@echo "make test   lint, format check and the test suite (PYTEST_ARGS=... passes through)"
	@echo "make lint | fmt | clean"

env: $(STAMP) kafka-jars

$(UV):
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is required (python3.11 not found)"; exit 1; }
	$(PYTHON) -m pip install --user --quiet uv==$(UV_VERSION) \
		|| $(PYTHON) -m pip install --user --quiet --break-system-packages uv==$(UV_VERSION)

$(PY): | $(UV)
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is required (python3.11 not found)"; exit 1; }
	$(UV) venv --quiet --python $(PYTHON) $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(UV) pip install --quiet --python $(PY) -r pyproject.toml --extra dev --extra devstack
	@touch $@

kafka-jars: $(STAMP)
	@if command -v java >/dev/null && command -v mvn >/dev/null; then \
		$(PY) -c 'from devstack.infra.kafka import ensure_jars; ensure_jars()'; \
	else \
		echo "warning: Kafka needs Java 17+ and Maven; missing:" \
			"$$(for t in java mvn; do command -v $$t >/dev/null || printf '%s ' $$t; done)" \
			"(apt-get install openjdk-17-jre-headless maven)"; \
	fi

run: env
	$(PY) -m devstack.run

test: env lint deploy-tools
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# kube-score, kustomize and the compose checker for tests/deploy, pinned, built with Go.
deploy-tools:
	bash deploy/tools/install.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared services devstack

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var/
