"""``python -m grader``: the ``grader`` command without installing it (how a
student bundle runs it: ``python -m grader check <lab>`` in the bundle's folder)."""

import sys

from grader.cli import main

sys.exit(main())
