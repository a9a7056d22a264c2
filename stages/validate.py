"""`python -m stages.validate`, the validate stage's command in dvc.yaml; the stage is ftdata.stages.validate."""

import sys

from ftdata.stages.validate import main

if __name__ == "__main__":
    main(*sys.argv[1:])
