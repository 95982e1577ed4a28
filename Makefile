# Two commands do everything on a fresh machine with Python 3.11:
#   make run    set up .venv, then ingest the shipped dataset, the elbow sweep, k=4, charts
#   make test   set up .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install run test bench lint format clean

install: $(VENV)/.kernels

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Compile the numba kernels into numba's cache now, not on the first run (about a minute).
$(VENV)/.kernels: $(VENV)/.installed spotclust/model/_silhouette_kernels.py spotclust/model/_kmeans_kernels.py
	$(BIN)/python -m spotclust.model.compile_kernels
	touch $@

run: install
	$(BIN)/spotclust run --k 4

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/run.py --wait-quiet 60

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) warehouse/*.duckdb* charts .pytest_cache
