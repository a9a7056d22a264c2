"""`python -m stages.preference`, the preference stage's command in dvc.yaml; the stage is ftdata.stages.preference."""

from ftdata.stages.preference import main

if __name__ == "__main__":
    main()
