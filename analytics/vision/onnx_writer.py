"""A minimal ONNX (protobuf) writer for small feed-forward graphs.

The runtime only needs onnxruntime; this writer lets the training script export the learned heads and the
tests build tiny models without the ``onnx`` or ``torch`` packages. Field numbers follow onnx.proto3 (IR 8).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

_FLOAT = 1
_INT64 = 7
_DTYPES = {np.dtype(np.float32): _FLOAT, np.dtype(np.int64): _INT64}


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field_no: int, wire: int) -> bytes:
    return _varint((field_no << 3) | wire)


def _int(field_no: int, v: int) -> bytes:
    return _key(field_no, 0) + _varint(int(v))


def _bytes(field_no: int, data: bytes) -> bytes:
    return _key(field_no, 2) + _varint(len(data)) + data


def _str(field_no: int, s: str) -> bytes:
    return _bytes(field_no, s.encode("utf-8"))


def _float(field_no: int, v: float) -> bytes:
    return _key(field_no, 5) + struct.pack("<f", float(v))


def tensor_proto(name: str, array: np.ndarray) -> bytes:
    """TensorProto with raw little-endian data (float32 or int64)."""
    a = np.ascontiguousarray(array)
    if a.dtype not in _DTYPES:
        a = a.astype(np.float32)
    msg = b"".join(_int(1, d) for d in a.shape)
    msg += _int(2, _DTYPES[a.dtype]) + _str(8, name) + _bytes(9, a.astype(a.dtype.newbyteorder("<")).tobytes())
    return msg


def _value_info(name: str, shape: Sequence[int | str], elem: int = _FLOAT) -> bytes:
    dims = b""
    for d in shape:
        dims += _bytes(1, _str(2, d) if isinstance(d, str) else _int(1, d))
    tensor_type = _int(1, elem) + _bytes(2, dims)
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


def _attribute(name: str, value: int | float | Sequence[int]) -> bytes:
    if isinstance(value, bool | int):
        return _str(1, name) + _int(3, int(value)) + _int(20, 2)
    if isinstance(value, float):
        return _str(1, name) + _float(2, value) + _int(20, 1)
    return _str(1, name) + b"".join(_int(8, int(v)) for v in value) + _int(20, 7)


@dataclass
class GraphBuilder:
    """Collects nodes and initializers, then serialises a ModelProto.

    Example: ``g = GraphBuilder(); g.input("x", ["N", 4]); y = g.gemm("x", w, b); g.output(y, ["N", 2])``.
    """

    name: str = "pantau"
    opset: int = 17
    nodes: list[bytes] = field(default_factory=list)
    inits: list[bytes] = field(default_factory=list)
    inputs: list[bytes] = field(default_factory=list)
    outputs: list[bytes] = field(default_factory=list)
    _n: int = 0

    def _fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def input(self, name: str, shape: Sequence[int | str]) -> str:
        self.inputs.append(_value_info(name, shape))
        return name

    def output(self, name: str, shape: Sequence[int | str]) -> str:
        self.outputs.append(_value_info(name, shape))
        return name

    def const(self, array: np.ndarray, prefix: str = "c") -> str:
        name = self._fresh(prefix)
        self.inits.append(tensor_proto(name, np.asarray(array)))
        return name

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        out: str | None = None,
        **attrs: int | float | Sequence[int],
    ) -> str:
        out = out or self._fresh(op.lower())
        msg = b"".join(_str(1, i) for i in inputs) + _str(2, out) + _str(3, self._fresh("n")) + _str(4, op)
        msg += b"".join(_bytes(5, _attribute(k, v)) for k, v in attrs.items())
        self.nodes.append(msg)
        return out

    def gemm(self, x: str, w: np.ndarray, b: np.ndarray, out: str | None = None) -> str:
        """y = x @ w + b with w of shape (in, out)."""
        return self.node("Gemm", [x, self.const(w.astype(np.float32), "w"), self.const(b.astype(np.float32), "b")], out)

    def to_bytes(self) -> bytes:
        graph = b"".join(_bytes(1, n) for n in self.nodes) + _str(2, self.name)
        graph += b"".join(_bytes(5, t) for t in self.inits)
        graph += b"".join(_bytes(11, i) for i in self.inputs) + b"".join(_bytes(12, o) for o in self.outputs)
        opset = _str(1, "") + _int(2, self.opset)
        return _int(1, 8) + _str(2, "pantau") + _str(3, "1") + _bytes(7, graph) + _bytes(8, opset)

    def save(self, path: str) -> None:
        with open(path, "wb") as fh:
            fh.write(self.to_bytes())


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
