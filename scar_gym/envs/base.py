"""What ``Schedule-v0`` and ``Window-v0`` share: construction from a config, scenario selection,
episode totals, the final info, invalid-action handling and rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError, InvalidActionError, ScarGymError
from scar_gym.evaluator import ScheduleResult, objective_value
from scar_gym.factory import make_cost_model
from scar_gym.hardware import MCM
from scar_gym.rewards import LogRatioShapedReward, RewardInput, make_reward
from scar_gym.schedule import Schedule
from scar_gym.suites import Suite
from scar_gym.envs.config import EnvConfig
from scar_gym.envs.types import ContextCache, EpisodeState, ScenarioData, WindowPlan

RESET_OPTIONS = ("scenario", "windows")
#: Keys of the final step's info (besides ``action_mask`` and ``invalid_action``).
FINAL_INFO_KEYS = ("latency_s", "energy_j", "edp_js", "objective", "reference_edp_js", "edp_ratio_vs_ref",
                   "objective_ratio_vs_ref", "n_invalid", "n_decisions", "n_windows", "scenario")


def resolve_mcm(mcm: str | MCM) -> MCM:
    if isinstance(mcm, MCM):
        return mcm
    from scar_gym.presets import load_mcm

    return load_mcm(mcm)


class ScarEnvBase(gym.Env):
    """Common machinery; subclasses define the spaces, the decisions and the observation.

    The options are ``self.config`` (a validated :class:`~scar_gym.envs.config.EnvConfig`); the
    episode is ``self._state`` (an :class:`~scar_gym.envs.types.EpisodeState`, ``None`` before the
    first ``reset``)."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, scenario: Any, mcm: str | MCM, config: EnvConfig, cost_model: CostModel | None):
        self.config = config
        self.mcm = resolve_mcm(mcm)
        C = self.mcm.num_chiplets
        self.c_max = C if config.max_chiplets is None else config.max_chiplets
        if self.c_max < C:
            raise ConfigError("max_chiplets", f"{config.max_chiplets} < the MCM's {C} chiplets", f"use at least {C}")
        self.source = Suite.of(scenario, config.generator_kwargs)
        self.reward_fn = make_reward(config.reward)
        self.render_mode = config.render_mode
        if config.cost_preset is not None:
            if cost_model is not None and cost_model.preset.name != config.cost_preset:
                raise ConfigError("cost_preset", f"{config.cost_preset!r} given with a cost_model on "
                                  f"{cost_model.preset.name!r}", "give one of the two")
            cost_model = cost_model or make_cost_model(preset=config.cost_preset)
        self.contexts = ContextCache(self.mcm, self.c_max, cost_model, max_size=config.cache_size,
                                     memo_size=config.memo_size)
        self._state: EpisodeState | None = None
        self._time_limit_warned = False
        self._raster = None  # the rgb_array renderer (viewer.GanttRaster), built on first use

    # -- selection ---------------------------------------------------------------------------------
    def _select(self, options: dict[str, Any] | None) -> tuple[ScenarioData, Any]:
        """The episode's scenario data and its ``windows`` argument (from options or the config)."""
        if options is not None and not isinstance(options, Mapping):
            raise ConfigError("options", f"expected a mapping (or None), got {type(options).__name__} {options!r}"[:200],
                              f"pass reset(options={{...}}) with keys from {', '.join(RESET_OPTIONS)}")
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise ConfigError(f"options.{unknown[0]}", "unknown reset option", f"use {', '.join(RESET_OPTIONS)}")
        if options.get("scenario") is not None:
            inst = Suite.of(options["scenario"]).sample(self.np_random)
        else:
            inst = self.source.sample(self.np_random)
        return self.contexts.get(inst), options.get("windows", self.config.windows)

    def _reset_reward(self, data: ScenarioData) -> None:
        ref = None
        if self.reward_fn.needs_reference:
            ref = data.reference(self.config.reference).objective(self.reward_fn.objective)
        self.reward_fn.reset(ref)

    # -- public state ------------------------------------------------------------------------------
    def _need_reset(self) -> EpisodeState:
        if self._state is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._state

    @property
    def scenario_data(self) -> ScenarioData:
        return self._need_reset().data

    @property
    def evaluator(self):
        return self.scenario_data.evaluator

    @property
    def plan(self) -> WindowPlan:
        return self._need_reset().plan

    @property
    def windows(self) -> list[dict[int, tuple[int, int]]]:
        """This episode's windows, ``model -> (start, stop)`` each (accepted back by ``windows=``)."""
        return self.plan.as_time_windows()

    @property
    def schedule(self) -> Schedule:
        """The schedule so far (complete at the end of an episode)."""
        return self._current_schedule(self._need_reset())

    @property
    def result(self) -> ScheduleResult:
        """The final result at the end of an episode, else the partial schedule's."""
        if self._state is not None and self._state.final is not None:
            return self._state.final
        return self.evaluator.evaluate(self.schedule, allow_partial=True)

    def action_masks(self) -> np.ndarray:
        """``(n_actions,)`` bool, True = valid (sb3-contrib MaskablePPO's hook). A fresh array."""
        return self._need_reset().mask.copy()

    def _current_schedule(self, st: EpisodeState) -> Schedule:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _n_total(st: EpisodeState) -> int:  # pragma: no cover - abstract
        """Decisions of the whole episode."""
        raise NotImplementedError

    def _obs(self):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- rewards and the final step ----------------------------------------------------------------
    def _reward_input(self, lat: float, en: float, estimate) -> RewardInput:
        obj = self.reward_fn.objective
        partial = objective_value(obj, lat, en)
        est = objective_value(obj, *estimate()) if isinstance(self.reward_fn, LogRatioShapedReward) else partial
        return RewardInput(partial, est)

    def _finish_episode(self, require_paths: bool = False) -> tuple[float, dict[str, Any]]:
        st = self._state
        st.over = True
        data = st.data
        sched = self._current_schedule(st)
        data.evaluator.validate(sched, require_paths=require_paths)
        res = data.evaluator.evaluate(sched, check=False)
        st.final = res
        obj = self.reward_fn.objective
        value = res.objective(obj)
        reward = self.reward_fn(RewardInput(value, value, value))
        if self.config.reference is not None:
            ref = data.reference(self.config.reference)
            ref_edp, ref_obj = ref.edp_js, ref.objective(obj)
        else:
            ref_edp = ref_obj = float("nan")
        info = {
            "latency_s": res.latency_s,
            "energy_j": res.energy_j,
            "edp_js": res.edp_js,
            "objective": value,
            "reference_edp_js": ref_edp,
            "edp_ratio_vs_ref": res.edp_js / ref_edp,
            "objective_ratio_vs_ref": value / ref_obj,
            "n_invalid": st.n_invalid,
            "n_decisions": st.n_decisions,
            "n_windows": len(st.plan.windows),
            "scenario": data.id,
        }
        return reward, info

    def _check_running(self) -> EpisodeState:
        if self._state is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._state.over:
            raise ScarGymError("the episode is over; call reset()")
        return self._state

    def _map_invalid(self, a: int | None, reason: str) -> tuple[int, dict[str, Any]] | None:
        """Under ``invalid_action="nearest"``, an integer action off the mask (or out of range) is
        replaced by the valid index nearest to it (ties: the lower one). Returns that index and the
        info keys reporting the substitution, or ``None`` when the action is to be rejected instead
        (other modes, or not an integer)."""
        if self.config.invalid_action != "nearest" or a is None:
            return None
        st = self._state
        valid = np.flatnonzero(st.mask)  # never empty while the episode runs (see the env docstrings)
        mapped = int(valid[np.argmin(np.abs(valid - a))])  # argmin keeps the first, i.e. lower, of a tie
        st.n_invalid += 1
        return mapped, {"invalid_action": True, "invalid_reason": reason, "mapped_action": mapped,
                        "n_invalid": st.n_invalid}

    def _warn_time_limit(self, decisions: int) -> None:
        """Warn once if this episode could outlast its id's registered ``max_episode_steps`` (a
        scenario larger than the registered ones: Gymnasium's TimeLimit would cut it short)."""
        if self._time_limit_warned or self.spec is None:
            return
        registered = gym.registry.get(self.spec.id)
        limit = registered.max_episode_steps if registered is not None else None
        rejected = 0 if self.config.invalid_action == "raise" else (self.config.max_invalid or 0)
        worst = decisions + rejected
        if limit is not None and worst > limit:
            self._time_limit_warned = True
            gym.logger.warn(f"this episode of {self.spec.id} can take {worst} steps ({decisions} decisions"
                            f"{' + max_invalid' if rejected else ''}) but the id "
                            f"registers max_episode_steps={limit}: unless you gave gym.make a larger "
                            f"max_episode_steps, Gymnasium's TimeLimit will truncate it; pass "
                            f"max_episode_steps={worst} (or -1 for no limit)")

    def _reject(self, action: Any, reason: str):
        """An off-mask action: raise (``invalid_action="raise"``) or leave the state as it is and
        return a step with the penalty; after ``max_invalid`` of them the episode is truncated."""
        if self.config.invalid_action == "raise":
            raise InvalidActionError(f"action {action!r} is invalid: {reason}")
        st = self._state
        st.n_invalid += 1
        truncated = self.config.max_invalid is not None and st.n_invalid >= self.config.max_invalid
        if truncated:
            st.over = True
        info = {"action_mask": st.mask.copy(), "invalid_action": True, "invalid_reason": reason,
                "n_invalid": st.n_invalid}
        return self._obs(), self.config.invalid_penalty, False, truncated, info

    # -- rendering ---------------------------------------------------------------------------------
    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() without render_mode; construct the env with render_mode='ansi' or 'rgb_array'")
            return None
        self._need_reset()
        from scar_gym import viewer

        st = self._state
        sched = self.schedule
        res = self.result
        status = (f"{st.data.id} on {self.mcm.name}: {self._progress_text(st)}; "
                  f"latency {res.latency_s:.4g} s, energy {res.energy_j:.4g} J, EDP {res.edp_js:.4g} J s")
        if self.render_mode == "ansi":
            return f"{status}\n{viewer.occupancy_text(self.evaluator, sched)}\n"
        if self._raster is None:
            self._raster = viewer.GanttRaster(self.mcm)
        return self._raster.draw(sched, res, self.evaluator, title=status.split(";")[0])

    def _progress_text(self, st: EpisodeState) -> str:
        n = self._n_total(st)
        where = f"window {min(st.wi + 1, len(st.plan.windows))}/{len(st.plan.windows)}"
        return f"{'done' if st.over else where}, decision {st.n_decisions}/{n}"


def as_index(action: Any) -> int | None:
    """The action as an int (possibly out of range), or None when it is not an integer index: an
    int, a numpy integer or a 0-d integer array (what SB3 passes). A list ``[0]``, an array of shape
    ``(1,)``, a float or a bool is not taken for an index (it is an invalid action)."""
    if isinstance(action, (bool, np.bool_)):
        return None
    if isinstance(action, (int, np.integer)):
        return int(action)
    if isinstance(action, np.ndarray) and action.ndim == 0 and action.dtype.kind in "iu":
        return int(action)
    return None
