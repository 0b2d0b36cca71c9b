# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

PORT    ?= 11112
PROFILE ?= default
OUTPUT  ?= output

.PHONY: serve test bench soak install clean deps wheel-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/printscp serve --port $(PORT) --profile $(PROFILE) --output $(OUTPUT) -v

# The system tools the tests drive (DCMTK, poppler): apt-get where it exists, else a message naming them.
deps:
	.ci/install-deps

test: deps $(STAMP)
	$(PY) -m pytest -q

# Build sdist + wheel, install the wheel in a fresh venv outside the tree, print a film to it.
wheel-check: deps $(STAMP)
	.ci/wheel-check

bench: $(STAMP)
	$(PY) bench/bench_print.py --printscp-cmd "$(abspath $(VENV))/bin/printscp serve -q --port {port} --output {output}" --out bench/results.md
	$(PY) bench/bench_console.py --jobs 1000 --out bench/console-results.md

soak: $(STAMP)
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV) build dist *.egg-info
