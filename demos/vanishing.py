"""Run the vanishing-gradient demo: see autograd_mini/demos/vanishing.py (--help for flags)."""

import sys

from autograd_mini.demos.vanishing import *  # noqa: F403  (import demos.vanishing works like the module)
from autograd_mini.demos.vanishing import main

if __name__ == "__main__":
    sys.exit(main(prog="python demos/vanishing.py"))
