"""`python -m stages.dedup`, the dedup stage's command in dvc.yaml; the stage is ftdata.stages.dedup."""

import sys

from ftdata.stages.dedup import main

if __name__ == "__main__":
    main(*sys.argv[1:])
