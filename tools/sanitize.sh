#!/usr/bin/env bash
# Build the kernels with AddressSanitizer and UndefinedBehaviorSanitizer into a
# throwaway venv and run the tests that call them.
#
#   tools/sanitize.sh [pytest arguments]
#
# With no arguments it runs the kernel, gradient and estimator tests (the ones
# that call the kernels) and the fuzz tests. Any sanitizer report fails the run
# (halt_on_error). Leak detection is off: CPython itself leaks at exit.
# SANITIZE_VENV=<dir> reuses (or keeps) the venv and its build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

venv="${SANITIZE_VENV:-$(mktemp -d)/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# shellcheck disable=SC1091
. "$venv/bin/activate"
pip install -q meson-python meson ninja Cython numpy scipy
# debugoptimized: the release -O2 plus -g, so reports name file and line
pip install -q --no-build-isolation \
    -Cbuild-dir="$venv/build" \
    -Csetup-args=-Dbuildtype=debugoptimized \
    -Csetup-args=-Db_sanitize=address,undefined \
    -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dc_args=-fno-omit-frame-pointer \
    ".[test]"
pip install -q hypothesis

# The interpreter is not instrumented: the sanitizer runtimes must load first.
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# a few threads so that the OpenMP loops really run in parallel
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

if [ "$#" -eq 0 ]; then
    set -- tests/test_kernels.py tests/test_gradients.py tests/test_recurrent.py \
        tests/test_echo_state.py tests/test_em.py tests/test_simplex.py \
        tests/test_inspection.py tests/test_fuzz.py
fi
start=$(date +%s)
cd "$root"
pytest -q -p no:cacheprovider "$@"
echo "sanitized tests passed in $(($(date +%s) - start)) s"
