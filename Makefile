# The two commands of the README: `make demo` and `make test`. Each installs what it needs first.
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := chromium libvips-tools wrk nginx-light redis-server fonts-dejavu-core

.PHONY: demo test lint deps system-deps python-deps web-deps bench

demo: deps
	$(VENV)/bin/chromatile demo

test: deps lint
	$(VENV)/bin/pytest

# The gates every commit passes: ruff (lint + import order), mypy --strict on the package, eslint.
lint: python-deps web-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	npx --no-install eslint .

bench: deps
	$(PY) bench/ingest
	$(PY) bench/serve
	$(PY) bench/viewer

deps: system-deps python-deps web-deps

# Debian packages: Chromium for the browser tests, vips/wrk/nginx as benchmark references, Redis for the
# shared-cache tests. Installed only when missing, so a developer machine is left alone.
system-deps:
	@missing=""; \
	for c in chromium vips wrk nginx redis-server; do command -v $$c >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(APT_PACKAGES); \
	fi

python-deps: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

web-deps: webclient/dist/.built
webclient/dist/.built: package.json $(wildcard package-lock.json) webclient/build.mjs $(shell find webclient/src shaders -type f 2>/dev/null)
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	npm run build
	touch $@
