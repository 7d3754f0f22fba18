"""`python -m gate serve|accounts …` without the main CLI."""
from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
