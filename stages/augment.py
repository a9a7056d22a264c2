"""`python -m stages.augment`, the augment stage's command in dvc.yaml; the stage is ftdata.stages.augment."""

import sys

from ftdata.stages.augment import main

if __name__ == "__main__":
    main(*sys.argv[1:])
