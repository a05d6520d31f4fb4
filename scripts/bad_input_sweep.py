#!/usr/bin/env python
"""Issue 13's bad-input sweep: every case of ``tests/bad_input_cases.py``, counted by outcome.

Each command-line case runs in-process (``scar_gym.cli.main``) with a time limit (a hang), and is
classified as

* **clear error**: exit status 2 and an ``error:`` line naming the case's field or file (``one
  line`` when that is all stderr holds);
* **unclear error**: a non-zero exit without a traceback whose message does not name the field;
* **traceback**: an exception escaped;
* **hang**: still running at the case's time limit (60 s; 120 s for the SCAR-on-big-grid cases);
* **silently accepted**: exit 0 with no note; **note only**: exit 0 with a ``note:``;

and additionally flagged when an input file changed or code from a crafted file ran. The library
cases (env options and actions, loaders) count as clear when a ScarGymError naming the field is
raised. The counts are printed per category of the issue (``CATEGORIES``), then every case that
is not a clear error.

    .venv/bin/python scripts/bad_input_sweep.py                       # this checkout
    PYTHONPATH=/tmp/old .venv/bin/python scripts/bad_input_sweep.py    # an older checkout, same cases

``--only PREFIX`` runs the cases whose id starts with it; ``--json OUT`` writes every outcome.
Cases marked ``new`` (they use a flag the fix added) are left out unless ``--with-new``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import bad_input_cases as bic  # noqa: E402

KINDS = ("clear", "unclear", "traceback", "hang", "accepted", "note")
LABELS = {"clear": "clear error", "unclear": "unclear error", "traceback": "traceback", "hang": "hang",
          "accepted": "silently accepted", "note": "note only"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="run only the cases whose id starts with this")
    ap.add_argument("--with-new", action="store_true", help="also the cases of flags the fix added")
    ap.add_argument("--json", default=None, help="write every outcome here")
    ap.add_argument("--workdir", default=None, help="fixture and case folders (default: a temporary one)")
    args = ap.parse_args()

    import scar_gym

    print(f"scar_gym from {Path(scar_gym.__file__).parent}", flush=True)
    root = Path(args.workdir or tempfile.mkdtemp(prefix="bad_inputs_"))
    f = root / "fixtures"
    bic.make_fixtures(f)
    cases = [c for c in bic.CASES if c.id.startswith(args.only) and (args.with_new or not c.new)]
    outcomes = []
    t0 = time.time()
    for i, c in enumerate(cases):
        o = bic.run_case(c, root / "cases" / c.id.replace("/", "__"), f)
        if o.kind == "ok":
            o.kind = "clear"  # a good input in disguise, answered as it should be
        outcomes.append(o)
        if o.kind != "clear" or o.changed or o.code_ran:
            print(f"[{i + 1}/{len(cases)}] {c.id}: {o.kind} ({o.seconds:.1f} s) "
                  f"{(o.error or o.stderr.strip().splitlines()[-1] if o.stderr.strip() else o.error)[:160]!r}"
                  + (f" CHANGED {o.changed}" if o.changed else "") + (" CODE RAN" if o.code_ran else ""), flush=True)
    lib = [] if args.only and not "library".startswith(args.only) else bic.LIBRARY_CASES
    lib_out = [(c, *bic.run_lib_case(c, f)) for c in lib]
    for c, kind, msg in lib_out:
        if kind != "clear":
            print(f"library {c.id}: {kind} {msg[:160]!r}", flush=True)

    print(f"\n{len(outcomes)} command-line cases in {time.time() - t0:.0f} s; {len(lib_out)} library cases\n")
    by_cat: dict[str, Counter] = defaultdict(Counter)
    for o in outcomes:
        by_cat[o.case.category][o.kind] += 1
    for c, kind, _ in lib_out:
        by_cat[c.category][kind] += 1
    header = ["category", "cases", *(LABELS[k] for k in KINDS), "one-line (CLI)", "input changed", "code ran"]
    rows = []
    for cat, label in bic.CATEGORIES.items():
        n = by_cat[cat]
        outs = [o for o in outcomes if o.case.category == cat]
        rows.append([label, sum(n.values()), *(n[k] for k in KINDS),
                     sum(o.one_line for o in outs if o.kind == "clear" and o.case.expect != 0),
                     sum(bool(o.changed) for o in outs), sum(o.code_ran for o in outs)])
    tot = Counter()
    for o in outcomes:
        tot[o.kind] += 1
    for _, kind, _ in lib_out:
        tot[kind] += 1
    rows.append(["total", sum(tot.values()), *(tot[k] for k in KINDS),
                 sum(o.one_line for o in outcomes if o.kind == "clear" and o.case.expect != 0),
                 sum(bool(o.changed) for o in outcomes),
                 sum(o.code_ran for o in outcomes)])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"id": o.case.id, "category": o.case.category, "kind": o.kind, "code": o.code, "seconds": round(o.seconds, 2),
              "stderr": o.stderr[-500:], "error": o.error, "changed": list(o.changed), "code_ran": o.code_ran,
              "one_line": o.one_line} for o in outcomes]
            + [{"id": c.id, "category": c.category, "kind": kind, "message": msg} for c, kind, msg in lib_out],
            indent=1))
    bad = sum(tot[k] for k in ("traceback", "hang", "accepted", "note", "unclear"))
    return 1 if bad or any(o.changed or o.code_ran for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
