"""`python -m stages.quality`, the quality stage's command in dvc.yaml; the stage is ftdata.stages.quality."""

import sys

from ftdata.stages.quality import main

if __name__ == "__main__":
    main(*sys.argv[1:])
