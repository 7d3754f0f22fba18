"""`python -m generator` = the `coderef` command."""
from .cli import run

run()
