"""Run the spirals demo: see autograd_mini/demos/spirals.py (python demos/spirals.py --help)."""

import sys

from autograd_mini.demos.spirals import main

if __name__ == "__main__":
    sys.exit(main())
