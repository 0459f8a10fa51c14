"""Runs a model compiled by `resnetc compile MODEL -o OUT --emit lib` from Python.

The library libOUT.so is loaded through ctypes; shapes and names come from its C API
(OUT.h), inputs and outputs are NumPy float32 arrays:

    from resnetc_model import Model
    with Model("./libr20.so") as model:          # weights: ./r20.weights beside it
        (probabilities,) = model.run(x)          # x: float32 array of model.inputs[0].shape

Errors are exceptions that say what was expected and what was found: ResnetcError for the
library and its weights, TypeError and ValueError for arrays of the wrong dtype or shape.
"""

import ctypes
import os
from typing import List, NamedTuple, Optional, Tuple

import numpy as np

__all__ = ["Model", "ResnetcError", "Tensor"]


class ResnetcError(Exception):
    """The library or its weights cannot be loaded, or a run failed."""


class Tensor(NamedTuple):
    """A model input or output: its name and shape."""

    name: str
    shape: Tuple[int, ...]


def _declare(lib: ctypes.CDLL) -> None:
    c_int, c_char_p, c_void_p, c_int64 = ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int64
    signatures = {
        "resnetc_create": (c_void_p, [c_char_p, ctypes.POINTER(c_int)]),
        "resnetc_run": (c_int, [c_void_p, ctypes.POINTER(c_void_p), ctypes.POINTER(c_void_p)]),
        "resnetc_set_threads": (c_int, [c_void_p, c_int]),
        "resnetc_destroy": (None, [c_void_p]),
        "resnetc_error_string": (c_char_p, [c_int]),
        "resnetc_input_count": (c_int, []),
        "resnetc_output_count": (c_int, []),
        "resnetc_input_name": (c_char_p, [c_int]),
        "resnetc_output_name": (c_char_p, [c_int]),
        "resnetc_input_rank": (c_int, [c_int]),
        "resnetc_output_rank": (c_int, [c_int]),
        "resnetc_input_dims": (ctypes.POINTER(c_int64), [c_int]),
        "resnetc_output_dims": (ctypes.POINTER(c_int64), [c_int]),
    }
    for name, (result, arguments) in signatures.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            raise ResnetcError(f"{lib._name}: no function {name}; is it a library from resnetc compile --emit lib?")
        function.restype = result
        function.argtypes = arguments


def _tensors(lib: ctypes.CDLL, kind: str) -> List[Tensor]:
    count = getattr(lib, f"resnetc_{kind}_count")()
    tensors = []
    for i in range(count):
        name = getattr(lib, f"resnetc_{kind}_name")(i).decode("utf-8", "replace")
        rank = getattr(lib, f"resnetc_{kind}_rank")(i)
        dims = getattr(lib, f"resnetc_{kind}_dims")(i)
        tensors.append(Tensor(name, tuple(int(dims[d]) for d in range(rank))))
    return tensors


def _default_weights(library: str) -> str:
    """libOUT.so -> OUT.weights in the same folder."""
    folder, base = os.path.split(library)
    stem = base[3:] if base.startswith("lib") else base
    stem = stem[: -len(".so")] if stem.endswith(".so") else stem
    return os.path.join(folder, stem + ".weights")


class Model:
    """One instance of a compiled model: its weights and its memory, run one call at a time."""

    def __init__(self, library: str, weights: Optional[str] = None, threads: Optional[int] = None):
        """Loads `library` (libOUT.so) and its weights (default: OUT.weights beside it)."""
        path = os.path.abspath(library)
        if not os.path.isfile(path):
            raise ResnetcError(f"{library}: no such file")
        try:
            self._lib = ctypes.CDLL(path)
        except OSError as error:
            raise ResnetcError(f"{library}: cannot be loaded: {error}") from None
        _declare(self._lib)
        self.weights = weights if weights is not None else _default_weights(library)
        status = ctypes.c_int(0)
        self._handle = self._lib.resnetc_create(self.weights.encode(), ctypes.byref(status))
        if not self._handle:
            raise ResnetcError(f"{self.weights}: {self._lib.resnetc_error_string(status.value).decode()}")
        self.inputs: List[Tensor] = _tensors(self._lib, "input")
        self.outputs: List[Tensor] = _tensors(self._lib, "output")
        if threads is not None:
            self.set_threads(threads)

    def set_threads(self, threads: int) -> None:
        """The threads this instance runs on (default: the processors online)."""
        if self._lib.resnetc_set_threads(self._live(), int(threads)) != 0:
            raise ResnetcError(f"cannot run on {threads} threads (1...1024)")

    def run(self, *arrays: np.ndarray) -> List[np.ndarray]:
        """Runs the model on one float32 array per input; returns one new array per output."""
        handle = self._live()
        if len(arrays) != len(self.inputs):
            raise ValueError(f"the model takes {len(self.inputs)} inputs, got {len(arrays)}")
        inputs = []
        for array, tensor in zip(arrays, self.inputs):
            array = np.asarray(array)
            if array.dtype != np.float32:
                raise TypeError(f"input '{tensor.name}' is float32, got {array.dtype}; use array.astype(np.float32)")
            if array.shape != tensor.shape:
                raise ValueError(f"input '{tensor.name}' is {list(tensor.shape)}, got {list(array.shape)}")
            inputs.append(np.ascontiguousarray(array))
        outputs = [np.empty(tensor.shape, dtype=np.float32) for tensor in self.outputs]
        input_pointers = (ctypes.c_void_p * max(len(inputs), 1))(*[a.ctypes.data for a in inputs])
        output_pointers = (ctypes.c_void_p * max(len(outputs), 1))(*[a.ctypes.data for a in outputs])
        status = self._lib.resnetc_run(handle, input_pointers, output_pointers)
        if status != 0:
            raise ResnetcError(f"run failed: {self._lib.resnetc_error_string(status).decode()}")
        return outputs

    def close(self) -> None:
        """Releases the weights and memory; the model cannot run after this."""
        if getattr(self, "_handle", None):
            self._lib.resnetc_destroy(self._handle)
            self._handle = None

    def _live(self):
        if not self._handle:
            raise ResnetcError("the model was closed")
        return self._handle

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exception) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
