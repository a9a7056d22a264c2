"""`python -m stages.label_issues`, the label_issues stage's command in dvc.yaml; the stage is ftdata.stages.label_issues."""

from ftdata.stages.label_issues import main

if __name__ == "__main__":
    main()
