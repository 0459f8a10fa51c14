"""Checks resnetc_model.py and classify.py against the compiled program:

    python3 test_resnetc_model.py path/to/resnetc

compiles resnet20 and resnet32 as libraries and as programs into a temporary folder, then
asserts that classify.py prints what the program prints, that Model.run returns the
program's --output exactly (and within 1e-6 of what `resnetc run` computes), that two models
live side by side in one process, and that bad arrays, files and closed models raise
exceptions that say what was expected and what was found. Exits 1 on the first failure.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from resnetc_model import Model, ResnetcError  # noqa: E402


def run(command, **options):
    result = subprocess.run(command, capture_output=True, text=True, **options)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def expect_raises(kind, words, action):
    try:
        action()
    except kind as error:
        if words not in str(error):
            raise AssertionError(f"expected {kind.__name__} saying {words!r}, got {error!r}")
        return
    raise AssertionError(f"expected {kind.__name__} saying {words!r}; nothing was raised")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    tool = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as folder:
        for model in ["resnet20", "resnet32"]:
            short = model.replace("resnet", "r")
            run([tool, "compile", model, "-o", f"{folder}/{short}", "--emit", "lib"])
            run([tool, "compile", model, "-o", f"{folder}/{short}"])

        # classify.py prints the program's words for the same seeded input.
        for seed in ["0", "7"]:
            printed = run([sys.executable, f"{HERE}/classify.py", f"{folder}/libr20.so", "--input-seed", seed])
            expected = run([f"{folder}/r20", "--input-seed", seed])
            assert printed == expected, f"classify.py printed\n{printed}the program\n{expected}"
            print(f"classify.py --input-seed {seed}: {printed.splitlines()[-1].strip()} (the program's)")

        # With --labels, the same named classes as the program.
        names = os.path.join(folder, "names.txt")
        with open(names, "w") as file:
            file.write("".join(f"class {i} é\n" for i in range(10)))
        printed = run([sys.executable, f"{HERE}/classify.py", f"{folder}/libr20.so", "--labels", names])
        expected = run([f"{folder}/r20", "--labels", names])
        assert printed == expected and "class " in printed, f"classify.py printed\n{printed}the program\n{expected}"
        print(f"classify.py --labels: {printed.splitlines()[2].strip()} (the program's)")

        # Model.run against the program's --output and resnetc run's, on an input from a file.
        x = np.random.default_rng(5).standard_normal((1, 3, 32, 32)).astype(np.float32)
        np.save(f"{folder}/x.npy", x)
        run([f"{folder}/r20", "--input", f"{folder}/x.npy", "--output", f"{folder}/program.npy"])
        run([tool, "run", "resnet20", "--input", f"{folder}/x.npy", "--output", f"{folder}/interpreter.npy"])
        with Model(f"{folder}/libr20.so", threads=2) as r20, Model(f"{folder}/libr32.so") as r32:
            assert [(t.name, t.shape) for t in r20.inputs] == [("input", (1, 3, 32, 32))], r20.inputs
            assert [(t.name, t.shape) for t in r20.outputs] == [("softmax", (1, 10))], r20.outputs
            (y,) = r20.run(x)
            program = np.load(f"{folder}/program.npy")
            interpreter = np.load(f"{folder}/interpreter.npy")
            assert np.array_equal(y, program), f"library {y} vs program {program}"
            difference = float(np.abs(y - interpreter).max())
            assert difference <= 1e-6, f"library vs interpreter: {difference}"
            print(f"Model.run: equal to the program's output; max |difference| to the interpreter {difference:.2e}")
            # A second model in the same process keeps its own symbols and weights.
            (y32,) = r32.run(x)
            run([f"{folder}/r32", "--input", f"{folder}/x.npy", "--output", f"{folder}/r32.npy"])
            assert np.array_equal(y32, np.load(f"{folder}/r32.npy")), "resnet32 beside resnet20"
            assert not np.array_equal(y32, y)
            # A strided view is copied, not misread.
            wide = np.zeros((1, 3, 32, 64), dtype=np.float32)
            wide[..., ::2] = x
            assert np.array_equal(r20.run(wide[..., ::2])[0], y)

            expect_raises(TypeError, "input 'input' is float32, got float64", lambda: r20.run(x.astype(np.float64)))
            expect_raises(ValueError, "input 'input' is [1, 3, 32, 32], got [1, 3, 32, 31]", lambda: r20.run(x[..., :31]))
            expect_raises(ValueError, "the model takes 1 inputs, got 2", lambda: r20.run(x, x))
            expect_raises(ResnetcError, "cannot run on 0 threads", lambda: r20.set_threads(0))
        expect_raises(ResnetcError, "the model was closed", lambda: r20.run(x))
        expect_raises(ResnetcError, "the weights file's size does not match this model",
                      lambda: Model(f"{folder}/libr20.so", weights=f"{folder}/r32.weights"))
        expect_raises(ResnetcError, "the weights file cannot be opened or read",
                      lambda: Model(f"{folder}/libr20.so", weights=f"{folder}/missing.weights"))
        expect_raises(ResnetcError, f"{folder}/libmissing.so: no such file", lambda: Model(f"{folder}/libmissing.so"))
        print("errors: dtype, shape, input count, threads, closed model, wrong and missing weights, missing library")
    print("python example: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
