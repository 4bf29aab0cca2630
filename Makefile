# OMV Co-Pilot — developer entry points. `make run` and `make test` work from a clean clone
# on Debian 12: they install what they need from Debian's archive first.
PYTHON      ?= /usr/bin/python3
DEV_DIR     ?= .dev
DEV_LISTEN  ?= 127.0.0.1:8888
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Runtime dependencies are listed once, in debian/control (Depends of the binary package).
RUNTIME_DEPS := $(shell $(PYTHON) tools/debian-deps debian/control)
TEST_DEPS    := $(shell grep -v '^\#' tests/apt-packages.txt)
PYTEST_ARGS ?=

.PHONY: help deps npm test-deps run test test-fast eval bench fuzz clean deb webui

help:
	@echo "make run    install runtime deps, start the daemon on $(DEV_LISTEN) with a dev config in $(DEV_DIR)/"
	@echo "make test   install runtime + test deps, run the whole suite (unit, integration, system tiers)"
	@echo "make test-fast  the unit tier only (pytest -m unit; under a minute)"
	@echo "make eval   score the assistant on the real-case eval set (tests/eval/; PROVIDER=name, EVAL_ARGS=--json|--failures)"
	@echo "make bench  run the benchmarks in bench/ (prints tables)"
	@echo "make fuzz   schemathesis over every endpoint of a real daemon (venv from PyPI in build/fuzz-venv)"
	@echo "make deb    build dist/openmediavault-copilot_<version>_all.deb (and run lintian)"
	@echo "make webui  build the ExtJS web UI into build/webui/ (ExtJS 6.2 GPL from npm, cached in build/cache/)"

# Install only what is missing; apt-get needs root (sudo otherwise).
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing from Debian: $$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(RUNTIME_DEPS))

# npm fetches ExtJS and mermaid for the web UI; any npm will do (a box may have NodeSource's
# nodejs, which ships npm and conflicts with Debian's npm package), Debian's otherwise.
npm:
	@command -v npm >/dev/null 2>&1 || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm; }

test-deps: deps npm
	$(call apt_install,$(TEST_DEPS))

$(DEV_DIR)/config.yaml:
	@mkdir -p $(DEV_DIR)/data
	@printf '%s\n' "# Development config written by 'make run' (git-ignored). See README.md." \
	  "data_dir: $(CURDIR)/$(DEV_DIR)/data" \
	  "api:" "  listen: $(DEV_LISTEN)" "  token_file: $(CURDIR)/$(DEV_DIR)/api-token" \
	  "  serve_ui: $(CURDIR)/build/webui" \
	  "collect:" "  interval_s: 30" > $@
	@echo "wrote $@"

# The web UI: app + loader + only the ExtJS files the panel loads (webui-extjs/build.sh).
webui:
	@sh webui-extjs/build.sh

run: deps npm $(DEV_DIR)/config.yaml webui
	@$(PYTHON) -c 'from omv_copilot_agent.config import load; from omv_copilot_agent.api.auth import ensure_token; c = load("$(DEV_DIR)/config.yaml"); ensure_token(c.token_file)'
	@echo "OMV Co-Pilot API:   http://$(DEV_LISTEN)/api/v1/system/status"
	@echo "API token:          $$(cat $(DEV_DIR)/api-token)  (file: $(DEV_DIR)/api-token)"
	@echo "Try:  curl -H \"Authorization: Bearer \$$(cat $(DEV_DIR)/api-token)\" http://$(DEV_LISTEN)/api/v1/system/status"
	@echo "Web UI:             http://$(DEV_LISTEN)/ui/#token=$$(cat $(DEV_DIR)/api-token)"
	@echo "                    (the token rides in the URL fragment: never sent to a server or logged; the page keeps it in sessionStorage and removes it from the address bar)"
	exec env OMV_COPILOT_API__SERVE_UI=$(CURDIR)/build/webui $(PYTHON) -m omv_copilot_agent --config $(DEV_DIR)/config.yaml daemon

# pytest exit code 5 (no tests collected) is a failure, not a green run.
test: test-deps
	@$(PYTHON) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test-fast: deps
	@$(PYTHON) -m pytest -q -p no:cacheprovider -m unit $(PYTEST_ARGS) tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# The real-case eval set (tests/eval/cases.yaml) through the KB-only assistant, per split and category
# (docs/knowledge.md "Eval set"). PROVIDER=name runs that LLM provider from the config's assist.providers
# (EVAL_ARGS="--config PATH"; default: the omv-copilot config) through the same pipeline in mode llm.
EVAL_ARGS ?=
eval: deps
	$(PYTHON) tests/eval/run.py $(if $(PROVIDER),--provider $(PROVIDER)) $(EVAL_ARGS)

bench: deps
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PYTHON) $$script || exit 1; done

clean:
	rm -rf build dist *.egg-info .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +

# Build in a scratch copy so the work tree stays clean; the .deb lands in dist/. The web UI
# is built first (the package ships build/webui; a package build must not fetch from npm).
DEB_BUILD_DEPS := dpkg-dev debhelper dh-python python3-all python3-setuptools lintian
deb: deps npm webui
	$(call apt_install,$(DEB_BUILD_DEPS))
	@rm -rf build/deb && mkdir -p build/deb/src dist
	@tar --exclude=./build --exclude=./dist --exclude=./.git --exclude=./.dev --exclude=__pycache__ -cf - . | tar -xf - -C build/deb/src
	@cp -r build/webui build/deb/src/webui-dist
	cd build/deb/src && env PATH=/usr/bin:/bin:/usr/sbin:/sbin dpkg-buildpackage -us -uc -b
	cp build/deb/*.deb dist/
	lintian --fail-on error,warning build/deb/*.changes
	@ls -l dist/*.deb

# schemathesis (PyPI, in build/fuzz-venv seeing Debian's packages) over every endpoint of a real daemon.
# FUZZ_ARGS e.g. "--max-examples 200 --max-time 600"; `make test` runs a short seeded pass (tests/system/test_fuzz.py).
FUZZ_ARGS ?= --max-examples 100 --max-time 300
fuzz: deps
	$(PYTHON) tests/fuzz.py $(FUZZ_ARGS)
