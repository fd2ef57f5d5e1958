"""Run the cascade demo: see autograd_mini/demos/cascade.py (python demos/cascade.py --help)."""

import sys

from autograd_mini.demos.cascade import *  # noqa: F403  (import demos.cascade works like the module)
from autograd_mini.demos.cascade import main

if __name__ == "__main__":
    sys.exit(main(prog="python demos/cascade.py"))
