"""`python -m stages.clean`, the clean stage's command in dvc.yaml; the stage is ftdata.stages.clean."""

import sys

from ftdata.stages.clean import main

if __name__ == "__main__":
    main(*sys.argv[1:])
