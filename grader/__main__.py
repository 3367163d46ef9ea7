"""``python -m grader``: the ``grader`` command without its console script
(a student bundle installs the script: ``grader check <lab>``)."""

import sys

from grader.cli import main

sys.exit(main())
