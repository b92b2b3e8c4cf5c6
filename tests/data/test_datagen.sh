#!/usr/bin/env bash
# tools/veil-datagen (docs/datagen.md): the same seed gives the same bytes,
# another seed other bytes; --rows writes that many records; --size stops at
# the first record that crosses the size; the header and the columns are the
# documented ones; identifiers stay in the ranges that are never real;
# missing values follow --missing; bad options fail. TAP output.
#
#   tests/data/test_datagen.sh PATH-TO-veil-datagen
set -u
gen=${1:?usage: test_datagen.sh PATH-TO-veil-datagen}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/veil-datagen-test-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

"$gen" --rows 2000 --seed 42 -o "$tmp/a.csv"
"$gen" --rows 2000 --seed 42 >"$tmp/b.csv"
"$gen" --rows 2000 --seed 43 -o "$tmp/c.csv"
check "the same seed gives byte-identical output (file and stdout)" cmp -s "$tmp/a.csv" "$tmp/b.csv"
check "another seed gives other output" bash -c "! cmp -s '$tmp/a.csv' '$tmp/c.csv'"
check "--rows 2000 writes a header and 2000 records" test "$(wc -l <"$tmp/a.csv")" -eq 2001
# A known answer: the output is part of the format (docs/datagen.md), the
# same from gcc and clang builds and on any machine. A change to the draws,
# the lists or the formatting must change this hash, and the docs with it.
"$gen" --rows 1000 --seed 42 >"$tmp/golden.csv"
check "--rows 1000 --seed 42 is the documented output (SHA-256)" \
	test "$(sha256sum <"$tmp/golden.csv" | cut -c1-64)" = af08126b613df298a56d5ecda91df133489e74e95740ec6e105ac3f1a5c0ce54
"$gen" --rows 1 --seed 42 >"$tmp/one.csv"
check "a shorter run is a prefix of a longer one" cmp -s "$tmp/one.csv" <(head -n 2 "$tmp/a.csv")

header='patient_id,name,email,ssn,phone,date_of_birth,postal_code,sex,age,bmi,systolic_bp,cholesterol,glucose,smoker,diabetes,blood_type,cardiac_event'
check "the header names the documented columns" test "$(head -n 1 "$tmp/a.csv")" = "$header"

# Fields without the quoted name ("Last, First"): 17 columns, 16 commas outside quotes.
fields=$(awk -F'"' 'NR > 1 { if (NF != 3) bad++; n = split($1 "X" $3, f, ","); if (n != 17) bad++ } END { print bad + 0 }' "$tmp/a.csv")
check "every record has 17 fields and one quoted name" test "$fields" -eq 0
check "names are written \"Last, First\"" grep -qE '^P[0-9]{8},"[A-Z][a-z]+, [A-Z][a-z]+",' "$tmp/a.csv"
check "patient ids are P and 8 digits, in order" \
	test "$(sed -n '2p;2001p' "$tmp/a.csv" | cut -c1-9 | tr '\n' ' ')" = "P00000001 P00002000 "

# Identifiers that cannot be real: SSN area 900-999, 555-01xx phones, example domains.
body=$(tail -n +2 "$tmp/a.csv" | awk -F'"' '{ print $1 "NAME" $3 }')
check "every SSN is in the 900-999 area" \
	test "$(echo "$body" | awk -F, '$4 !~ /^9[0-9][0-9]-[0-9][0-9]-[0-9][0-9][0-9][0-9]$/' | wc -l)" -eq 0
check "every phone number is 555-0100..0199 or missing" \
	test "$(echo "$body" | awk -F, '$5 != "" && $5 !~ /^[2-9][0-9][0-9]-555-01[0-9][0-9]$/' | wc -l)" -eq 0
check "every e-mail address is at example.org or example.com, or missing" \
	test "$(echo "$body" | awk -F, '$3 != "" && $3 !~ /^[a-z]+\.[a-z]+[0-9]+@example\.(org|com)$/' | wc -l)" -eq 0
check "ages are 18..90 and match the date of birth on 2026-01-01" \
	test "$(echo "$body" | awk -F, '{ split($6, d, "-"); a = 2026 - d[1] - ((d[2] d[3]) > "0101" ? 1 : 0); if ($9 < 18 || $9 > 90 || a != $9) bad++ } END { print bad + 0 }')" -eq 0
check "the label is 0 or 1 and both occur" \
	test "$(echo "$body" | awk -F, '{ c[$17]++ } END { print (c[0] > 0 && c[1] > 0 && c[0] + c[1] == NR) }')" -eq 1

missing=$(echo "$body" | awk -F, '$10 == "" { m++ } END { print m + 0 }')
check "--missing 0.05 (the default) leaves some bmi values empty ($missing of 2000)" \
	test "$missing" -gt 40 -a "$missing" -lt 170
"$gen" --rows 500 --missing 0 >"$tmp/full.csv"
check "--missing 0 leaves nothing empty" bash -c "! grep -q ',,' '$tmp/full.csv'"

"$gen" --size 1 --seed 5 -o "$tmp/s.csv"
size=$(wc -c <"$tmp/s.csv")
last=$(tail -n 1 "$tmp/s.csv" | wc -c)
check "--size 1 stops at the first record that crosses 1 MiB ($size bytes)" \
	test "$size" -ge 1048576 -a $((size - last)) -lt 1048576

check "--help succeeds and documents --seed" bash -c "'$gen' --help | grep -q -- --seed"
check "an unknown option fails" bash -c "! '$gen' --bogus 2>/dev/null"
check "a bad row count fails" bash -c "! '$gen' --rows 12x 2>/dev/null && ! '$gen' --rows 0 2>/dev/null"
check "--rows and --size together fail" bash -c "! '$gen' --rows 5 --size 1 2>/dev/null"
check "a bad missing rate fails" bash -c "! '$gen' --missing 1.5 2>/dev/null"
check "an unwritable output fails" bash -c "! '$gen' --rows 5 -o /nonexistent/dir/x.csv 2>/dev/null"

echo "1..$n"
exit $failed
