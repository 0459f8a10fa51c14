"""Time resnetc's compiled programs against ONNX Runtime and OpenVINO on the same ONNX
models, alternating the three in rounds, after checking that their outputs agree.

Usage (through bench/run.sh): python bench.py --resnetc PATH --models DIR [--threads 2]
       [--rounds 5] [--runs 10] [--only NAME ...]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
import openvino as ov


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def time_runs(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--resnetc", required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--build", default=None)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--only", nargs="*")
    p.add_argument("--json", default=None, help="also write the results here")
    a = p.parse_args()
    build = a.build or os.path.join(a.models, "build")
    os.makedirs(build, exist_ok=True)
    names = sorted(f[:-5] for f in os.listdir(a.models) if f.endswith(".onnx"))
    if a.only:
        names = [n for n in names if n in a.only]
    core = ov.Core()
    rows = []
    for name in names:
        model_path = os.path.join(a.models, name + ".onnx")
        program = os.path.join(build, name.replace(".", "_"))
        log(f"== {name}: compiling with resnetc")
        start = time.time()
        subprocess.run([a.resnetc, "compile", model_path, "-o", program], check=True, stdout=subprocess.DEVNULL)
        compile_s = time.time() - start

        options = ort.SessionOptions()
        options.intra_op_num_threads = a.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        shape = session.get_inputs()[0].shape
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        compiled = core.compile_model(model_path, "CPU", {"INFERENCE_NUM_THREADS": a.threads,
                                                           "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"})
        request = compiled.create_infer_request()

        # The three agree on one input.
        np.save(program + ".x.npy", x)
        subprocess.run([program, "--input", program + ".x.npy", "--output", program + ".y.npy",
                        "--threads", str(a.threads)], check=True)
        y_resnetc = np.load(program + ".y.npy")
        y_ort = session.run(None, {"input": x})[0]
        y_ov = request.infer({0: x})[compiled.output(0)]
        scale = float(np.abs(y_ort).max())
        err_resnetc = float(np.abs(y_resnetc - y_ort).max()) / scale
        err_ov = float(np.abs(y_ov - y_ort).max()) / scale
        agree = err_resnetc <= 1e-3 and (y_resnetc.argmax(1) == y_ort.argmax(1)).all()
        log(f"   max|y - ort| / max|ort|: resnetc {err_resnetc:.2e}, openvino {err_ov:.2e}")

        times = {"resnetc": [], "onnxruntime": [], "openvino": []}
        for r in range(a.rounds):
            time.sleep(0.2)  # let the previous engine's spinning threads go idle
            out = subprocess.run([program, "--bench", str(a.runs), "--json", "--threads", str(a.threads)],
                                 check=True, capture_output=True, text=True).stdout
            times["resnetc"].append(json.loads(out)["median_ms"])
            time.sleep(0.2)
            session.run(None, {"input": x})
            times["onnxruntime"].append(time_runs(lambda: session.run(None, {"input": x}), a.runs))
            time.sleep(0.2)
            request.infer({0: x})
            times["openvino"].append(time_runs(lambda: request.infer({0: x}), a.runs))
        med = {k: statistics.median(v) for k, v in times.items()}
        best = min(med["onnxruntime"], med["openvino"])
        rows.append(dict(model=name, resnetc_ms=med["resnetc"], onnxruntime_ms=med["onnxruntime"],
                         openvino_ms=med["openvino"], ratio=med["resnetc"] / best, agree=bool(agree),
                         error=err_resnetc, compile_s=compile_s))
        log(f"   medians: resnetc {med['resnetc']:.1f} ms, onnxruntime {med['onnxruntime']:.1f} ms, "
            f"openvino {med['openvino']:.1f} ms")

    print(f"threads {a.threads}, {a.rounds} rounds of {a.runs} runs each, alternating; medians in ms")
    print()
    print("| model | resnetc | ONNX Runtime | OpenVINO | resnetc / best peer | outputs agree |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['resnetc_ms']:.1f} | {r['onnxruntime_ms']:.1f} | {r['openvino_ms']:.1f} | "
              f"{r['ratio']:.2f} | {'yes' if r['agree'] else 'NO'} ({r['error']:.1e}) |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all(r["agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
