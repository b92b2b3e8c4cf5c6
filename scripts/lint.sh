#!/usr/bin/env bash
# Static analysis: clang-tidy (config: .clang-tidy) over every source file
# using the build's compile_commands.json, cppcheck (config:
# scripts/cppcheck.supp), clang-format (.clang-format) over every C file,
# and the banned-function check. Exits non-zero on
# any finding.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
status=0

files=$(git ls-files 'src/*.c' 2>/dev/null || find src -name '*.c')

echo "lint: clang-tidy"
if ! clang-tidy -p "$build" --quiet $files 2>/dev/null >/tmp/veil-tidy.$$; then
	cat /tmp/veil-tidy.$$; status=1
fi
rm -f /tmp/veil-tidy.$$

echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	--std=c11 --inline-suppr --suppressions-list=scripts/cppcheck.supp --library=scripts/jansson.cfg \
	-I include -D_GNU_SOURCE $files || status=1

echo "lint: clang-format"
# Style is checked by a tool, not by memory: every C file must match .clang-format.
all_c=$(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests fuzz bench -name '*.[ch]')
if ! clang-format --dry-run --Werror $all_c 2>/tmp/veil-format.$$; then
	head -20 /tmp/veil-format.$$
	echo "lint: run 'make format' to fix the formatting" >&2
	status=1
fi
rm -f /tmp/veil-format.$$

echo "lint: banned functions"
# sprintf/strcpy/strcat/atoi/gets have bounded or checked replacements.
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|gets)\s*\(' $files; then
	echo "lint: use snprintf/veil_fmt, memcpy with a checked length, or strtol instead" >&2
	status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
