"""--data / --frame paths: a control character, a missing file or a folder is one line, exit 2."""

import pytest

from barometer.build.config import BaseConfig
from barometer.errors import InputError


@pytest.mark.parametrize("field, option", [("data_path", "--data"), ("frame_path", "--frame")])
@pytest.mark.parametrize("bad", ["a\nb.csv", "a\rb.csv", "a\x00b", "tab\there", "del\x7f"])
def test_control_characters_are_refused_visibly(tmp_path, field, option, bad):
    path = tmp_path / "ok.csv"
    path.write_text("x\n1\n")
    with pytest.raises(InputError) as exc:
        BaseConfig(**{field: str(tmp_path / bad)}).check_paths()
    msg = str(exc.value)
    assert msg.startswith(option) and "\n" not in msg and "\r" not in msg and "control character" in msg
    assert exc.value.exit_code == 2


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match=r"^--frame: file .* does not exist$"):
        BaseConfig(frame_path=str(tmp_path / "nope.csv")).check_paths()
    with pytest.raises(InputError, match="is a folder"):
        BaseConfig(data_path=str(tmp_path)).check_paths()


def test_good_paths_pass(tmp_path):
    (tmp_path / "d.csv").write_text("x\n1\n")
    BaseConfig(data_path=str(tmp_path / "d.csv"), frame_path=str(tmp_path / "d.csv")).check_paths()
    BaseConfig().check_paths()  # the synthetic sample
