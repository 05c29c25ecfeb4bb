# The two commands a new user needs: `make report` and `make test`.
# Both set up .venv first (Python 3 with venv is all that is assumed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: bytecode report site preview test test-fast test-integration test-notebooks lab data notebooks-strip notebooks-refresh clean help

help:
	@echo "make report   set up .venv and build the 2018 edition (Denmark, Danish) into _build/2018-dk-da/"
	@echo "make test     set up .venv and run the whole test suite, notebooks included (nbval)"
	@echo "make test-fast         only tests/unit (no kernels, builds or subprocesses; about a minute)"
	@echo "make test-integration  only tests/integration (builds, kernels, browser, R)"
	@echo "make test-notebooks    only the notebooks' key-figure cells (nbval)"
	@echo "make site     build every edition, language and country into one static website in _build/site/"
	@echo "make preview  serve the website on http://127.0.0.1:8000/, rebuilt and reloaded on every save"
	@echo "make lab      open the chapter notebooks in JupyterLab"
	@echo "make data     (re)generate the synthetic samples under data/synthetic/"
	@echo "make clean    remove _build/ and the generated synthetic samples"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,lab]"
	@touch $(STAMP)

# The package's bytecode, brought up to date before each command: an editable install is not
# compiled by pip, and where PYTHONDONTWRITEBYTECODE is set (CI images, containers) every
# process of a build (the build, each warm worker) would compile src/ again (~0.15 s each).
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q src

report: bytecode
	$(BIN)/python build.py

# make preview PREVIEW_ARGS="--edition 2024 --lang en --port 8001"; Ctrl-C stops it
PREVIEW_ARGS ?=
preview: bytecode
	$(BIN)/python build.py --serve $(PREVIEW_ARGS)

# every edition that has a report config (data/report/<year>.yaml)
EDITIONS := $(patsubst data/report/%.yaml,%,$(wildcard data/report/[0-9][0-9][0-9][0-9].yaml))
data: bytecode
	for e in $(EDITIONS); do $(BIN)/python -m barometer.synth --edition $$e || exit 1; done

test: bytecode
	$(BIN)/python -m pytest tests notebooks --nbval-lax $(PYTEST_ARGS)

test-fast: bytecode
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration: bytecode
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

test-notebooks: bytecode
	$(BIN)/python -m pytest notebooks --nbval-lax $(PYTEST_ARGS)

# make lab LAB_ARGS="--no-browser --port 8899"; as root JupyterLab needs --allow-root, added here
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks $(LAB_ARGS) $(if $(filter 0,$(shell id -u)),--allow-root,)

notebooks-strip: $(STAMP)
	$(BIN)/python -m barometer.notebooks strip

notebooks-refresh: $(STAMP)
	$(BIN)/python -m barometer.notebooks refresh

clean:
	rm -rf _build data/synthetic .pytest_cache

# every edition x country x language in one static website: _build/site/ (SITE_ARGS="--no-pdf --base-url https://example.org/")
SITE_ARGS ?=
site: bytecode
	$(BIN)/python build.py --site $(SITE_ARGS)
