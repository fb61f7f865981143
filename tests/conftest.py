"""Test set-up: draw figures off-screen (without setting MPLBACKEND, which nbval's kernels would inherit)."""

import matplotlib

matplotlib.use("Agg")
