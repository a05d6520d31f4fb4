"""``scar-gym schedule``: run a scheduling policy on a scenario and MCM, print and save the result.

Example::

    scar-gym schedule --scenario sc4 --mcm het-sides-3x3 --policy scar --objective edp \\
        --json out.json --gantt out.png

``--scenario`` takes an id (``sc4``) or a scenario YAML path; ``--mcm`` a preset name, a generated
family (``het-sides-4x5``), a layout string (``NSN/SNS/NSN``) or an MCM YAML path. Policy options
(``--n-splits``, ``--k``, ``--budget``) are passed to the policy only when given; a policy that does not
take one reports it by name. The JSON file is a schedule file (``schedule.save_schedule_json``, with
the result) that ``scar-gym evaluate`` re-reads, plus ``latency_s``, ``energy_j``, ``edp_js`` and
``scheduler_s`` at the top level.
"""

from __future__ import annotations

import argparse
import time

from scar_gym.commands.args import count, seed
from scar_gym.policies.scar.policy import MAX_K
from scar_gym.policies.search.common import MAX_BUDGET
from scar_gym.envs.rollout_search import ANY_SIZE_SEARCH, MAX_SAMPLES
from scar_gym.policies.windows import MAX_SPLITS
from scar_gym.fileio import is_dir, is_file

#: Bounds of the policy options (past them a run would not finish in any useful time); the
#: libraries check them too.
MAX_N_SPLITS = MAX_SPLITS


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("schedule", help="schedule a scenario on an MCM with a policy (SCAR, baselines, ...)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", required=True, help="scenario id (sc1..sc10) or a scenario YAML path")
    p.add_argument("--mcm", required=True, help="MCM preset, family pattern (het-sides-4x5), layout or YAML path")
    p.add_argument("--policy", default="scar", help="policy name (see 'scar-gym list policies'); default scar")
    p.add_argument("--objective", default="edp", choices=("edp", "latency", "energy"), help="default edp")
    p.add_argument("--n-splits", type=count(MAX_N_SPLITS, "window boundaries", minimum=0), default=None,
                   help="window boundaries (policy default: 4)")
    p.add_argument("--k", type=count(MAX_K, "segmentations per model"), default=None,
                   help="SCAR: segmentations kept per model (default 3)")
    p.add_argument("--budget", type=count(MAX_BUDGET, "cost-model evaluations"), default=None,
                   help="search policies: evaluation budget")
    p.add_argument("--seed", type=seed, default=0, help="seed for stochastic policies (default 0)")
    p.add_argument("--samples", type=count(MAX_SAMPLES, "rollouts"), default=None,
                   help="agents (ppo, ppo-3x3, ppo:PATH), window-ls, window-ls-any: rollouts in total, the greedy one "
                        f"included (default: the policy's own, {ANY_SIZE_SEARCH['samples']} for ppo and window-ls-any, "
                        "8 for ppo-3x3 and window-ls; 1 = greedy only)")
    p.add_argument("--improve", default=None, choices=("local", "sample"),
                   help="agents, window-ls, window-ls-any: how the extra rollouts are chosen (default local: prior-guided "
                        "local search)")
    add_cost_arguments(p)
    add_trust_argument(p)
    p.add_argument("--json", default=None, metavar="OUT", help="write the schedule and result (re-readable JSON)")
    p.add_argument("--gantt", default=None, metavar="PNG", help="write a Gantt chart of the schedule")
    p.set_defaults(func=schedule_cmd)


def add_trust_argument(p: argparse.ArgumentParser) -> None:
    """``--trust``, shared by the commands that load agents."""
    p.add_argument("--trust", action="store_true",
                   help="allow loading an agent from a Stable-Baselines3 zip: reading its pickled parts runs "
                        "code stored in the file, so only for files you made or trust (agent directories, "
                        "agent.json + weights, never need it)")


def input_paths(*specs: str | None, scenario=None) -> list[str]:
    """The files behind command-line specs (a YAML path, ``ppo:PATH``, ``ppo-3x3:PATH``, ...) and a
    scenario's layer tables: what an output must never overwrite."""
    from scar_gym.policies.registry import AGENT_POLICIES

    out = []
    for spec in specs:
        if not spec:
            continue
        path = spec.split(":", 1)[1] if spec.split(":", 1)[0] in AGENT_POLICIES and ":" in spec else spec
        if is_file(path) or is_dir(path):
            out.append(path)
    if scenario is not None:
        out += list(scenario.table_paths)
    return out


def add_cost_arguments(p: argparse.ArgumentParser) -> None:
    """``--cost-preset`` and ``--energy``, shared by the commands that score schedules."""
    p.add_argument("--cost-preset", default=None, metavar="PRESET",
                   help="per-layer cost preset: paper (default; MAESTRO's mappings at the paper-fitted off-chip "
                        "bandwidth), maestro (MAESTRO at the MCM's own bandwidths) or legacy")
    p.add_argument("--energy", default=None, metavar="PRESET",
                   help="on-chiplet energy preset overriding the cost preset's (maestro, eyeriss, paper)")


def run_schedule(scenario, mcm: str, policy: str = "scar", objective: str = "edp", seed: int = 0,
                 energy: str | None = None, cost_preset: str | None = None, **policy_kwargs):
    """(scenario, evaluator, schedule, result); ``schedule.meta['scheduler_s']`` is the policy's wall time.
    ``scenario`` is an id, a YAML path or a :class:`~scar_gym.scenarios.Scenario`."""
    from scar_gym.factory import make_evaluator
    from scar_gym.policies.registry import make_policy
    from scar_gym.scenarios import load_scenario

    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    ev = make_evaluator(sc, mcm, objective=objective, preset=cost_preset, energy=energy)
    pol = make_policy(policy, **policy_kwargs)
    t0 = time.perf_counter()
    schedule = pol.schedule(ev, seed=seed)
    schedule.meta["scheduler_s"] = time.perf_counter() - t0
    schedule.meta.setdefault("policy", policy)
    ev.validate(schedule)
    return sc, ev, schedule, ev.evaluate(schedule, check=False)


def summary_rows(ev, schedule, result) -> list[list]:
    rows = []
    for wi, (w, wr) in enumerate(zip(schedule.windows, result.windows)):
        for a, m in zip(w.assignments, wr.models):
            rows.append([wi, ev.models[a.model].name, f"[{a.start},{a.stop})", " ".join(map(str, a.chiplets)),
                         len(a.segments), f"{m.minibatch}/{ev.batches[a.model]}", f"{m.latency_s:.4g}",
                         f"{m.energy_j:.4g}"])
    return rows


def schedule_cmd(args: argparse.Namespace) -> int:
    from scar_gym.fileio import check_outputs
    from scar_gym.scenarios import load_scenario
    from scar_gym.schedule import save_schedule_json
    from scar_gym.textfmt import format_table

    scenario = load_scenario(args.scenario)
    outputs = {"--json": args.json, "--gantt": args.gantt}
    check_outputs(outputs, input_paths(args.scenario, args.mcm, args.policy, scenario=scenario))
    sc, ev, schedule, r = run_schedule(scenario, args.mcm, args.policy, args.objective, args.seed, args.energy,
                                       args.cost_preset, n_splits=args.n_splits, k=args.k, budget=args.budget,
                                       samples=args.samples, improve=args.improve,
                                       trust=True if args.trust else None)
    print(f"scenario {sc.id}: {sc.summary()}")
    print(f"mcm {ev.mcm.name}: {ev.mcm.shape} {ev.mcm.topology}, {'/'.join(ev.mcm.layout)}, {ev.mcm.pes} PEs per chiplet")
    print(f"policy {args.policy}, objective {args.objective}, seed {args.seed}, "
          f"cost preset {ev.cost_model.preset.name} (energy {ev.cost_model.energy.name})")
    print()
    print(format_table(["window", "model", "layers", "chiplets", "segments", "minibatch", "latency_s", "energy_j"],
                       summary_rows(ev, schedule, r), align="rlllrrrr"))
    print()
    print(f"latency_s    {r.latency_s:.6g}")
    print(f"energy_j     {r.energy_j:.6g}  (compute {r.compute_j:.6g}, nop {r.nop_j:.6g}, dram {r.dram_j:.6g})")
    print(f"edp_js       {r.edp_js:.6g}")
    evals = schedule.meta.get("evaluations")
    print(f"scheduler_s  {schedule.meta['scheduler_s']:.3f}" + (f"  ({evals} cost-model evaluations)" if evals else "")
          + "  -- the paper gives no scheduler runtime; we publish ours")
    if "greedy_edp_js" in schedule.meta:  # a rollout-search policy: its greedy rollout, beside the best kept
        m = schedule.meta
        print(f"greedy_edp_js {m['greedy_edp_js']:.6g}  (greedy rollout alone; best of {m['rollouts']} rollouts "
              f"({m['improve']}) is rollout {m['best_rollout']})")
        if "reference_s" in m:
            print(f"reference_s  {m['reference_s']:.3f}  (of scheduler_s, reference runs inside the policy: SCAR's "
                  f"windows and anchor; the policy's own time is {schedule.meta['scheduler_s'] - m['reference_s']:.3f} s)")
    if args.json:
        save_schedule_json(args.json, schedule, sc.to_dict(), ev.mcm.to_dict(), result=r.to_dict(),
                           cost_model=ev.cost_model.describe(), context=ev.context(sc.to_dict()),
                           summary={"latency_s": r.latency_s, "energy_j": r.energy_j, "edp_js": r.edp_js,
                                    "scheduler_s": schedule.meta["scheduler_s"]})
        print(f"wrote {args.json}")
    if args.gantt:
        from scar_gym.viewer import save_gantt

        save_gantt(args.gantt, schedule, r, ev)
        print(f"wrote {args.gantt}")
    return 0
