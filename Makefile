# The two commands of the README: `make demo` and `make test`. Each installs what it needs first:
# the demo only the package and the viewer build; the tests also their tools and Debian packages.
VENV := .venv
PY := $(VENV)/bin/python
# Chromium for the browser tests; vips, wrk and nginx as benchmark and test references; Redis for the
# shared-cache tests. The demo needs none of them.
APT_PACKAGES := chromium libvips-tools wrk nginx-light redis-server fonts-dejavu-core
SITE := server/chromatile/static

.PHONY: demo test lint deps test-deps system-deps python-deps python-test-deps web-deps bench

demo: python-deps web-deps
	$(VENV)/bin/chromatile demo

test: test-deps lint
	$(VENV)/bin/pytest

# The gates every commit passes: ruff (lint + import order), mypy --strict on the package, eslint, and
# tsc over the viewer's JSDoc types (files starting with `// @ts-check`).
lint: python-test-deps web-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	npx --no-install eslint .
	npx --no-install tsc -p webclient --noEmit

bench: test-deps
	$(PY) bench/ingest
	$(PY) bench/serve
	$(PY) bench/viewer
	$(PY) bench/publish

deps: test-deps
test-deps: system-deps python-test-deps web-deps

# Installed only when missing, so a developer machine is left alone.
system-deps:
	@missing=""; \
	for c in chromium vips wrk nginx redis-server; do command -v $$c >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $(APT_PACKAGES); \
	fi

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

python-deps: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

python-test-deps: $(VENV)/.installed-test
$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

web-deps: $(SITE)/.built
$(SITE)/.built: package.json $(wildcard package-lock.json) webclient/build.mjs $(wildcard webclient/*.html webclient/*.css) $(shell find webclient/src shaders -type f 2>/dev/null)
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	npm run build
	touch $@
