"""`python -m stages.split`, the split stage's command in dvc.yaml; the stage is ftdata.stages.split."""

import sys

from ftdata.stages.split import main

if __name__ == "__main__":
    main(*sys.argv[1:])
