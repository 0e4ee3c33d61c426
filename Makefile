# iocmatch: `make demo` runs the main job on the sample data the project ships;
# `make test` runs every test (formatting, lints, unit, integration and doc tests).

CARGO ?= cargo
DB ?= target/demo/iocmatch.db
IOCMATCH = target/release/iocmatch --db $(DB)

.PHONY: all build demo test fmt lint unit bench-import clean

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

test: fmt lint unit

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

# Benchmark: text import of 500,000 mixed indicators into a file-backed store.
bench-import: build
	python3 benches/import_bench.py

clean:
	$(CARGO) clean
