"""Importing PyTorch modules: layers, shapes, MACs, edges through skipped ops, the skipped list."""

from __future__ import annotations

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from scar_gym.errors import ConfigError  # noqa: E402
from scar_gym.workloads import from_torch, get_model  # noqa: E402


class Small(nn.Module):
    """conv -> relu -> depthwise conv -> add (residual) -> tokens -> linear -> attention matmul."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.ReLU()
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.proj = nn.Linear(8, 16)

    def forward(self, x):
        y = self.act(self.conv(x))
        z = self.dw(y) + y                       # add of two activations
        t = z.flatten(2).transpose(1, 2)         # (N, 36 tokens, 8): layout only
        q = self.proj(t)                         # (N, 36, 16)
        scores = q @ q.transpose(1, 2)           # (N, 36, 36): activation x activation
        return torch.softmax(scores, dim=-1)


def test_small_module_exact():
    result = from_torch(Small(), torch.randn(4, 3, 6, 6), name="small")
    model = result.model
    assert model.name == "small"
    got = [(l.name, l.op, l.k, l.c, l.y_in, l.x_in, l.r, l.s, l.stride, l.pad, l.groups) for l in model.layers]
    assert got == [
        ("conv", "conv", 8, 3, 6, 6, 3, 3, 1, 1, 1),
        ("dw", "dwconv", 1, 1, 6, 6, 3, 3, 1, 1, 8),
        ("add", "add", 8, 1, 6, 6, 1, 1, 1, 0, 1),
        ("proj", "gemm", 16, 8, 36, 1, 1, 1, 1, 0, 1),
        ("matmul", "matmul", 36, 16, 36, 1, 1, 1, 1, 0, 1),
    ]
    # MACs per sample: the example batch of 4 is divided out.
    assert [l.macs for l in model.layers] == [8 * 3 * 9 * 36, 8 * 9 * 36, 8 * 36, 36 * 8 * 16, 36 * 16 * 36]
    # The ReLU is skipped, so the depthwise conv and the add read the conv directly.
    assert sorted(model.graph.edges) == sorted([
        ("conv", "dw"), ("conv", "add"), ("dw", "add"), ("add", "proj"), ("proj", "matmul")])
    assert result.skipped == ["act: relu", "<root>: softmax"]
    assert result.notes == []


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(32, 4, batch_first=True)
        self.norm = nn.LayerNorm(32)

    def forward(self, x):
        a, _ = self.mha(x, x, x)
        y = self.norm(x + a)
        return nn.functional.scaled_dot_product_attention(y[:, None], y[:, None], y[:, None])


def test_attention_ops_become_projections_and_matmuls():
    model = from_torch(Attention(), torch.randn(2, 10, 32)).model
    layers = {l.name: l for l in model.layers}
    assert list(layers) == ["mha.q_proj", "mha.k_proj", "mha.v_proj", "mha.qk", "mha.av", "mha.out_proj",
                            "add", "qk", "av"]
    assert layers["mha.q_proj"].macs == 10 * 32 * 32
    assert (layers["mha.qk"].groups, layers["mha.qk"].y_in, layers["mha.qk"].c, layers["mha.qk"].k) == (4, 10, 8, 10)
    assert (layers["mha.av"].c, layers["mha.av"].k) == (10, 8)
    assert set(model.graph.predecessors("mha.av")) == {"mha.qk", "mha.v_proj"}
    assert set(model.graph.predecessors("add")) == {"mha.out_proj"}  # the other operand is the model input
    assert set(model.graph.predecessors("qk")) == {"add"}  # through the skipped layer norm
    assert set(model.graph.predecessors("av")) == {"qk", "add"}


def test_resnet50_import_matches_the_zoo():
    """An independent torch ResNet-50 gives exactly the zoo's layers and edges."""

    class Bottleneck(nn.Module):
        def __init__(self, c_in, width, stride):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(c_in, width, 1, bias=False), nn.BatchNorm2d(width)
            self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
            self.conv3, self.bn3 = nn.Conv2d(width, 4 * width, 1, bias=False), nn.BatchNorm2d(4 * width)
            self.downsample = (nn.Sequential(nn.Conv2d(c_in, 4 * width, 1, stride, bias=False),
                                             nn.BatchNorm2d(4 * width)) if (stride, c_in) != (1, 4 * width) else None)

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn3(self.conv3(torch.relu(self.bn2(self.conv2(y)))))
            return torch.relu(y + (x if self.downsample is None else self.downsample(x)))

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.pool = nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.MaxPool2d(3, 2, 1)
            blocks, c_in = [], 64
            for width, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
                for i in range(n):
                    blocks.append(Bottleneck(c_in, width, stride if i == 0 else 1))
                    c_in = 4 * width
            self.blocks, self.fc = nn.Sequential(*blocks), nn.Linear(2048, 1000)

        def forward(self, x):
            x = self.blocks(self.pool(self.conv1(x)))
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    imported, zoo = from_torch(ResNet50(), torch.zeros(1, 3, 224, 224)).model, get_model("resnet50")
    shape = lambda l: (l.op, l.k, l.c, l.y_in, l.x_in, l.r, l.s, l.stride, l.pad, l.groups)  # noqa: E731
    assert [shape(l) for l in imported.layers] == [shape(l) for l in zoo.layers]
    assert np.array_equal(imported.edges, zoo.edges)


def test_training_flags_are_restored_and_empty_models_rejected():
    net = Small().train()
    from_torch(net, torch.randn(1, 3, 6, 6))
    assert all(m.training for m in net.modules())
    with pytest.raises(ConfigError, match="no conv, linear, matmul or add"):
        from_torch(nn.ReLU(), torch.randn(1, 3))


def test_missing_torch_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    with pytest.raises(ImportError, match="needs PyTorch"):
        from_torch(object(), None)
