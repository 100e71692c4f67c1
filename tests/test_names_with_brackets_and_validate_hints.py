"""What the command line prints about a path, a folder or an argument is that text as given: square
brackets in it are not read as the terminal's markup (``[b]``, ``[/x]``), so no part of a name is
hidden and no name crashes the message. An invalid wave's hint names a command that works."""

from __future__ import annotations

import shlex
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from analysis import paths
from analysis.cli import app
from analysis.ingest.wave import WaveInvalid, load_wave

runner = CliRunner()


def _flat(text: str) -> str:
    """The output with its line wrapping undone (the terminal folds long messages)."""
    return " ".join(text.split())


def test_a_replica_folder_with_brackets_is_named_whole(tmp_path):
    """``replica --out …/a[b]``: the refusal quotes the folder and the id it read, brackets kept."""
    out = tmp_path / "a[b]"
    res = runner.invoke(app, ["replica", "--out", str(out), "--n", "50"])
    assert res.exit_code == 2
    text = _flat(res.output)
    assert "a[b]" in text and "(got 'a[b]')" in text


def test_a_stream_folder_with_brackets_is_named_whole(tmp_path):
    """``stream …/parts[old]`` (no partitions there): the message names parts[old], not parts."""
    folder = tmp_path / "parts[old]"
    folder.mkdir()
    res = runner.invoke(app, ["stream", str(folder)])
    assert res.exit_code == 2
    assert "parts[old]: not a folder of *.parquet partitions" in _flat(res.output)


@pytest.mark.parametrize("level", ["[/x]", "q[b]x"])
def test_an_unknown_index_level_with_brackets_is_a_usage_error_that_quotes_it(level):
    """``index --level '[/x]'`` is refused with exit 2 and the level as typed (a closing tag that
    opens nothing crashed the message before)."""
    res = runner.invoke(app, ["index", "--level", level])
    assert res.exit_code == 2, res.output
    assert f"--level {level!r}: not an index level" in _flat(res.output)


def test_a_build_folder_with_brackets_inside_the_project_is_refused_by_its_name():
    """``build --out <project>/x[y]``: the refusal names x[y] (nothing is built)."""
    target = paths.ROOT / "x[y]"
    assert not target.exists()
    res = runner.invoke(app, ["build", "--lang", "en", "--no-pdf", "--out", str(target)])
    assert res.exit_code == 2
    assert "x[y]" in _flat(res.output) and not target.exists()


def _bad_wave(folder):  # type: ignore[no-untyped-def]
    """The default wave copied to ``folder`` with one villager in an unknown province."""
    shutil.copytree(paths.WAVES / paths.DEFAULT_WAVE, folder)
    v = pd.read_csv(folder / "villagers.csv", dtype=str, keep_default_na=False)
    v.loc[0, "province"] = "Atlantis"
    v.to_csv(folder / "villagers.csv", index=False)
    (folder / "wave.yml").write_text(
        (folder / "wave.yml").read_text(encoding="utf-8").replace(
            f"id: {paths.DEFAULT_WAVE}", f"id: {folder.name}"), encoding="utf-8")
    return folder


def test_the_hint_of_an_invalid_wave_outside_data_waves_names_its_folder_and_works(tmp_path):
    """An invalid wave given by a folder outside data/waves/: the hint's command names that folder
    (quoted for a shell: the path holds a space), and running it reports the wave's problem."""
    folder = _bad_wave(tmp_path / "my waves" / "w-bad")
    with pytest.raises(WaveInvalid) as e:
        load_wave(folder)
    hint = f"run `ruralgov validate {shlex.quote(str(folder))}` for the full report"
    assert hint in str(e.value)
    argv = shlex.split(hint.split("`")[1])[1:]              # the command, as a shell would split it
    res = runner.invoke(app, argv)
    assert res.exit_code == 1 and "Atlantis" in _flat(res.output)


def test_the_hint_of_a_wave_id_not_found_names_the_id():
    """A wave id with no folder under data/waves/: the hint names the id, as typed."""
    with pytest.raises(WaveInvalid) as e:
        load_wave("no-such-wave")
    assert "run `ruralgov validate no-such-wave` for the full report" in str(e.value)


def test_the_validation_table_of_a_folder_with_brackets_names_it_whole(tmp_path):
    """``validate …/w[b]x`` (not a wave id, so refused): the table's title names w[b]x."""
    folder = tmp_path / "w[b]x"
    shutil.copytree(paths.WAVES / paths.DEFAULT_WAVE, folder)
    res = runner.invoke(app, ["validate", str(folder)])
    assert res.exit_code == 1
    assert "w[b]x: 1 error(s)" in _flat(res.output)
