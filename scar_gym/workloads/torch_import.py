"""Import a PyTorch ``nn.Module`` as a :class:`~scar_gym.workloads.model.Model`.

How: one eager forward pass of ``example_input`` under a ``TorchFunctionMode`` that sees every
torch call at the Python API level (``F.conv2d``, ``F.linear``, ``@``, ``+``, ...), plus forward
hooks that keep the current module path for naming. This was chosen over ``torch.fx`` symbolic
tracing because it needs no traceable code: data-dependent control flow, shape arithmetic and
library models that fx rejects all run as they would in inference, and shapes are the real ones.

Dependencies follow the data: every activation tensor carries the set of scheduled layers it was
computed from, so an op that is not a layer (ReLU, batch norm, pooling, softmax, reshapes, ...)
passes its inputs' producers on to its outputs, and the DAG links each layer to its nearest
scheduled producers. Parameters and constants are not activations: a layer reading only them and
the model input has no predecessor.

Mapped to layers (sizes per sample: the example's batch, dim 0 of the first input, is divided out):

* ``conv2d``: ``conv``; ``groups == in == out`` gives ``dwconv``, other ``groups > 1`` a grouped conv.
* ``linear`` / ``matmul`` / ``@`` / ``mm`` / ``bmm`` / ``addmm`` with one constant operand: ``gemm``
  with ``tokens`` = all leading dims of the activation except the batch.
* ``matmul`` / ``@`` / ``bmm`` between two activations: ``matmul``, heads = leading dims except batch.
* ``scaled_dot_product_attention``: Q.K^T and A.V matmuls; ``multi_head_attention_forward``
  (``nn.MultiheadAttention``): Q, K, V projections, Q.K^T, A.V, output projection.
* ``+`` / ``add`` of two activations: ``add``. An add with a constant (a bias) is not a layer.

Everything else that touches an activation is listed in :attr:`ImportResult.skipped`, except
pure layout ops (view, transpose, cat, indexing, ...) which move no arithmetic.
"""

from __future__ import annotations

import inspect
import weakref
from dataclasses import dataclass, field
from typing import Any

from scar_gym.errors import ConfigError
from scar_gym.workloads.layers import Layer, add, gemm, matmul
from scar_gym.workloads.model import Model, ModelBuilder


@dataclass(frozen=True)
class ImportResult:
    """What :func:`from_torch` found.

    Attributes:
        model: the scheduled layers and their dependencies.
        skipped: one ``"<module path>: <op>"`` entry per call of an op that touched an activation
            but is not a layer, in program order (``<root>`` for the top module's own code).
        notes: approximations made while mapping (e.g. an asymmetric padding).
    """

    model: Model
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_ADD_OPS = {"add", "add_", "__add__", "__radd__", "__iadd__"}
_MATMUL_OPS = {"matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "addmm", "baddbmm"}
#: Ops that only rearrange or relabel data; they are neither layers nor reported as skipped.
_LAYOUT_OPS = {
    "view", "view_as", "reshape", "reshape_as", "flatten", "unflatten", "transpose", "permute", "movedim",
    "contiguous", "__getitem__", "squeeze", "unsqueeze", "expand", "expand_as", "cat", "concat", "concatenate",
    "stack", "split", "chunk", "unbind", "narrow", "select", "t", "clone", "detach", "to", "type", "float",
    "half", "double", "__get__", "size", "dim", "repeat", "tensor_split", "flip", "roll",
}


def from_torch(module: Any, example_input: Any, name: str | None = None) -> ImportResult:
    """Trace ``module`` on ``example_input`` (a tensor or a tuple of positional tensors).

    The module runs once in eval mode under ``torch.no_grad()``; its train/eval flags are restored
    afterwards. Only shapes matter, so a module built under ``torch.device("meta")`` with a meta
    example input also works (no weights are allocated, nothing is computed). ``name`` defaults to the module's class name. Returns the model and the list of ops
    that were not turned into layers; use ``from_torch(...).model`` for the model alone.

    Raises:
        ImportError: PyTorch is not installed (it is an optional dependency: ``pip install torch``).
        ConfigError: the forward pass produced no layer at all.
    """
    try:
        import torch
    except ImportError as e:  # torch is optional: only this importer needs it
        raise ImportError("scar_gym.workloads.from_torch needs PyTorch; install it with "
                          "`pip install torch` (or `pip install scar-gym[rl]`)") from e

    inputs = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    first = next((t for t in inputs if isinstance(t, torch.Tensor)), None)
    if first is None:
        raise ConfigError("example_input", "contains no tensor", "pass a tensor shaped like one batch of input")
    batch = int(first.shape[0]) if first.dim() >= 1 and first.shape[0] > 0 else 1
    model_name = name or type(module).__name__
    shapes = ", ".join(str(tuple(t.shape)) for t in inputs if isinstance(t, torch.Tensor))
    rec = _Recorder(torch, ModelBuilder(model_name, f"imported from torch module {type(module).__name__} "
                                                    f"with input {shapes} (batch {batch} divided out)"), batch)
    for t in inputs:
        if isinstance(t, torch.Tensor):
            rec.mark(t, frozenset())

    training = {m: m.training for m in module.modules()}
    hooks = _scope_hooks(module, rec.scope)
    try:
        module.eval()
        with torch.no_grad(), _mode_class()(rec):
            module(*inputs)
    finally:
        for h in hooks:
            h.remove()
        for m, flag in training.items():
            m.train(flag)

    if rec.builder.graph.number_of_nodes() == 0:
        raise ConfigError(f"model {model_name!r}", "the forward pass ran no conv, linear, matmul or add of "
                          "activations", "import a module with at least one such layer")
    return ImportResult(rec.builder.build(), rec.skipped, rec.notes)


def _mode_class():
    """The TorchFunctionMode subclass, created lazily so that importing this module needs no torch."""
    from torch.overrides import TorchFunctionMode

    class _Mode(TorchFunctionMode):
        def __init__(self, recorder: _Recorder):
            super().__init__()
            self.recorder = recorder

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)  # the mode is disabled inside this call: no double recording
            self.recorder.record(func, args, kwargs, out)
            return out

    return _Mode


def _scope_hooks(module, stack: list[tuple[str, bool]]) -> list:
    """Hooks that keep ``stack`` = path of (qualified name, is leaf) of the modules now running."""
    hooks = []
    for qualname, m in module.named_modules():
        is_leaf = next(m.children(), None) is None

        def push(_m, _args, qualname=qualname, is_leaf=is_leaf):
            stack.append((qualname, is_leaf))

        def pop(_m, _args, _out):
            stack.pop()

        hooks.append(m.register_forward_pre_hook(push))
        hooks.append(m.register_forward_hook(pop, always_call=True))
    return hooks


class _Recorder:
    """Turns the recorded torch calls into layers, edges and the skipped list."""

    def __init__(self, torch, builder: ModelBuilder, batch: int):
        self.torch = torch
        self.builder = builder
        self.batch = batch
        self.scope: list[tuple[str, bool]] = []
        self.skipped: list[str] = []
        self.notes: list[str] = []
        # id(tensor) -> (weak reference, producer layer names). The weak reference guards against a
        # freed tensor's id being reused; nothing here keeps activations alive.
        self._prov: dict[int, tuple[weakref.ref, frozenset[str]]] = {}

    # -- provenance -------------------------------------------------------------------------------
    def mark(self, obj, producers: frozenset[str]) -> None:
        for t in self._tensors(obj):
            self._prov[id(t)] = (weakref.ref(t), producers)

    def producers(self, t) -> frozenset[str] | None:
        """Producer layers of activation ``t``; None when ``t`` is not an activation (a constant)."""
        entry = self._prov.get(id(t)) if isinstance(t, self.torch.Tensor) else None
        return entry[1] if entry is not None and entry[0]() is t else None

    def is_act(self, t) -> bool:
        return self.producers(t) is not None

    def _tensors(self, obj):
        from torch.utils._pytree import tree_leaves
        return [t for t in tree_leaves(obj) if isinstance(t, self.torch.Tensor)]

    # -- recording --------------------------------------------------------------------------------
    def record(self, func, args, kwargs, out) -> None:
        acts = [t for t in self._tensors((args, kwargs)) if self.is_act(t)]
        if not acts:
            return  # parameters, constants and shape queries are not part of the data flow
        op = getattr(func, "__name__", repr(func))
        handler = _HANDLERS.get(op)
        try:
            produced = handler(self, op, func, args, kwargs, out) if handler else None
        except (ConfigError, IndexError, TypeError, ValueError) as e:  # an unusual call: keep tracing
            self.notes.append(f"{self.where or '<root>'}: {op} not mapped ({e})")
            produced = None
        if produced is not None:
            self.mark(out, frozenset({produced}))
            return
        if op not in _LAYOUT_OPS and self._tensors(out):
            self.skipped.append(f"{self.where or '<root>'}: {op.strip('_')}")
        self.mark(out, frozenset().union(*(self.producers(t) for t in acts)))

    @property
    def where(self) -> str:
        return self.scope[-1][0] if self.scope else ""

    def emit(self, kind: str, make, *inputs) -> str:
        """Add ``make(name)`` reading ``inputs`` (activation tensors or layer names); returns its name.

        A leaf module's (e.g. an ``nn.Conv2d``) layer takes the module's path as its name; ops in
        a composite module are ``<path>.<kind>``; repeats get ``_1``, ``_2``, ... .
        """
        where, leaf = self.scope[-1] if self.scope else ("", False)
        base = where if leaf and where else (f"{where}.{kind}" if where else kind)
        name, i = base, 0
        while name in self.builder.graph:
            i += 1
            name = f"{base}_{i}"
        preds: set[str] = set()
        for x in inputs:
            preds |= {x} if isinstance(x, str) else (self.producers(x) or frozenset())
        order = {n: i for i, n in enumerate(self.builder.graph)}
        return self.builder.add(make(name), *sorted(preds, key=order.__getitem__))  # program order

    def per_sample(self, numel: int, *dims: int) -> int:
        """How many times ``dims`` fit in one sample of a tensor with ``numel`` elements (>= 1)."""
        size = self.batch
        for d in dims:
            size *= d
        return max(1, numel // size)


def _bind(args, kwargs, names: tuple[str, ...], defaults: dict) -> dict:
    """Positional + keyword arguments of a builtin (no inspectable signature) as a dict."""
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update(kwargs)
    return bound


def _pair(v) -> tuple[int, int]:
    return (int(v[0]), int(v[-1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _fit_pad(size: int, kernel: int, stride: int, out: int) -> int | None:
    """The symmetric zero padding that makes a ``kernel``/``stride`` window give ``out`` outputs."""
    for pad in range(kernel + stride + 1):
        if (size + 2 * pad - kernel) // stride + 1 == out:
            return pad
    return None


def _conv2d(rec: _Recorder, op, func, args, kwargs, out) -> str | None:
    a = _bind(args, kwargs, ("input", "weight", "bias", "stride", "padding", "dilation", "groups"),
              {"stride": 1, "padding": 0, "dilation": 1, "groups": 1})
    x, w = a["input"], a["weight"]
    if not rec.is_act(x) or rec.is_act(w) or x.dim() not in (3, 4):
        return None
    c_out, c_per_group, r, s = (int(d) for d in w.shape)
    c_in, h, wd = (int(d) for d in x.shape[-3:])
    oh, ow = (int(d) for d in out.shape[-2:])
    groups = int(a["groups"])
    stride, stride_w = _pair(a["stride"])
    where = rec.where or "<root>"
    if stride != stride_w:
        rec.notes.append(f"{where}: stride {stride}x{stride_w} modelled as {stride}")
    images = rec.per_sample(x.numel(), c_in, h, wd)
    if images > 1:  # e.g. video frames folded into the batch: stack them along the rows
        rec.notes.append(f"{where}: {images} images per sample, stacked along the rows")
        h, oh = h * images, oh * images
    # Padding is recovered from the real output size, which also covers 'same' and dilation.
    pad_h, pad_w = _fit_pad(h, r, stride, oh), _fit_pad(wd, s, stride, ow)
    pad = pad_h if pad_h is not None else (pad_w or 0)
    if pad_h != pad_w:  # the layer has one pad: keep the one whose output plane is closest in size
        def plane_error(p: int) -> int:
            return abs(((h + 2 * p - r) // stride + 1) * ((wd + 2 * p - s) // stride + 1) - oh * ow)
        pad = min((p for p in (pad_h, pad_w) if p is not None), key=plane_error, default=0)
        rec.notes.append(f"{where}: padding is not one symmetric pad on both axes; pad {pad} used")
    kind, k, c = ("dwconv", 1, 1) if groups == c_in == c_out else ("conv", c_out // groups, c_per_group)
    return rec.emit("conv", lambda n: Layer(n, kind, k, c, h, wd, r, s, stride, pad, groups), x)


def _linear(rec: _Recorder, op, func, args, kwargs, out) -> str | None:
    a = _bind(args, kwargs, ("input", "weight", "bias"), {})
    x, w = a["input"], a["weight"]
    if not rec.is_act(x) or w.dim() != 2:
        return None
    f_out, f_in = int(w.shape[0]), int(w.shape[1])
    tokens = rec.per_sample(x.numel(), f_in)
    if rec.is_act(w):  # F.linear of two activations is an attention-style product
        return rec.emit("matmul", lambda n: matmul(n, tokens, f_in, f_out), x, w)
    return rec.emit("linear", lambda n: gemm(n, tokens, f_in, f_out), x)


def _matmul(rec: _Recorder, op, func, args, kwargs, out) -> str | None:
    a, b = (args[1], args[2]) if op in ("addmm", "baddbmm") else (args[0], args[1])
    if op == "__rmatmul__":
        a, b = b, a
    if not (isinstance(a, rec.torch.Tensor) and isinstance(b, rec.torch.Tensor)):
        return None
    rows = int(a.shape[-2]) if a.dim() >= 2 else 1
    inner = int(a.shape[-1])
    cols = int(b.shape[-1]) if b.dim() >= 2 else 1
    if rec.is_act(a) and rec.is_act(b):
        heads = rec.per_sample(out.numel(), rows, cols)
        return rec.emit("matmul", lambda n: matmul(n, rows, inner, cols, heads), a, b)
    if rec.is_act(a) and b.dim() == 2:  # activation x weight: a fully connected layer
        return rec.emit("linear", lambda n: gemm(n, rec.per_sample(a.numel(), inner), inner, cols), a)
    if rec.is_act(b) and a.dim() == 2:  # weight x activation: tokens are the columns of b
        return rec.emit("linear", lambda n: gemm(n, rec.per_sample(b.numel(), inner), inner, rows), b)
    return None


def _add(rec: _Recorder, op, func, args, kwargs, out) -> str | None:
    other = args[1] if len(args) > 1 else kwargs.get("other")
    if not (rec.is_act(args[0]) and rec.is_act(other)):
        return None  # a bias or a constant offset: not a layer
    h = int(out.shape[-2]) if out.dim() >= 3 else 1
    w = int(out.shape[-1]) if out.dim() >= 4 else 1
    channels = rec.per_sample(out.numel(), h, w)
    return rec.emit("add", lambda n: add(n, channels, h, w), args[0], other)


def _attention(rec: _Recorder, q, k, v, rows: int, cols: int, d_head: int, heads: int) -> str:
    """Q.K^T then A.V (softmax folded in); q/k/v are tensors or producer layer names."""
    scores = rec.emit("qk", lambda n: matmul(n, rows, d_head, cols, heads), q, k)
    return rec.emit("av", lambda n: matmul(n, rows, cols, d_head, heads), scores, v)


def _sdpa(rec: _Recorder, op, func, args, kwargs, out) -> str | None:
    a = _bind(args, kwargs, ("query", "key", "value"), {})
    q, k, v = a["query"], a["key"], a["value"]
    rows, d, cols = int(q.shape[-2]), int(q.shape[-1]), int(k.shape[-2])
    if int(v.shape[-1]) != d:
        rec.notes.append(f"{rec.where or '<root>'}: value width {int(v.shape[-1])} != query width {d}; "
                         f"A.V modelled with {d}")
    return _attention(rec, q, k, v, rows, cols, d, rec.per_sample(q.numel(), rows, d))


def _mha(rec: _Recorder, op, func, args, kwargs, out) -> str | None:
    """``F.multi_head_attention_forward`` (what ``nn.MultiheadAttention`` calls): 6 layers."""
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    q, k, v, heads = a["query"], a["key"], a["value"], int(a["num_heads"])
    d, kd, vd = int(q.shape[-1]), int(k.shape[-1]), int(v.shape[-1])
    rows, cols = rec.per_sample(q.numel(), d), rec.per_sample(k.numel(), kd)
    d_out = int(a["out_proj_weight"].shape[0])
    qp = rec.emit("q_proj", lambda n: gemm(n, rows, d, d), q)
    kp = rec.emit("k_proj", lambda n: gemm(n, cols, kd, d), k)
    vp = rec.emit("v_proj", lambda n: gemm(n, cols, vd, d), v)
    av = _attention(rec, qp, kp, vp, rows, cols, d // heads, heads)
    # Both outputs (attention output and, if asked, the weights) are marked as coming from out_proj.
    return rec.emit("out_proj", lambda n: gemm(n, rows, d, d_out), av)


_HANDLERS = {"conv2d": _conv2d, "linear": _linear, "scaled_dot_product_attention": _sdpa,
             "multi_head_attention_forward": _mha}
_HANDLERS.update({op: _matmul for op in _MATMUL_OPS})
_HANDLERS.update({op: _add for op in _ADD_OPS})
