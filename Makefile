# iocmatch: `make demo` runs the main job on the sample data the project ships;
# `make test` runs every test (formatting, lints, unit, integration and doc tests).

CARGO ?= cargo
DB ?= target/demo/iocmatch.db
IOCMATCH = target/release/iocmatch --db $(DB)

.PHONY: all build demo test fmt lint unit python pytest stubtest wheel bench-import bench-python clean

all: build

build:
	$(CARGO) build --release -p iocmatch-cli

demo: build
	@rm -rf target/demo && mkdir -p target/demo
	$(IOCMATCH) threat add "APT29" --id intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2 --alias APT-29 --alias "Cozy Bear"
	$(IOCMATCH) collection create "Demo feed" --description "Sample indicators shipped with iocmatch"
	$(IOCMATCH) import text "Demo feed" examples/data/feed.txt --threat APT-29 --kill-chain delivery --valid-from 2024-01-01
	$(IOCMATCH) import text "Demo feed" examples/data/c2.txt --kill-chain c2 --valid-from 2024-01-01 --valid-until 2027-01-01
	$(IOCMATCH) import batch "Demo feed" examples/data/batch.json
	$(IOCMATCH) collection list
	$(IOCMATCH) indicator search "Demo feed" evil
	$(IOCMATCH) compile --out target/demo/demo.idx
	@echo "--- alerts: the sample events matched against the sample indicators"
	$(IOCMATCH) match --index target/demo/demo.idx examples/data/events.ndjson

test: fmt lint unit pytest stubtest

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

# Python wheel (python/): built by maturin into a virtualenv with pinned tools, then tested.
VENV ?= $(or $(CARGO_TARGET_DIR),target)/venv
PYTHON ?= python3
PY_PINS = maturin==1.16.0 pytest==8.4.2 mypy==1.18.2 tqdm==4.67.1

$(VENV)/.pins: Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(PY_PINS)
	echo "$(PY_PINS)" > $@

python: $(VENV)/.pins
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --quiet --release -m python/Cargo.toml

pytest: python
	cd python && $(abspath $(VENV))/bin/python -m pytest -q

stubtest: python
	cd python && $(abspath $(VENV))/bin/python -m mypy.stubtest iocmatch

wheel: $(VENV)/.pins
	$(VENV)/bin/maturin build --release -m python/Cargo.toml --out $(or $(CARGO_TARGET_DIR),target)/wheels

# Benchmark: the Python bindings beside the CLI at 1M indicators (see benches/README.md).
bench-python: python build
	$(VENV)/bin/python benches/python_bench.py

# Benchmark: text import of 500,000 mixed indicators into a file-backed store.
bench-import: build
	python3 benches/import_bench.py

clean:
	$(CARGO) clean
