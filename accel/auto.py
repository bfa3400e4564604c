"""``import accel.auto``: the one line that puts pandas and scikit-learn on the GPU where there is one."""

from accel._install import install as _install

_install()
