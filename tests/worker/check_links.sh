#!/usr/bin/env bash
# veil-worker links only what tests/worker/link-allowlist.txt allows, and
# carries no code of the modules it must not contain (catalog, key store,
# object store, audit, access, SQLite, jansson, HTTP). TAP.
set -u
worker=$1
sanitize=${2:-none} # meson's b_sanitize: its runtimes are allowed in such a build only
allow=$(dirname "$0")/link-allowlist.txt
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

[ -x "$worker" ] && ok "veil-worker is built" || notok "veil-worker is built ($worker)"
mapfile -t needed < <(readelf -d "$worker" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ ${#needed[@]} -gt 0 ] && ok "readelf lists its shared libraries" || notok "readelf lists its shared libraries"
for lib in "${needed[@]}"; do
	if grep -qE "^${lib//./\\.}([[:space:]]|$)" "$allow"; then
		ok "links $lib, which the allowlist names"
	elif [ "$sanitize" != none ] && [[ $lib == libasan.so.* || $lib == libubsan.so.* ]]; then
		ok "links $lib, a sanitizer runtime of this $sanitize build"
	else
		notok "links $lib, which is not in tests/worker/link-allowlist.txt"
	fi
done
# Static libraries leave no NEEDED entry: look for their symbols instead.
# External symbols only: a module's API is external, a file's helpers are not.
syms=$(nm -g "$worker" 2>/dev/null; nm -D "$worker" 2>/dev/null)
[ -n "$syms" ] && ok "nm reads its symbols" || notok "nm reads its symbols"
for prefix in veil_catalog_ veil_kms_ veil_store_ veil_audit_ veil_access_ sqlite3_ json_ curl_ event_; do
	if grep -qE "[[:space:]]${prefix}" <<<"$syms"; then
		notok "no ${prefix}* code in the worker"
	else
		ok "no ${prefix}* code in the worker"
	fi
done
# and the protocol it must have
grep -qE "[[:space:]]veil_proto_msg_parse$" <<<"$syms" && ok "it carries the protocol parser" ||
	notok "it carries the protocol parser"
echo "1..$n"
exit $fail
