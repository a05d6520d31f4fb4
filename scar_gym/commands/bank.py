"""``scar-gym bank build|info``: scenario banks, Window-v0's per-scenario setup computed once.

``bank build --n N --seed S --out DIR`` draws scenarios ``0 .. N-1`` of the random generator with
seed ``S`` (the train seeds 0 .. 9999 for a training bank; see :mod:`scar_gym.suites`), runs SCAR
and builds the candidate pools of each on ``--jobs`` processes or a Ray cluster (``--address``),
and writes them to DIR (:mod:`scar_gym.envs.bank`). Entries already in DIR are kept, so a
bank grows or resumes. Use it with ``gym.make("ScarGym/Window-v0", bank=DIR)`` or a training
config's ``bank: DIR``.
"""

from __future__ import annotations

import argparse
import os
import sys

from scar_gym.commands.args import add_parallel_arguments, count, seed

#: Largest bank built in one command (each entry is some 40 kB and seconds of CPU).
MAX_BANK = 100_000


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bank", help="scenario banks: Window-v0's SCAR runs and candidate pools, cached on disk",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="bank_cmd", required=True, metavar="build|info")
    b = sub.add_parser("build", help="compute a bank of random scenarios (in parallel)",
                       description=__doc__.split("\n\n")[1])
    b.add_argument("--n", type=count(MAX_BANK, "scenarios"), required=True, help="scenarios 0 .. N-1 of the generator")
    b.add_argument("--seed", type=seed, default=0, help="generator seed (default 0, a train seed)")
    b.add_argument("--domain", default="any", choices=("any", "datacenter", "arvr"),
                   help="scenario domain (default any: drawn per scenario, as training configs' domain: null)")
    b.add_argument("--min-models", type=count(16, "models"), default=2)
    b.add_argument("--max-models", type=count(16, "models"), default=5)
    b.add_argument("--mcm", default="het-sides-3x3", help="MCM preset name or YAML (default het-sides-3x3)")
    b.add_argument("--cost-preset", default=None, metavar="PRESET", help="cost preset (default: the default preset)")
    b.add_argument("--objective", default="edp", choices=("edp", "latency", "energy"),
                   help="the pools' sort objective: the env reward's (default edp)")
    b.add_argument("--k", type=count(64, "cut sets"), default=3, help="Window-v0's k (default 3)")
    b.add_argument("--per-signature", type=count(64, "placements"), default=2,
                   help="Window-v0's per_signature (default 2)")
    b.add_argument("--out", required=True, metavar="DIR", help="bank directory (new, empty, or a bank to extend)")
    add_parallel_arguments(b, "scenarios", default_jobs=None)
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=build_cmd)
    i = sub.add_parser("info", help="what a bank holds")
    i.add_argument("dir", metavar="DIR")
    i.set_defaults(func=info_cmd)


def build_cmd(args: argparse.Namespace) -> int:
    import time

    from scar_gym.envs.bank import build_bank
    from scar_gym.errors import ConfigError
    from scar_gym.parallel import ray_address
    from scar_gym.presets import load_mcm
    from scar_gym.suites import Suite

    if args.max_models < args.min_models:
        raise ConfigError("--max-models", f"{args.max_models} < --min-models {args.min_models}",
                          "give --max-models >= --min-models")
    load_mcm(args.mcm)  # a bad name fails before any work
    domain = None if args.domain == "any" else args.domain
    scenarios = Suite.random(args.seed, args.n, domain=domain, min_models=args.min_models,
                             max_models=args.max_models).all()
    recipe = {"source": "random", "seed": args.seed, "n": args.n, "domain": domain,
              "min_models": args.min_models, "max_models": args.max_models}
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(scenarios), desc="bank entries", unit="scenario", file=sys.stderr)
    t0 = time.perf_counter()
    report = build_bank(args.out, scenarios, mcm=args.mcm, cost_preset=args.cost_preset, objective=args.objective,
                        k=args.k, per_signature=args.per_signature, recipe=recipe,
                        jobs=args.jobs or os.cpu_count() or 1, address=ray_address(args.address),
                        on_result=(lambda o: bar.update(1)) if bar is not None else None)
    if bar is not None:
        bar.close()
    print(f"{report.path}: {report.added} entries computed, {report.kept} already there, "
          f"{len(report.failed)} failed ({time.perf_counter() - t0:.1f} s)")
    for sid, err in report.failed:
        print(f"  failed: {sid}: {err}", file=sys.stderr)
    return 1 if report.failed else 0


def info_cmd(args: argparse.Namespace) -> int:
    from scar_gym.envs.bank import ScenarioBank

    bank = ScenarioBank.open(args.dir, "DIR")
    m = bank.manifest
    print(f"{bank.path}: {len(bank)} scenarios on {m['mcm'].get('name')}, cost preset "
          f"{m['cost_model']['preset'].get('name')}, objective {m['objective']}, k {m['k']}, "
          f"per_signature {m['per_signature']} (format {m['format']})")
    for r in bank.recipes:
        print("  drawn from: " + ", ".join(f"{k}={v}" for k, v in r.items()))
    return 0
