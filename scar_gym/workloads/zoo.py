"""The models of the paper's Table III, built layer by layer from their published architectures.

Every model is one sample (batch 1): the scheduler applies the scenario's batch. Only layers with
work for a MAC array are layers here: conv, depthwise conv, GEMM, attention matmul and residual add.
Pooling, normalisation, activations, softmax, upsampling, reshapes and concatenations are not
layers; they only change the tracked plane size or merge producers (a consumer of a concatenation
has every concatenated producer as a predecessor).

``get_model(id)`` returns a cached, immutable :class:`~scar_gym.workloads.model.Model`;
``MODEL_INFO[id]`` gives its domain, a one-line description and the source of its shapes. Each
builder's docstring names the source and the exact layer count (checked by ``tests/test_zoo.py``).
The AR/VR models are approximations (their exact deployed variants are not all published); each
docstring says what was approximated.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Callable

from scar_gym.errors import UnknownNameError
from scar_gym.workloads.layers import add as add_layer
from scar_gym.workloads.layers import conv as conv_layer
from scar_gym.workloads.layers import dwconv as dwconv_layer
from scar_gym.workloads.layers import gemm as gemm_layer
from scar_gym.workloads.layers import matmul as matmul_layer
from scar_gym.workloads.model import Model, ModelBuilder

#: Sequence length of the language models (paper, Section 3).
LM_SEQ = 128


# -- building blocks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Act:
    """An activation tensor while a model is built (one sample).

    ``src`` names the layers whose outputs make up the tensor (empty = the model input); ``c`` is
    channels (features for token tensors), ``h x w`` the plane (tokens x 1 for token tensors).
    """

    src: tuple[str, ...]
    c: int
    h: int
    w: int = 1


def _cat(*xs: _Act) -> _Act:
    """Channel concatenation: no layer, the consumer reads every producer."""
    assert all((x.h, x.w) == (xs[0].h, xs[0].w) for x in xs), "concat needs equal planes"
    return _Act(_producers(*xs), sum(x.c for x in xs), xs[0].h, xs[0].w)


def _with_deps(x: _Act, *deps: _Act) -> _Act:
    """``x`` plus a data dependency on ``deps`` (e.g. an RoI crop that needs the detections)."""
    return replace(x, src=_producers(x, *deps))


def _producers(*xs: _Act) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for x in xs for s in x.src))  # ordered, without duplicates


def _pool(x: _Act, kernel: int = 3, stride: int = 2, pad: int | None = None) -> _Act:
    """Max/avg pooling: not a layer, only the plane shrinks (floor division, like the frameworks)."""
    pad = (kernel - 1) // 2 if pad is None else pad
    return replace(x, h=(x.h + 2 * pad - kernel) // stride + 1, w=(x.w + 2 * pad - kernel) // stride + 1)


def _global_pool(x: _Act) -> _Act:
    return replace(x, h=1, w=1)


def _upsample(x: _Act, factor: int = 2) -> _Act:
    """Nearest/bilinear upsampling or unpooling: not a layer, only the plane grows."""
    return replace(x, h=x.h * factor, w=x.w * factor)


def _tokens(x: _Act) -> _Act:
    """A feature map seen as ``h*w`` tokens of ``c`` features (for GEMMs)."""
    return replace(x, h=x.h * x.w, w=1)


def _roi_plane(feature: _Act, rois: int, res: int, *deps: _Act) -> _Act:
    """RoI-aligned features of ``rois`` regions of ``res x res``, stacked along the rows.

    A per-RoI convolution then is one layer with ``rois`` times the rows: MACs and tensor sizes
    are exact; only the zero padding between stacked RoIs is not modelled. ``deps`` are the
    layers that produce the boxes.
    """
    return _Act(_producers(feature, *deps), feature.c, rois * res, res)


def _roi_vectors(x: _Act, rois: int) -> _Act:
    """Per-RoI flattened features (``rois`` tokens) from a stacked RoI plane."""
    return _Act(x.src, x.c * (x.h // rois) * x.w, rois)


class _Net:
    """A :class:`ModelBuilder` that tracks tensor shapes, so builders read like architecture tables."""

    def __init__(self, name: str, description: str = ""):
        self._b = ModelBuilder(name, description)

    def _emit(self, layer, *xs: _Act) -> str:
        return self._b.add(layer, *_producers(*xs))

    def conv(self, name: str, x: _Act, c_out: int, kernel: int, stride: int = 1, pad: int | None = None) -> _Act:
        layer = conv_layer(name, x.c, c_out, x.h, x.w, kernel, stride, pad)
        return _Act((self._emit(layer, x),), c_out, layer.y_out, layer.x_out)

    def dw(self, name: str, x: _Act, kernel: int, stride: int = 1) -> _Act:
        layer = dwconv_layer(name, x.c, x.h, x.w, kernel, stride)
        return _Act((self._emit(layer, x),), x.c, layer.y_out, layer.x_out)

    def gemm(self, name: str, x: _Act, out_features: int) -> _Act:
        """Fully connected layer on the ``h*w`` tokens of ``x``."""
        layer = gemm_layer(name, x.h * x.w, x.c, out_features)
        return _Act((self._emit(layer, x),), out_features, x.h * x.w)

    def matmul(self, name: str, left: _Act, right: _Act, rows: int, inner: int, cols: int, heads: int) -> str:
        """Activation x activation product per head; returns the layer name (callers know the layout)."""
        return self._emit(matmul_layer(name, rows, inner, cols, heads), left, right)

    def add(self, name: str, a: _Act, b: _Act) -> _Act:
        assert (a.c, a.h, a.w) == (b.c, b.h, b.w), f"{name}: add of {a} and {b}"
        return _Act((self._emit(add_layer(name, a.c, a.h, a.w), a, b),), a.c, a.h, a.w)

    def build(self) -> Model:
        return self._b.build()


def _conv_stack(net: _Net, p: str, x: _Act, c_out: int, n: int = 2, kernel: int = 3) -> _Act:
    """``n`` 'same' convolutions in a row (U-Net / RITnet double conv)."""
    for i in range(1, n + 1):
        x = net.conv(f"{p}.conv{i}", x, c_out, kernel)
    return x


def _transposed_conv2x2(net: _Net, name: str, x: _Act, c_out: int) -> _Act:
    """A 2x2 stride-2 transposed convolution, in its pixel-shuffle form.

    It is a 1x1 conv ``c -> 4 c_out`` on the low-resolution plane whose output, shuffled, is the
    ``2h x 2w x c_out`` result: MACs (``4 h w c c_out``), weights, input and output sizes are all
    exactly those of the transposed conv, which the layer space cannot express directly.
    """
    y = net.conv(name, x, 4 * c_out, 1)
    return _Act(y.src, c_out, 2 * x.h, 2 * x.w)


def _bottleneck(net: _Net, p: str, x: _Act, width: int, stride: int) -> _Act:
    """ResNet v1.5 bottleneck: 1x1, 3x3 (carries the stride), 1x1 x4, projection shortcut, add."""
    y = net.conv(f"{p}.conv1", x, width, 1)
    y = net.conv(f"{p}.conv2", y, width, 3, stride)
    y = net.conv(f"{p}.conv3", y, 4 * width, 1)
    short = net.conv(f"{p}.downsample", x, 4 * width, 1, stride) if (stride, x.c) != (1, 4 * width) else x
    return net.add(f"{p}.add", y, short)


def _basic_block(net: _Net, p: str, x: _Act, width: int, stride: int) -> _Act:
    """ResNet-18/34 basic block: 3x3, 3x3, projection shortcut when the shape changes, add."""
    y = net.conv(f"{p}.conv1", x, width, 3, stride)
    y = net.conv(f"{p}.conv2", y, width, 3)
    short = net.conv(f"{p}.downsample", x, width, 1, stride) if (stride, x.c) != (1, width) else x
    return net.add(f"{p}.add", y, short)


_Block = Callable[[_Net, str, _Act, int, int], _Act]


def _resnet_stages(net: _Net, p: str, x: _Act, block: _Block, depths: tuple[int, ...],
                   widths: tuple[int, ...] = (64, 128, 256, 512)) -> list[_Act]:
    """ResNet stages ``layer1..layer4``; the first block of every stage but the first has stride 2.

    Returns each stage's output (the C2..C5 features of an FPN).
    """
    outs = []
    for stage, (depth, width) in enumerate(zip(depths, widths), 1):
        for i in range(depth):
            x = block(net, f"{p}layer{stage}.{i}", x, width, 2 if stage > 1 and i == 0 else 1)
        outs.append(x)
    return outs


def _resnet_stem(net: _Net, x: _Act, c_out: int = 64) -> _Act:
    """conv1 7x7/2 then a 3x3/2 max pool (not a layer)."""
    return _pool(net.conv("conv1", x, c_out, 7, 2))


def _inverted_residual(net: _Net, p: str, x: _Act, c_out: int, expand: int, kernel: int = 3,
                       stride: int = 1) -> _Act:
    """MobileNetV2 / EfficientNet-Lite / FBNet block: 1x1 expand, kxk depthwise, 1x1 project, add.

    The expansion conv is absent when ``expand == 1``; the residual add only when the shape is kept.
    """
    y = net.conv(f"{p}.expand", x, x.c * expand, 1) if expand != 1 else x
    y = net.dw(f"{p}.dw", y, kernel, stride)
    y = net.conv(f"{p}.project", y, c_out, 1)
    return net.add(f"{p}.add", y, x) if (stride, x.c) == (1, c_out) else y


#: (expansion t, output channels c, repeats n, first stride s, depthwise kernel k) per stage.
_IRStage = tuple[int, int, int, int, int]


def _ir_stages(net: _Net, p: str, x: _Act, stages: tuple[_IRStage, ...]) -> list[_Act]:
    """Stages of inverted residual blocks; returns each stage's output."""
    outs = []
    for si, (t, c, n, s, k) in enumerate(stages):
        for i in range(n):
            x = _inverted_residual(net, f"{p}stage{si}.{i}", x, c, t, k, s if i == 0 else 1)
        outs.append(x)
    return outs


def _blaze_block(net: _Net, p: str, x: _Act, c_out: int, stride: int) -> _Act:
    """BlazeBlock (BlazeFace/BlazePalm): 5x5 depthwise, 1x1 conv, add with the shortcut.

    When the shape changes the shortcut is max-pooled and zero-padded to ``c_out`` (no layer), so
    the add is always there.
    """
    y = net.conv(f"{p}.pw", net.dw(f"{p}.dw", x, 5, stride), c_out, 1)
    short = replace(_pool(x, 2, 2) if stride == 2 else x, c=c_out)
    return net.add(f"{p}.add", y, short)


def _attention_core(net: _Net, p: str, q: _Act, k: _Act, v: _Act, rows: int, cols: int, d_head: int,
                    groups: int) -> _Act:
    """Q.K^T (``p.qk``) and A.V (``p.av``) per group; softmax and scaling are folded in.

    ``rows`` queries attend ``cols`` keys in each of ``groups`` independent groups (heads, or heads
    x windows). Returns A.V's output as ``groups*rows`` tokens of ``d_head`` (callers re-view it).
    """
    scores = net.matmul(f"{p}.qk", q, k, rows=rows, inner=d_head, cols=cols, heads=groups)
    out = net.matmul(f"{p}.av", _Act((scores,), cols, rows), v, rows=rows, inner=cols, cols=d_head, heads=groups)
    return _Act((out,), d_head, groups * rows)


def _mha(net: _Net, p: str, x: _Act, heads: int, kv: _Act | None = None, keys: int | None = None,
         fused_kv: bool = False) -> _Act:
    """Multi-head attention on ``x`` (``x.h`` tokens of ``x.c`` features).

    Q, K, V projections (K and V as one GEMM when ``fused_kv``), Q.K^T, A.V, output projection.
    ``kv`` are the tokens K and V are computed from (default ``x``); ``keys`` the number of keys each
    query attends (default ``kv.h``; more when cached keys from earlier steps are attended too).
    """
    d = x.c
    kv = kv or x
    q = net.gemm(f"{p}.q", x, d)
    if fused_kv:
        k = v = net.gemm(f"{p}.kv", kv, 2 * d)
    else:
        k, v = net.gemm(f"{p}.k", kv, d), net.gemm(f"{p}.v", kv, d)
    a = _attention_core(net, p, q, k, v, rows=x.h, cols=keys or kv.h, d_head=d // heads, groups=heads)
    return net.gemm(f"{p}.out", _Act(a.src, d, x.h), d)


def _ffn(net: _Net, p: str, x: _Act, hidden: int) -> _Act:
    """Position-wise feed-forward network: two GEMMs (the activation is not a layer)."""
    return net.gemm(f"{p}.ffn2", net.gemm(f"{p}.ffn1", x, hidden), x.c)


def _transformer_block(net: _Net, p: str, x: _Act, heads: int, ffn: int, **mha) -> _Act:
    """Attention then FFN: 8 layers (7 with ``fused_kv``); residual adds and layer norms are not layers."""
    return _ffn(net, p, _mha(net, p, x, heads, **mha), ffn)


# -- datacenter models --------------------------------------------------------------------------

def _language_model(name: str, description: str, blocks: int, d: int, heads: int, ffn: int) -> Model:
    net = _Net(name, description)
    x = _Act((), d, LM_SEQ)  # token embeddings come from DRAM: the lookup is not a layer
    for i in range(blocks):
        x = _transformer_block(net, f"block{i}", x, heads, ffn)
    return net.build()


def gpt_l(description: str = "") -> Model:
    """GPT-2 large (Radford et al. 2019): 36 blocks, d = 1280, 20 heads, FFN 5120, sequence 128.

    Each block is 8 layers: Q, K, V projections (GEMM), Q.K^T and A.V (matmul, 20 heads as groups),
    output projection, FFN1, FFN2. Residual adds, layer norms, softmax, the embedding lookup and the
    LM head are not layers. 36 x 8 = **288 layers**, 92.1 GMAC per sample.

    The paper counts GPT-L as 120 layers; no split of the published 36-block architecture gives
    120 (it is not a multiple of 36), so the count is not recoverable and the full published
    architecture is built instead.
    """
    return _language_model("gpt-l", description, 36, 1280, 20, 5120)


def bert_large(description: str = "") -> Model:
    """BERT-large (Devlin et al. 2019): 24 blocks, d = 1024, 16 heads, FFN 4096, sequence 128.

    Same 8-layer block as :func:`gpt_l`; no pooler or task head. 24 x 8 = **192 layers**, 39.5 GMAC.
    The paper counts 60 layers (not a multiple of 8 layers per block), so its split is not
    recoverable; the full published architecture is built instead.
    """
    return _language_model("bert-large", description, 24, 1024, 16, 4096)


def bert_base(description: str = "") -> Model:
    """BERT-base (Devlin et al. 2019): 12 blocks, d = 768, 12 heads, FFN 3072, sequence 128.

    Same 8-layer block as :func:`gpt_l`; no pooler or task head. 12 x 8 = **96 layers**, 11.2 GMAC.
    """
    return _language_model("bert-base", description, 12, 768, 12, 3072)


def resnet50(description: str = "") -> Model:
    """ResNet-50 on 224x224 (He et al. 2016; torchvision v1.5: the stride is on the 3x3 conv).

    conv1 7x7/2, max pool (not a layer), 16 bottlenecks (3, 4, 6, 3) of 3 convs + 1 residual add,
    global pool (not a layer), FC 2048 -> 1000 (GEMM, 1 token). That is the paper's 66 layers; the
    4 projection shortcuts (1x1 conv, one per stage) are real work and are layers too:
    1 + 16 x 4 + 4 + 1 = **70 layers** (53 convs, 16 adds, 1 GEMM), 4.09 GMAC in convs + FC.
    """
    net = _Net("resnet50", description)
    c5 = _resnet_stages(net, "", _resnet_stem(net, _Act((), 3, 224, 224)), _bottleneck, (3, 4, 6, 3))[-1]
    net.gemm("fc", _global_pool(c5), 1000)
    return net.build()


def unet(description: str = "") -> Model:
    """U-Net on 512x512x1 (Ronneberger et al. 2015), with 'same' padding.

    The original uses valid convolutions (572 -> 388); 'same' padding keeps every plane a power of
    two so skip connections need no cropping. 4 encoder levels of 2 conv3x3 (64, 128, 256, 512
    channels; 2x2 max pool between, not a layer), 2 conv3x3 at the bottom (1024), 4 up-convs
    (2x2 stride-2 transposed conv halving the channels, modelled exactly by
    :func:`_transposed_conv2x2`), 4 decoder levels of 2 conv3x3 whose first reads the concatenation of
    the skip and the up-conv (2x channels), final 1x1 conv 64 -> 2.
    10 + 4 + 8 + 1 = **23 layers**, all convs (the paper's count).
    """
    net = _Net("unet", description)
    x, skips = _Act((), 1, 512, 512), []
    for level, c in enumerate((64, 128, 256, 512), 1):
        x = _conv_stack(net, f"enc{level}", x, c)
        skips.append(x)
        x = _pool(x, 2, 2)
    x = _conv_stack(net, "bottom", x, 1024)
    for level in range(4, 0, -1):
        skip = skips[level - 1]
        up = _transposed_conv2x2(net, f"up{level}", x, skip.c)
        x = _conv_stack(net, f"dec{level}", _cat(skip, up), skip.c)
    net.conv("final", x, 2, 1)
    return net.build()


#: GoogLeNet inception modules (Szegedy et al. 2015, Table 1): name, #1x1, #3x3 reduce, #3x3,
#: #5x5 reduce, #5x5, pool proj. A 3x3/2 max pool precedes 4a and 5a.
_INCEPTION = (
    ("3a", 64, 96, 128, 16, 32, 32), ("3b", 128, 128, 192, 32, 96, 64),
    ("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64), ("4c", 128, 128, 256, 24, 64, 64),
    ("4d", 112, 144, 288, 32, 64, 64), ("4e", 256, 160, 320, 32, 128, 128),
    ("5a", 256, 160, 320, 32, 128, 128), ("5b", 384, 192, 384, 48, 128, 128),
)


def _inception(net: _Net, p: str, x: _Act, c1: int, c3r: int, c3: int, c5r: int, c5: int, cp: int) -> _Act:
    """Inception v1 module: 6 convs; the output is the concatenation of the 4 branches."""
    b1 = net.conv(f"{p}.1x1", x, c1, 1)
    b2 = net.conv(f"{p}.3x3", net.conv(f"{p}.3x3_reduce", x, c3r, 1), c3, 3)
    b3 = net.conv(f"{p}.5x5", net.conv(f"{p}.5x5_reduce", x, c5r, 1), c5, 5)
    b4 = net.conv(f"{p}.pool_proj", _pool(x, 3, 1), cp, 1)  # after a 3x3/1 max pool (not a layer)
    return _cat(b1, b2, b3, b4)


def googlenet(description: str = "") -> Model:
    """GoogLeNet / Inception v1 on 224x224 (Szegedy et al. 2015, Table 1), no auxiliary classifiers.

    Stem: conv 7x7/2 (3 -> 64), pool, conv 1x1 (64 -> 64), conv 3x3 (64 -> 192), pool; 9 inception
    modules of 6 convs (true 5x5 convs, as in the paper); FC 1024 -> 1000. Pools and LRN are not
    layers. 3 + 9 x 6 + 1 = **58 layers** (57 convs, 1 GEMM), 1.58 GMAC.
    """
    net = _Net("googlenet", description)
    x = _pool(net.conv("conv1", _Act((), 3, 224, 224), 64, 7, 2))
    x = _pool(net.conv("conv2", net.conv("conv2_reduce", x, 64, 1), 192, 3))
    for name, *widths in _INCEPTION:
        if name in ("4a", "5a"):
            x = _pool(x)
        x = _inception(net, f"inception{name}", x, *widths)
    net.gemm("fc", _global_pool(x), 1000)
    return net.build()


# -- AR/VR models (approximations; see each docstring) ---------------------------------------------

#: FBNetV3-A-like backbone to stride 16 (t, c, n, s, k), and the per-RoI stride-32 stage (C4 head).
_D2GO_BACKBONE: tuple[_IRStage, ...] = (
    (1, 16, 1, 1, 3), (4, 24, 2, 2, 3), (4, 32, 3, 2, 5), (4, 64, 3, 2, 5), (4, 96, 2, 1, 3))
_D2GO_ROI_HEAD: tuple[_IRStage, ...] = ((6, 160, 2, 2, 3),)


def d2go(description: str = "") -> Model:
    """D2Go Faster R-CNN, FBNetV3-A C4 style, on 320x320 (approximation).

    Source of the structure: facebookresearch/d2go ``faster_rcnn_fbnetv3a_C4`` (FBNetV3, Dai et al.
    2021; Faster R-CNN, Ren et al. 2015). The exact searched FBNetV3-A widths are approximated by a
    MobileNetV2-like inverted-residual schedule (:data:`_D2GO_BACKBONE`). Stem conv 3x3/2 (3 -> 16);
    11 inverted residual blocks to stride 16 (20x20x96; 39 layers); RPN: conv 3x3 + objectness
    (15 anchors) + box deltas; RoI head: 100 proposals of 6x6 RoI-aligned features through a
    stride-2 inverted-residual stage (2 blocks, 7 layers), pooled, then class (81) and box (320)
    GEMMs. Depthwise-heavy. 1 + 39 + 3 + 7 + 2 = **52 layers**.
    """
    net = _Net("d2go", description)
    x = net.conv("stem", _Act((), 3, 320, 320), 16, 3, 2)
    c4 = _ir_stages(net, "backbone.", x, _D2GO_BACKBONE)[-1]
    rpn = net.conv("rpn.conv", c4, c4.c, 3)
    cls, box = net.conv("rpn.objectness", rpn, 15, 1), net.conv("rpn.deltas", rpn, 60, 1)
    rois = 100
    y = _ir_stages(net, "roi_head.", _roi_plane(c4, rois, 6, cls, box), _D2GO_ROI_HEAD)[-1]
    y = _Act(y.src, y.c, rois)  # average pool of each RoI (not a layer): one token per RoI
    net.gemm("roi_head.cls", y, 81)
    net.gemm("roi_head.bbox", y, 320)
    return net.build()


def planercnn(description: str = "") -> Model:
    """PlaneRCNN on 480x640 (Liu et al. 2019), approximated with a ResNet-50-FPN Mask R-CNN.

    The published model is Mask R-CNN with a ResNet-101-FPN backbone plus a depth decoder and a
    plane-normal anchor head; the backbone is reduced to ResNet-50 (69 layers: :func:`resnet50`
    without the FC) to keep the model under ~150 layers. FPN: 4 lateral 1x1 convs, 3 top-down adds,
    4 output 3x3 convs (256 channels; 11 layers). RPN on P2..P5 (conv 3x3, objectness 3, deltas 12
    per level; 12 layers). Box head on 1000 proposals of 7x7x256: fc6, fc7 (1024), class (2:
    plane / background), box deltas, plane-normal anchors (7 x 3) (5 GEMMs). Mask head on 20
    detections of 14x14: 4 conv 3x3, 2x2 up-conv, 1x1 conv (6 layers). Depth decoder on P2:
    conv 3x3 256 -> 128 -> 64, conv 1x1 -> 1 (3 layers). 69 + 11 + 12 + 5 + 6 + 3 = **106 layers**.
    """
    net = _Net("planercnn", description)
    c2, c3, c4, c5 = _resnet_stages(net, "", _resnet_stem(net, _Act((), 3, 480, 640)), _bottleneck, (3, 4, 6, 3))
    lat = {lv: net.conv(f"fpn.lateral{lv}", c, 256, 1) for lv, c in zip((2, 3, 4, 5), (c2, c3, c4, c5))}
    top = {5: lat[5]}
    for lv in (4, 3, 2):  # top-down: nearest x2 upsampling (not a layer) then add
        top[lv] = net.add(f"fpn.topdown{lv}", lat[lv], _upsample(top[lv + 1]))
    pyramid = [net.conv(f"fpn.out{lv}", top[lv], 256, 3) for lv in (2, 3, 4, 5)]
    proposals = []
    for lv, feat in zip((2, 3, 4, 5), pyramid):
        r = net.conv(f"rpn{lv}.conv", feat, 256, 3)
        proposals += [net.conv(f"rpn{lv}.objectness", r, 3, 1), net.conv(f"rpn{lv}.deltas", r, 12, 1)]
    fpn = _with_deps(pyramid[0], *pyramid[1:])  # RoIAlign reads every pyramid level
    box = _roi_vectors(_roi_plane(fpn, 1000, 7, *proposals), 1000)
    box = net.gemm("box.fc7", net.gemm("box.fc6", box, 1024), 1024)
    detections = [net.gemm("box.cls", box, 2), net.gemm("box.deltas", box, 8), net.gemm("box.normal", box, 21)]
    m = _conv_stack(net, "mask", _roi_plane(fpn, 20, 14, *detections), 256, n=4)
    net.conv("mask.logits", _transposed_conv2x2(net, "mask.upconv", m, 256), 2, 1)
    d = _conv_stack(net, "depth", pyramid[0], 128, n=1)
    d = net.conv("depth.conv2", d, 64, 3)
    net.conv("depth.out", d, 1, 1)
    return net.build()


#: EfficientNet-Lite3 (width 1.2, depth 1.4; timm rounding) MBConv stages (t, c, n, s, k).
_EFFICIENTNET_LITE3: tuple[_IRStage, ...] = (
    (1, 24, 2, 1, 3), (6, 32, 3, 2, 3), (6, 48, 3, 2, 5), (6, 96, 5, 2, 3),
    (6, 136, 5, 1, 5), (6, 232, 6, 2, 5), (6, 384, 2, 1, 3))


def _residual_conv_unit(net: _Net, p: str, x: _Act) -> _Act:
    """MiDaS/RefineNet residual conv unit: conv 3x3, conv 3x3, add."""
    return net.add(f"{p}.add", _conv_stack(net, p, x, x.c), x)


def _fusion_block(net: _Net, p: str, path: _Act, skip: _Act | None, c_out: int) -> _Act:
    """MiDaS feature fusion: [RCU(skip) + path], RCU, x2 upsample (not a layer), 1x1 out conv."""
    if skip is not None:
        path = net.add(f"{p}.fuse", path, _residual_conv_unit(net, f"{p}.rcu1", skip))
    return net.conv(f"{p}.out_conv", _upsample(_residual_conv_unit(net, f"{p}.rcu2", path)), c_out, 1)


def midas(description: str = "") -> Model:
    """MiDaS v2.1 small on 256x256 (Ranftl et al. 2020; isl-org/MiDaS ``midas_v21_small``).

    Encoder: EfficientNet-Lite3 (Tan & Le 2019; no squeeze-excite, ReLU6): stem conv 3x3/2 (3 -> 32)
    and 26 MBConv blocks (:data:`_EFFICIENTNET_LITE3`, 95 layers). Decoder: 4 conv 3x3 taps to
    64/128/256/512 channels, 4 fusion blocks (the deepest without a skip: 4 layers; others 8),
    head conv 3x3 64 -> 32, x2 upsample, conv 3x3 32 -> 32, conv 1x1 -> 1.
    1 + 95 + 4 + 4 + 3 x 8 + 3 = **131 layers**. Repeat counts follow timm's Lite3 rounding; exact
    deployed repeats may differ.
    """
    net = _Net("midas", description)
    x = net.conv("stem", _Act((), 3, 256, 256), 32, 3, 2)
    stages = _ir_stages(net, "encoder.", x, _EFFICIENTNET_LITE3)
    taps = [stages[1], stages[2], stages[4], stages[6]]  # strides 4, 8, 16, 32
    rn = [net.conv(f"scratch.layer{i}_rn", t, c, 3) for i, (t, c) in enumerate(zip(taps, (64, 128, 256, 512)), 1)]
    path = _fusion_block(net, "refinenet4", rn[3], None, 256)
    path = _fusion_block(net, "refinenet3", path, rn[2], 128)
    path = _fusion_block(net, "refinenet2", path, rn[1], 64)
    path = _fusion_block(net, "refinenet1", path, rn[0], 64)
    y = _upsample(net.conv("head.conv1", path, 32, 3))
    net.conv("head.conv3", net.conv("head.conv2", y, 32, 3), 1, 1)
    return net.build()


def emformer(description: str = "") -> Model:
    """Emformer streaming speech encoder, one inference step (Shi et al. 2021; torchaudio ``emformer_rnnt_base``).

    torchaudio base: 80 log-mel features -> input linear (128), 4x time reduction (stacking, not a
    layer) to d = 512, 20 Emformer layers (8 heads, FFN 2048, left context 30), output linear
    512 -> 1024. One step processes a segment of S = 16 reduced frames (640 ms) plus R = 4
    right-context frames; K/V are computed for M = 4 memory slots (the paper's memory bank) plus
    S + R, and every query attends M + L + S + R = 54 keys (cached left-context keys are reused).
    Each layer: Q, fused K/V (as in torchaudio), Q.K^T, A.V, output projection, FFN1, FFN2.
    The RNN-T predictor and joiner are not included. 1 + 20 x 7 + 1 = **142 layers**.
    """
    seg, right, left, mem, d = 16, 4, 30, 4, 512
    net = _Net("emformer", description)
    x = net.gemm("input_linear", _Act((), 80, 4 * (seg + right)), 128)
    x = _Act(x.src, 4 * x.c, seg + right)  # time reduction: stack 4 frames
    for i in range(20):
        kv = _Act(x.src, d, mem + seg + right)
        x = _transformer_block(net, f"layer{i}", x, 8, 2048, kv=kv, keys=mem + left + seg + right, fused_kv=True)
    net.gemm("output_linear", _Act(x.src, d, seg), 1024)  # right-context frames are dropped
    return net.build()


def _hrvit_block(net: _Net, p: str, x: _Act, heads: int, stripe: int, mlp_ratio: int = 4) -> _Act:
    """HRViT block on a ``h x w`` branch: cross-shaped stripe attention + MixCFN (7 layers).

    Attention: fused QKV GEMM, Q.K^T and A.V inside stripes of ``stripe`` rows (half the heads) or
    columns (the other half): for a square plane both halves have ``heads * h / stripe`` groups of
    ``stripe * w`` tokens, so one matmul layer of that many groups covers them, then a projection.
    MixCFN: FC expand, 3x3 depthwise on the plane (the paper mixes 3x3 and 5x5), FC back.
    """
    t = _tokens(x)
    qkv = net.gemm(f"{p}.qkv", t, 3 * x.c)
    a = _attention_core(net, p, qkv, qkv, qkv, rows=stripe * x.w, cols=stripe * x.w, d_head=x.c // heads,
                        groups=heads * (x.h // stripe))
    y = net.gemm(f"{p}.proj", _Act(a.src, x.c, t.h), x.c)
    hidden = net.gemm(f"{p}.fc1", y, mlp_ratio * x.c)
    hidden = net.dw(f"{p}.dw", _Act(hidden.src, hidden.c, x.h, x.w), 3)
    out = net.gemm(f"{p}.fc2", _tokens(hidden), x.c)
    return _Act(out.src, x.c, x.h, x.w)


def hrvit(description: str = "") -> Model:
    """HRViT-b1 for semantic segmentation on 512x512 (Gu et al. 2022), approximated.

    Stem: 2 conv 3x3/2 (3 -> 16 -> 32) to 1/4 resolution. Four stages; stage s runs branches
    1..s at 1/4..1/32 resolution with 32/64/128/256 channels, 1/2/4/8 heads and stripe widths
    1/2/4/8; each new branch comes from a conv 3x3/2 on the previous lowest-resolution branch.
    One HRViT block per branch per stage (:func:`_hrvit_block`, 7 layers; 10 blocks). After stages
    2-4 a cross-resolution fusion per branch is modelled as one 1x1 conv reading every branch
    (resampling is not a layer) with their summed channels. Head: 1x1 conv fusing all branches
    (480 -> 256) at 1/4 resolution and a 1x1 classifier (150 ADE20K classes). Block counts, the
    fusion and the head are simplified from the paper.
    2 + 3 + 70 + 9 + 2 = **86 layers**.
    """
    widths, heads, stripes = (32, 64, 128, 256), (1, 2, 4, 8), (1, 2, 4, 8)
    net = _Net("hrvit", description)
    x = net.conv("stem.conv1", _Act((), 3, 512, 512), 16, 3, 2)
    branches = [net.conv("stem.conv2", x, widths[0], 3, 2)]
    for stage in range(1, 5):
        if stage > 1:
            branches.append(net.conv(f"stage{stage}.transition", branches[-1], widths[stage - 1], 3, 2))
        branches = [_hrvit_block(net, f"stage{stage}.branch{j + 1}", b, heads[j], stripes[j])
                    for j, b in enumerate(branches)]
        if stage > 1:
            all_c = sum(b.c for b in branches)
            branches = [net.conv(f"stage{stage}.fuse{j + 1}", _Act(_producers(*branches), all_c, b.h, b.w), b.c, 1)
                        for j, b in enumerate(branches)]
    top = branches[0]
    y = net.conv("head.fuse", _Act(_producers(*branches), sum(b.c for b in branches), top.h, top.w), 256, 1)
    net.conv("head.cls", y, 150, 1)
    return net.build()


#: BlazePalm blocks (output channels, stride): 128x128 down to 8x8.
_BLAZEPALM = ((32, 1), (32, 1), (32, 1), (64, 2), (64, 1), (64, 1), (128, 2), (128, 1), (128, 1),
              (256, 2), (256, 1), (256, 1), (256, 2), (256, 1), (256, 1))
#: Hand-landmark inverted-residual stages (t, c, n, s, k) on the 224x224 crop.
_HAND_LANDMARK: tuple[_IRStage, ...] = (
    (1, 16, 1, 1, 3), (4, 24, 2, 2, 3), (4, 40, 2, 2, 5), (4, 80, 2, 2, 3), (4, 112, 2, 1, 5), (4, 192, 1, 2, 5))


def hand_tracking(description: str = "") -> Model:
    """MediaPipe-Hands-like hand tracking (Zhang et al. 2020), approximated: palm detector + landmarks.

    Palm detector (BlazePalm) on 256x256: conv 5x5/2 (3 -> 32), 15 BlazeBlocks (5x5 depthwise,
    1x1 conv, add; :data:`_BLAZEPALM`, 45 layers), heads at 8x8 (class 6, boxes 108 = 6 anchors x
    18), a 2x2 up-conv to 16x16 added to the 16x16 feature, heads at 16x16 (class 2, boxes 36):
    52 layers. Landmark model on the 224x224 hand crop (depends on the palm detections): conv 3x3/2
    (3 -> 24) and MobileNetV2-like inverted residuals (:data:`_HAND_LANDMARK`, 33 layers), global
    pool, GEMMs for 21 x 3 landmarks, handedness and hand presence: 37 layers. Depthwise-heavy.
    52 + 37 = **89 layers**. Channel schedules are approximated from the BlazeFace/BlazePalm papers.
    """
    net = _Net("hand-tracking", description)
    x = net.conv("palm.stem", _Act((), 3, 256, 256), 32, 5, 2)
    feats = {}
    for i, (c, s) in enumerate(_BLAZEPALM):
        x = _blaze_block(net, f"palm.block{i}", x, c, s)
        feats[x.h] = x
    heads = [net.conv("palm.cls8", x, 6, 1), net.conv("palm.box8", x, 108, 1)]
    up = net.add("palm.up_add", _transposed_conv2x2(net, "palm.upconv", x, 256), feats[16])
    heads += [net.conv("palm.cls16", up, 2, 1), net.conv("palm.box16", up, 36, 1)]
    crop = _with_deps(_Act((), 3, 224, 224), *heads)  # the crop is cut where the palm was found
    y = net.conv("landmark.stem", crop, 24, 3, 2)
    y = _global_pool(_ir_stages(net, "landmark.", y, _HAND_LANDMARK)[-1])
    for name, n in (("landmarks", 63), ("handedness", 1), ("presence", 1)):
        net.gemm(f"landmark.{name}", y, n)
    return net.build()


def eyecod(description: str = "") -> Model:
    """EyeCoD gaze estimation (You et al. 2022), approximated: predict-then-focus.

    EyeCoD segments a downsampled eye image to find the region of interest, then estimates gaze on
    the ROI only. Segmentation: a RITnet-like (Chaudhary et al. 2019) encoder-decoder on 128x128x1
    with 32 channels throughout: 3 encoder levels and a bottom of 2 conv 3x3 (pool between, not a
    layer), 3 decoder levels of 2 conv 3x3 reading the upsampled path and the skip (nearest
    upsampling, not a layer), 1x1 conv to 4 classes: 15 layers. Gaze: a ResNet-18-like net on the
    96x160x1 ROI: conv 3x3/2 (1 -> 32), 4 stages of 2 basic blocks (32/64/128/256; 27 layers incl.
    3 projection shortcuts), global pool, GEMM to a 3-D gaze vector: 29 layers.
    15 + 29 = **44 layers**. Plain convolutions on large planes with few channels.
    """
    net = _Net("eyecod", description)
    x, skips = _Act((), 1, 128, 128), []
    for level in range(1, 4):
        x = _conv_stack(net, f"seg.enc{level}", x, 32)
        skips.append(x)
        x = _pool(x, 2, 2)
    x = _conv_stack(net, "seg.bottom", x, 32)
    for level in range(3, 0, -1):
        x = _conv_stack(net, f"seg.dec{level}", _cat(skips[level - 1], _upsample(x)), 32)
    mask = net.conv("seg.out", x, 4, 1)
    roi = _with_deps(_Act((), 1, 96, 160), mask)
    g = net.conv("gaze.conv1", roi, 32, 3, 2)
    g = _resnet_stages(net, "gaze.", g, _basic_block, (2, 2, 2, 2), (32, 64, 128, 256))[-1]
    net.gemm("gaze.fc", _global_pool(g), 3)
    return net.build()


def _upproj(net: _Net, p: str, x: _Act) -> _Act:
    """Up-projection (Laina et al. 2016): 2x unpool (not a layer), conv 5x5 + conv 3x3 || conv 5x5, add."""
    x, c = _upsample(x), x.c // 2
    main = net.conv(f"{p}.conv2", net.conv(f"{p}.conv1", x, c, 5), c, 3)
    return net.add(f"{p}.add", main, net.conv(f"{p}.shortcut", x, c, 5))


def sparse_to_dense(description: str = "") -> Model:
    """Sparse-to-dense depth refinement (Ma & Karaman 2018), ResNet-18 + UpProj, on 228x304 RGB-D.

    Input: RGB plus the sparse depth samples (4 channels). ResNet-18 encoder: conv1 7x7/2
    (4 -> 64), max pool (not a layer), 8 basic blocks (64..512; 27 layers incl. 3 projection
    shortcuts) to 8x10x512; conv 1x1 512 -> 256; 4 UpProj modules (256 -> 128 -> 64 -> 32 -> 16,
    4 layers each) to 128x160; conv 3x3 16 -> 1; bilinear upsampling to 228x304 (not a layer).
    1 + 27 + 1 + 16 + 1 = **46 layers**.
    """
    net = _Net("sparse-to-dense", description)
    x = _resnet_stages(net, "", _resnet_stem(net, _Act((), 4, 228, 304)), _basic_block, (2, 2, 2, 2))[-1]
    x = net.conv("conv2", x, 256, 1)
    for i in range(1, 5):
        x = _upproj(net, f"decoder.upproj{i}", x)
    net.conv("conv3", x, 1, 3)
    return net.build()


# -- registry -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelInfo:
    """What the zoo knows about one model id."""

    id: str
    domain: str  # "datacenter" or "arvr"
    description: str
    source: str
    builder: Callable[[str], Model]

    @property
    def summary(self) -> str:
        return f"{self.description} Source: {self.source}."


_INFOS = (
    ModelInfo("gpt-l", "datacenter", "GPT-2 large language model, sequence 128, 36 transformer blocks.",
              "Radford et al., Language Models are Unsupervised Multitask Learners, 2019", gpt_l),
    ModelInfo("bert-large", "datacenter", "BERT-large encoder, sequence 128, 24 transformer blocks.",
              "Devlin et al., BERT, NAACL 2019", bert_large),
    ModelInfo("bert-base", "datacenter", "BERT-base encoder, sequence 128, 12 transformer blocks.",
              "Devlin et al., BERT, NAACL 2019", bert_base),
    ModelInfo("resnet50", "datacenter", "ResNet-50 image classifier, 224x224.",
              "He et al., Deep Residual Learning, CVPR 2016; torchvision v1.5", resnet50),
    ModelInfo("unet", "datacenter", "U-Net segmentation, 512x512x1, 'same' padding.",
              "Ronneberger et al., U-Net, MICCAI 2015", unet),
    ModelInfo("googlenet", "datacenter", "GoogLeNet (Inception v1) image classifier, 224x224.",
              "Szegedy et al., Going Deeper with Convolutions, CVPR 2015", googlenet),
    ModelInfo("d2go", "arvr", "D2Go Faster R-CNN object detection with an FBNetV3-A-like backbone, 320x320 "
              "(approximation).", "facebookresearch/d2go faster_rcnn_fbnetv3a_C4; Dai et al., FBNetV3, CVPR 2021",
              d2go),
    ModelInfo("planercnn", "arvr", "PlaneRCNN plane detection, Mask R-CNN with ResNet-50-FPN, 480x640 "
              "(approximation of ResNet-101-FPN).", "Liu et al., PlaneRCNN, CVPR 2019", planercnn),
    ModelInfo("midas", "arvr", "MiDaS v2.1 small monocular depth, EfficientNet-Lite3 encoder, 256x256.",
              "Ranftl et al., MiDaS, TPAMI 2020; isl-org/MiDaS midas_v21_small", midas),
    ModelInfo("emformer", "arvr", "Emformer streaming speech encoder, one 640 ms step, 20 layers d=512.",
              "Shi et al., Emformer, ICASSP 2021; torchaudio emformer_rnnt_base", emformer),
    ModelInfo("hrvit", "arvr", "HRViT-b1 semantic segmentation, 512x512 (approximation).",
              "Gu et al., Multi-Scale High-Resolution Vision Transformer, CVPR 2022", hrvit),
    ModelInfo("hand-tracking", "arvr", "MediaPipe-Hands-like palm detector 256x256 + landmark model 224x224 "
              "(approximation).", "Zhang et al., MediaPipe Hands, 2020; Bazarevsky et al., BlazeFace, 2019",
              hand_tracking),
    ModelInfo("eyecod", "arvr", "EyeCoD eye tracking: segmentation 128x128 then gaze on a 96x160 ROI "
              "(approximation).", "You et al., EyeCoD, ISCA 2022; Chaudhary et al., RITnet, 2019", eyecod),
    ModelInfo("sparse-to-dense", "arvr", "Sparse-to-dense depth refinement, ResNet-18 + UpProj, 228x304 RGB-D.",
              "Ma and Karaman, Sparse-to-Dense, ICRA 2018", sparse_to_dense),
)

#: id -> :class:`ModelInfo`, in Table III order.
MODEL_INFO: dict[str, ModelInfo] = {info.id: info for info in _INFOS}
MODEL_IDS: tuple[str, ...] = tuple(MODEL_INFO)


def get_model(name: str) -> Model:
    """The zoo model ``name`` (one of :data:`MODEL_IDS`); built once, then cached (models are immutable)."""
    if name not in MODEL_INFO:
        raise UnknownNameError("model", name, MODEL_IDS)
    return _build(name)


@cache
def _build(name: str) -> Model:
    info = MODEL_INFO[name]
    return info.builder(info.summary)

