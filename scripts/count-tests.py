#!/usr/bin/env python3
"""Count passed and failed test cases in a meson testlog.json.

TAP tests (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, and the command-line test
scripts) count each "ok"/"not ok" line; any other test counts once.
A TAP test whose binary failed without reporting a failing case counts one
extra failure, so a crash is never read as a pass.
Prints "PASSED FAILED".
"""
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        t = json.loads(line)
        out = t.get("stdout") or ""
        oks = len(re.findall(r"^ok \d+", out, re.M))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        ok_result = t.get("result") in ("OK", "EXPECTEDFAIL")
        if oks or bad:
            passed += oks
            failed += bad
            if not ok_result and bad == 0:
                failed += 1
        elif ok_result:
            passed += 1
        else:
            failed += 1  # a skipped test is not a pass
print(passed, failed)
