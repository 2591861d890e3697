# Haizhou — two commands on a fresh machine:  make demo   |   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint install lock bench clean web

# The web app (web/, Vite) is built into the package's static folder; the stamp is a checksum
# of every source file, so the build runs again only when web/ changed (needs Node.js >= 20.19).
WEB_SOURCES := web/package.json web/package-lock.json web/index.html web/vite.config.ts \
	web/tsconfig.json $(sort $(shell find web/src web/public -type f 2>/dev/null))
WEB_OUT     := src/haizhou/api/static
WEB_STAMP   := $(WEB_OUT)/.built-$(shell cat $(WEB_SOURCES) 2>/dev/null | cksum | cut -d' ' -f1)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

$(WEB_STAMP): $(WEB_SOURCES)
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build
	@touch $@

## make web: build the web app (skipped when web/ is unchanged)
web: $(WEB_STAMP)

## make demo: set up, build the synthetic city into the embedded SQLite store, serve on :8000
demo: $(STAMP) $(WEB_STAMP)
	$(BIN)/haizhou demo

## make test: lint (ruff), layer contracts (import-linter), the whole pytest suite
test: $(STAMP) $(WEB_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports --config pyproject.toml
	$(BIN)/python -m pytest

## make lock: re-pin every dependency (run after editing pyproject.toml)
lock:
	@test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet "uv==0.13.9")
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o requirements.lock
	$(UV) pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --quiet -o requirements-bench.lock

## make bench: every benchmark, each printing one JSON line (installs the baselines first)
bench: $(STAMP)
	$(UV) pip sync --quiet --python $(BIN)/python requirements-bench.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e . "norfair==2.1.1"
	@rm -f $(VENV)/.installed-*
	@for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) haizhou-data .pytest_cache web/node_modules $(WEB_OUT)
