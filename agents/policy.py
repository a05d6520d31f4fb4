"""``PPOPolicy``: a trained MaskablePPO agent as a :class:`~scar_gym.policies.base.Policy`.

Registered as ``ppo`` through the ``scar_gym.policies`` entry point (``pyproject.toml``), so the
library finds it without importing ``agents``. ``--policy ppo`` is the shipped agent
(:data:`agents.DEFAULT_AGENT` in ``agents/pretrained/``: the size- and layout-agnostic
``window-any-size``; ``ppo-any`` is the same agent under its earlier name); ``--policy ppo-3x3`` is
the agent shipped before it (:data:`agents.ANCHORED_3X3_AGENT`: SCAR-anchored, het-sides-3x3 only);
``--policy ppo:PATH`` loads another: an agent directory (``agent.json`` + ``policy.pt``,
:mod:`agents.agentfile`), a run directory (its ``best_agent/``, else ``final_agent/``) or a
pretrained name. The agent file carries the training
config: it names the env id and kwargs the agent was trained with, so inference builds the same
observation.

Agent directories hold weights only: loading one never runs code from the file. A
Stable-Baselines3 zip (``model.zip``, ``best_model.zip``, a checkpoint) is loaded only with
``trust=True`` (the CLI's ``--trust``), because ``MaskablePPO.load`` unpickles the objects stored in
it; its training config is then read from ``config.yaml`` beside the zip (or one directory up, for
``checkpoints/*.zip``). ``scar-gym convert-agent ZIP OUT --trust`` turns such a zip into an agent
directory once.

Inference is :class:`~scar_gym.envs.rollout_search.RolloutSearchPolicy` with the trained
network as the prior: the env is rolled out on the evaluator's models and MCM (sharing its cost
tables), one greedy rollout and then, by default, a policy-guided local search over one-decision
changes (``samples`` rollouts in all); every rollout is scored by the shared Evaluator and the best
is returned, the greedy one being reported in ``Schedule.meta``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agents import ANCHORED_3X3_AGENT, ANY_SIZE_AGENT
from scar_gym.errors import ConfigError
from scar_gym.evaluator import Evaluator
from scar_gym.envs.rollout_search import ANY_SIZE_ENV, ANY_SIZE_SEARCH, RolloutSearchPolicy

#: Where a run or pretrained directory keeps its agent: agent directories first (weights only),
#: then Stable-Baselines3 zips (``--trust`` only).
AGENT_DIRS = ("best_agent", "final_agent")
AGENT_ZIPS = ("model.zip", "best_model.zip", "final_model.zip")
#: Rollouts per schedule at most (the CLI's bound too).
MAX_SAMPLES = 10_000
#: Search settings of an agent trained on MCM-Reconfig windows (it runs no SCAR, so it tries
#: boundary sets itself): those of ``window-ls-any`` (:data:`~scar_gym.envs.rollout_search.ANY_SIZE_SEARCH`).
RECONFIG_SEARCH = ANY_SIZE_SEARCH
#: Rollouts of an agent trained on SCAR's windows (``ppo-3x3``).
DEFAULT_SAMPLES = 8


def resolve_agent_path(path: str | Path | None, default: str | None = None) -> tuple[Path, Path | None]:
    """(agent directory or model zip, config.yaml beside a zip or None) for an agent directory, a run
    directory, a zip or a pretrained name (``None``: the shipped agent, or the pretrained ``default``)."""
    from agents import DEFAULT_AGENT, PRETRAINED_DIR
    from agents.agentfile import is_agent_dir
    from scar_gym.fileio import is_dir, is_file

    field = "agent"
    if path is None or path == "":
        p = PRETRAINED_DIR / (default or DEFAULT_AGENT)
    else:
        p = Path(path)
        if not (is_file(p) or is_dir(p)) and "/" not in str(path) and is_dir(PRETRAINED_DIR / str(path)):
            p = PRETRAINED_DIR / str(path)
    if is_dir(p) and not is_agent_dir(p):
        found = [p / d for d in AGENT_DIRS if is_agent_dir(p / d)] + [p / z for z in AGENT_ZIPS if (p / z).is_file()]
        if not found:
            raise ConfigError(field, f"no agent in {str(p)!r} (no agent.json, {', '.join(AGENT_DIRS)}/ or "
                              f"{', '.join(AGENT_ZIPS)})", "give an agent directory or a run directory with one")
        p = found[0]
    if not (is_file(p) or is_dir(p)):
        if path is None:
            raise ConfigError(field, f"the shipped agent is missing ({p})",
                              f"train it with python scripts/train_shipped_agent.py --agent {p.name}")
        raise ConfigError(field, f"no such file or directory {str(path)[:200]!r}",
                          "give an agent directory or run directory")
    if p.is_dir():
        return p, None
    cfg = next((c for c in (p.parent / "config.yaml", p.parent.parent / "config.yaml") if c.is_file()), None)
    return p, cfg


class PPOPolicy(RolloutSearchPolicy):
    """A trained MaskablePPO scheduler (see the module docstring).

    Args:
        path: agent directory / run dir / pretrained name, or (with ``trust``) a model zip; ``None`` =
            the class's :attr:`default_agent` (for ``ppo``: the shipped agent, :data:`agents.DEFAULT_AGENT`).
        samples, improve, window_sets, prior_sets, lookahead, polish: as
            :class:`~scar_gym.envs.rollout_search.RolloutSearchPolicy`; ``None`` (the default) takes
            :data:`RECONFIG_SEARCH` for an agent trained with ``windows: reconfig`` (the network's
            greedy rollout on SCAR's periodic windows, the lookahead's on five boundary sets, 12
            rollouts, the window polish), else 8 rollouts on the env's windows without the lookahead
            or the polish.
        trust: allow a Stable-Baselines3 zip, whose pickled parts run code from the file.
    """

    name = "ppo"
    description = ("trained MaskablePPO agent: 'ppo' = the shipped size-agnostic one (any MCM up to 8x8, no SCAR "
                   "run), 'ppo:PATH' = an agent or run directory")
    #: ``ppo:PATH`` fills this parameter (see scar_gym.policies.registry.make_policy).
    name_arg = "path"
    #: The pretrained agent of ``path=None`` (``None``: :data:`agents.DEFAULT_AGENT`).
    default_agent: str | None = None

    def __init__(self, path: str | None = None, samples: int | None = None, improve: str = "local",
                 trust: bool = False, window_sets: int | None = None, lookahead: bool | None = None,
                 polish: bool | None = None, prior_sets: int | None = None):
        if isinstance(samples, int) and not isinstance(samples, bool) and samples > MAX_SAMPLES:
            raise ConfigError("samples", f"at most {MAX_SAMPLES:,} rollouts, got {samples:,}", "use e.g. 8")
        if not isinstance(trust, bool):
            raise ConfigError("trust", f"expected true or false, got {trust!r}", "pass trust=True or nothing")
        super().__init__(DEFAULT_SAMPLES if samples is None else samples, improve,
                         1 if window_sets is None else window_sets, False if lookahead is None else lookahead,
                         False if polish is None else polish, prior_sets)
        self.trust = trust
        self.model_path, self.config_path = resolve_agent_path(path, self.default_agent)
        self._cfg = None
        self._model = self._load()  # now, so that a scheduler's timing never includes reading the file
        self._traced = self._trace_actor()  # now too: tracing takes 0.1-0.2 s
        if self.config.env_kwargs.get("windows") == "reconfig":  # no SCAR run: it tries boundary sets itself
            given = {"samples": samples, "window_sets": window_sets, "prior_sets": prior_sets,
                     "lookahead": lookahead, "polish": polish}
            for key, value in given.items():
                if value is None:
                    setattr(self, key, RECONFIG_SEARCH[key])

    def params(self) -> dict[str, Any]:
        return {"path": str(self.model_path), **super().params()}

    # -- loading ---------------------------------------------------------------------------------
    @property
    def config(self):
        """The training config (:class:`agents.config.TrainConfig`) the agent was trained with."""
        if self._cfg is None:
            from agents.config import TrainConfig, config_from_dict, load_config

            if self._model.train_config:
                self._cfg = config_from_dict(self._model.train_config, str(self.model_path))
            else:
                self._cfg = load_config(self.config_path) if self.config_path else TrainConfig()
        return self._cfg

    @property
    def model(self):
        """The loaded agent (:class:`agents.agentfile.Agent`): ``model.policy`` is the network."""
        return self._model

    def _load(self):
        import torch

        from agents.agentfile import Agent, load_agent, load_sb3_zip, network_of

        torch.set_num_threads(1)
        if self.model_path.is_dir():
            return load_agent(self.model_path)
        model = load_sb3_zip(self.model_path, self.trust, "agent")
        source = {"converted_from": str(self.model_path), "num_timesteps": int(model.num_timesteps)}
        try:
            network = network_of(model.policy)
        except ConfigError as e:
            raise ConfigError("agent", f"{self.model_path}: {e.problem}", e.fix) from None
        return Agent(model.policy, network, {}, source)

    def trained_for(self) -> str:
        """What the agent was trained on, in words (for errors): env, MCM(s) and observation size."""
        cfg = self.config
        mcms = list(cfg.mcms) or [str(cfg.env_kwargs.get("mcm", cfg.mcm))]
        c_obs = self.observed_chiplets()
        size = (f"observations padded to {c_obs} chiplets" if cfg.env_kwargs.get("max_chiplets") is not None
                else f"a network that takes exactly {c_obs} chiplets")
        return f"{cfg.env_id.split(':', 1)[-1]} on {', '.join(mcms)} ({size})"

    def observed_chiplets(self) -> int | None:
        """The chiplet rows of the agent's observations (``None`` for an observation without them)."""
        space = self._model.observation_space
        sub = getattr(space, "spaces", {}).get("chiplets")
        return int(sub.shape[0]) if sub is not None else None

    def check_mcm(self, mcm) -> None:
        """A one-line :class:`ConfigError` (what the agent was trained for, what it was given) when the
        agent cannot run on ``mcm``; called before the env or the network sees anything."""
        c_obs = self.observed_chiplets()
        n = mcm.num_chiplets
        if c_obs is None:
            return
        padded = self.config.env_kwargs.get("max_chiplets") is not None
        if (padded and n > c_obs) or (not padded and n != c_obs):
            fix = (f"use it on MCMs of at most {c_obs} chiplets" if padded else
                   f"use it on an MCM of {c_obs} chiplets, or the size-agnostic agent (--policy ppo)")
            raise ConfigError("agent", f"{self.model_path.name!r} was trained for {self.trained_for()}; "
                              f"given {mcm.name} with {n} chiplets", fix)

    def inference_env_kwargs(self) -> dict[str, Any]:
        """The training ``env_kwargs``; for an agent trained on MCM-Reconfig windows (no SCAR run)
        plus the pool options of :data:`~scar_gym.envs.rollout_search.ANY_SIZE_ENV` it does not set
        (a lighter SEG: same observation shapes, pools scored faster)."""
        kwargs = dict(self.config.env_kwargs)
        if kwargs.get("windows") == "reconfig":
            for key, value in ANY_SIZE_ENV.items():
                kwargs.setdefault(key, value)
        return kwargs

    def make_env(self, evaluator: Evaluator):
        """The training env id with the training kwargs, on the evaluator's models and MCM; its
        observation must be the one the network was built for (else one ConfigError saying what the
        agent was trained for and what it was given, before the network runs)."""
        self.check_mcm(evaluator.mcm)
        env = self.env_for(evaluator, self.config.env_id, **self.inference_env_kwargs())
        want, got = self._model.observation_space, env.observation_space
        shapes = {k: s.shape for k, s in want.spaces.items()}
        if shapes != {k: s.shape for k, s in got.spaces.items()}:
            diff = sorted(k for k in set(shapes) | set(got.spaces)
                          if k not in shapes or k not in got.spaces or shapes[k] != got.spaces[k].shape)
            raise ConfigError("agent", f"{self.model_path.name!r} was trained for {self.trained_for()}; "
                              f"{self.config.env_id.split(':', 1)[-1]} on {evaluator.mcm.name} observes "
                              f"{', '.join(diff)} in other shapes",
                              "use the agent with the scar-gym version and MCM size it was trained for")
        return env

    # -- inference -------------------------------------------------------------------------------
    def _obs_keys(self) -> list[str] | None:
        """The observation's keys in the order the traced actor takes them (``None``: not a dict)."""
        spaces = getattr(self._model.observation_space, "spaces", None)
        return sorted(spaces) if isinstance(spaces, dict) else None

    def _eager_logits(self, obs_t: Any):
        policy = self.model.policy
        feats = policy.extract_features(obs_t, policy.pi_features_extractor)
        return policy.action_net(policy.mlp_extractor.forward_actor(feats))

    def _trace_actor(self):
        """The actor (features, per-candidate latents, logits) traced by ``torch.jit.trace``, or
        ``None`` when tracing fails or the traced outputs differ from the eager ones by a single bit
        on two sampled observations. The same ATen ops without a Python call per module: a decision
        of the size-agnostic agent (64-chiplet observations) took 0.8 ms against 1.4-1.8 ms eager,
        about a fifth of its 6x6 schedules' time. The parameters are not frozen into the trace, so a
        network trained in place (expert iteration) is what the trace runs.

        ``torch.jit.trace`` is deprecated from torch 2.13 in favour of ``torch.export`` and
        ``torch.compile``; neither serves here: the exported module ran at 3.7 ms per decision, and
        compiling takes seconds per load and fuses kernels (not bit-identical to the eager network).
        When the tracer goes, this returns ``None`` and the eager path serves."""
        import warnings

        import torch

        keys = self._obs_keys()
        space = self._model.observation_space
        eager = self._eager_logits

        class _Actor(torch.nn.Module):
            def __init__(self, policy):
                super().__init__()
                self.policy = policy  # a submodule: the trace reads its parameters, never copies them

            def forward(self, *xs):
                return eager(dict(zip(keys, xs)) if keys is not None else xs[0])

        def tensors(obs):
            items = [obs[k] for k in keys] if keys is not None else [obs]
            return tuple(torch.as_tensor(np.asarray(v, dtype=np.float32)[None]) for v in items)

        try:
            space.seed(0)
            samples = [tensors(space.sample()) for _ in range(2)]
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)  # a fixed 3-way unpack of q, k, v
                warnings.simplefilter("ignore", DeprecationWarning)  # see the docstring
                traced = torch.jit.trace(_Actor(self.model.policy), samples[0], check_trace=False)
                for xs in samples:
                    want = eager(dict(zip(keys, xs)) if keys is not None else xs[0])
                    if not torch.equal(traced(*xs), want):
                        return None
        except Exception:  # an exotic network the tracer cannot follow: the eager path serves it
            return None
        return traced, tensors

    def _logits(self, obs: Any) -> np.ndarray:
        """Action logits of the policy for one observation (no distribution objects: fast on CPU)."""
        import torch

        with torch.no_grad():
            if self._traced is not None:
                traced, tensors = self._traced
                return traced(*tensors(obs))[0].numpy().astype(np.float64)
            if isinstance(obs, dict):
                obs_t = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)[None]) for k, v in obs.items()}
            else:
                obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)[None])
            return self._eager_logits(obs_t)[0].numpy().astype(np.float64)


class AnySizePPOPolicy(PPOPolicy):
    """``ppo-any``: the name the size- and layout-agnostic agent (:data:`agents.ANY_SIZE_AGENT`,
    ``configs/train/window_any_size.yaml``) had before it became ``ppo``; the same agent and the same
    search, kept so that older commands and results files still run."""

    name = "ppo-any"
    description = "alias of 'ppo' (the size-agnostic agent, its name before it was shipped as 'ppo')"
    default_agent = ANY_SIZE_AGENT


class Anchored3x3PPOPolicy(PPOPolicy):
    """``ppo-3x3``: the agent shipped as ``ppo`` before the size-agnostic one
    (:data:`agents.ANCHORED_3X3_AGENT`, ``configs/train/window_het_sides_relocate.yaml``): trained on
    SCAR's windows on het-sides-3x3 (a network that takes exactly 9 chiplets), SCAR runs at
    inference, then 8 rollouts on its windows (:data:`DEFAULT_SAMPLES`, no lookahead, no polish)."""

    name = "ppo-3x3"
    description = ("the earlier shipped agent: SCAR-anchored, het-sides-3x3 only (SCAR's run + 8 rollouts); "
                   "'ppo-3x3:PATH' = another")
    default_agent = ANCHORED_3X3_AGENT
