"""Run the moons demo: see autograd_mini/demos/moons.py (python demos/moons.py --help)."""

import sys

from autograd_mini.demos.moons import main

if __name__ == "__main__":
    sys.exit(main())
