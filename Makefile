# chronopt — plain GNU make.  Build output goes to build/ only.
#   make                 build tools into build/bin
#   make test            install missing packages, then `make check`
#   make check           unit tests + bats suites, ends with "N passed, N failed"
#   make test SANITIZE=address,undefined
#   make check VALGRIND=1   unit tests and tools under valgrind (memcheck)
#   make bench           speed and memory figures (not part of test)
#   make bench BENCH=chronos   one of them (bench_chronos + its PyTorch reference)
#   make demo            set up and run the whole pipeline on the bundled data
#   make DEVELOPER=1     warnings are errors
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
ifeq ($(SANITIZE),)
B       := build
else
B       := build/san
endif

PKGS      := libcjson libgit2 openblas
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lcsv -lm -lpthread

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Ilib $(PKG_CFLAGS)
ifeq ($(DEVELOPER),1)
CFLAGS  += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif
LDLIBS  += $(PKG_LIBS)

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(B)/%.o)
TOOLS_SRC := $(wildcard bin/*.c)
TOOLS     := $(TOOLS_SRC:bin/%.c=$(B)/bin/%)
UNIT_SRC  := $(wildcard test/unit/test_*.c)
UNITS     := $(UNIT_SRC:test/unit/%.c=$(B)/test/%)
BENCH_SRC := $(wildcard test/bench/bench_*.c)
BENCHES   := $(BENCH_SRC:test/bench/%.c=$(B)/bench/%)

all: $(TOOLS)

$(B)/libchronopt.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/%.o: %.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/bin/%: $(B)/bin/%.o $(B)/libchronopt.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/test/%: $(B)/test/unit/%.o $(B)/libchronopt.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/bench/%: $(B)/test/bench/%.o $(B)/libchronopt.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The crash harness's LD_PRELOAD shim (test/bats/crash.bats): plain flags,
# never sanitized (it sits under every process, bash included).
$(B)/test/inject.so: test/crash/inject.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -std=c11 -Wall -Wextra $(if $(filter 1,$(DEVELOPER)),-Werror) -shared -fPIC -o $@ $< -ldl

# test sets up first (installs missing Debian packages), then runs check.
test:
	@scripts/install-deps --with-browser
	@$(MAKE) --no-print-directory check

check: $(TOOLS) $(UNITS) $(B)/test/inject.so
	@VALGRIND=$(VALGRIND) scripts/run-tests $(B)

bench: $(TOOLS) $(BENCHES)
	@scripts/bench $(B) $(BENCH)

demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all
	@./pipeline.sh demo

# The tools, pipeline.sh and install-cron (as chronopt-install-cron) in
# bin; the bundled settings, demo models and series in share/chronopt, where
# the installed tools and pipeline.sh look for them (relative to their own
# directory, so DESTDIR staging and a moved prefix work too).
DATADIR := $(DESTDIR)$(PREFIX)/share/chronopt
DEMO_MODELS := chronos-demo chronos-bolt-demo chronos-2-demo
install: $(TOOLS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7
	install -d $(DATADIR)/configs $(DATADIR)/testdata $(DEMO_MODELS:%=$(DATADIR)/models/%)
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin
	install -m 755 pipeline.sh $(DESTDIR)$(PREFIX)/bin/pipeline.sh
	install -m 755 scripts/install-cron $(DESTDIR)$(PREFIX)/bin/chronopt-install-cron
	install -m 644 configs/chronopt.json configs/demo.json configs/demo-quantile.json $(DATADIR)/configs
	for m in $(DEMO_MODELS); do \
		install -m 644 models/$$m/config.json models/$$m/model.safetensors models/$$m/README.md \
			$(DATADIR)/models/$$m || exit 1; \
	done
	install -m 644 testdata/usdclp_daily.csv testdata/usdclp_daily.README.md $(DATADIR)/testdata
	install -m 644 man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/man7/*.7 $(DESTDIR)$(PREFIX)/share/man/man7

uninstall:
	rm -f $(TOOLS:$(B)/bin/%=$(DESTDIR)$(PREFIX)/bin/%) $(DESTDIR)$(PREFIX)/bin/pipeline.sh \
		$(DESTDIR)$(PREFIX)/bin/chronopt-install-cron
	rm -f $(patsubst man/%,$(DESTDIR)$(PREFIX)/share/man/%,$(wildcard man/man1/*.1 man/man7/*.7))
	rm -rf $(DATADIR)

clean:
	rm -rf $(B)

.PHONY: all test check bench demo install uninstall clean
.SECONDARY:
