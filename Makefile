# hamux: `make test` and `make demo` work on a fresh machine with Python 3.10+ and git.
# PYTHON picks the interpreter that creates .venv: `make test PYTHON=python3.11`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
SITE ?= _site
CHECK_OUT ?= out/docs_check
# Debian packages for `make docs-check`: the browser, and MathJax to render math offline
BROWSER_DEBS := chromium libjs-mathjax fonts-mathjax
# an explicit PYTHON (command line or environment) also replaces a .venv made by another Python version
RECREATE := $(if $(filter command line environment,$(origin PYTHON)),--recreate-if-other-python)

.DEFAULT_GOAL := help
.PHONY: help install test demo bench render docs docs-preview docs-check readme sidebar clean

help:
	@echo "make test         set up .venv if needed, then run every check, notebook and test (ends with 'N passed, M failed')"
	@echo "make demo         set up .venv if needed, then run python -m hamux.demo \$$(ARGS)  (e.g. make demo ARGS=--help)"
	@echo "make bench        set up .venv if needed, then time hamux's descent against hand-written JAX (bench/run.py)"
	@echo "make render       run the notebooks in place at full size, keeping their outputs for the docs (NBS=\"nbs/13_mnist.ipynb ...\")"
	@echo "make docs         build the docs: nbdev_docs into _docs/ with Quarto, else a static preview into $(SITE)/"
	@echo "make docs-preview build the static HTML preview into $(SITE)/ (no Quarto needed)"
	@echo "make docs-check   build the preview and check every page in headless Chromium; screenshots in $(CHECK_OUT)/"
	@echo "make readme       write README.md from nbs/index.ipynb"
	@echo "make sidebar      write nbs/sidebar.yml from the notebooks present (nbdev_sidebar)"
	@echo "make install      only set up .venv (PYTHON=$(PYTHON))"

install:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: '$(PYTHON)' not found: install Python 3.10 or newer, or run make with PYTHON=/path/to/python3.x" >&2; exit 1; }
	@$(PYTHON) tools/setup_venv.py --venv $(VENV) $(RECREATE)

test: install
	MPLBACKEND=agg $(BIN)/python tools/run_tests.py

demo: install
	$(BIN)/python -m hamux.demo $(ARGS)

bench: install
	$(BIN)/python bench/run.py $(ARGS)

# execnb's exec_nb, run from the notebook's folder; the outputs of a failing cell are kept too (tests/test_docs.py reports them)
render: install
	@set -e; for nb in $(or $(NBS),$(wildcard nbs/[!_]*.ipynb)); do \
	  echo "+ exec_nb $$nb"; (cd "$$(dirname "$$nb")" && MPLBACKEND=agg "$(abspath $(BIN))/exec_nb" "$$(basename "$$nb")" --dest "$$(basename "$$nb")"); \
	done

readme: install
	$(BIN)/python tools/sync_readme.py

# settings.ini has custom_sidebar = True, so that nbdev_docs keeps this file; --force writes it anyway
sidebar: install
	$(BIN)/nbdev_sidebar --force

# the preview is built from the notebooks that processed even when some failed; the exit status says so
docs-preview: sidebar
	MPLBACKEND=agg $(BIN)/python tools/build_preview.py --out $(SITE)

# With Quarto: nbdev_docs renders every notebook into _docs/ (it also rewrites README.md with Quarto,
# so README.md is then made again the project's way). Without Quarto: the static preview.
docs: sidebar
	@if command -v quarto >/dev/null 2>&1; then \
	  set -e; echo "+ nbdev_docs (Quarto $$(quarto --version))"; \
	  PATH="$(abspath $(BIN)):$$PATH" MPLBACKEND=agg $(BIN)/nbdev_docs; \
	  $(BIN)/python tools/sync_readme.py; \
	else \
	  echo "Quarto not found: building the static preview instead (nbdev_install_quarto installs Quarto)"; \
	  $(MAKE) --no-print-directory docs-preview; \
	fi

docs-check: install
	@missing=""; command -v chromium >/dev/null 2>&1 || missing=1; \
	[ -e /usr/share/javascript/mathjax/MathJax.js ] || missing=1; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "+ apt-get install $(BROWSER_DEBS)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_DEBS); \
	  else \
	    echo "error: docs-check needs Debian packages: sudo apt-get install $(BROWSER_DEBS)" >&2; exit 1; \
	  fi; \
	fi
	@$(MAKE) --no-print-directory docs-preview; rc=$$?; \
	$(BIN)/python tools/docs_check.py --site $(SITE) --out $(CHECK_OUT) && exit $$rc

clean:
	rm -rf _proc _docs $(SITE) $(CHECK_OUT)
