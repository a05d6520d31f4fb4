"""A DNN model: a networkx DAG of :class:`~scar_gym.workloads.layers.Layer` with a fixed topological order.

The order is the one the schedule uses: segments and windows are contiguous ranges of positions in
``Model.layers``. It is ``nx.lexicographical_topological_sort`` keyed by insertion index, so a
model built layer by layer in program order keeps that order, and the result never depends on
set or hash iteration.

An edge ``u -> v`` means that ``v`` reads the whole output tensor of ``u``. A layer with no
predecessor reads the model input (``layer.input_elems``) from DRAM; a layer with no successor
writes a model output to DRAM. Concatenations need no layer of their own: the consumer simply
has several predecessors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np

from scar_gym.errors import ConfigError
from scar_gym.workloads.layers import Layer


#: Layers per model at most: schedulers' work grows with it (the zoo's largest, GPT-L, has 288).
MAX_LAYERS = 4096


@dataclass(frozen=True, eq=False)
class Model:
    """A model ready for scheduling.

    Attributes:
        name: model id (``resnet50``) or the user's name.
        graph: DAG whose nodes are layer names with attribute ``layer``.
        description: where the architecture comes from and how it was counted.
    """

    name: str
    graph: nx.DiGraph
    description: str = ""

    def __post_init__(self) -> None:
        if self.graph.number_of_nodes() == 0:
            raise ConfigError(f"model {self.name!r}", "has no layers", "add at least one layer")
        if self.graph.number_of_nodes() > MAX_LAYERS:
            raise ConfigError(f"model {self.name!r}.layers", f"{self.graph.number_of_nodes():,} layers, above the "
                              f"bound of {MAX_LAYERS:,}", "merge layers (the zoo's largest model has 288)")
        if not nx.is_directed_acyclic_graph(self.graph):
            cycle = nx.find_cycle(self.graph)
            raise ConfigError(f"model {self.name!r}", f"layer graph has a cycle {cycle}", "remove the back edge")
        for n, data in self.graph.nodes(data=True):
            if not isinstance(data.get("layer"), Layer):
                raise ConfigError(f"model {self.name!r}.{n}", "node has no Layer", "add nodes with ModelBuilder")

    # The order and the index arrays are derived once; Model is immutable after construction.
    @cached_property
    def layers(self) -> tuple[Layer, ...]:
        index = {n: i for i, n in enumerate(self.graph.nodes)}
        order = nx.lexicographical_topological_sort(self.graph, key=lambda n: index[n])
        return tuple(self.graph.nodes[n]["layer"] for n in order)

    @cached_property
    def digest(self) -> str:
        """A short fingerprint of the layers (shapes, in order) and their edges: two models with the
        same digest cost the same (schedule files record it; see :meth:`Evaluator.context`)."""
        import hashlib
        import json

        doc = [[l.to_dict() for l in self.layers], self.edges.tolist()]
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]

    @cached_property
    def position(self) -> dict[str, int]:
        """Layer name -> position in :attr:`layers`."""
        return {layer.name: i for i, layer in enumerate(self.layers)}

    @cached_property
    def edges(self) -> np.ndarray:
        """(E, 2) int array of (producer position, consumer position), sorted, producer < consumer."""
        pos = self.position
        e = sorted((pos[u], pos[v]) for u, v in self.graph.edges)
        return np.array(e, dtype=np.int64).reshape(-1, 2)

    @property
    def num_layers(self) -> int:
        return self.graph.number_of_nodes()

    @cached_property
    def macs(self) -> int:
        """MACs for one sample (element-wise ops of adds included)."""
        return int(sum(layer.macs for layer in self.layers))

    @cached_property
    def param_elems(self) -> int:
        return int(sum(layer.param_elems for layer in self.layers))

    @cached_property
    def sources(self) -> np.ndarray:
        """Positions of layers that read the model input."""
        return np.array([i for i, l in enumerate(self.layers) if self.graph.in_degree(l.name) == 0], dtype=np.int64)

    @cached_property
    def sinks(self) -> np.ndarray:
        """Positions of layers whose output is a model output."""
        return np.array([i for i, l in enumerate(self.layers) if self.graph.out_degree(l.name) == 0], dtype=np.int64)

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for layer in self.layers:
            counts[layer.op] = counts.get(layer.op, 0) + 1
        return counts

    def __repr__(self) -> str:
        return f"Model({self.name!r}, {self.num_layers} layers, {self.macs / 1e9:.2f} GMAC)"


@dataclass
class ModelBuilder:
    """Builds a :class:`Model` layer by layer in program order.

    >>> b = ModelBuilder("tiny")
    >>> x = b.add(conv("c1", 3, 8, 32, 32, 3))
    >>> y = b.add(conv("c2", 8, 8, 32, 32, 3), x)
    >>> model = b.build()

    ``add(layer, *inputs)`` returns the layer's name so calls chain naturally; ``inputs`` are the
    names of the producer layers (none for a layer that reads the model input).
    """

    name: str
    description: str = ""
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)

    def add(self, layer: Layer, *inputs: str) -> str:
        if layer.name in self.graph:
            raise ConfigError(f"model {self.name!r}.{layer.name}", "duplicate layer name", "give each layer a unique name")
        for src in inputs:
            if src not in self.graph:
                raise ConfigError(f"model {self.name!r}.{layer.name}", f"input {src!r} is not a layer added before",
                                  "add producers before their consumers")
        self.graph.add_node(layer.name, layer=layer)
        for src in inputs:
            self.graph.add_edge(src, layer.name)
        return layer.name

    def build(self) -> Model:
        return Model(self.name, self.graph, self.description)


def chain(name: str, layers: list[Layer], description: str = "") -> Model:
    """A model whose layers form a simple chain, each reading the previous one's output."""
    b = ModelBuilder(name, description)
    prev: tuple[str, ...] = ()
    for layer in layers:
        prev = (b.add(layer, *prev),)
    return b.build()
