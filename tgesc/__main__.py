"""`python -m tgesc`: the same entry point as the `tgesc` console script."""

from tgesc.cli.main import main

main()
