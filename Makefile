# fa: one GNU Makefile for the library, the programs, the tests and the docs.
#
#   make            build lib/libfa.a (in $(O)) and every cmd/*.c into bin/
#   make check      install missing Debian packages, build, run every test
#                   (plain build, then again under address and UB sanitizers)
#   make demo       run the agent end to end on the embedded default
#   make demo-real  FinAgent and FLAG-Trader on real MSFT prices and news
#   make bench      benchmarks (never part of check)
#   make fuzz       libFuzzer (clang, -fsanitize=fuzzer,address,undefined):
#                   each tests/fuzz/fuzz_NAME.c for FUZZ_SECONDS (60) on its
#                   corpus, one after the other at nice 19; FUZZ="csv store"
#                   picks harnesses, FUZZ_FLAGS adds libFuzzer flags. New
#                   crashes are kept in tests/fuzz/regress/NAME/ (and fail).
#                   make check replays every corpus and regression input.
#   make lint       clang-format, shellcheck, mandoc -Tlint
#   make install    PREFIX=/usr/local DESTDIR=
#
# Switches: WERROR=1 (warnings are errors), SANITIZE=address,undefined
# (objects and programs then go to build/san), CC, CFLAGS, LDFLAGS.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
DATADIR  = $(PREFIX)/share/fa
MANDIR   = $(PREFIX)/share/man

VERSION  = 0.1.0
CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=

ifneq ($(SANITIZE),)
O ?= build/san
B ?= build/san/bin
SAN_FLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
O ?= build/default
B ?= bin
SAN_FLAGS =
endif

PKGS     = libcurl json-c libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# (libcurl is loaded when a program first speaks HTTP: see lib/fa_http.c)
PKG_LIBS   := $(shell pkg-config --libs json-c libsodium 2>/dev/null) -ldl

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes \
       -Wmissing-prototypes -Wvla -Wcast-qual
ifeq ($(WERROR),1)
WARN += -Werror
endif

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN_FLAGS) -pthread \
             -Ilib $(PKG_CFLAGS) -DFA_VERSION='"$(VERSION)"' \
             -DFA_DATADIR='"$(DATADIR)"' -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS) -pthread
LIBS = $(PKG_LIBS) -lm

LIB_SRC  = $(sort $(wildcard lib/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(O)/%.o)
LIBFA    = $(O)/lib/libfa.a
CMD_SRC  = $(sort $(wildcard cmd/*.c))
PROGS    = $(CMD_SRC:cmd/%.c=$(B)/%)
UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(O)/t/%)
SCRIPTS  = $(sort $(wildcard pipelines/fa-*))
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_T   = $(FUZZ_NAMES:%=$(O)/t/test_fuzz_%)
MANPAGES = $(sort $(wildcard man/*.1 man/*.5 man/*.7))

.PHONY: all tests check check-plain check-san deps deps-check demo demo-real bench lint install uninstall clean
.PHONY: fuzz fuzz-bins deps-fuzz deps-test

all: $(PROGS)

tests: $(UNITS) $(PROGS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBFA): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/%: $(O)/cmd/%.o $(LIBFA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBFA) $(LIBS)

# fa-days carries the stock stages linked in: each cmd/fa-NAME.c built a
# second time with its main renamed fa_main_NAME (fa-days(1)).
DAYS_STAGES = fetch intel retrieve embed reflect-low reflect-high tools decide metrics journal
DAYS_OBJ = $(DAYS_STAGES:%=$(O)/fa-days-stages/fa-%.o)

$(O)/fa-days-stages/fa-%.o: cmd/fa-%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Dmain=fa_main_$(subst -,_,$*) -c -o $@ $<

$(B)/fa-days: $(O)/cmd/fa-days.o $(DAYS_OBJ) $(LIBFA) cmd/fa-days.ld
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -Wl,-z,now -Wl,-T,cmd/fa-days.ld -o $@ $< $(DAYS_OBJ) $(LIBFA) $(LIBS)

$(O)/t/%: $(O)/tests/unit/%.o $(LIBFA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBFA) $(LIBS)

# Fuzz harnesses: in make check each is a TAP program (tests/fuzz/driver.c)
# replaying its corpus and regression inputs; make fuzz links them with
# libFuzzer instead.
tests: $(FUZZ_T)

$(O)/t/test_fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(O)/tests/fuzz/driver.o $(LIBFA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

FUZZ_SECONDS ?= 60
FUZZ ?= $(FUZZ_NAMES)
fuzz: deps-fuzz
	@$(MAKE) --no-print-directory CC=clang SANITIZE=fuzzer-no-link,address,undefined \
	         O=build/fuzz B=build/fuzz/bin fuzz-bins
	@tests/fuzz/run --seconds $(FUZZ_SECONDS) --bin build/fuzz/fz $(FUZZ) -- $(FUZZ_FLAGS)

fuzz-bins: $(FUZZ_NAMES:%=$(O)/fz/fuzz_%)

$(O)/fz/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(LIBFA)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBFA) $(LIBS)

# clang and its libFuzzer runtime, installed like deps when missing.
deps-fuzz:
	@t=$$(mktemp -d) || exit 2; \
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n > 99; }\n' >$$t/f.c; \
	clang -fsanitize=fuzzer,address,undefined -o $$t/f $$t/f.c >/dev/null 2>&1; rc=$$?; rm -rf $$t; \
	[ $$rc = 0 ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "deps-fuzz: installing clang libclang-rt-dev"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends clang libclang-rt-dev >/dev/null \
	    || { echo "deps-fuzz: apt-get failed" >&2; exit 2; }; \
	else \
	  echo "deps-fuzz: clang with libFuzzer is missing; run:" >&2; \
	  echo "  sudo apt-get install -y clang libclang-rt-dev" >&2; \
	  exit 2; \
	fi

# Debian packages needed to build and run (deps) and, for make check, the
# tests' references (deps-test: python3-torch for the language model,
# python3-regex for the tokenizer). Installed when missing: with apt-get
# when root, otherwise the exact command is printed (exit 2).
DEB_BUILD = pkg-config libcurl4-openssl-dev libjson-c-dev libsodium-dev
DEB_RUN   = gnuplot-nox jq parallel python3 curl
DEB_TEST  = python3-regex python3-torch python3-numpy
define install_missing
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
	    || { echo "deps: apt-get failed" >&2; exit 2; }; \
	else \
	  echo "deps: missing Debian packages; run:" >&2; \
	  echo "  sudo apt-get install -y$$missing" >&2; \
	  exit 2; \
	fi
endef
deps:
	@missing=""; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	if command -v pkg-config >/dev/null 2>&1; then \
	  pkg-config --exists libcurl   || missing="$$missing libcurl4-openssl-dev"; \
	  pkg-config --exists json-c    || missing="$$missing libjson-c-dev"; \
	  pkg-config --exists libsodium || missing="$$missing libsodium-dev"; \
	else missing="$$missing libcurl4-openssl-dev libjson-c-dev libsodium-dev"; fi; \
	command -v gnuplot  >/dev/null 2>&1 || missing="$$missing gnuplot-nox"; \
	command -v jq       >/dev/null 2>&1 || missing="$$missing jq"; \
	command -v parallel >/dev/null 2>&1 || missing="$$missing parallel"; \
	command -v python3  >/dev/null 2>&1 || missing="$$missing python3"; \
	command -v curl     >/dev/null 2>&1 || missing="$$missing curl"; \
	$(install_missing)

deps-test: deps
	@missing=""; \
	[ -x /usr/bin/python3 ] || missing="$$missing python3"; \
	/usr/bin/python3 -c 'import regex' >/dev/null 2>&1 || missing="$$missing python3-regex"; \
	/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1 || missing="$$missing python3-torch python3-numpy"; \
	$(install_missing)

# Chromium, for the report's browser test (t1103) only: installed by make
# check when possible, never by make all or make demo; where it cannot be,
# that test prints SKIP with the reason.
deps-check: deps-test
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "deps: installing chromium (for the report's browser test)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	    || echo "deps: chromium could not be installed; its test will say SKIP" >&2; \
	else echo "deps: chromium is missing (sudo apt-get install -y chromium); its test will say SKIP" >&2; fi

# The plain build first, then the same suite under ASan and UBSan; one tally.
# (the builds use every core: make check runs as a plain `make check`)
NPROC := $(shell nproc 2>/dev/null || echo 2)
check: deps-check
	@$(MAKE) --no-print-directory -j$(NPROC) tests
	@$(MAKE) --no-print-directory -j$(NPROC) SANITIZE=address,undefined tests
	@tests/run --bin bin --units build/default/t \
	           --san-bin build/san/bin --san-units build/san/t

check-plain: deps-check
	@$(MAKE) --no-print-directory -j$(NPROC) tests
	@tests/run --bin bin --units build/default/t

demo: deps
	@$(MAKE) --no-print-directory all
	@pipelines/fa-demo

demo-real: deps
	@$(MAKE) --no-print-directory all
	@pipelines/fa-demo --real

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run

lint:
	clang-format --dry-run --Werror lib/*.c lib/*.h cmd/*.c tests/unit/*.c tests/unit/*.h \
	             tests/fuzz/*.c tests/fuzz/*.h
	shellcheck -x .ci/run tests/run tests/fuzz/run tests/fuzz/mkcorpus tests/cli/*.sh $(SCRIPTS) bench/run bench/*.sh
	mandoc -Tlint -Wwarning $(MANPAGES)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/prompts \
	        $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(PROGS) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	cp -R prompts/. $(DESTDIR)$(DATADIR)/prompts
	install -d $(DESTDIR)$(DATADIR)/data/investorbench
	install -m 644 pipelines/data/investorbench/* $(DESTDIR)$(DATADIR)/data/investorbench
	for m in $(MANPAGES); do \
	  case $$m in *.1) install -m 644 $$m $(DESTDIR)$(MANDIR)/man1;; \
	              *.5) install -m 644 $$m $(DESTDIR)$(MANDIR)/man5;; \
	              *.7) install -m 644 $$m $(DESTDIR)$(MANDIR)/man7;; esac; done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(PROGS) $(SCRIPTS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MANPAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MANPAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(filter %.7,$(MANPAGES))))
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build bin tests/out

-include $(LIB_OBJ:.o=.d) $(CMD_SRC:%.c=$(O)/%.d) $(UNIT_SRC:%.c=$(O)/%.d)
-include $(FUZZ_SRC:%.c=$(O)/%.d) $(O)/tests/fuzz/driver.d
