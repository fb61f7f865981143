"""Checks for the exercises of the notebooks: each compares a student's code with the package.

One module per notebook: groups (01), equivariance (02), feature_maps (03), pooling (04), training (05),
breakers (07). A check prints what it verified, or raises ExerciseFailed with what is wrong in the
paper's terms. The package is the reference the checks compare with, so read it after you try.
"""

from .common import ExerciseFailed

__all__ = ["ExerciseFailed"]
