"""``python -m seqcount.synth``: see :mod:`seqcount.synth.cli`."""

import sys

from .cli import main

sys.exit(main())
