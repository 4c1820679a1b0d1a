# The few commands of the project. `make run` and `make test` are the two the README promises
# work on a fresh machine: each installs what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .local/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STACK := $(PYTHON) deploy/local/stack.py
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help venv stack-up stack-down stack-status stack-reset lint-go run demo test unit e2e lint typecheck \
        format schemas catalogue report status tools eval train corrections bench bench-scale bench-classifier bench-sla soak faults clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(UV):
	@echo "[make] bootstrapping uv into $(TOOLS)…"
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install -q --disable-pip-version-check uv==0.13.9

$(VENV)/.synced: $(UV) pyproject.toml uv.lock shared/pyproject.toml libs/servicekit/pyproject.toml \
                 services/*/pyproject.toml cli/pyproject.toml
	@echo "[make] installing Python dependencies into $(VENV)…"
	@$(UV) sync --frozen --all-packages
	@touch $@

venv: $(VENV)/.synced ## install the Python workspace (and the `complaints` command) into .venv

stack-up: venv ## start local Kafka + FerretDB (fetched/built on first use)
	@$(STACK) up

stack-down: ## stop the local servers
	@$(STACK) down

stack-status: ## show the local servers
	@$(STACK) status

stack-reset: ## stop the local servers and delete their data
	@$(STACK) reset

run: stack-up ## run the pipeline on the demo workload with the local stack
	@$(VENV)/bin/complaints demo

demo: run

test: lint stack-up ## the whole test suite: lint, types, unit, handler, contract and end-to-end tests
	@$(VENV)/bin/pytest

unit: venv ## fast tests only (no servers)
	@$(VENV)/bin/pytest -m "not stack"

e2e: stack-up ## the end-to-end run: 240 complaints through four processes on the real stack
	@$(VENV)/bin/complaints e2e

lint: venv ## ruff, mypy (strict), the import contracts, and go vet + go test of the FerretDB build
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy shared/src libs/servicekit/src services/*/src cli/src scripts \
	    deploy/local/stack.py deploy/local/complaints_stack
	@$(VENV)/bin/lint-imports
	@$(STACK) check-go

lint-go: ## gofmt, go vet and go test of the FerretDB main, patches and added files
	@$(STACK) check-go

format: venv ## apply ruff's formatting and safe fixes
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

catalogue: venv ## regenerate the AsyncAPI documents and the topic pages (docs/topics*)
	@$(VENV)/bin/complaints catalogue --write

report: venv ## self-contained HTML report of the demo database (report.html)
	@$(VENV)/bin/complaints report

status: venv ## the running pipeline at a glance: stages, lag, open deadlines, health
	@$(VENV)/bin/complaints status

tools: ## install chromium (report test) and kcat (topic docs) from Debian
	@$(PYTHON) deploy/local/tools.py install chromium
	@$(PYTHON) deploy/local/tools.py install kcat

schemas: venv ## regenerate the committed JSON Schemas from the contracts
	@$(VENV)/bin/python -m contracts.schemas shared/schemas

eval: venv ## classifier accuracy: cross-validated, held-out and real-voice views, confusion matrices, per-flag scores
	@$(VENV)/bin/python scripts/eval_classifier.py

train: venv ## retrain the shipped category model (reproducible; reads data/classifier/*.tsv)
	@$(VENV)/bin/python scripts/train_classifier.py

corrections: venv ## staff regrades from MongoDB as training lines (data/classifier/corrections.tsv), for make train
	@$(VENV)/bin/complaints classify export-corrections --out data/classifier/corrections.tsv

bench: stack-up ## whole pipeline vs a bare Kafka relay: throughput ≥ 60 s, latency at 200/s (ends "bench: …")
	@$(VENV)/bin/python bench/pipeline.py

bench-storm: stack-up ## the same bench in a mass-incident storm: the incident fan-out's cost on its own
	@$(VENV)/bin/python bench/pipeline.py --storm

bench-scale: stack-up ## the same bench with two replicas per service (docs/scaling.md)
	@$(VENV)/bin/python bench/pipeline.py --replicas 2

bench-classifier: venv ## classifier throughput on one core (target ≥ 3,000/s)
	@$(VENV)/bin/python bench/classifier_throughput.py

bench-sla: stack-up ## SLA scheduler firing lag with 1,000,000 open clocks (p99 ≤ 1 s)
	@$(VENV)/bin/python bench/sla_scheduler.py

soak: stack-up ## 30 min at 100 complaints/s with staff actions: memory, database size, lag each minute
	@$(VENV)/bin/python bench/soak.py

faults: stack-up ## fault suite on the real stack: kills, broker/DB outages, channels down, poison
	@$(VENV)/bin/python scripts/faults.py

clean: stack-down ## remove the virtualenv and local servers' data (keeps downloads)
	@rm -rf $(VENV) .local/kafka/data .local/ferretdb-data .local/logs
