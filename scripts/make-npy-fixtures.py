"""Write the small .npy files that Tests/RuntimeTests read: arrays NumPy itself saved,
in the layouts resnetc accepts and in the ones it must refuse with a clear error.

Usage: python3 scripts/make-npy-fixtures.py Tests/RuntimeTests/Fixtures  (needs numpy)
"""
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
a = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
np.save(os.path.join(out, "f32_2x3.npy"), a)
np.save(os.path.join(out, "f32_scalar.npy"), np.float32(7.25))
np.save(os.path.join(out, "f32_vector.npy"), np.array([1.5, -2.0], dtype=np.float32))
np.save(os.path.join(out, "f64_2x3.npy"), a.astype(np.float64))
np.save(os.path.join(out, "f32_big_endian.npy"), a.astype(">f4"))
np.save(os.path.join(out, "f32_fortran.npy"), np.asfortranarray(a))
np.save(os.path.join(out, "i32_2x3.npy"), a.astype(np.int32))
with open(os.path.join(out, "f32_v2.npy"), "wb") as f:
    np.lib.format.write_array(f, a, version=(2, 0))
