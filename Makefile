# Editable in "compat" mode: the repository root goes on sys.path, so configs/ beside the package
# and packages added after the install (agents/) are found without reinstalling.
# Two entry points (see README): `make demo` runs the main job, `make test` runs the fast test suite.
# Each bootstraps .venv on first use; torch comes in as the local CPU build pinned in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-all bench install clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[rl,dev,clients,sweep]" --config-settings editable_mode=compat
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/scar-gym demo

test: $(VENV)/.installed
	$(PY) -m pytest

test-all: $(VENV)/.installed
	$(PY) -m pytest -m ""

bench: $(VENV)/.installed
	$(PY) scripts/bench_costmodel.py
	$(PY) scripts/bench_env.py
	$(PY) scripts/bench_agents.py

clean:
	rm -rf $(VENV) *.egg-info
