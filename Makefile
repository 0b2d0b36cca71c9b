# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

PORT    ?= 11112
PROFILE ?= default
OUTPUT  ?= output

.PHONY: serve test bench soak install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/printscp serve --port $(PORT) --profile $(PROFILE) --output $(OUTPUT) -v

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/bench_print.py --printscp-cmd "$(abspath $(VENV))/bin/printscp serve --port {port} --output {output}" --out bench/results.md

soak: $(STAMP)
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV) build *.egg-info
