# Sourced by tests/gpu/check.sh and tests/gpu/profile.sh (not run alone): finds nvcc and the build
# dependencies, and sets the positional parameters to the make arguments that use them
# (BUILD=$B NVCC=... and, for packed dependencies, the include and library paths), with NVF the
# nvcc flags for sm_90 and DEPS "system" or "packed".
# Needs B (the build folder). The system's libcjson/hdf5/cmocka, else (or with
# AXM_CHECK_DEPS=packed) those packed into .gpudeps/ by tests/gpu/pack-deps.sh.
NVCC=${NVCC:-$(ls /usr/local/cuda/bin/nvcc 2>/dev/null || command -v nvcc 2>/dev/null)}
[ -n "$NVCC" ] || { echo "check: no nvcc found"; exit 2; }
JOBS=$(nproc 2>/dev/null || echo 4)
set -- BUILD=$B NVCC="$NVCC"
if [ "${AXM_CHECK_DEPS:-}" != packed ] && [ -f /usr/include/cjson/cJSON.h ] && [ -f /usr/include/cmocka.h ] &&
   [ -d /usr/include/hdf5/serial ]; then
  DEPS=system
elif [ -d .gpudeps/lib ]; then
  D=$(pwd)/.gpudeps
  DEPS=packed
  set -- "$@" "PKG_CFLAGS=-I$D/include -I$D/include/cjson -I$D/include/hdf5" \
         "PKG_LIBS=-L$D/lib -Wl,-rpath,$D/lib -Wl,-rpath-link,$D/lib -lcjson -lhdf5" "EXTRA_CFLAGS=-I$D/include"
  export LD_LIBRARY_PATH="$D/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LIBRARY_PATH="$D/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
else
  echo "check: libcjson, hdf5 or cmocka headers missing and no .gpudeps/ (run tests/gpu/pack-deps.sh where they exist)"
  exit 2
fi
NVF="-O3 -std=c++17 -Icore -Igpu -Xcompiler -fPIC,-Wall,-Wextra,-Werror -arch=sm_90 -Xptxas -v"
set -- "$@" NVCCFLAGS="$NVF"
