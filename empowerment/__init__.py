"""Empowerment: front-line recovery budgets, and proof that they pay."""

import os

# The analytics' small dense fits run fastest single-threaded on 2 cores (measured: 2.1 s vs
# 4-5 s CPU at 200k incidents); must be set before numpy loads its BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
