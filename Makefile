# PropSage: `make run` serves the dashboard, `make test` runs the whole suite.
# Both set up .venv first with the newest Python >= 3.11 found on the machine.

SHELL := /bin/bash
VENV := .venv
PORT ?= 5006
ADDRESS ?= localhost
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

# Newest working python3.13 / 3.12 / 3.11: on PATH, or under pyenv; else python3.
PYTHON ?= $(shell for v in 3.13 3.12 3.11; do \
	  for p in $$(command -v python$$v 2>/dev/null) $$HOME/.pyenv/versions/$$v.*/bin/python; do \
	    [ -x "$$p" ] && "$$p" -c 'import sys, venv; assert sys.version_info >= (3, 11)' 2>/dev/null \
	      && { echo "$$p"; exit 0; }; \
	  done; \
	done; echo python3)

.PHONY: run test venv dev browser lint bench clean

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	@[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e .
	@touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(VENV)/bin/python -m pip install -q -e '.[dev]'
	$(VENV)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $@

venv: $(STAMP)

dev: $(DEV_STAMP)

# Browser tests drive Debian's Chromium through Playwright (no browser download).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian chromium for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

run: $(STAMP)
	@mkdir -p data
	@echo "PropSage dashboard: http://$(ADDRESS):$(PORT)/app  (mock provider, DB data/propsage.duckdb)"
	$(VENV)/bin/panel serve app --port $(PORT) --address $(ADDRESS) \
	  --allow-websocket-origin $(ADDRESS):$(PORT) --allow-websocket-origin localhost:$(PORT)

test: $(DEV_STAMP) browser
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b | tail -n 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
