# Two commands for a fresh machine (Python 3.11): `make report` and `make test`.
# Each creates the project-local virtual environment if missing and installs the pinned set.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
WAVE ?= 2020-replica

.PHONY: report test env lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

env: $(STAMP)

report: $(STAMP)  ## build the HTML report of the default wave into _build/<wave>/html
	$(BIN)/ruralgov build $(WAVE)

test: $(STAMP)  ## run the test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lock:  ## re-resolve requirements.in into requirements.lock (pins the whole environment)
	rm -rf .venv-lock && $(PY) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements.in
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^ruralgov' > requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf _build
