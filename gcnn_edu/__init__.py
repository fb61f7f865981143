"""gcnn_edu: a teaching package for Group Equivariant Convolutional Networks (Cohen & Welling, 2016)."""

from .equivariance import check_equivariance

__all__ = ["check_equivariance"]
__version__ = "0.1.0"
