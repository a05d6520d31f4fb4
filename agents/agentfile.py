"""Agent files that hold weights only: loading one never runs code from the file.

An **agent directory** holds two files:

* ``agent.json``: the format (:data:`AGENT_FORMAT`), the network (features extractor by name from
  :data:`EXTRACTORS`, ``net_arch``, activation by name), the observation and action spaces (shapes,
  dtypes, bounds), the training config it was trained with (env id and kwargs: inference builds the
  same observation) and the SHA-256 of the weights;
* ``policy.pt``: the policy's ``state_dict``, written with ``torch.save`` and read with
  ``torch.load(weights_only=True)``, which refuses anything but tensors and plain containers.

The network is rebuilt from the description (``MaskableMultiInputActorCriticPolicy``, as
``MaskablePPO("MultiInputPolicy", ...)`` builds it) and the weights are loaded strictly: a file that
does not describe a network this module can build, or whose weights do not fit it, is a
:class:`~scar_gym.errors.ConfigError` naming the field.

A Stable-Baselines3 zip (``model.zip``, ``best_model.zip``, checkpoints) stores its spaces, schedules
and class references as *pickles*: loading it with ``MaskablePPO.load`` runs whatever code the file
carries. :func:`load_sb3_zip` therefore demands ``trust=True`` (the CLI's ``--trust``).
:func:`read_checkpoint` reads only a zip's weights-only parts (``policy.pth``,
``policy.optimizer.pth`` with ``weights_only=True``, and plain JSON fields of ``data``) so that
training can resume from its own checkpoints without trusting them.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scar_gym.errors import ConfigError

AGENT_FORMAT = "scar-gym-agent/1"
AGENT_JSON = "agent.json"
WEIGHTS = "policy.pt"
#: Features extractors an agent file may name (class name -> "module:Class").
EXTRACTORS = {
    "CombinedExtractor": "stable_baselines3.common.torch_layers:CombinedExtractor",
    "ChipletSetExtractor": "agents.extractors:ChipletSetExtractor",
    "MaskDroppingFlatten": "agents.extractors:MaskDroppingFlatten",
    "NopSetExtractor": "agents.set_policy:NopSetExtractor",
}
#: Actor-critic classes an agent file may name (class name -> "module:Class").
POLICIES = {
    "MaskableMultiInputActorCriticPolicy": "sb3_contrib.common.maskable.policies:MaskableMultiInputActorCriticPolicy",
    "SetPointerPolicy": "agents.set_policy:SetPointerPolicy",
}
ACTIVATIONS = {"Tanh": "tanh", "ReLU": "relu"}
#: Bounds of a described network (a crafted description must not allocate without limit).
MAX_UNITS = 4096
MAX_LAYERS = 16
MAX_OBS_ELEMENTS = 2**20
MAX_WEIGHTS_BYTES = 2**30
TRUST_FIX = ("convert it once with 'scar-gym convert-agent ZIP OUT --trust' (for a zip you made or trust) and load "
             "OUT, or pass --trust")
WHY_TRUST = ("is a Stable-Baselines3 zip: loading it unpickles Python objects stored in the file, which can run "
             "any code")


# -- spaces ------------------------------------------------------------------------------------------

def _uniform(a: Any) -> Any:
    import numpy as np

    arr = np.asarray(a, dtype=np.float64)
    if arr.size and np.all(arr == arr.flat[0]):
        return float(arr.flat[0])
    return arr.tolist()


def space_to_dict(space: Any) -> dict[str, Any]:
    """A JSON description of a Dict / Box / MultiBinary / Discrete space (what the network needs)."""
    from gymnasium import spaces

    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_dict(s) for k, s in space.spaces.items()}}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "dtype": str(space.dtype), "low": _uniform(space.low),
                "high": _uniform(space.high)}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": [int(x) for x in space.shape]}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n)}
    raise ConfigError("observation_space", f"cannot describe a {type(space).__name__} space",
                      "agents use Dict spaces of Box and MultiBinary, and a Discrete action space")


def _shape(x: Any, field: str, file: str | None) -> tuple[int, ...]:
    if (not isinstance(x, list) or not x or len(x) > 4
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_OBS_ELEMENTS for v in x)):
        raise ConfigError(field, f"expected a shape (1-4 positive integers), got {x!r}"[:200],
                          "write the shape scar-gym saved", file)
    if math.prod(x) > MAX_OBS_ELEMENTS:
        raise ConfigError(field, f"{math.prod(x):,} elements, above the bound of {MAX_OBS_ELEMENTS:,}",
                          "check the agent file", file)
    return tuple(x)


def _bound(x: Any, shape: tuple[int, ...], field: str, file: str | None):
    import numpy as np

    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(field, "expected a number or nested lists of numbers", "write the bounds scar-gym saved",
                          file) from None
    if arr.ndim and arr.shape != shape:
        raise ConfigError(field, f"shape {arr.shape} is not the space's {shape}", "write the bounds scar-gym saved",
                          file)
    return np.broadcast_to(arr, shape)


def space_from_dict(d: Any, field: str, file: str | None = None) -> Any:
    """The space :func:`space_to_dict` described; anything else is a ConfigError naming ``field``."""
    import numpy as np
    from gymnasium import spaces

    if not isinstance(d, dict) or "type" not in d:
        raise ConfigError(field, f"expected a space description with 'type', got {d!r}"[:200],
                          "write the description scar-gym saved", file)
    kind = d["type"]
    keys = {"Dict": {"type", "spaces"}, "Box": {"type", "shape", "dtype", "low", "high"},
            "MultiBinary": {"type", "n"}, "Discrete": {"type", "n"}}
    if kind not in keys:
        raise ConfigError(f"{field}.type", f"unknown space type {kind!r}", f"use one of {', '.join(keys)}", file)
    if set(d) != keys[kind]:
        raise ConfigError(field, f"a {kind} space has the fields {sorted(keys[kind])}, got {sorted(map(str, d))}",
                          "write the description scar-gym saved", file)
    if kind == "Dict":
        if not isinstance(d["spaces"], dict) or not d["spaces"] or len(d["spaces"]) > 64:
            raise ConfigError(f"{field}.spaces", "expected a mapping of 1-64 named spaces",
                              "write the description scar-gym saved", file)
        return spaces.Dict({str(k): space_from_dict(v, f"{field}.{k}", file) for k, v in d["spaces"].items()})
    if kind == "Box":
        shape = _shape(d["shape"], f"{field}.shape", file)
        if d["dtype"] not in ("float32", "float64"):
            raise ConfigError(f"{field}.dtype", f"unsupported dtype {d['dtype']!r}", "use float32 or float64", file)
        low, high = _bound(d["low"], shape, f"{field}.low", file), _bound(d["high"], shape, f"{field}.high", file)
        if np.isnan(low).any() or np.isnan(high).any() or (low > high).any():
            raise ConfigError(field, "bounds must be numbers with low <= high", "write the bounds scar-gym saved",
                              file)
        dtype = np.dtype(d["dtype"])
        return spaces.Box(low.astype(dtype), high.astype(dtype), shape, dtype=dtype)
    if kind == "MultiBinary":
        return spaces.MultiBinary(list(_shape(d["n"], f"{field}.n", file)))
    n = d["n"]
    if not isinstance(n, int) or isinstance(n, bool) or not 0 < n <= MAX_OBS_ELEMENTS:
        raise ConfigError(f"{field}.n", f"expected a positive integer, got {n!r}", "write the size scar-gym saved", file)
    return spaces.Discrete(n)


# -- the network -------------------------------------------------------------------------------------

def _import(target: str) -> Any:
    import importlib

    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def network_of(policy: Any) -> dict[str, Any]:
    """The description of a MaskablePPO policy's network (what :func:`build_policy` needs)."""
    ext = policy.features_extractor_class.__name__
    act = policy.activation_fn.__name__
    if ext not in EXTRACTORS or act not in ACTIVATIONS:
        raise ConfigError("network", f"cannot describe a network with {ext} and {act}",
                          f"use one of {', '.join(EXTRACTORS)} and {', '.join(ACTIVATIONS)}")
    arch = policy.net_arch
    if isinstance(arch, list):
        arch = {"pi": list(arch), "vf": list(arch)}
    return {"policy": type(policy).__name__, "features_extractor": ext,
            "features_extractor_kwargs": dict(policy.features_extractor_kwargs or {}),
            "net_arch": {"pi": [int(x) for x in arch["pi"]], "vf": [int(x) for x in arch["vf"]]},
            "activation": ACTIVATIONS[act], "share_features_extractor": bool(policy.share_features_extractor)}


def _check_network(net: Any, file: str | None) -> dict[str, Any]:
    import inspect

    keys = {"policy", "features_extractor", "features_extractor_kwargs", "net_arch", "activation",
            "share_features_extractor"}
    if not isinstance(net, dict) or set(net) != keys:
        raise ConfigError("network", f"expected the fields {sorted(keys)}", "write the description scar-gym saved",
                          file)
    if net["policy"] not in POLICIES:
        raise ConfigError("network.policy", f"unsupported policy {net['policy']!r}",
                          f"agents are MaskablePPO networks: {', '.join(POLICIES)}", file)
    if net["features_extractor"] not in EXTRACTORS:
        raise ConfigError("network.features_extractor", f"unknown extractor {net['features_extractor']!r}",
                          f"use one of {', '.join(EXTRACTORS)}", file)
    if net["activation"] not in ACTIVATIONS.values():
        raise ConfigError("network.activation", f"unknown activation {net['activation']!r}",
                          f"use one of {', '.join(ACTIVATIONS.values())}", file)
    arch = net["net_arch"]
    if not isinstance(arch, dict) or set(arch) != {"pi", "vf"}:
        raise ConfigError("network.net_arch", "expected {pi: [...], vf: [...]}", "write the description scar-gym saved",
                          file)
    for k, sizes in arch.items():
        if (not isinstance(sizes, list) or len(sizes) > MAX_LAYERS
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_UNITS for v in sizes)):
            raise ConfigError(f"network.net_arch.{k}", f"expected at most {MAX_LAYERS} layer sizes 1 .. {MAX_UNITS}, "
                              f"got {sizes!r}"[:200], "write the description scar-gym saved", file)
    kw = net["features_extractor_kwargs"]
    cls_params = [p for p in inspect.signature(_import(EXTRACTORS[net["features_extractor"]]).__init__).parameters
                  if p not in ("self", "observation_space")]
    if not isinstance(kw, dict) or not set(kw) <= set(cls_params):
        raise ConfigError("network.features_extractor_kwargs", f"{net['features_extractor']} takes {cls_params}, "
                          f"got {kw!r}"[:200], "write the description scar-gym saved", file)
    for k, v in kw.items():
        ok = (isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_UNITS) or v is None or (
            isinstance(v, list) and all(isinstance(s, str) for s in v)) or isinstance(v, str)
        if not ok:
            raise ConfigError(f"network.features_extractor_kwargs.{k}", f"unsupported value {v!r}"[:200],
                              "write the description scar-gym saved", file)
    if not isinstance(net["share_features_extractor"], bool):
        raise ConfigError("network.share_features_extractor", "expected true or false",
                          "write the description scar-gym saved", file)
    return net


def build_policy(network: dict[str, Any], observation_space: Any, action_space: Any, file: str | None = None):
    """A fresh MaskablePPO policy of the described network (weights not loaded)."""
    import torch

    net = _check_network(network, file)
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[net["activation"]]
    try:
        policy = _import(POLICIES[net["policy"]])(
            observation_space, action_space, lambda _: 0.0, net_arch=dict(net["net_arch"]), activation_fn=act,
            features_extractor_class=_import(EXTRACTORS[net["features_extractor"]]),
            features_extractor_kwargs=dict(net["features_extractor_kwargs"]),
            share_features_extractor=net["share_features_extractor"])
    except (ValueError, TypeError, KeyError, RuntimeError) as e:
        raise ConfigError("network", f"cannot build the described network: {e}"[:300],
                          "write the description scar-gym saved", file) from None
    # Left in torch's default (training) mode, as MaskablePPO.load leaves a policy: no layer of these
    # networks behaves differently, and the attention extractor's kernels then match the zip's bit for bit.
    return policy


# -- agent directories ---------------------------------------------------------------------------------

@dataclass
class Agent:
    """A loaded agent: ``policy`` (the network), its ``network`` description, spaces and
    ``train_config`` (a dict, the resolved training config). ``save`` writes it as an agent directory."""

    policy: Any
    network: dict[str, Any]
    train_config: dict[str, Any]
    source: dict[str, Any]

    @property
    def observation_space(self):
        return self.policy.observation_space

    def save(self, out_dir: str | Path, train_config: dict[str, Any] | None = None, **source: Any) -> Path:
        return save_agent(self.policy, out_dir, train_config or self.train_config, {**self.source, **source})


def is_agent_dir(path: str | Path) -> bool:
    return (Path(path) / AGENT_JSON).is_file()


def save_agent(policy: Any, out_dir: str | Path, train_config: dict[str, Any], source: dict | None = None) -> Path:
    """Write ``policy`` (a MaskablePPO policy) as an agent directory; returns it."""
    import torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu().clone() for k, v in policy.state_dict().items()}, buf)
    data = buf.getvalue()
    doc = {"format": AGENT_FORMAT, "network": network_of(policy),
           "observation_space": space_to_dict(policy.observation_space),
           "action_space": space_to_dict(policy.action_space),
           "weights": {"file": WEIGHTS, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                       "parameters": int(sum(v.numel() for v in policy.state_dict().values()))},
           "train_config": train_config, "source": dict(source or {})}
    (out / WEIGHTS).write_bytes(data)
    (out / AGENT_JSON).write_text(json.dumps(doc, indent=1) + "\n")
    return out


def read_agent_json(path: str | Path) -> dict[str, Any]:
    """``agent.json`` of an agent directory, checked field by field (not yet the network itself)."""
    from scar_gym.fileio import read_json

    file = str(Path(path) / AGENT_JSON)
    doc = read_json(file)
    keys = {"format", "network", "observation_space", "action_space", "weights", "train_config", "source"}
    if not isinstance(doc, dict):
        raise ConfigError("(top level)", f"expected a JSON object, got {type(doc).__name__}",
                          "give an agent.json written by scar-gym", file)
    if doc.get("format") != AGENT_FORMAT:
        raise ConfigError("format", f"{doc.get('format')!r} is not {AGENT_FORMAT!r}",
                          "give an agent.json written by scar-gym", file)
    if set(doc) != keys:
        extra, missing = sorted(set(doc) - keys), sorted(keys - set(doc))
        raise ConfigError((extra or missing)[0], "unknown field" if extra else "missing",
                          f"an agent.json has the fields {', '.join(sorted(keys))}", file)
    w = doc["weights"]
    if (not isinstance(w, dict) or w.get("file") != WEIGHTS or not isinstance(w.get("sha256"), str)
            or not isinstance(w.get("bytes"), int) or not 0 < w["bytes"] <= MAX_WEIGHTS_BYTES):
        raise ConfigError("weights", f"expected {{file: {WEIGHTS}, sha256, bytes (at most {MAX_WEIGHTS_BYTES:,}), "
                          "parameters}", "write the record scar-gym saved", file)
    if not isinstance(doc["train_config"], dict) or not isinstance(doc["source"], dict):
        raise ConfigError("train_config", "expected a mapping (and source a mapping)",
                          "write the record scar-gym saved", file)
    return doc


def load_agent(path: str | Path) -> Agent:
    """Load an agent directory: its description, then its weights with ``torch.load(weights_only=True)``."""
    import torch

    path = Path(path)
    doc = read_agent_json(path)
    file = str(path / AGENT_JSON)
    obs = space_from_dict(doc["observation_space"], "observation_space", file)
    act = space_from_dict(doc["action_space"], "action_space", file)
    from gymnasium import spaces

    if not isinstance(obs, spaces.Dict) or not isinstance(act, spaces.Discrete):
        raise ConfigError("observation_space", "agents observe a Dict space and act in a Discrete one",
                          "give an agent.json written by scar-gym", file)
    from agents.config import config_from_dict

    config_from_dict(doc["train_config"], file)  # the env it was trained on: checked before anything is built
    policy = build_policy(doc["network"], obs, act, file)
    wfile = path / WEIGHTS
    try:
        data = wfile.read_bytes()
    except OSError as e:
        raise ConfigError("weights", f"cannot read {str(wfile)!r}: {e.strerror or e}", "give the agent's policy.pt",
                          file) from None
    if len(data) != doc["weights"]["bytes"] or hashlib.sha256(data).hexdigest() != doc["weights"]["sha256"]:
        raise ConfigError("weights", f"{str(wfile)!r} is not the file agent.json describes (size or SHA-256 differs)",
                          "restore the agent's policy.pt", file)
    state = _weights_only(data, str(wfile), "weights")
    _load_state(policy, state, "weights", file)
    return Agent(policy, doc["network"], doc["train_config"], doc["source"])


def _weights_only(data: bytes, name: str, field: str) -> dict[str, Any]:
    """A state dict from bytes with ``torch.load(weights_only=True)``: tensors and containers, no code."""
    import pickle

    import torch

    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError, AttributeError, KeyError,
            zipfile.BadZipFile, OSError, IndexError, UnicodeDecodeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(field, f"{name} is not a weights-only tensor file ({first[:160]})",
                          "give weights written by scar-gym (torch.save of a state dict)") from None
    if not isinstance(state, dict):
        raise ConfigError(field, f"{name} holds a {type(state).__name__}, not a state dict",
                          "give weights written by scar-gym (torch.save of a state dict)")
    return state


def _load_state(module: Any, state: dict[str, Any], field: str, file: str | None,
                problem: str = "the weights do not fit the described network",
                fix: str = "give the weights and description of one agent") -> None:
    import torch

    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ConfigError(field, "the state dict holds something other than named tensors",
                          "give weights written by scar-gym", file)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        detail = " ".join(str(e).split())[:240]
        raise ConfigError(field, f"{problem} ({detail})", fix, file) from None


# -- Stable-Baselines3 zips ----------------------------------------------------------------------------

def load_sb3_zip(path: str | Path, trust: bool, field: str = "--policy"):
    """``MaskablePPO.load`` of a zip, only with ``trust`` (it unpickles code); errors become ConfigErrors."""
    path = Path(path)
    if not trust:
        raise ConfigError(field, f"{str(path)!r} {WHY_TRUST}", TRUST_FIX)
    if not zipfile.is_zipfile(path):
        raise ConfigError(field, f"{str(path)!r} is not a zip file", "give a model zip saved by Stable-Baselines3")
    from sb3_contrib import MaskablePPO

    try:
        return MaskablePPO.load(str(path), device="cpu")
    except Exception as e:  # noqa: BLE001  (anything a broken file raises becomes one line)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(field, f"cannot load {str(path)!r}: {type(e).__name__}: {first[:200]}",
                          "give a model zip saved by Stable-Baselines3 (MaskablePPO)") from None


@dataclass
class Checkpoint:
    """The weights-only parts of an SB3 zip: state dicts and the plain-JSON counters of ``data``."""

    path: Path
    params: dict[str, dict[str, Any]]
    num_timesteps: int
    n_updates: int


def read_checkpoint(path: str | Path, field: str = "--resume") -> Checkpoint:
    """Read an SB3 zip without unpickling anything: ``*.pth`` with ``torch.load(weights_only=True)`` and
    the ``num_timesteps`` / ``_n_updates`` numbers of its ``data`` JSON (its pickled entries are not read)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(field, f"no such file {str(path)!r}", "give a checkpoint zip (checkpoints/rl_model_*.zip "
                          "or final_model.zip of a run)")
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ConfigError(field, f"{str(path)!r} is not a zip file", "give a checkpoint zip written by scar-gym train")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            for need in ("data", "policy.pth", "policy.optimizer.pth"):
                if need not in names:
                    raise ConfigError(field, f"{str(path)!r} has no {need!r}",
                                      "give a checkpoint zip written by scar-gym train")
            infos = {i.filename: i.file_size for i in z.infolist()}
            if sum(infos.values()) > MAX_WEIGHTS_BYTES:
                raise ConfigError(field, f"{str(path)!r} unpacks to more than {MAX_WEIGHTS_BYTES:,} bytes",
                                  "give a checkpoint zip written by scar-gym train")
            try:
                data = json.loads(z.read("data").decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ConfigError(field, f"the 'data' record of {str(path)!r} is not JSON ({e})"[:300],
                                  "give a checkpoint zip written by scar-gym train") from None
            params = {n[:-4]: _weights_only(z.read(n), f"{path.name}:{n}", field)
                      for n in ("policy.pth", "policy.optimizer.pth")}
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ConfigError(field, f"cannot read {str(path)!r}: {e}"[:300],
                          "give a checkpoint zip written by scar-gym train") from None
    counters = []
    for key in ("num_timesteps", "_n_updates"):
        v = data.get(key) if isinstance(data, dict) else None
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ConfigError(field, f"the 'data' record of {str(path)!r} has no valid {key}",
                              "give a checkpoint zip written by scar-gym train")
        counters.append(v)
    return Checkpoint(path, params, *counters)


def load_checkpoint_into(model: Any, ckpt: Checkpoint, field: str = "--resume") -> None:
    """Put a checkpoint's weights, optimizer state and step counters into a freshly built model."""
    _load_state(model.policy, ckpt.params["policy"], field, None,
                f"the network of {str(ckpt.path)!r} does not fit this config's environment and network",
                "resume with the config (env, MCM, network) of the run that wrote the checkpoint")
    try:
        model.policy.optimizer.load_state_dict(ckpt.params["policy.optimizer"])
    except (ValueError, KeyError, RuntimeError, TypeError) as e:
        raise ConfigError(field, f"the optimizer state does not fit this config's network ({e})"[:300],
                          "resume with the config of the run that wrote the checkpoint") from None
    model.num_timesteps = ckpt.num_timesteps
    model._n_updates = ckpt.n_updates
