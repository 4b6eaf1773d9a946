# The two commands a new user needs: `make run` and `make test`.
# Each installs the Debian packages that are missing, then builds with CMake + Ninja.

BUILD        ?= build
BUILD_ASAN   ?= build-asan
JOBS         ?= $(shell nproc)
PACKAGES     := cmake ninja-build g++ pkg-config libasio-dev libcli11-dev libfmt-dev \
                libspdlog-dev libreadline-dev libgtest-dev libsodium-dev libssl-dev python3
BENCH_PACKAGES := iperf3 vsftpd python3-pyftpdlib curl lftp gnuplot-nox openssh-server openssh-client openssl
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test test-asan check format clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@scripts/run-demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(BUILD_ASAN)/build.ninja:
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps $(BUILD_ASAN)/build.ninja
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	scripts/ctest-sanitized.sh $(BUILD_ASAN) $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)

# Fuzzing (fuzz/, docs/RELIABILITY.md): libFuzzer targets built with Debian's clang under
# ASan + UBSan in $(BUILD_FUZZ), each run for FUZZ_SECONDS on its seed corpus fuzz/corpus/.
# `make fuzz` keeps the corpus it grows in $(BUILD_FUZZ)/corpus/ for the next run;
# `make fuzz-smoke` (CI) starts from the checked-in seeds every time. Both fail on a finding.
BUILD_FUZZ    ?= build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_TARGETS  := fuzz_message fuzz_escape fuzz_listing fuzz_path fuzz_client_answers fuzz_users

.PHONY: fuzz-deps fuzz-build fuzz fuzz-smoke

fuzz-deps:
	@$(MAKE) --no-print-directory deps PACKAGES="$(PACKAGES) $(FUZZ_PACKAGES)"

$(BUILD_FUZZ)/build.ninja:
	cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DFERRY_FUZZ=ON -DFERRY_TESTS=OFF

fuzz-build: fuzz-deps $(BUILD_FUZZ)/build.ninja
	cmake --build $(BUILD_FUZZ) --target fuzzers -j $(JOBS)

fuzz: fuzz-build
	fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) keep $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) fresh $(FUZZ_TARGETS)

# The soak test (issue 4, docs/RELIABILITY.md "Load"): SOAK_CLIENTS clients mixing GET, PUT
# and LS on overlapping files for SOAK_SECONDS, every transfer checked by sha256; fails on any
# corrupted or lost transfer, any error, or a temporary file left. `make test` runs a 15 s one.
SOAK_CLIENTS ?= 200
SOAK_SECONDS ?= 180
.PHONY: soak
soak: build
	python3 -B tests/soak/soak.py --clients $(SOAK_CLIENTS) --seconds $(SOAK_SECONDS) \
	  --ferry $(BUILD)/ferry --ferryd $(BUILD)/ferryd

# The benchmark (issue 3): installs its peers, builds Release, runs everything side by side
# and writes bench/results/latest.{md,json,png}. BENCH_ARGS="--repeats 3" for a shorter run,
# BENCH_ARGS="--only lat" for one row. ferry-load (bench/ferry_load.cpp, the C++ client of the
# 500-client row) is built here only: it is not in the default build.
.PHONY: bench bench-attacks
# bench/resource_attacks.py (issue 7, docs/RELIABILITY.md "Resource exhaustion"): a 200,000-
# entry directory, a descriptor hog under 1,024 descriptors, a cold 1 GiB GET; about 3 min.
bench-attacks: build
	/usr/bin/python3 -B bench/resource_attacks.py --ferryd $(BUILD)/ferryd $(BENCH_ARGS)

bench: build
	@$(MAKE) --no-print-directory deps PACKAGES="$(BENCH_PACKAGES)"
	cmake --build $(BUILD) --target ferry-load ferry-mover-compare -j $(JOBS)
	$(SUDO) /usr/bin/python3 bench/run.py --ferry $(BUILD)/ferry --ferryd $(BUILD)/ferryd \
	  --load $(BUILD)/ferry-load $(BENCH_ARGS)

# Sanitizers and static checks (docs/RELIABILITY.md). `make test-tsan`: the whole suite under
# ThreadSanitizer, built with Debian's clang (so CI also proves the clang build free of
# warnings). `make tidy`: clang-tidy with .clang-tidy over every project .cpp; fails on any
# finding. Both install clang, clang-tidy and the sanitizer runtimes when missing.
BUILD_TSAN     ?= build-tsan
BUILD_TIDY     ?= build-tidy
CHECK_PACKAGES := clang clang-tidy libclang-rt-14-dev

.PHONY: check-deps test-tsan tidy

check-deps:
	@$(MAKE) --no-print-directory deps PACKAGES="$(PACKAGES) $(CHECK_PACKAGES)"

$(BUILD_TSAN)/build.ninja:
	cmake -S . -B $(BUILD_TSAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_COMPILER=clang++ -DFERRY_TSAN=ON

test-tsan: check-deps $(BUILD_TSAN)/build.ninja
	cmake --build $(BUILD_TSAN) -j $(JOBS)
	scripts/ctest-sanitized.sh $(BUILD_TSAN) $(JOBS)

# Configured only, never built: the compile commands of every target (the fuzz targets
# and the tests included) with clang's flags. asio_impl.cpp is asio's own code, skipped.
$(BUILD_TIDY)/compile_commands.json:
	cmake -S . -B $(BUILD_TIDY) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_COMPILER=clang++ -DFERRY_FUZZ=ON -DFERRY_TESTS=ON

tidy: check-deps $(BUILD_TIDY)/compile_commands.json
	run-clang-tidy -quiet -j $(JOBS) -p $(BUILD_TIDY) \
	  '$(CURDIR)/(src/(ferry|ferry-cli)/|src/ferryd/(?!asio_impl)|tests/|fuzz/).*\.cpp$$'
