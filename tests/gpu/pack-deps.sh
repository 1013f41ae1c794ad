#!/bin/sh
# Packs the build dependencies that GPU images usually lack (libcjson, HDF5, cmocka: headers and the
# shared libraries with their non-glibc closure) into .gpudeps/, for tests/gpu/check.sh on a machine
# without them. Run it where the packages are installed (make deps), then carry .gpudeps along:
#   echo /.gpudeps/ >> "$(git rev-parse --git-common-dir)/info/exclude"
#   sh tests/gpu/pack-deps.sh            # then: device run, carry [".gpudeps"], sh tests/gpu/check.sh
set -eu
cd "$(dirname "$0")/../.."
D=.gpudeps
rm -rf $D
mkdir -p $D/include $D/lib
cp -rL /usr/include/cjson $D/include/cjson
cp -rL /usr/include/hdf5/serial $D/include/hdf5
cp -L /usr/include/cmocka.h $D/include/
[ -f /usr/include/cmocka_pbc.h ] && cp -L /usr/include/cmocka_pbc.h $D/include/
# zlib: core/h5chunk.c compresses HDF5 chunks itself (with the libz.so.1 libhdf5 loads, packed below)
cp -L /usr/include/zlib.h /usr/include/zconf.h $D/include/
A=/usr/lib/x86_64-linux-gnu
H=$(ls $A/hdf5/serial/libhdf5.so 2>/dev/null || ls $A/libhdf5_serial.so)
cp -L "$H" $D/lib/libhdf5.so
cp -L $A/libcjson.so $D/lib/libcjson.so
cp -L $A/libcmocka.so $D/lib/libcmocka.so
# the sonames and the closure the dynamic loader will ask for (glibc itself stays the machine's)
for l in "$H" $A/libcjson.so $A/libcmocka.so; do
  so=$(objdump -p "$l" 2>/dev/null | awk '/SONAME/ {print $2}')
  [ -n "$so" ] && cp -L "$l" "$D/lib/$so"
  ldd "$l" | awk '$3 ~ /^\// {print $3}' | while read -r dep; do
    case $(basename "$dep") in
      libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libresolv.so*) ;;
      *) cp -Ln "$dep" "$D/lib/" ;;
    esac
  done
done
ln -sf libz.so.1 $D/lib/libz.so
du -sh $D
