"""`python -m stages.balance`, the balance stage's command in dvc.yaml; the stage is ftdata.stages.balance."""

import sys

from ftdata.stages.balance import main

if __name__ == "__main__":
    main(*sys.argv[1:])
