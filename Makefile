# axonml — build, test and run.
#
#   make            CPU build into build/ (adds the CUDA backend when nvcc is found; CUDA=0 forces it off)
#   make run        install missing deps, build, start axonml-tui on presets/default.json
#   make test       install missing deps, build, run every test suite, then again under ASan/UBSan
#   make bench      benchmarks (tests/bench), ratios against baselines run alongside
#
# Sources are found by wildcard so that adding a module is adding a file:
#   core/*.c -> libaxonml.{a,so}        gpu/*.cu -> CUDA backend (gpu/none.c when CUDA is off)
#   views/*.c -> ncurses views          app/common/*.c -> shared by both programs
#   app/axonml/*.c -> build/axonml      app/axonml-tui/*.c -> build/axonml-tui
#   tests/unit/test_*.c -> one cmocka binary each

# The first rule below is version.o's (it must follow the variables it uses), so say which goal a
# plain `make` builds.
.DEFAULT_GOAL := all
BUILD   ?= build
V       ?= 0
Q       := $(if $(filter 1,$(V)),,@)
CC      ?= cc
SAN     ?= 0
CUDA    ?= auto
DEBIAN_PKGS := libncurses-dev libcjson-dev libhdf5-dev libcmocka-dev zlib1g-dev tmux hdf5-tools pkg-config

NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
ifeq ($(CUDA),0)
  override NVCC :=
endif
ifeq ($(SAN),1)
  override NVCC :=
endif

PKG_CFLAGS := $(filter-out -D%,$(shell pkg-config --cflags libcjson hdf5 2>/dev/null))
PKG_LIBS   := $(shell pkg-config --libs libcjson hdf5 2>/dev/null)
ifeq ($(strip $(PKG_LIBS)),)
  PKG_CFLAGS := -I/usr/include/cjson -I/usr/include/hdf5/serial
  PKG_LIBS   := -lcjson -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5
endif
CURSES_LIBS := $(or $(shell pkg-config --libs ncursesw 2>/dev/null),-lncursesw)

OPT ?= -O2
CFLAGS_BASE := -std=c11 $(OPT) -g -Wall -Wextra -Werror -D_DEFAULT_SOURCE -D_XOPEN_SOURCE=700 \
               -fPIC -pthread -Icore -Iviews -Iapp/common -Igpu $(PKG_CFLAGS)
ifeq ($(SAN),1)
  CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDSAN := -fsanitize=address,undefined
endif
CFLAGS  := $(CFLAGS_BASE) $(EXTRA_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lz -lm -pthread $(LDSAN)

CORE_SRC := $(wildcard core/*.c)
VIEW_SRC := $(wildcard views/*.c)
COMM_SRC := $(wildcard app/common/*.c)
CLI_SRC  := $(wildcard app/axonml/*.c)
TUI_SRC  := $(wildcard app/axonml-tui/*.c)
TEST_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
GPUTEST_SRC := $(wildcard tests/gpu/test_*.c)

ifeq ($(wildcard gpu/*.cu),)
  override NVCC :=
endif
ifneq ($(NVCC),)
  CUDA_HOME  := $(patsubst %/bin/nvcc,%,$(or $(realpath $(NVCC)),$(NVCC)))
  GPU_SRC    := $(wildcard gpu/*.cu)
  GPU_OBJ    := $(GPU_SRC:%.cu=$(BUILD)/%.o)
  NVCCFLAGS  ?= -O3 -std=c++17 -Icore -Igpu -Xcompiler -fPIC,-Wall,-Wextra,-Werror \
                -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=compute_80
  GPU_LIBS   := -L$(CUDA_HOME)/lib64 -L$(CUDA_HOME)/targets/x86_64-linux/lib -lcudart_static -ldl -lrt -lstdc++
  # nvcc alone is not enough (some toolkits ship it without the runtime library): probe once per
  # build directory and fall back to CPU-only, unless CUDA=1 asked for the backend explicitly.
  CUDA_PROBE := $(BUILD)/cuda-probe.txt
  CUDA_OK := $(shell mkdir -p $(BUILD); [ -s $(CUDA_PROBE) ] && [ $(CUDA_PROBE) -nt $(NVCC) ] || \
                     sh gpu/probe.sh $(BUILD)/probe '$(NVCC)' '$(CC)' '$(NVCCFLAGS)' '$(GPU_LIBS) -pthread' \
                        > $(CUDA_PROBE); cat $(CUDA_PROBE))
  ifneq ($(CUDA_OK),ok)
    ifeq ($(CUDA),1)
      $(error CUDA=1 but the CUDA backend cannot be built with $(NVCC): $(CUDA_OK))
    endif
    $(info note: building CPU-only, $(NVCC) found but unusable ($(CUDA_OK)); details in $(BUILD)/probe/probe.log)
    override NVCC :=
  endif
endif
ifneq ($(NVCC),)
  BACKENDS   := cpu cuda
else
  GPU_OBJ    := $(BUILD)/gpu/none.o
  GPU_LIBS   :=
  BACKENDS   := cpu
endif

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
VIEW_OBJ := $(VIEW_SRC:%.c=$(BUILD)/%.o)
COMM_OBJ := $(COMM_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TUI_OBJ  := $(TUI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
GPUTEST_BIN := $(GPUTEST_SRC:tests/gpu/%.c=$(BUILD)/gputests/%)

LIB_A  := $(BUILD)/libaxonml.a
LIB_SO := $(BUILD)/libaxonml.so
PROGS  := $(BUILD)/axonml $(if $(TUI_SRC),$(BUILD)/axonml-tui)

GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# version.o embeds these, so it is rebuilt when they change (the stamp is rewritten only then).
BUILD_STAMP := $(BUILD)/build-info.txt
BUILD_INFO  := $(GIT_REV) $(BACKENDS) $(SAN) $(OPT) $(CURDIR)
$(shell mkdir -p $(BUILD); [ "$$(cat $(BUILD_STAMP) 2>/dev/null)" = "$(BUILD_INFO)" ] || echo "$(BUILD_INFO)" > $(BUILD_STAMP))
$(BUILD)/core/version.o: $(BUILD_STAMP)
$(BUILD)/core/version.o: EXTRA_DEFS = -DAXM_BUILD_REV='"$(GIT_REV)"' -DAXM_BUILD_BACKENDS='"$(BACKENDS)"' \
                                      -DAXM_BUILD_FLAGS='"$(if $(filter 1,$(SAN)),asan+ubsan,$(OPT))"' \
                                      -DAXM_BUILD_TREE='"$(CURDIR)"'

.PHONY: all deps run test check bench gpu-tests gpu-emu clean
all: $(LIB_A) $(LIB_SO) $(PROGS) $(TEST_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC    $<')
	$(Q)$(CC) $(CFLAGS) $(EXTRA_DEFS) -MMD -MP -c $< -o $@

$(BUILD)/gpu/none.o: gpu/none.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gpu/%.o: gpu/%.cu
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  NVCC  $<')
	$(Q)$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(CORE_OBJ)
	$(Q)$(CC) -shared -o $@ $^ $(LDLIBS)

$(BUILD)/axonml: $(CLI_OBJ) $(COMM_OBJ) $(GPU_OBJ) $(LIB_A)
	@$(if $(Q),echo '  LD    $@')
	$(Q)$(CC) -o $@ $^ $(GPU_LIBS) $(LDLIBS)

$(BUILD)/axonml-tui: $(TUI_OBJ) $(VIEW_OBJ) $(COMM_OBJ) $(GPU_OBJ) $(LIB_A)
	@$(if $(Q),echo '  LD    $@')
	$(Q)$(CC) -o $@ $^ $(GPU_LIBS) $(CURSES_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(VIEW_OBJ) $(COMM_OBJ) $(GPU_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  TEST  $@')
	$(Q)$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(VIEW_OBJ) $(COMM_OBJ) $(GPU_OBJ) $(LIB_A) -lcmocka $(GPU_LIBS) $(CURSES_LIBS) $(LDLIBS)

$(BUILD)/bench/%: tests/bench/%.c $(GPU_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(GPU_OBJ) $(LIB_A) $(GPU_LIBS) $(LDLIBS)

$(BUILD)/gputests/%: tests/gpu/%.c $(GPU_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(GPU_OBJ) $(LIB_A) -lcmocka $(GPU_LIBS) $(LDLIBS)

# Installs what is missing (idempotent). Without root it prints the command instead.
deps:
	@missing=""; \
	for p in libcjson hdf5 cmocka ncursesw zlib; do pkg-config --exists $$p 2>/dev/null || missing=1; done; \
	command -v tmux >/dev/null 2>&1 || missing=1; command -v pkg-config >/dev/null 2>&1 || missing=1; \
	command -v h5dump >/dev/null 2>&1 || missing=1; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "deps: installing $(DEBIAN_PKGS)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PKGS)) >/dev/null || \
	      { echo "deps: apt-get failed; run: apt-get install $(DEBIAN_PKGS)" >&2; exit 1; }; \
	  else \
	    echo "deps: missing packages; run: sudo apt-get install $(DEBIAN_PKGS)" >&2; exit 1; \
	  fi; \
	fi

run: deps
	@$(MAKE) --no-print-directory all
	@if [ -x $(BUILD)/axonml-tui ]; then exec $(BUILD)/axonml-tui presets/default.json; \
	 else exec $(BUILD)/axonml threshold presets/default.json; fi

check: all
	@sh tests/run-all.sh $(BUILD)

# The sanitizer pass skips the slow NEURON-reference suites (AXM_SLOW=0): they run in the plain pass.
test: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run-all.sh $(BUILD)
	@$(MAKE) --no-print-directory BUILD=build-san SAN=1 CUDA=0 OPT=-O1 all
	@AXM_SLOW=0 sh tests/run-all.sh build-san

bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

gpu-tests: all $(GPUTEST_BIN)
	@for b in $(GPUTEST_BIN); do $$b || exit 1; done

# The CUDA kernels' logic on CPU threads against the CPU engine (no GPU needed).
gpu-emu: all
	@sh tests/gpu/emu.sh $(BUILD)

clean:
	rm -rf build build-san build-gpu

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
