"""DVC stage entry points: `python -m stages.<name>`. Glue only: no text logic here."""
