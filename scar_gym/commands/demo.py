"""``scar-gym demo``: the main job on built-in defaults.

Schedules paper scenario 4 (GPT-L, BERT-L, U-Net, ResNet-50) on the Het-Sides 3x3 MCM with SCAR,
prints SCAR's schedule, then compares SCAR with the baselines, the shipped PPO agent (``ppo``: the
size-agnostic one, which runs no SCAR) and ``window-ls-any`` (its search without the network) on the
same scenario, all scored by the one evaluator;
for the rollout-search policies the greedy rollout's EDP is printed beside the best kept. Any
scenario and MCM can be given instead.
"""

from __future__ import annotations

import argparse

from scar_gym.commands.args import seed

DEMO_POLICIES = ("standalone", "greedy", "random", "window-ls-any", "ppo")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="schedule paper scenario 4 with SCAR and compare policies",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="sc4", help="scenario id or YAML path (default sc4)")
    p.add_argument("--mcm", default="het-sides-3x3", help="MCM preset, pattern or YAML (default het-sides-3x3)")
    p.add_argument("--seed", type=seed, default=0)
    p.set_defaults(func=demo_cmd)


def demo_cmd(args: argparse.Namespace) -> int:
    from scar_gym.benchmark import run_benchmark
    from scar_gym.commands.schedule import run_schedule, summary_rows
    from scar_gym.policies.registry import AGENT_POLICY, policy_names
    from scar_gym.textfmt import format_table

    sc, ev, schedule, r = run_schedule(args.scenario, args.mcm, "scar", seed=args.seed)
    print(f"scenario {sc.id}: {sc.summary()}")
    print(f"mcm {ev.mcm.name}: {ev.mcm.shape}, layout {'/'.join(ev.mcm.layout)} (N = NVD, S = Shi), "
          f"{ev.mcm.pes} PEs per chiplet; per-layer costs: cost preset {ev.cost_model.preset.name} "
          "(MAESTRO's mappings, see the README)")
    print("\nSCAR's schedule (windows from MCM-Reconfig; chiplets of each model's pipeline in order):")
    print(format_table(["window", "model", "layers", "chiplets", "segments", "minibatch", "latency_s", "energy_j"],
                       summary_rows(ev, schedule, r), align="rlllrrrr"))
    print(f"\nSCAR: latency {r.latency_s:.4g} s, energy {r.energy_j:.4g} J, EDP {r.edp_js:.4g} J s, "
          f"scheduled in {schedule.meta['scheduler_s']:.2f} s")

    policies = [p for p in DEMO_POLICIES if p in policy_names()]
    if AGENT_POLICY not in policies:
        print(f"(no {AGENT_POLICY!r} policy registered: the agent is skipped; install scar-gym with agents/)")
    try:
        import torch  # noqa: F401  (the agent needs the rl extra)
    except ImportError:
        policies = [p for p in policies if p != AGENT_POLICY]
        print("(torch not installed: the PPO agent is skipped; pip install 'scar-gym[rl]')")
    rows = run_benchmark(policies, scenarios=[sc], seed=args.seed, mcm=args.mcm)
    print("\nAll policies on the same evaluator (lower EDP is better):")
    print(format_table(["policy", "latency_s", "energy_j", "edp_js", "EDP/SCAR", "scheduler_s", "evaluations"],
                       [[r.policy, f"{r.latency_s:.4g}", f"{r.energy_j:.4g}", f"{r.edp_js:.4g}", f"{r.edp_vs_scar:.3f}",
                         f"{r.scheduler_s:.2f}", r.num_evaluations] for r in rows], align="lrrrrrr"))
    for row in rows:
        m = row.meta
        if "greedy_edp_js" in m:
            scar_edp = row.edp_js / row.edp_vs_scar
            print(f"{row.policy}: greedy rollout alone EDP {m['greedy_edp_js']:.4g} J s "
                  f"({m['greedy_edp_js'] / scar_edp:.3f} x SCAR); best of {m['rollouts']} rollouts kept "
                  f"(rollout {m['best_rollout']})")
    return 0
