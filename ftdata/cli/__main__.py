"""``python -m ftdata.cli``: the same commands as the ``ftdata`` script."""

from ftdata.cli import main

main()
