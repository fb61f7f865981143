"""gcnn_edu: a teaching package for Group Equivariant Convolutional Networks (Cohen & Welling, 2016)."""

__version__ = "0.1.0"
