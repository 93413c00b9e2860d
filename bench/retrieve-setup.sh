#!/usr/bin/env bash
# bench/retrieve-setup.sh: what bench/b10-retrieve.sh compares fa with.
#   - Debian packages: python3-numpy with OpenBLAS, and Debian's FAISS
#     (libfaiss-dev, built for generic x86-64), installed with apt-get
#     when root;
#   - FAISS 1.7.3 from Debian's source package, built with
#     -DFAISS_OPT_LEVEL=avx2 (the fair comparison; about five minutes on
#     two cores), once, into $FA_BENCH_DIR/faiss-avx2 and reused after.
# Prints what it could not do as "setup: ..." lines; never fails the bench.
set -u
out=${FA_BENCH_DIR:-$(cd "$(dirname "$0")" && pwd)/out}
mkdir -p "$out"
export DEBIAN_FRONTEND=noninteractive

apt_retry() { # apt-get waits for the dpkg lock other jobs may hold
  local _
  for _ in 1 2 3 4 5 6; do
    apt-get -o DPkg::Lock::Timeout=120 "$@" && return 0
    sleep 10
  done
  return 1
}

root=false
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && root=true

need=()
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, not a pyenv shim
"$py" -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread libopenblas-dev)
[ -e /usr/include/faiss/IndexFlat.h ] || need+=(libfaiss-dev)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v dpkg-source >/dev/null 2>&1 || need+=(dpkg-dev)
if [ ${#need[@]} -gt 0 ]; then
  if $root; then
    echo "setup: installing ${need[*]}"
    apt_retry install -y -qq --no-install-recommends "${need[@]}" >/dev/null ||
      echo "setup: apt-get install failed"
  else
    echo "setup: missing ${need[*]} (not root: run apt-get install yourself)"
  fi
fi

# FAISS with AVX2 from Debian's source package.
fdir=$out/faiss-avx2
if [ -e "$fdir/lib/libfaiss_avx2.so" ] || [ -e "$fdir/lib/libfaiss_avx2.a" ]; then
  exit 0
fi
if [ -e "$fdir/FAILED" ]; then
  echo "setup: FAISS AVX2 build failed before (see $fdir/build.log; remove $fdir/FAILED to retry)"
  exit 0
fi
mkdir -p "$fdir"
exec 9>"$fdir/.lock"
flock 9 # another bench run may be building it
if ls "$fdir"/lib/libfaiss_avx2.* >/dev/null 2>&1; then
  exit 0
fi
src=$(find "$fdir" -maxdepth 1 -type d -name 'faiss-1.*' | head -n 1)
if [ -z "$src" ]; then
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
     ! grep -qs '^deb-src' /etc/apt/sources.list; then
    if $root; then
      echo "setup: adding a deb-src line (/etc/apt/sources.list.d/fa-bench-src.sources)"
      sed -e 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        >/etc/apt/sources.list.d/fa-bench-src.sources &&
        apt_retry update -qq >/dev/null
    else
      echo "setup: no deb-src line and not root: cannot fetch FAISS's source"
      exit 0
    fi
  fi
  (cd "$fdir" && apt-get source -qq faiss >"$fdir/source.log" 2>&1) ||
    { echo "setup: apt-get source faiss failed (see $fdir/source.log)"; exit 0; }
  src=$(find "$fdir" -maxdepth 1 -type d -name 'faiss-1.*' | head -n 1)
fi
echo "setup: building FAISS $(basename "$src") with AVX2 in $fdir (once; ~5 min on 2 cores)"
(
  cd "$src" &&
  nice -n 19 cmake -B build -DCMAKE_BUILD_TYPE=Release -DFAISS_ENABLE_GPU=OFF \
    -DFAISS_ENABLE_PYTHON=OFF -DBUILD_TESTING=OFF -DBUILD_SHARED_LIBS=ON \
    -DFAISS_OPT_LEVEL=avx2 -DBLA_VENDOR=OpenBLAS &&
  nice -n 19 make -C build -j2 faiss_avx2
) >"$fdir/build.log" 2>&1
lib=$(find "$src/build" -name 'libfaiss_avx2.so*' -o -name 'libfaiss_avx2.a' | head -n 1)
if [ -z "$lib" ]; then
  touch "$fdir/FAILED"
  echo "setup: FAISS AVX2 build failed (see $fdir/build.log)"
  exit 0
fi
mkdir -p "$fdir/lib" "$fdir/include"
cp -a "$src"/build/faiss/libfaiss_avx2.so* "$fdir/lib/" 2>/dev/null || cp -a "$lib" "$fdir/lib/"
cp -a "$src/faiss" "$fdir/include/"
echo "setup: FAISS AVX2 built: $(ls "$fdir/lib")"
