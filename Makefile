# Gatehouse build. `make` builds build/gatehouse; `make test` runs every test.
# Every src/**/*.c except src/cli/main.c goes into build/libgh.a, which the binary,
# the unit tests (tests/unit/**/test_*.c) and the fuzz targets link against.

BUILD   ?= build
CC      ?= cc
PKGS    := jansson libsodium libcrypt openssl sqlite3 yaml-0.1 libpq
WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wconversion -Wno-sign-conversion \
           -Wstrict-prototypes -Wmissing-prototypes -Werror
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
OPT     ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -Isrc $(shell pkg-config --cflags libpq) -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now
LDLIBS  += -loath -lqrencode -ljansson -lsodium -lcrypt -lssl -lcrypto -lsqlite3 -lyaml \
           -lzxcvbn -lhiredis -lnghttp2 -lm -lpthread

# lasso (SAML) is opened at run time (authn/saml_lasso.c): only its headers at build time,
# as system headers (GLib's do not pass our warnings).
LASSO_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags lasso))
$(BUILD)/src/authn/saml_%.o: CFLAGS += $(LASSO_CFLAGS)

SRC     := $(shell find src -name '*.c' ! -path src/cli/main.c | sort)
OBJ     := $(SRC:%.c=$(BUILD)/%.o)
UNIT    := $(sort $(shell find tests/unit -name 'test_*.c'))
UNITBIN := $(UNIT:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all unit integration test asan clean format
all: $(BUILD)/gatehouse

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# docs/openapi.json compiled in as one string (api/openapi.h): GET /openapi.json serves it.
OBJ += $(BUILD)/gen/openapi_doc.o
$(BUILD)/gen/openapi_doc.c: docs/openapi.json
	@mkdir -p $(dir $@)
	{ printf '#include "api/openapi.h"\nconst char gh_openapi_json[] =\n'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  printf ';\nconst size_t gh_openapi_json_len = sizeof(gh_openapi_json) - 1;\n'; } > $@
$(BUILD)/gen/openapi_doc.o: $(BUILD)/gen/openapi_doc.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libgh.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/gatehouse: $(BUILD)/src/cli/main.o $(BUILD)/libgh.a
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgh.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -Wno-missing-prototypes $(LDFLAGS) $< $(BUILD)/libgh.a $(LDLIBS) -lcmocka -lpq -o $@

# Micro-benchmarks on the library (bench/*.c), run by bench/run.sh.
$(BUILD)/bench/%: bench/%.c $(BUILD)/libgh.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) $< $(BUILD)/libgh.a $(LDLIBS) -o $@

unit: $(UNITBIN)
	@set -e; for t in $(UNITBIN); do echo "== $$t"; $$t; done

# The files run side by side (pytest-xdist, one file per worker at a time): most of a test's
# time is a server starting or a wait, not CPU.
TEST_JOBS ?= 3
integration: $(BUILD)/gatehouse
	GATEHOUSE_BIN=$(abspath $(BUILD)/gatehouse) /usr/bin/python3 -m pytest -q \
	  -n $(TEST_JOBS) --dist loadfile tests/integration

test: unit integration

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build-asan CC=clang \
	  OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" HARDEN="" test

format:
	clang-format -i $(shell find src tests/unit -name '*.[ch]')

clean:
	rm -rf build build-asan

# What each object, test and bench binary was built from (-MMD -MP: every header it
# included), so that a change to a shared header (tests/unit/store/conformance.h, say)
# rebuilds every binary that includes it.
BENCHBIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))
-include $(OBJ:.o=.d) $(BUILD)/src/cli/main.d $(UNITBIN:=.d) $(BENCHBIN:=.d)

# libFuzzer targets, one per parser (fuzz/README.md).
FUZZ_SECONDS ?= 20
FUZZ     := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZBIN  := $(FUZZ:fuzz/%.c=build-fuzz/%)
FUZZLIB  := build-fuzz/libgh.a

# The library is built by a sub-make with BUILD=build-fuzz through the generic rules.
.PHONY: fuzzlib
fuzzlib:
	$(MAKE) BUILD=build-fuzz CC=clang HARDEN="" \
	  OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libgh.a

build-fuzz/fuzz_%: fuzz/fuzz_%.c fuzzlib
	clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc -fsanitize=fuzzer,address,undefined $< \
	  $(FUZZLIB) $(LDLIBS) -o $@

# The SAML response reader walks libxml2's tree: its fuzzer parses with libxml2 itself.
build-fuzz/fuzz_saml_response: fuzz/fuzz_saml_response.c fuzzlib
	clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc $(shell pkg-config --cflags libxml-2.0) \
	  -fsanitize=fuzzer,address,undefined $< $(FUZZLIB) $(LDLIBS) -lxml2 -o $@

# The HTTP/2 session's fuzzer drives a connection without a socket (tests/unit/http/h2_conn.h).
build-fuzz/fuzz_h2: fuzz/fuzz_h2.c fuzzlib
	clang -std=c11 -D_GNU_SOURCE -O1 -g -Isrc -Itests/unit -fsanitize=fuzzer,address,undefined $< \
	  $(FUZZLIB) $(LDLIBS) -o $@

.PHONY: fuzz
fuzz: $(FUZZBIN)
	@set -e; for f in $(FUZZBIN); do n=$$(basename $$f); mkdir -p build-fuzz/corpus/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=8192 build-fuzz/corpus/$$n fuzz/corpus/$$n \
	    > build-fuzz/$$n.log 2>&1 || { tail -n 40 build-fuzz/$$n.log; exit 1; }; \
	  tail -n 1 build-fuzz/$$n.log; done
