# The front door: every target does its own set-up (venv, packages, browser) when needed.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup browser nginx build run test bench lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Byte-compiled once here (only changed files are compiled again): with PYTHONDONTWRITEBYTECODE set,
# Python would otherwise compile the generator on every `coderef` command (~0.3 s of a 0.5 s rebuild).
setup: $(STAMP)
	$(PY) -m compileall -q generator gate bench >/dev/null

# Debian's Chromium (Playwright drives it; no browser download) and axe-core from npm.
browser:
	sh scripts/install-browser.sh

# Debian's nginx for the deployment tests and the mixed-load benchmark (they run it themselves).
nginx:
	sh scripts/install-nginx.sh

build: setup
	$(VENV)/bin/coderef build

run: build
	$(VENV)/bin/coderef serve --host $(HOST) --port $(PORT)

test: setup browser nginx
	$(VENV)/bin/pytest -q

bench: setup browser nginx
	sh scripts/install-bench.sh
	$(PY) -m bench

lint: setup
	$(VENV)/bin/ruff check generator gate tests bench
	$(VENV)/bin/mypy generator gate bench

clean:
	rm -rf .coderef var site tests/artifacts
