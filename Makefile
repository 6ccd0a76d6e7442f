# The two commands a newcomer needs: `make run` and `make test`. Everything else is for developers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test bench lint install install-test browser loadgen clean-instance

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# A stamp per extra, so editing pyproject.toml reinstalls and an unchanged tree installs nothing.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/propgroup serve

test: install-test browser
	$(BIN)/ruff check platform tests migrations
	$(BIN)/pytest

# Portal tests drive Debian's Chromium (Playwright never downloads a browser here). As root the
# packages are installed; otherwise those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) || \
	  echo "chromium not installed (needs root): browser tests will be skipped"; }

# The API benchmark drives load with wrk when it is there (else a Python generator, which takes a
# share of the same two cores).
loadgen:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	  (apt-get install -y -qq wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)) || \
	  echo "wrk not installed (needs root): the API benchmark uses its Python load generator"; }

bench: install-test loadgen
	$(BIN)/pytest tests/benchmarks -p no:cacheprovider -s -q

lint: install-test
	$(BIN)/ruff check platform tests migrations
	$(BIN)/ruff format --check platform tests migrations

clean-instance:
	rm -rf instance
