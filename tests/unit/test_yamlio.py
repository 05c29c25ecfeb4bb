"""The YAML loader: aliases refused (alias bombs), size limit before parsing, one-line errors."""

import glob

import pytest
import yaml

from barometer import yamlio
from barometer.errors import InputError
from barometer.paths import DATA_DIR

BOMB = "\n".join(
    ["lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
) + "\n"


def test_alias_bomb_is_refused_naming_file_and_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(yamlio.YamlError) as exc:
        yamlio.load_file(path)
    msg = str(exc.value)
    assert str(path) in msg and "line 2" in msg and "*a" in msg and "alias" in msg
    assert "\n" not in msg
    assert isinstance(exc.value, InputError) and exc.value.exit_code == 2
    assert isinstance(exc.value, yaml.YAMLError)  # code catching parse errors still catches it


@pytest.mark.parametrize("text, line", [
    ("a: &x [1, 2]\nb: *x\n", 2),                      # plain alias
    ("a: &x {k: 1}\nb:\n  <<: *x\n  j: 2\n", 3),       # merge key
    ("a: &x [*x]\n", 1),                               # recursive
    ("- &s text\n- *s\n", 2),                          # scalar alias
])
def test_every_kind_of_alias_is_refused(text, line):
    with pytest.raises(yamlio.YamlError, match=rf"^cfg\.yaml: line {line}: uses the YAML alias \*"):
        yamlio.load(text, name="cfg.yaml")


def test_undefined_alias_says_aliases_are_not_allowed():
    with pytest.raises(yamlio.YamlError, match=r"^c\.yaml: line 2: uses a YAML alias .* not allowed"):
        yamlio.load("a: 1\nb: *nowhere\n", name="c.yaml")


def test_a_normal_file_loads_as_safe_load(tmp_path):
    text = "a: 1\nb: [x, 'y', 2.5]\nc: {d: Tårnby, e: null}\nf: '&not an anchor *nor an alias'\n"
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    assert yamlio.load_file(path) == yaml.safe_load(text)
    assert yamlio.load(text.encode("utf-8")) == yaml.safe_load(text)


def test_syntax_error_is_one_line_with_position():
    with pytest.raises(yamlio.YamlError) as exc:
        yamlio.load("a: [1, 2\nb: 3\n", name="x.yaml")
    msg = str(exc.value)
    assert msg.startswith("x.yaml: line ") and "not valid YAML" in msg and "\n" not in msg


def test_size_limit_is_checked_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: [" + "1, " * 400, encoding="utf-8")  # also broken YAML: never parsed
    with pytest.raises(yamlio.YamlError, match="more than the 1000 bytes a report config may have") as exc:
        yamlio.load_file(path, max_bytes=1000, what="report config")
    assert str(path) in str(exc.value)
    path.write_text("a: 1\n", encoding="utf-8")
    assert yamlio.load_file(path, max_bytes=5) == {"a": 1}  # exactly at the limit: fine


def test_missing_and_non_utf8_files_are_input_errors(tmp_path):
    with pytest.raises(yamlio.YamlError, match="file not found"):
        yamlio.load_file(tmp_path / "nope.yaml")
    (tmp_path / "latin1.yaml").write_bytes("a: T\xe5rnby\n".encode("latin-1"))
    with pytest.raises(yamlio.YamlError, match="not UTF-8"):
        yamlio.load_file(tmp_path / "latin1.yaml")


def test_shipped_yaml_loads_without_aliases_and_under_the_limit():
    files = glob.glob(str(DATA_DIR / "**" / "*.yaml"), recursive=True)
    assert len(files) > 10
    for f in files:
        assert yamlio.load_file(f) is not None, f
        assert not any(isinstance(ev, yaml.AliasEvent) for ev in yaml.parse(open(f, encoding="utf-8"))), f


def test_config_loaders_go_through_yamlio(tmp_path, monkeypatch):
    """units.py had a loader of its own: every config reader now refuses aliases."""
    from barometer import units

    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "units.yaml").write_text(BOMB, encoding="utf-8")
    monkeypatch.setattr(units, "DATA_DIR", tmp_path)
    units.config.cache_clear()
    try:
        with pytest.raises(InputError, match="units.yaml: line 2: uses the YAML alias"):
            units.config()
    finally:
        units.config.cache_clear()


def test_synth_model_and_codebook_refuse_aliases(tmp_path, monkeypatch):
    from barometer import codebook, synth

    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "2018.yaml").write_text(BOMB, encoding="utf-8")
    monkeypatch.setattr(synth, "DATA_DIR", tmp_path)
    with pytest.raises(InputError, match=r"2018\.yaml: line 2: uses the YAML alias"):
        synth.load_model("2018")
    (tmp_path / "2018-dk.yaml").write_text(BOMB, encoding="utf-8")
    with pytest.raises(codebook.CodebookError, match=r"2018-dk\.yaml: line 2: uses the YAML alias"):
        codebook.load_codebook("2018", "dk", tmp_path)


def test_a_key_given_twice_is_refused_with_both_lines():
    """Two helpers once added the same key to i18n.yaml: YAML kept the last one silently."""
    with pytest.raises(yamlio.YamlError, match=r"x.yaml: line 4: the key 'publisher' is given twice \(first on line 2\)"):
        yamlio.load("a: 1\npublisher: {da: A, en: B}\nb: 2\npublisher: {da: C, en: D}\n", "x.yaml")
    assert yamlio.load("a: {x: 1}\nb: {x: 2}\n", "x.yaml") == {"a": {"x": 1}, "b": {"x": 2}}  # same key, other maps
