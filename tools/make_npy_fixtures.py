"""Write the small .npy test fixtures into tests/fixtures/ (numpy only, no torch).

Usage:
    /usr/bin/python3 tools/make_npy_fixtures.py [--out tests/fixtures]

Fixtures (all written with numpy's own writer, as np.save does):
  rgb32_images.npy   64 x 3 x 32 x 32 uint8, seeded random "images" (NPY 1.0, C order)
  rgb32_labels.npy   64 int64 labels in [0, 10)
  npy_f32_nhw_v2.npy 4 x 5 x 6 float32, value = index / 100 (NPY format 2.0)
  npy_labels_i32.npy 4 int32 labels [3, 1, 4, 1]
  npy_labels_u8.npy  4 uint8 labels [3, 1, 4, 1]
  npy_fortran.npy    2 x 3 x 4 float32 in Fortran order        (rejected: fortran_order)
  npy_bigendian.npy  2 x 3 x 4 big-endian float32 ('>f4')       (rejected: big-endian)
  npy_f64.npy        2 x 3 x 4 float64                          (rejected: dtype)
"""
import argparse
import os

import numpy as np

SEED = 1234


def save(out, name, arr, version=None):
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)
    print(f"{os.path.getsize(path):8d}  {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="tests/fixtures")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)

    save(args.out, "rgb32_images.npy", rng.integers(0, 256, size=(64, 3, 32, 32), dtype=np.uint8), (1, 0))
    save(args.out, "rgb32_labels.npy", rng.integers(0, 10, size=64).astype(np.int64), (1, 0))
    save(args.out, "npy_f32_nhw_v2.npy", (np.arange(4 * 5 * 6, dtype=np.float32) / 100).reshape(4, 5, 6), (2, 0))
    save(args.out, "npy_labels_i32.npy", np.array([3, 1, 4, 1], dtype=np.int32), (1, 0))
    save(args.out, "npy_labels_u8.npy", np.array([3, 1, 4, 1], dtype=np.uint8), (1, 0))
    small = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    save(args.out, "npy_fortran.npy", np.asfortranarray(small), (1, 0))
    save(args.out, "npy_bigendian.npy", small.astype(">f4"), (1, 0))
    save(args.out, "npy_f64.npy", small.astype(np.float64), (1, 0))


if __name__ == "__main__":
    main()
