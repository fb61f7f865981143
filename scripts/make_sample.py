"""Build the bundled sample gcnn_edu/sample/rotmnist_sample.npz with the package's synthesis code.

2,000 train, 500 valid and 1,000 test digits of MNIST, disjoint, each rotated by a seeded angle
uniform in [0, 360) degrees (bilinear), stored as uint8. Run: .venv/bin/python scripts/make_sample.py
"""

import numpy as np

from gcnn_edu.data import SAMPLE_NPZ, load_mnist, synthesize
from gcnn_edu.files import save_npz

SAMPLE_SIZES = {"train": 2_000, "valid": 500, "test": 1_000}
SEED = 2016


def main() -> None:
    images, labels, source = load_mnist("auto")
    arrays = synthesize(images, labels, seed=SEED, sizes=SAMPLE_SIZES)
    save_npz(SAMPLE_NPZ, **arrays, seed=np.array(SEED), source=np.array(source))
    print(f"{SAMPLE_NPZ}: {SAMPLE_NPZ.stat().st_size / 1e6:.2f} MB from {source}")


if __name__ == "__main__":
    main()
