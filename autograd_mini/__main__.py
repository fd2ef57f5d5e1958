"""``python -m autograd_mini``: the ``autograd-mini`` command line (:mod:`autograd_mini.cli`)."""

import sys

from autograd_mini.cli import main

if __name__ == "__main__":
    sys.exit(main())
