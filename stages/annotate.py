"""`python -m stages.annotate`, the annotate stage's command in dvc.yaml; the stage is ftdata.stages.annotate."""

import sys

from ftdata.stages.annotate import main

if __name__ == "__main__":
    main(*sys.argv[1:])
