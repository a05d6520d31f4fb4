"""One DNN layer in MAESTRO's loop-nest space.

Every layer type is described by the same seven dimensions plus groups, so the cost model needs
no per-type code beyond two flags (:attr:`Layer.has_weights`, :attr:`Layer.is_elementwise`):

=========  ===============================================================================
symbol     meaning
=========  ===============================================================================
``k``      output channels per group (GEMM: output features; attention matmul: columns of
           the output, e.g. keys for Q.K^T or head width for A.V)
``c``      input channels per group (GEMM: input features; matmul: the reduced dimension)
``r, s``   filter rows and columns (1 for GEMM, matmul and add)
``y_in``   input rows (GEMM/matmul: tokens, i.e. rows of the left operand)
``x_in``   input columns (1 for GEMM/matmul)
``stride`` convolution stride; ``pad`` symmetric zero padding
``groups`` independent groups: channels of a depthwise conv, heads of an attention matmul
=========  ===============================================================================

Output rows ``y_out = (y_in + 2 pad - r) // stride + 1`` and likewise ``x_out``.
All sizes here are element counts for one sample (batch 1); byte counts multiply by the
MCM's ``bytes_per_element`` (INT8 = 1 by default), the cost model multiplies by the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from scar_gym.errors import ConfigError

#: Layer operation types. ``dwconv`` is a conv whose groups equal its channels (k = c = 1 per
#: group); ``matmul`` has two activation operands (no weights); ``add`` is element-wise.
OP_TYPES = ("conv", "dwconv", "gemm", "matmul", "add")
#: Bounds that keep the cost model's integer arithmetic (int64, times a batch of up to
#: :data:`scar_gym.scenarios.MAX_BATCH`) exact: every dimension at most 2**20 (the zoo's largest is
#: 16,384 tokens), a layer's MACs at most 2**40 (the zoo's largest, 1.9e10, is 57 times below) and
#: its weight, input and output tensors at most 2**36 elements each (the zoo's largest, 3.4e7).
MAX_DIM = 2**20
MAX_MACS = 2**40
MAX_ELEMS = 2**36


@dataclass(frozen=True)
class Layer:
    """A layer of a model; see the module docstring for the meaning of each dimension."""

    name: str
    op: str
    k: int
    c: int
    y_in: int
    x_in: int = 1
    r: int = 1
    s: int = 1
    stride: int = 1
    pad: int = 0
    groups: int = 1

    def __post_init__(self) -> None:
        where = f"layer {self.name!r}"
        if self.op not in OP_TYPES:
            raise ConfigError(f"{where}.op", f"unknown op {self.op!r}", f"use one of {', '.join(OP_TYPES)}")
        for field in ("k", "c", "y_in", "x_in", "r", "s", "stride", "groups"):
            v = getattr(self, field)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ConfigError(f"{where}.{field}", f"must be a positive integer, got {v!r}",
                                  f"set {field} >= 1")
            if v > MAX_DIM:
                raise ConfigError(f"{where}.{field}", f"{v:,} is above the bound of {MAX_DIM:,} per dimension",
                                  "split the layer or check the value")
        if not isinstance(self.pad, int) or isinstance(self.pad, bool) or not 0 <= self.pad <= MAX_DIM:
            raise ConfigError(f"{where}.pad", f"must be an integer 0 .. {MAX_DIM:,}, got {self.pad!r}", "set pad >= 0")
        if self.op == "dwconv" and (self.k != 1 or self.c != 1):
            raise ConfigError(f"{where}", "a dwconv has k = c = 1 per group (groups = channels)",
                              "write the channel count as groups")
        if self.op in ("gemm", "matmul", "add") and (self.r != 1 or self.s != 1 or self.stride != 1):
            raise ConfigError(f"{where}", f"a {self.op} has r = s = stride = 1", "drop the filter fields")
        if self.op == "add" and self.c != 1:
            raise ConfigError(f"{where}.c", "an add has c = 1 (k holds the channels)", "set c: 1")
        if self.y_out <= 0 or self.x_out <= 0:
            raise ConfigError(f"{where}", f"filter {self.r}x{self.s} with pad {self.pad} does not fit the "
                              f"{self.y_in}x{self.x_in} input", "enlarge the input or pad")
        if self.macs > MAX_MACS:
            raise ConfigError(f"{where}.macs", f"{self.macs:,} MACs per sample, above the bound of {MAX_MACS:,} "
                              "per layer", "split the layer or check its dimensions")
        for size in ("input_elems", "output_elems", "param_elems"):
            if getattr(self, size) > MAX_ELEMS:
                raise ConfigError(f"{where}.{size}", f"{getattr(self, size):,} elements, above the bound of "
                                  f"{MAX_ELEMS:,} per tensor", "split the layer or check its dimensions")

    # -- shape -----------------------------------------------------------------------------------
    @property
    def y_out(self) -> int:
        return (self.y_in + 2 * self.pad - self.r) // self.stride + 1

    @property
    def x_out(self) -> int:
        return (self.x_in + 2 * self.pad - self.s) // self.stride + 1

    @property
    def has_weights(self) -> bool:
        """False for attention matmuls and adds: their operands all come from other layers."""
        return self.op in ("conv", "dwconv", "gemm")

    @property
    def is_elementwise(self) -> bool:
        return self.op == "add"

    # -- work and sizes (elements, one sample) -------------------------------------------------
    @property
    def macs(self) -> int:
        """Multiply-accumulates for one sample; for an add, the element-wise operations."""
        if self.is_elementwise:
            return self.groups * self.k * self.y_out * self.x_out
        return self.groups * self.k * self.c * self.r * self.s * self.y_out * self.x_out

    @property
    def weight_elems(self) -> int:
        """Elements of the stationary operand: weights, or for a matmul its right-hand activation."""
        if self.is_elementwise:
            return 0
        return self.groups * self.k * self.c * self.r * self.s

    @property
    def param_elems(self) -> int:
        """Weights that live in DRAM (0 for matmul and add)."""
        return self.weight_elems if self.has_weights else 0

    @property
    def input_elems(self) -> int:
        """Elements of the activation operands read for one sample (both operands of a matmul/add)."""
        main = self.groups * self.c * self.y_in * self.x_in
        if self.op == "matmul":
            return main + self.weight_elems
        if self.op == "add":
            return 2 * self.groups * self.k * self.y_in * self.x_in
        return main

    @property
    def output_elems(self) -> int:
        return self.groups * self.k * self.y_out * self.x_out

    def describe(self) -> str:
        if self.op in ("gemm", "matmul"):
            g = f"{self.groups}x" if self.groups > 1 else ""
            return f"{self.op} {g}[{self.y_in}x{self.c}]x[{self.c}x{self.k}]"
        if self.op == "add":
            return f"add {self.k}x{self.y_in}x{self.x_in}"
        ch = f"{self.groups}ch" if self.op == "dwconv" else f"{self.c}->{self.k}"
        return f"{self.op} {ch} {self.r}x{self.s}/{self.stride} {self.y_in}x{self.x_in}->{self.y_out}x{self.x_out}"

    def to_dict(self) -> dict:
        d = {"name": self.name, "op": self.op, "k": self.k, "c": self.c, "y_in": self.y_in, "x_in": self.x_in}
        for f, default in (("r", 1), ("s", 1), ("stride", 1), ("pad", 0), ("groups", 1)):
            if getattr(self, f) != default:
                d[f] = getattr(self, f)
        return d


# -- constructors used by the model builders -----------------------------------------------------

def conv(name: str, c_in: int, c_out: int, h: int, w: int, kernel: int, stride: int = 1,
         pad: int | None = None, kernel_w: int | None = None) -> Layer:
    """A dense 2-D convolution on an ``h x w`` input; ``pad`` defaults to 'same' (kernel // 2)."""
    ks = kernel_w if kernel_w is not None else kernel
    return Layer(name, "conv", k=c_out, c=c_in, y_in=h, x_in=w, r=kernel, s=ks, stride=stride,
                 pad=kernel // 2 if pad is None else pad)


def dwconv(name: str, channels: int, h: int, w: int, kernel: int, stride: int = 1, pad: int | None = None) -> Layer:
    return Layer(name, "dwconv", k=1, c=1, y_in=h, x_in=w, r=kernel, s=kernel, stride=stride,
                 pad=kernel // 2 if pad is None else pad, groups=channels)


def gemm(name: str, tokens: int, in_features: int, out_features: int) -> Layer:
    """A fully connected layer applied to ``tokens`` rows: [tokens x in] x [in x out]."""
    return Layer(name, "gemm", k=out_features, c=in_features, y_in=tokens)


def matmul(name: str, rows: int, inner: int, cols: int, heads: int = 1) -> Layer:
    """An activation-by-activation product per head: [rows x inner] x [inner x cols]."""
    return Layer(name, "matmul", k=cols, c=inner, y_in=rows, groups=heads)


def add(name: str, channels: int, h: int, w: int = 1) -> Layer:
    """An element-wise residual add of two ``channels x h x w`` tensors."""
    return Layer(name, "add", k=channels, c=1, y_in=h, x_in=w)
