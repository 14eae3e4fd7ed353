"""``python -m snowsim`` runs the command line (see snowsim.cli)."""

import sys

from snowsim.cli import main

sys.exit(main())
