"""`python -m generator` = the `coderef` command."""
import sys

from .cli import main

sys.exit(main())
