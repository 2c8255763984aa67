# Axon: one top-level Makefile.  Objects go out of tree under $(BUILD)/,
# binaries under $(BUILD)/bin/.  `make help` lists the targets.

BUILD ?= build
CC ?= cc
SAN ?=
PKGS = libprotobuf-c libuv libcjson libcurl yaml-0.1 libmicrohttpd libpcre2-8 libxxhash zlib libcrypto libssl
VERSION := 0.1.0
REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

OPT ?= -O2
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) -fno-strict-aliasing \
	-DAX_VERSION=\"$(VERSION)\" -DAX_REVISION=\"$(REVISION)\" \
	-Ilibcommon -Iservices -I$(BUILD)/gen $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Truncating snprintf into fixed message buffers is intended.
ifneq ($(shell $(CC) --version 2>/dev/null | grep -ci clang),0)
CFLAGS_BASE += -Wno-unknown-warning-option
else
CFLAGS_BASE += -Wno-format-truncation
endif
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDSAN = -fsanitize=address,undefined
endif
CFLAGS_GEN = $(filter-out -Wextra,$(CFLAGS_BASE))
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lnng -lsnappy -lcrypt -lresolv -lpthread -lm

PROTOS := $(wildcard proto/axon/v1/*.proto proto/prometheus/*.proto)
GEN_C := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)
GEN_O := $(GEN_C:.c=.o)

COMMON_SRC := $(wildcard libcommon/*.c)
COMMON_O := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC))
COMMON_A := $(BUILD)/libaxcommon.a

DAEMONS := discoverer scraper tsdb ruler alert-router demo
BINS := $(addprefix $(BUILD)/bin/axon-,$(DAEMONS)) $(BUILD)/bin/axon $(BUILD)/bin/axon-promqltest

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TEST_HELPERS := $(BUILD)/tests/ax-testpeer $(BUILD)/tests/ax-tsdbtool $(BUILD)/tests/ax-enospc.so $(BUILD)/tests/ax-bench-parse $(BUILD)/tests/ax-bench-fleet \
	$(BUILD)/tests/ax-bench-backfill

.PHONY: all deps run test unit integration asan fmt clean help clang bench bench-large

all: $(BINS) $(UNIT_BINS) $(TEST_HELPERS)

clang:
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang all

# Side-by-side with Prometheus 2.42 (tests/bench/run.sh); about 5 minutes.
bench: deps all
	@bash tests/bench/run.sh

# About 1M active series, backfilled by remote write (tests/bench/large.sh);
# about 10 minutes.
bench-large: deps all
	@bash tests/bench/large.sh

help:
	@echo "make deps         install missing Debian packages (apt-get)"
	@echo "make              build everything under $(BUILD)/"
	@echo "make run          deps + build + axon up: the local stack and the demo"
	@echo "make test         deps + build + unit and integration tests"
	@echo "make unit         unit tests only"
	@echo "make integration  integration tests only"
	@echo "make asan         unit tests under AddressSanitizer + UBSan"
	@echo "make clang        build everything with clang into build/clang"
	@echo "make bench        benchmarks against Prometheus 2.42 (docs/benchmarks.md)"
	@echo "make bench-large  the 1M-series benchmarks (docs/benchmarks.md)"
	@echo "make fmt          clang-format the sources"

deps:
	@sh deploy/deps.sh

# The local stack and the demo fleet, supervised (docs/demo.md).
run: deps
	@$(MAKE) --no-print-directory all
	@$(BUILD)/bin/axon up

test: deps
	@$(MAKE) --no-print-directory all
	@echo "  (compile check with clang)"
	@$(MAKE) --no-print-directory CC=clang BUILD=build/clang all >/dev/null
	@sh tests/run.sh all

unit: all
	@sh tests/run.sh unit

integration: all
	@sh tests/run.sh integration

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 OPT=-O1 $(addprefix build/asan/tests/,$(notdir $(UNIT_BINS)))
	@AX_UNIT_DIR=build/asan/tests ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 sh tests/run.sh unit

fmt:
	clang-format -i libcommon/*.c libcommon/*.h services/*/*.c services/*/*.h tests/unit/*.c tests/unit/*.h tests/integration/*.c 2>/dev/null || true

clean:
	rm -rf build

# ---- generated protobuf code ----
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	@echo "  PROTOC  $<"
	@protoc-c --c_out=$(BUILD)/gen -Iproto $<

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c $(GEN_H)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_GEN) -c -o $@ $<

# ---- libcommon ----
$(BUILD)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_BASE) -MMD -MP -c -o $@ $<

$(COMMON_A): $(COMMON_O) $(GEN_O)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

# ---- daemons and CLI ----
# A daemon's modules (all but main.c) form a library that its unit tests
# (tests/unit/test_<daemon>_*.c, dashes as underscores) link too.
define daemon_rule
$(1)_SRC := $$(wildcard services/$(1)/*.c)
$(1)_O := $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(1)_SRC))
$(1)_LIBO := $$(filter-out %/main.o,$$($(1)_O))
$(BUILD)/libax$(subst -,_,$(1)).a: $$($(1)_LIBO) $(GEN_O)
	@rm -f $$@
	@echo "  AR      $$@"
	@ar rcs $$@ $$^
$(BUILD)/bin/axon-$(1): $(BUILD)/obj/services/$(1)/main.o $(BUILD)/libax$(subst -,_,$(1)).a $(COMMON_A)
	@mkdir -p $(BUILD)/bin
	@echo "  LD      $$@"
	@$(CC) $(LDSAN) -o $$@ $$^ $(LDLIBS)
$(BUILD)/tests/test_$(subst -,_,$(1))_%: $(BUILD)/obj/tests/unit/test_$(subst -,_,$(1))_%.o $(BUILD)/libax$(subst -,_,$(1)).a $(COMMON_A)
	@mkdir -p $(BUILD)/tests
	@echo "  LD      $$@"
	@$(CC) $(LDSAN) -o $$@ $$^ $(LDLIBS) -lcmocka
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rule,$(d))))

CLI_SRC := $(wildcard services/cli/*.c)
CLI_O := $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRC))
$(BUILD)/bin/axon: $(CLI_O) $(BUILD)/libaxalert_router.a $(BUILD)/libaxruler.a $(COMMON_A)
	@mkdir -p $(BUILD)/bin
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# The PromQL test-script runner, on the tsdb's evaluator.
$(BUILD)/bin/axon-promqltest: $(BUILD)/obj/services/tsdb/promqltest/main.o $(BUILD)/libaxtsdb.a $(COMMON_A)
	@mkdir -p $(BUILD)/bin
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# ---- tests ----
$(BUILD)/tests/test_%: $(BUILD)/obj/tests/unit/test_%.o $(COMMON_A)
	@mkdir -p $(BUILD)/tests
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/tests/ax-testpeer: $(BUILD)/obj/tests/integration/ax_testpeer.o $(COMMON_A)
	@mkdir -p $(BUILD)/tests
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/ax-tsdbtool: $(BUILD)/obj/tests/integration/ax_tsdbtool.o $(BUILD)/libaxtsdb.a $(COMMON_A)
	@mkdir -p $(BUILD)/tests
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/ax-bench-fleet: $(BUILD)/obj/tests/bench/fleet.o $(COMMON_A)
	@mkdir -p $(BUILD)/tests
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/ax-bench-backfill: $(BUILD)/obj/tests/bench/backfill.o $(COMMON_A)
	@mkdir -p $(BUILD)/tests
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/ax-bench-parse: $(BUILD)/obj/tests/bench/bench_parse.o $(COMMON_A)
	@mkdir -p $(BUILD)/tests
	@echo "  LD      $@"
	@$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/ax-enospc.so: tests/integration/ax_enospc.c
	@mkdir -p $(BUILD)/tests
	@echo "  CC      $@"
	@$(CC) -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -o $@ $< -ldl

.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
