"""The CLI prints an error message as text: square brackets in it are not rich markup."""

from __future__ import annotations

import pytest
import typer

from ftdata import cli
from ftdata.errors import ConfigError


def test_an_error_naming_brackets_keeps_them_in_what_the_user_reads(capsys):
    with pytest.raises(typer.Exit) as exit_info:
        cli._fail(
            ConfigError("conf/source/x.yaml: `source.x.meta[1]` is [internal], expected a string")
        )
    err = capsys.readouterr().err
    assert exit_info.value.exit_code == 2
    assert "meta[1]" in err and "[internal]" in err
