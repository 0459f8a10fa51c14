"""Time resnetc's compiled programs against ONNX Runtime and OpenVINO on the same ONNX
models, alternating the engines in rounds, after checking that their outputs agree (the
int8 models' within 5% and in their top class). For the
models named by --swift (resnet18-b1 and resnet50-b1 by default) the program built by the
Swift backend runs in the same rounds, beside the C backend's.

Usage (through bench/run.sh): python bench.py --resnetc PATH --models DIR [--threads 2]
       [--rounds 5] [--runs 10] [--only NAME ...] [--swift NAME ...] [--target avx2]
       [--peer-isa avx2|avx512]

--peer-isa avx2 caps OpenVINO at AVX2 (no VNNI) through oneDNN's ONEDNN_MAX_CPU_ISA, to
compare resnetc --target avx2 with a peer on the instructions a Zen 3 CPU has; --peer-isa
avx512 at AVX-512 without VNNI (AVX512_CORE, as Skylake-SP has), for resnetc --target avx512.
ONNX Runtime cannot be capped, so its column then runs its own kernels and stays out of the
ratio.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
import openvino as ov


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def cpu():
    """The CPU's name, family and model, and its widest vector ISA, from /proc/cpuinfo."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return "unknown CPU"
    flags = fields.get("flags", "").split()
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return (f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, "
            f"model {fields.get('model', '?')}), {isa}, {os.cpu_count()} CPUs")


def openvino_kernels(compiled):
    """The kernels OpenVINO's CPU plugin chose for the convolutions of a compiled model, with
    their counts, from its runtime model (each names its ISA, as in brgconv_avx2_f32)."""
    counts = {}
    for op in compiled.get_runtime_model().get_ops():
        info = op.get_rt_info()
        if info["layerType"].astype(str) == "Convolution":
            kind = info["primitiveType"].astype(str)
            counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{k} x{n}" for k, n in sorted(counts.items(), key=lambda e: -e[1]))


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
    p.add_argument("--swift", nargs="*", default=["resnet18-b1", "resnet50-b1"],
                   help="models also built by the Swift backend (--swift with no name: none)")
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--target", default="native", help="resnetc's --target (native, avx2, avx512, generic)")
    p.add_argument("--peer-isa", default="native", choices=["native", "avx2", "avx512"],
                   help="avx2: cap OpenVINO at AVX2, avx512: at AVX-512 without VNNI (ONEDNN_MAX_CPU_ISA); "
                        "ONNX Runtime then leaves the ratio")
    a = p.parse_args()
    target = ["--target", a.target]
    build = a.build or os.path.join(a.models, "build")
    os.makedirs(build, exist_ok=True)
    names = sorted(f[:-5] for f in os.listdir(a.models) if f.endswith(".onnx"))
    if a.only:
        names = [n for n in names if n in a.only]
    capped = {"avx2": "AVX2", "avx512": "AVX512_CORE"}.get(a.peer_isa)
    if capped:
        # Read by oneDNN inside OpenVINO's CPU plugin when it first picks kernels.
        os.environ["ONEDNN_MAX_CPU_ISA"] = capped
    core = ov.Core()
    rows = []
    for name in names:
        model_path = os.path.join(a.models, name + ".onnx")
        program = os.path.join(build, name.replace(".", "_"))
        log(f"== {name}: compiling with resnetc")
        start = time.time()
        said = subprocess.run([a.resnetc, "compile", model_path, "-o", program] + target, check=True,
                              capture_output=True, text=True)
        found = re.search(r"nodes for (\w+)", said.stdout + said.stderr)
        resnetc_isa = found.group(1) if found else "?"
        compile_s = time.time() - start
        programs = {"resnetc": program}
        if name in a.swift:
            log(f"== {name}: compiling with resnetc --backend swift")
            start = time.time()
            subprocess.run([a.resnetc, "compile", model_path, "-o", program + "_swift", "--backend", "swift"] + target,
                           check=True, stdout=subprocess.DEVNULL)
            compile_swift_s = time.time() - start
            programs["resnetc-swift"] = program + "_swift"
            log(f"   compile: C backend {compile_s:.1f} s, Swift backend {compile_swift_s:.1f} s")

        options = ort.SessionOptions()
        options.intra_op_num_threads = a.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        shape = session.get_inputs()[0].shape
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        compiled = core.compile_model(model_path, "CPU", {"INFERENCE_NUM_THREADS": a.threads,
                                                           "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"})
        request = compiled.create_infer_request()
        ov_kernels = openvino_kernels(compiled)
        log(f"   kernels: resnetc {resnetc_isa}; OpenVINO convolutions {ov_kernels}")

        # The engines agree on one input.
        np.save(program + ".x.npy", x)
        y = {}
        for engine, path in programs.items():
            subprocess.run([path, "--input", program + ".x.npy", "--output", path + ".y.npy",
                            "--threads", str(a.threads)], check=True)
            y[engine] = np.load(path + ".y.npy")
        y_ort = session.run(None, {"input": x})[0]
        y_ov = request.infer({0: x})[compiled.output(0)]
        scale = float(np.abs(y_ort).max())
        errors = {engine: float(np.abs(v - y_ort).max()) / scale for engine, v in y.items()}
        err_ov = float(np.abs(y_ov - y_ort).max()) / scale
        # A QDQ model's engines each round to their own quantization steps: its outputs agree
        # within 5% of the largest and in their top class; a float model's within 1e-3.
        bound = 0.05 if "int8" in name else 1e-3
        agree = all(e <= bound and (y[k].argmax(1) == y_ort.argmax(1)).all() for k, e in errors.items())
        log("   max|y - ort| / max|ort|: " + ", ".join(f"{k} {e:.2e}" for k, e in errors.items())
            + f", openvino {err_ov:.2e}")

        times = {engine: [] for engine in programs}
        times.update({"onnxruntime": [], "openvino": []})
        for r in range(a.rounds):
            for engine, path in programs.items():
                time.sleep(0.2)  # let the previous engine's spinning threads go idle
                out = subprocess.run([path, "--bench", str(a.runs), "--json", "--threads", str(a.threads)],
                                     check=True, capture_output=True, text=True).stdout
                times[engine].append(json.loads(out)["median_ms"])
            time.sleep(0.2)
            session.run(None, {"input": x})
            times["onnxruntime"].append(time_runs(lambda: session.run(None, {"input": x}), a.runs))
            time.sleep(0.2)
            request.infer({0: x})
            times["openvino"].append(time_runs(lambda: request.infer({0: x}), a.runs))
        med = {k: statistics.median(v) for k, v in times.items()}
        best = med["openvino"] if capped else min(med["onnxruntime"], med["openvino"])
        rows.append(dict(model=name, resnetc_ms=med["resnetc"], onnxruntime_ms=med["onnxruntime"],
                         openvino_ms=med["openvino"], ratio=med["resnetc"] / best, agree=bool(agree),
                         error=max(errors.values()), compile_s=compile_s,
                         resnetc_isa=resnetc_isa, openvino_kernels=ov_kernels,
                         swift_ms=med.get("resnetc-swift"),
                         swift_over_c=med["resnetc-swift"] / med["resnetc"] if "resnetc-swift" in med else None))
        log("   medians: " + ", ".join(f"{k} {v:.1f} ms" for k, v in med.items()))

    print(f"CPU: {cpu()}")
    isas = sorted({r["resnetc_isa"] for r in rows})
    print(f"resnetc --target {a.target} ({', '.join(isas)}); ONNX Runtime {ort.__version__} (CPU provider; "
          f"its MLAS picks kernels from cpuid and does not report which); OpenVINO {ov.__version__} (CPU plugin, f32; "
          f"int8 where a QDQ model asks)")
    if capped:
        print(f"OpenVINO capped at {capped} (ONEDNN_MAX_CPU_ISA={capped}); ONNX Runtime cannot be capped: its column "
              "runs its own kernels and is left out of the ratio, which is resnetc / OpenVINO")
    for r in rows:
        print(f"OpenVINO convolutions, {r['model']}: {r['openvino_kernels']}")
    print(f"threads {a.threads}, {a.rounds} rounds of {a.runs} runs each, alternating; medians in ms")
    print()
    print("| model | resnetc | ONNX Runtime | OpenVINO | resnetc / best peer | outputs agree | resnetc, Swift backend | Swift / C |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        swift = (f"{r['swift_ms']:.1f} | {r['swift_over_c']:.2f}" if r["swift_ms"] is not None else "- | -")
        print(f"| {r['model']} | {r['resnetc_ms']:.1f} | {r['onnxruntime_ms']:.1f} | {r['openvino_ms']:.1f} | "
              f"{r['ratio']:.2f} | {'yes' if r['agree'] else 'NO'} ({r['error']:.1e}) | {swift} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0 if all(r["agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
