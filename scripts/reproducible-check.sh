#!/usr/bin/env bash
# Reproducible builds (make reproducible-check): builds veil-worker twice,
# from two copies of this source tree in two folders of different names and
# path lengths, and checks that the two binaries are byte-identical: the
# worker's measurement must be something anyone can recompute from source.
# Prints both SHA-384s (the measurement 'veil attest measure' shows for a
# build of this tree with the same compiler and options). Exits 1 when they
# differ.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(mktemp -d "${TMPDIR:-/tmp}/veil-repro-XXXXXX")
trap 'rm -rf "$base"' EXIT
buildtype=${1:-debugoptimized}

build() {
	local dir=$1
	mkdir -p "$dir/src"
	# the working tree as git sees it: tracked files and new files not ignored
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - 2>/dev/null | tar -xf - -C "$dir/src"
	meson setup "$dir/build" "$dir/src" -Dbuildtype="$buildtype" -Dtests=false >"$dir/setup.log" 2>&1 ||
		{ cat "$dir/setup.log" >&2; return 1; }
	ninja -C "$dir/build" src/worker/veil-worker >"$dir/build.log" 2>&1 || { cat "$dir/build.log" >&2; return 1; }
}

build "$base/one"
build "$base/second-build-with-a-longer-path"
a=$base/one/build/src/worker/veil-worker
b=$base/second-build-with-a-longer-path/build/src/worker/veil-worker
ha=$(sha384sum "$a" | cut -d' ' -f1)
hb=$(sha384sum "$b" | cut -d' ' -f1)
echo "build 1: $ha"
echo "build 2: $hb"
if cmp -s "$a" "$b"; then
	echo "reproducible: the two veil-worker builds are byte-identical ($buildtype)"
else
	echo "NOT reproducible: the two veil-worker builds differ ($buildtype)" >&2
	cmp "$a" "$b" | head -5 >&2 || true
	exit 1
fi
