"""Runs a library compiled with `resnetc compile MODEL -o OUT --emit lib` and prints what the
compiled program prints without --output: each output's shape, and for a [rows, classes]
output its top-5 classes per row.

    python3 classify.py ./libr20.so                # the seeded input the program uses (--input-seed 0)
    python3 classify.py ./libr20.so --input x.npy  # a float32 .npy of the input's shape
    python3 classify.py ./libr50.so --labels examples/imagenet-classes.txt   # named classes
"""

import argparse
import math
import sys

import numpy as np

from resnetc_model import Model, ResnetcError

MASK = (1 << 64) - 1


class SeededNormal:
    """The standard-normal numbers `./prog --input-seed S` and `resnetc run` use: SplitMix64,
    then Box-Muller on pairs, one stream across the inputs in order, each input starting a
    new pair (Sources/Formats/ResnetcSeededInput.swift)."""

    def __init__(self, seed: int = 0):
        self.state = seed & MASK

    def _word(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def fill(self, shape) -> np.ndarray:
        count = int(np.prod(shape))
        values = []
        while len(values) < count:
            u1 = max((self._word() >> 11) * 2.0**-53, 2.0**-53)
            u2 = (self._word() >> 11) * 2.0**-53
            radius = math.sqrt(-2.0 * math.log(u1))
            values.append(radius * math.cos(2.0 * math.pi * u2))
            if len(values) < count:
                values.append(radius * math.sin(2.0 * math.pi * u2))
        return np.array(values, dtype=np.float64).astype(np.float32).reshape(shape)


def read_labels(path: str) -> list:
    """One class name per line (the programs' --labels FILE)."""
    with open(path, "rb") as file:
        text = file.read().decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def summary(name: str, data: np.ndarray, labels=None) -> str:
    """The program's words for one output."""
    text = f"output %{name}: f32[{','.join(str(d) for d in data.shape)}]\n"
    if data.ndim == 2:
        for row in range(data.shape[0]):
            # The first of equal values wins, as in the program.
            order = sorted(range(data.shape[1]), key=lambda j: (-float(data[row, j]), j))[:5]
            if labels is None:
                text += f"  row {row} top-5: " + ", ".join(f"{j} ({float(data[row, j]):.4g})" for j in order) + "\n"
            else:
                text += f"  row {row} top-5:\n" + "".join(f"    {j} ({float(data[row, j]):.4g}) {labels[j]}\n" for j in order)
    else:
        flat = data.reshape(-1)
        total = 0.0
        for value in flat:  # in order, in double, as the program sums
            total += float(value)
        mean = float(np.float32(total / flat.size))
        text += f"  min {float(flat.min()):.4g}, max {float(flat.max()):.4g}, mean {mean:.4g}\n"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("library", help="libOUT.so from resnetc compile --emit lib (OUT.weights beside it)")
    parser.add_argument("--input", action="append", default=[], help="a float32 .npy per model input")
    parser.add_argument("--input-seed", type=int, default=0, help="seed of the input used without --input")
    parser.add_argument("--threads", type=int, help="threads to run on")
    parser.add_argument("--labels", help="class names, one per line, printed beside the top-5")
    arguments = parser.parse_args()
    try:
        with Model(arguments.library, threads=arguments.threads) as model:
            if arguments.input:
                inputs = [np.load(path) for path in arguments.input]
            else:
                numbers = SeededNormal(arguments.input_seed)
                inputs = [numbers.fill(tensor.shape) for tensor in model.inputs]
            labels = read_labels(arguments.labels) if arguments.labels else None
            for tensor in model.outputs:
                if labels is not None and len(tensor.shape) == 2 and len(labels) != tensor.shape[1]:
                    raise ValueError(
                        f"{arguments.labels}: holds {len(labels)} names but output '{tensor.name}' has {tensor.shape[1]} classes")
            outputs = model.run(*inputs)
            sys.stdout.write("".join(summary(t.name, y, labels) for t, y in zip(model.outputs, outputs)))
    except (ResnetcError, TypeError, ValueError, OSError) as error:
        print(f"classify.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
