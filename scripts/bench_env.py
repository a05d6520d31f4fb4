"""Throughput of the ScarGym environments with random masked actions.

Measures, for one scenario on one MCM:

* single-process ``Schedule-v0`` steps/s (env.step only, and including drawing the masked action);
* a ``DummyVecEnv`` and a ``SubprocVecEnv`` of ``--n-envs`` envs (env-steps/s summed over the envs;
  masks read from ``obs["action_mask"]``);
* reset time with cached tables (median over ``--resets`` resets), and the first (uncached) reset;
* ``Window-v0`` steps/s (after its first, SCAR-running reset);
* ``render()`` time per frame over a whole Schedule-v0 episode (one frame per step, as a video
  recorder takes them): ``rgb_array`` (the numpy raster), ``ansi``, and for comparison the
  matplotlib Gantt chart (``viewer.gantt_rgb_array``, every 25th step).

Both wall-clock and process-CPU rates are printed (on a loaded machine the CPU rate is the stable
one; SubprocVecEnv children's CPU is not in the parent's process time, so only wall is given).

Usage::

    .venv/bin/python scripts/bench_env.py --scenario sc4 --mcm het-sides-3x3 --steps 20000
    .venv/bin/python scripts/bench_env.py --profile   # cProfile of the single-env step loop
    .venv/bin/python scripts/bench_env.py --render    # render ms/frame only
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _rate(n: int, wall: float, cpu: float) -> str:
    return f"{n / wall:9.0f} steps/s wall   {n / cpu:9.0f} steps/s cpu   ({n} steps, {wall:.2f} s)"


def bench_single(args) -> None:
    import gymnasium as gym

    import scar_gym  # noqa: F401

    env = gym.make("ScarGym/Schedule-v0", scenario=args.scenario, mcm=args.mcm, reward=args.reward,
                   disable_env_checker=True).unwrapped
    t = time.perf_counter()
    env.reset(seed=0)
    print(f"first reset (builds cost tables, reference): {(time.perf_counter() - t) * 1e3:.1f} ms")
    times = []
    for _ in range(args.resets):
        t = time.perf_counter()
        env.reset()
        times.append(time.perf_counter() - t)
    print(f"reset with cached tables: median {np.median(times) * 1e3:.3f} ms, max {np.max(times) * 1e3:.3f} ms "
          f"({args.resets} resets)")
    rng = np.random.default_rng(0)
    # warm-up episode (fills the evaluator's memo the way a training run would)
    env.reset(seed=0)
    n, step_wall, episodes = 0, 0.0, 0
    w0, c0 = time.perf_counter(), time.process_time()
    obs, info = env.reset()
    while n < args.steps:
        valid = np.flatnonzero(info["action_mask"])
        a = int(valid[rng.integers(len(valid))])
        t = time.perf_counter()
        obs, r, term, trunc, info = env.step(a)
        step_wall += time.perf_counter() - t
        n += 1
        if term or trunc:
            episodes += 1
            obs, info = env.reset()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"Schedule-v0 single env, masked random (incl. sampling + resets): {_rate(n, wall, cpu)}")
    print(f"Schedule-v0 single env, env.step() alone: {n / step_wall:9.0f} steps/s wall "
          f"({episodes} episodes of {env.plan.num_decisions} steps)")


def bench_vec(args, kind: str) -> None:
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    cls = DummyVecEnv if kind == "dummy" else SubprocVecEnv
    venv = make_vec_env("scar_gym:ScarGym/Schedule-v0", n_envs=args.n_envs, seed=0, vec_env_cls=cls,
                        env_kwargs={"scenario": args.scenario, "mcm": args.mcm, "reward": args.reward,
                                    "render_mode": None})
    rng = np.random.default_rng(0)
    obs = venv.reset()
    for _ in range(200):  # warm-up (first episode builds tables in the children)
        masks = obs["action_mask"].astype(bool)
        obs, *_ = venv.step(np.array([rng.choice(np.flatnonzero(m)) for m in masks]))
    steps = args.steps // args.n_envs
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        masks = obs["action_mask"].astype(bool)
        obs, *_ = venv.step(np.array([rng.choice(np.flatnonzero(m)) for m in masks]))
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    venv.close()
    n = steps * args.n_envs
    if kind == "dummy":
        print(f"DummyVecEnv x{args.n_envs}: {_rate(n, wall, cpu)}")
    else:
        print(f"SubprocVecEnv x{args.n_envs}: {n / wall:9.0f} env-steps/s wall   ({n} steps, {wall:.2f} s)")


def bench_window(args) -> None:
    import gymnasium as gym

    import scar_gym  # noqa: F401

    env = gym.make("ScarGym/Window-v0", scenario=args.scenario, mcm=args.mcm, disable_env_checker=True).unwrapped
    t = time.perf_counter()
    env.reset(seed=0)
    while not env.step(0)[2]:
        pass
    print(f"Window-v0 first episode (runs SCAR, builds candidate pools): {time.perf_counter() - t:.2f} s")
    rng = np.random.default_rng(0)
    n = 0
    w0, c0 = time.perf_counter(), time.process_time()
    obs, info = env.reset()
    while n < args.steps // 10:
        valid = np.flatnonzero(info["action_mask"])
        obs, r, term, trunc, info = env.step(int(valid[rng.integers(len(valid))]))
        n += 1
        if term:
            obs, info = env.reset()
    print(f"Window-v0 single env, masked random: {_rate(n, time.perf_counter() - w0, time.process_time() - c0)}")


def bench_render(args) -> None:
    import gymnasium as gym

    import scar_gym  # noqa: F401
    from scar_gym import viewer

    for mode in ("rgb_array", "ansi"):
        env = gym.make("ScarGym/Schedule-v0", scenario=args.scenario, mcm=args.mcm, render_mode=mode,
                       disable_env_checker=True).unwrapped
        env.reset(seed=0)
        env.render()  # first frame: font and background set-up
        rng = np.random.default_rng(0)
        times, mpl = [], []
        while True:
            valid = np.flatnonzero(env.action_masks())
            term = env.step(int(valid[rng.integers(len(valid))]))[2]
            t = time.perf_counter()
            frame = env.render()
            times.append(time.perf_counter() - t)
            if mode == "rgb_array" and len(times) % 25 == 1:
                t = time.perf_counter()
                viewer.gantt_rgb_array(env.schedule, env.result, env.evaluator)
                mpl.append(time.perf_counter() - t)
            if term:
                break
        ms = np.array(times) * 1e3
        size = f"{frame.shape[1]}x{frame.shape[0]} px" if mode == "rgb_array" else f"{len(frame.splitlines())} lines"
        print(f"render {mode:9s}: median {np.median(ms):6.2f} ms/frame, p95 {np.percentile(ms, 95):6.2f}, "
              f"max {ms.max():6.2f} ({len(ms)} frames, {size})")
        if mpl:
            print(f"  matplotlib Gantt (viewer.gantt_rgb_array) for comparison: median "
                  f"{np.median(mpl) * 1e3:.0f} ms/frame ({len(mpl)} frames)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="sc4")
    p.add_argument("--mcm", default="het-sides-3x3")
    p.add_argument("--reward", default="edp_log_ratio_shaped")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--resets", type=int, default=200)
    p.add_argument("--n-envs", type=int, default=2)
    p.add_argument("--no-vec", action="store_true", help="skip the vec-env benchmarks")
    p.add_argument("--no-window", action="store_true", help="skip Window-v0")
    p.add_argument("--profile", action="store_true", help="cProfile the single-env loop and print the top entries")
    p.add_argument("--render", action="store_true", help="only the render benchmark (ms per frame)")
    args = p.parse_args()
    print(f"scenario {args.scenario} on {args.mcm}, reward {args.reward}; cpus {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(bench_single, args)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return
    if args.render:
        bench_render(args)
        return
    bench_single(args)
    if not args.no_vec:
        bench_vec(args, "dummy")
        bench_vec(args, "subproc")
    if not args.no_window:
        bench_window(args)
    bench_render(args)


if __name__ == "__main__":
    main()
