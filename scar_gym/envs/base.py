"""What ``Schedule-v0`` and ``Window-v0`` share: arguments, scenario selection, episode totals,
the final info, invalid-action handling and rendering."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from scar_gym.costmodel.tables import CostModel
from scar_gym.errors import ConfigError, InvalidActionError, ScarGymError
from scar_gym.evaluator import ScheduleResult, objective_value
from scar_gym.hardware import MCM
from scar_gym.rewards import LogRatioShapedReward, RewardInput, make_reward
from scar_gym.schedule import Schedule
from scar_gym.suites import Suite
from scar_gym.envs.types import ContextCache, ScenarioData, WindowPlan

INVALID_ACTION_MODES = ("penalize", "raise")
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
    """Common machinery; subclasses define the spaces, the decisions and the observation."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, scenario: Any, mcm: str | MCM, *, reward: str, reference: str | None, n_splits: int,
                 windows: Any, max_chiplets: int | None, flatten: bool, invalid_action: str,
                 invalid_penalty: float, max_invalid: int | None, generator_kwargs: dict | None,
                 render_mode: str | None, cost_model: CostModel | None, cache_size: int, memo_size: int):
        self.mcm = resolve_mcm(mcm)
        C = self.mcm.num_chiplets
        c_max = C if max_chiplets is None else int(max_chiplets)
        if c_max < C:
            raise ConfigError("max_chiplets", f"{max_chiplets} < the MCM's {C} chiplets", f"use at least {C}")
        if invalid_action not in INVALID_ACTION_MODES:
            raise ConfigError("invalid_action", f"unknown mode {invalid_action!r}",
                              f"use one of {', '.join(INVALID_ACTION_MODES)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError("render_mode", f"unknown mode {render_mode!r}", "use 'ansi', 'rgb_array' or None")
        if max_invalid is not None and (not isinstance(max_invalid, int) or max_invalid < 1):
            raise ConfigError("max_invalid", f"expected an integer >= 1 or None, got {max_invalid!r}", "use e.g. 1000")
        self.c_max = c_max
        self.source = Suite.of(scenario, generator_kwargs)
        self.reward_fn = make_reward(reward)
        if self.reward_fn.needs_reference and reference is None:
            raise ConfigError("reference", f"reward {reward!r} needs a reference policy", "give e.g. 'standalone'")
        self.reference_name = reference
        self.n_splits = n_splits
        self.windows_arg = windows
        self.flatten = bool(flatten)
        self.invalid_action = invalid_action
        self.invalid_penalty = float(invalid_penalty)
        self.max_invalid = max_invalid
        self.render_mode = render_mode
        self.contexts = ContextCache(self.mcm, c_max, cost_model, max_size=cache_size, memo_size=memo_size)
        self._data: ScenarioData | None = None
        self._plan: WindowPlan | None = None
        self._over = True
        self._final: ScheduleResult | None = None

    # -- selection ---------------------------------------------------------------------------------
    def _select(self, options: dict[str, Any] | None) -> tuple[ScenarioData, Any]:
        """The episode's scenario data and its ``windows`` argument (from options or the constructor)."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(RESET_OPTIONS))
        if unknown:
            raise ConfigError(f"options.{unknown[0]}", "unknown reset option", f"use {', '.join(RESET_OPTIONS)}")
        if options.get("scenario") is not None:
            inst = Suite.of(options["scenario"]).sample(self.np_random)
        else:
            inst = self.source.sample(self.np_random)
        return self.contexts.get(inst), options.get("windows", self.windows_arg)

    def _reset_reward(self) -> None:
        ref = None
        if self.reward_fn.needs_reference:
            ref = self._data.reference(self.reference_name).objective(self.reward_fn.objective)
        self.reward_fn.reset(ref)

    # -- public state ------------------------------------------------------------------------------
    def _need_reset(self) -> None:
        if self._data is None:
            raise gym.error.ResetNeeded("call reset() first")

    @property
    def scenario_data(self) -> ScenarioData:
        self._need_reset()
        return self._data

    @property
    def evaluator(self):
        return self.scenario_data.evaluator

    @property
    def plan(self) -> WindowPlan:
        self._need_reset()
        return self._plan

    @property
    def windows(self) -> list[dict[int, tuple[int, int]]]:
        """This episode's windows, ``model -> (start, stop)`` each (accepted back by ``windows=``)."""
        return self.plan.as_time_windows()

    @property
    def schedule(self) -> Schedule:
        """The schedule so far (complete at the end of an episode)."""
        self._need_reset()
        return self._current_schedule()

    @property
    def result(self) -> ScheduleResult:
        """The final result at the end of an episode, else the partial schedule's."""
        if self._final is not None:
            return self._final
        return self.evaluator.evaluate(self.schedule, allow_partial=True)

    def _current_schedule(self) -> Schedule:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- rewards and the final step ----------------------------------------------------------------
    def _reward_input(self, lat: float, en: float, estimate) -> RewardInput:
        obj = self.reward_fn.objective
        partial = objective_value(obj, lat, en)
        est = objective_value(obj, *estimate()) if isinstance(self.reward_fn, LogRatioShapedReward) else partial
        return RewardInput(partial, est)

    def _finish_episode(self, sched: Schedule, n_decisions: int, n_invalid: int,
                        require_paths: bool = False) -> tuple[float, dict[str, Any]]:
        self._over = True
        data = self._data
        data.evaluator.validate(sched, require_paths=require_paths)
        res = data.evaluator.evaluate(sched, check=False)
        self._final = res
        obj = self.reward_fn.objective
        value = res.objective(obj)
        reward = self.reward_fn(RewardInput(value, value, value))
        if self.reference_name is not None:
            ref = data.reference(self.reference_name)
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
            "n_invalid": n_invalid,
            "n_decisions": n_decisions,
            "n_windows": len(self._plan.windows),
            "scenario": data.id,
        }
        return reward, info

    def _check_running(self) -> None:
        if self._over:
            if self._data is None:
                raise gym.error.ResetNeeded("call reset() before step()")
            raise ScarGymError("the episode is over; call reset()")

    def _reject(self, action: Any, reason: str):
        """An off-mask action: raise (``invalid_action="raise"``) or leave the state as it is and
        return a step with the penalty; after ``max_invalid`` of them the episode is truncated."""
        if self.invalid_action == "raise":
            raise InvalidActionError(f"action {action!r} is invalid: {reason}")
        self._n_invalid += 1
        truncated = self.max_invalid is not None and self._n_invalid >= self.max_invalid
        if truncated:
            self._over = True
        info = {"action_mask": self._mask.copy(), "invalid_action": True, "invalid_reason": reason,
                "n_invalid": self._n_invalid}
        return self._obs(), self.invalid_penalty, False, truncated, info

    # -- rendering ---------------------------------------------------------------------------------
    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() without render_mode; construct the env with render_mode='ansi' or 'rgb_array'")
            return None
        self._need_reset()
        from scar_gym import viewer

        sched = self.schedule
        if self.render_mode == "ansi":
            return viewer.occupancy_text(self.evaluator, sched)
        return viewer.gantt_rgb_array(sched, self.result, self.evaluator)


def as_index(action: Any) -> int | None:
    """The action as an int (possibly out of range), or None when it is not an integer index."""
    if isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_)):
        return int(action)
    try:
        arr = np.asarray(action)
        if arr.size != 1:
            return None
        v = arr.reshape(()).item()
    except (TypeError, ValueError):
        return None
    if isinstance(v, bool):
        return None
    if isinstance(v, float):
        if not v.is_integer():
            return None
        v = int(v)
    return v if isinstance(v, int) else None
