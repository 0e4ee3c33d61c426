# iocmatch: `make demo` runs the main job on the sample data the project ships;
# `make test` runs every test (formatting, lints, unit, integration and doc tests, and the C ABI's
# header check, C tests under ASan/UBSan and valgrind, the C++ example and the install check).

CARGO ?= cargo
CARGO_TARGET_DIR ?= target
DB ?= $(CARGO_TARGET_DIR)/demo/iocmatch.db
IOCMATCH = $(CARGO_TARGET_DIR)/release/iocmatch --db $(DB)

# The C ABI (ffi/): libiocmatch.{so,a} of FFI_PROFILE (debug for the tests, release to install).
FFI_PROFILE ?= debug
FFI_CARGO_FLAGS = $(if $(filter release,$(FFI_PROFILE)),--release)
FFI_LIBDIR = $(CARGO_TARGET_DIR)/$(FFI_PROFILE)
CBINDGEN ?= cbindgen
CBINDGEN_VERSION = 0.29.4
# gcc and g++ unless the caller names other compilers (make's built-in default for CC is cc).
ifeq ($(origin CC),default)
CC = gcc
endif
ifeq ($(origin CXX),default)
CXX = g++
endif
CFLAGS_TEST = -std=c11 -Wall -Wextra -Wpedantic -Werror -g -pthread -Iinclude
CXXFLAGS_EXAMPLE = -std=c++17 -Wall -Wextra -Werror -O2 -Iinclude
LIBS_STATIC = -lpthread -ldl -lm
CTEST_DIR = $(CARGO_TARGET_DIR)/ctest
CTESTS = $(basename $(notdir $(wildcard ffi/tests/test_*.c)))
VALGRIND = valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=1
VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

.PHONY: all build demo test fmt lint unit bench-import bench-python clean \
	ffi cbindgen-version header header-check ctest cpp-example install install-check \
	python pytest stubtest wheel

all: build

build:
	$(CARGO) build --release -p iocmatch-cli

# The sample data of examples/data loaded into a store: $(1) is the iocmatch command with its --db.
define load_samples
	$(1) threat add "APT29" --id intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2 --alias APT-29 --alias "Cozy Bear"
	$(1) collection create "Demo feed" --description "Sample indicators shipped with iocmatch"
	$(1) import text "Demo feed" examples/data/feed.txt --threat APT-29 --kill-chain delivery --valid-from 2024-01-01
	$(1) import text "Demo feed" examples/data/c2.txt --kill-chain c2 --valid-from 2024-01-01 --valid-until 2027-01-01
	$(1) import batch "Demo feed" examples/data/batch.json
endef

demo: build
	@rm -rf $(CARGO_TARGET_DIR)/demo && mkdir -p $(CARGO_TARGET_DIR)/demo
	$(call load_samples,$(IOCMATCH))
	$(IOCMATCH) collection list
	$(IOCMATCH) indicator search "Demo feed" evil
	$(IOCMATCH) compile --out $(CARGO_TARGET_DIR)/demo/demo.idx
	@echo "--- alerts: the sample events matched against the sample indicators"
	$(IOCMATCH) match --index $(CARGO_TARGET_DIR)/demo/demo.idx examples/data/events.ndjson
	@echo "--- detection: a rule over the feed, live alerts (cti), then a retrohunt of two months of archived events"
	$(IOCMATCH) rule create "Demo detection" --collection "Demo feed"
	$(IOCMATCH) match --alerts examples/data/events.ndjson
	$(IOCMATCH) retrohunt examples/data/archive/ --out $(CARGO_TARGET_DIR)/demo/retrohunt.ndjson
	@echo "--- telemetry: sightings of the feed's indicators in the archive (validity ignored), with an HTML heatmap"
	$(IOCMATCH) telemetry "Demo feed" examples/data/archive/ --until 2025-07-01 --window 90d \
		--html $(CARGO_TARGET_DIR)/demo/telemetry.html
	@echo "open $(CARGO_TARGET_DIR)/demo/telemetry.html in a browser for the heatmap"

test: fmt lint unit header-check ctest cpp-example install-check pytest stubtest

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --workspace

# --- the C ABI -------------------------------------------------------------------------------

ffi:
	$(CARGO) build -p iocmatch-ffi $(FFI_CARGO_FLAGS)

cbindgen-version:
	@$(CBINDGEN) --version 2>/dev/null | grep -qx "cbindgen $(CBINDGEN_VERSION)" || { \
		echo "cbindgen $(CBINDGEN_VERSION) is needed: cargo install cbindgen --version $(CBINDGEN_VERSION) --locked" >&2; \
		exit 1; }

# include/iocmatch.h from ffi/src (committed).
header: cbindgen-version
	cd ffi && $(CBINDGEN) --quiet --config cbindgen.toml --output ../include/iocmatch.h

# Fails when the committed header is not what ffi/src generates.
header-check: cbindgen-version
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && \
	(cd ffi && $(CBINDGEN) --quiet --config cbindgen.toml --output "$$tmp") && \
	if diff -u include/iocmatch.h "$$tmp"; then echo "header-check: include/iocmatch.h is up to date"; \
	else echo "header-check: include/iocmatch.h is stale: run 'make header' and commit it" >&2; exit 1; fi

# The C tests (ffi/tests/test_*.c): under AddressSanitizer + UBSan against the staticlib, then
# under valgrind against the cdylib. (valgrind's "possibly lost" blocks are the stacks of the
# matching thread pool, alive at exit by design: only definite and indirect leaks count.)
ctest: ffi
	@mkdir -p $(CTEST_DIR)
	@passed=0; for t in $(CTESTS); do \
		echo "ctest: $$t (ASan + UBSan, static)"; \
		$(CC) $(CFLAGS_TEST) -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
			ffi/tests/$$t.c $(FFI_LIBDIR)/libiocmatch.a $(LIBS_STATIC) -o $(CTEST_DIR)/$$t.asan || exit 1; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
			$(CTEST_DIR)/$$t.asan || { echo "ctest: $$t failed under ASan" >&2; exit 1; }; \
		echo "ctest: $$t (valgrind, shared)"; \
		$(CC) $(CFLAGS_TEST) ffi/tests/$$t.c -L$(FFI_LIBDIR) -Wl,-rpath,$(abspath $(FFI_LIBDIR)) -liocmatch \
			-o $(CTEST_DIR)/$$t.vg || exit 1; \
		IOCMATCH_TEST_ITERATIONS=60 $(VALGRIND) $(CTEST_DIR)/$$t.vg || { echo "ctest: $$t failed under valgrind" >&2; exit 1; }; \
		passed=$$((passed + 1)); \
	done; echo "ctest: $$passed passed, 0 failed"
	@# the shared library exports exactly the functions of the header
	@grep -oE '\biocmatch_[a-z0-9_]+\(' include/iocmatch.h | tr -d '(' | sort -u > $(CTEST_DIR)/header.syms
	@nm -D --defined-only $(FFI_LIBDIR)/libiocmatch.so | awk '{ print $$3 }' | sort -u > $(CTEST_DIR)/so.syms
	@diff -u $(CTEST_DIR)/header.syms $(CTEST_DIR)/so.syms && \
		echo "ctest: libiocmatch.so exports the $$(wc -l < $(CTEST_DIR)/header.syms) functions of the header, nothing else"

# The C++ plugin example, run on the sample events against an index of the sample data; its
# alerts must be the expected ones.
cpp-example: ffi
	@mkdir -p $(CTEST_DIR)/example && rm -f $(CTEST_DIR)/example/demo.db*
	$(CXX) $(CXXFLAGS_EXAMPLE) examples/cpp/ioc_plugin.cpp $(FFI_LIBDIR)/libiocmatch.a $(LIBS_STATIC) \
		-o $(CTEST_DIR)/example/ioc_plugin
	$(CARGO) build -p iocmatch-cli
	$(call load_samples,$(CARGO_TARGET_DIR)/debug/iocmatch --db $(CTEST_DIR)/example/demo.db) >/dev/null
	$(CARGO_TARGET_DIR)/debug/iocmatch --db $(CTEST_DIR)/example/demo.db compile --out $(CTEST_DIR)/example/demo.idx
	$(CTEST_DIR)/example/ioc_plugin --index $(CTEST_DIR)/example/demo.idx < examples/data/events.ndjson \
		> $(CTEST_DIR)/example/alerts.tsv
	cut -f1-5 $(CTEST_DIR)/example/alerts.tsv | diff -u examples/cpp/expected_alerts.tsv -
	@echo "cpp-example: the alerts are the expected ones"
	@# the README's C example, built and run on the same index
	sed -n '/^```c$$/,/^```$$/p' README.md | sed '1d;$$d' > $(CTEST_DIR)/example/readme.c
	$(CC) $(CFLAGS_TEST) $(CTEST_DIR)/example/readme.c $(FFI_LIBDIR)/libiocmatch.a $(LIBS_STATIC) \
		-o $(CTEST_DIR)/example/readme
	cp $(CTEST_DIR)/example/demo.idx $(CTEST_DIR)/example/iocs.idx
	cd $(CTEST_DIR)/example && ./readme | grep -q '^203.0.113.5 matched indicator--.* (ipv4) in destination.ip$$'
	@echo "cpp-example: the README's C example works"

# Install the header, both libraries and iocmatch.pc under $(DESTDIR)$(PREFIX).
install: ffi
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 include/iocmatch.h $(DESTDIR)$(INCLUDEDIR)/iocmatch.h
	install -m 644 $(FFI_LIBDIR)/libiocmatch.a $(DESTDIR)$(LIBDIR)/libiocmatch.a
	install -m 755 $(FFI_LIBDIR)/libiocmatch.so $(DESTDIR)$(LIBDIR)/libiocmatch.so
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' ffi/iocmatch.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/iocmatch.pc

# Install into a temporary prefix and build a program with `pkg-config --cflags --libs iocmatch`,
# linked to the shared library, and with `--static`, linked to the static one.
install-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(MAKE) --no-print-directory install PREFIX="$$tmp/prefix" >/dev/null && \
	export PKG_CONFIG_PATH="$$tmp/prefix/lib/pkgconfig" && \
	test "$$(pkg-config --modversion iocmatch)" = "$(VERSION)" && \
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror ffi/tests/pkgconfig/hello.c $$(pkg-config --cflags --libs iocmatch) \
		-o "$$tmp/hello" && \
	LD_LIBRARY_PATH="$$tmp/prefix/lib" "$$tmp/hello" && \
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror ffi/tests/pkgconfig/hello.c $$(pkg-config --cflags iocmatch) \
		$$(pkg-config --static --libs iocmatch | sed 's/-liocmatch/-l:libiocmatch.a/') -o "$$tmp/hello-static" && \
	"$$tmp/hello-static" && \
	echo "install-check: header, libraries and iocmatch.pc install and link"

# Python wheel (python/): built by maturin into a virtualenv with pinned tools, then tested.
VENV ?= $(or $(CARGO_TARGET_DIR),target)/venv
PYTHON ?= python3
PY_PINS = maturin==1.16.0 pytest==8.4.2 mypy==1.18.2 tqdm==4.67.1 stix2==3.0.2 stix2-patterns==2.1.2

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
