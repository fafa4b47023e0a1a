# The two set-up commands of the README. Each creates .venv if needed and installs what it needs.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e '.[all,test]'
	touch $(STAMP)

# Main job on the bundled example: audit the example pipelines (static + dynamic), then ask the
# deterministic architecture recommender about the example task spec.
demo: $(STAMP)
	-$(VENV)/bin/temporalkit audit examples/pipelines
	-$(VENV)/bin/temporalkit audit --dynamic examples/pipelines
	$(VENV)/bin/temporalkit pick recommend --spec examples/spec.yaml

test: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -q
