"""`python -m stages.evaluate`, the evaluate stage's command in dvc.yaml; the stage is ftdata.stages.evaluate."""

import sys

from ftdata.stages.evaluate import main

if __name__ == "__main__":
    main(*sys.argv[1:])
