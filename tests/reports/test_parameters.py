"""Parameter schema, validation before a run, and the injection proof (no kernel)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cmlops.errors import InvalidInputError
from cmlops.reports.catalogue import describe_template, list_templates, load_template
from cmlops.reports.errors import ParameterError, TemplateError
from cmlops.reports.injection import injected_source
from cmlops.reports.parameters import ParamSpec, parse_cli_pairs, parse_schema, validate_parameters
from tests.reports.conftest import make_template

SPECS = [
    ParamSpec("data", "path", required=True),
    ParamSpec("alpha", "float", default=0.05),
    ParamSpec("n_boot", "int", default=200),
    ParamSpec("strict", "bool", default=False),
    ParamSpec("groups", "list", default=[]),
    ParamSpec("label", "str", default="x"),
]


@pytest.mark.req("REQ-PAR-001")
def test_values_are_converted_to_their_declared_types(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    given = parse_cli_pairs(
        ["data=d.csv", "alpha=0.01", "n_boot=10", "strict=yes", "groups=sex, age_band", "label=a=b"]
    )
    values = validate_parameters(SPECS, given, base=tmp_path)
    assert values == {
        "data": str(data.resolve()),
        "alpha": 0.01,
        "n_boot": 10,
        "strict": True,
        "groups": ["sex", "age_band"],
        "label": "a=b",
    }
    assert validate_parameters(SPECS, {"data": str(data), "groups": '["a", 1]'})["groups"] == [
        "a",
        1,
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"dta": "x"}, "has no parameter 'dta'; did you mean 'data'?"),
        ({"data": "missing.csv"}, "input file not found"),
        ({"alpha": "abc"}, "expected a number"),
        ({"alpha": "nan"}, "finite"),
        ({"n_boot": "1.5"}, "expected an integer"),
        ({"strict": "maybe"}, "expected true or false"),
        ({}, "missing required parameter(s) data"),
        ({"__import__('os')": "1"}, "not a valid identifier"),
        ({"class": "1"}, "not a valid identifier"),
        ({"label": "bad \udcff byte"}, "not valid UTF-8"),
        ({"groups": ["ok", "\ud800"]}, "not valid UTF-8"),
    ],
)
@pytest.mark.req("REQ-PAR-001")
def test_bad_parameters_are_refused_with_one_line(
    tmp_path: Path, given: dict, message: str
) -> None:
    with pytest.raises(ParameterError) as info:
        validate_parameters(SPECS, given, template="t", base=tmp_path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, InvalidInputError)


def test_schema_rejects_reserved_unknown_type_and_duplicates() -> None:
    with pytest.raises(ParameterError, match="reserved"):
        parse_schema([{"name": "cmlops_x", "type": "str"}])
    with pytest.raises(ParameterError, match="unknown type"):
        parse_schema([{"name": "x", "type": "complex"}])
    with pytest.raises(ParameterError, match="declared twice"):
        parse_schema([{"name": "x", "type": "str"}, {"name": "x", "type": "int"}])
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_cli_pairs(["novalue"])


HOSTILE = [
    "__import__('os').system('touch pwned')",
    "\"); __import__('os').system('touch pwned'); (\"",
    "'''\n__import__('os').system('touch pwned')\n'''",
    "a\\\" + __import__('os').system('touch pwned') + \\\"",
    "\\",
    "line1\nline2\r\n\ttab \x00 nul \u2028 sep é ☃ \U0001f600",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.req("REQ-PAR-001")
def test_injected_cell_assigns_exactly_the_value(value: str) -> None:
    source = injected_source({"label": value, "items": [value, 1, 2.5, True]})
    namespace: dict = {}
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Assign) for node in tree.body)
    exec(compile(tree, "<injected>", "exec"), {"__builtins__": {}}, namespace)
    assert namespace["label"] == value
    assert namespace["items"] == [value, 1, 2.5, True]


@pytest.mark.req("REQ-PAR-001")
def test_injection_refuses_hostile_names() -> None:
    with pytest.raises(ParameterError, match="not a valid identifier"):
        injected_source({"x = 1; import os; y": "v"})


def test_shipped_templates_have_schema_and_parameters_cell() -> None:
    names = [t.name for t in list_templates()]
    assert {"data_validation", "drift_report", "model_validation"} <= set(names)
    for tpl in list_templates():
        assert tpl.parameters, tpl.name
        assert tpl.default_plan and tpl.default_plan["criteria"], tpl.name
        assert len(tpl.sha256) == 64


def test_unknown_template_gets_did_you_mean() -> None:
    with pytest.raises(TemplateError, match="did you mean 'drift_report'"):
        describe_template("drift_reprot")


def test_template_without_parameters_cell_is_refused(tmp_path: Path) -> None:
    path = make_template(tmp_path / "untagged.ipynb", ["x = 1"], tagged=False)
    with pytest.raises(TemplateError, match="no cell tagged 'parameters'"):
        load_template(path)
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(TemplateError, match="not a notebook"):
        load_template(tmp_path / "bad.ipynb")


def test_dataset_parameters_take_files_spark_folders_and_table_names(tmp_path: Path) -> None:
    """No Spark needed: the checks run before a kernel starts (issue 13, item 4)."""
    spec = [ParamSpec("data", "dataset", required=True)]
    csv = tmp_path / "d.csv"
    csv.write_text("a\n1\n")
    parts = tmp_path / "claims"
    (parts / "year=2024").mkdir(parents=True)
    (parts / "year=2024" / "part-00000.snappy.parquet").write_bytes(b"PAR1")
    (parts / "_SUCCESS").write_text("")
    (parts / ".part-00000.snappy.parquet.crc").write_text("")
    delta = tmp_path / "delta"
    (delta / "_delta_log").mkdir(parents=True)
    (tmp_path / "no_commit" / "_delta_log").mkdir(parents=True)
    (delta / "_delta_log" / "00000000000000000000.json").write_text("{}\n")

    def check(value: str) -> str:
        return validate_parameters(spec, {"data": value}, base=tmp_path)["data"]

    assert check("d.csv") == str(csv)
    assert check("claims") == str(parts)
    assert check(str(delta)) == str(delta)
    assert check("table:rwe.claims.y2025") == "table:rwe.claims.y2025"
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.parquet").write_bytes(b"PAR1")
    (mixed / "b.csv").write_text("a\n")
    (tmp_path / "empty").mkdir()
    bad = {
        "mixed": "cannot read as one table",
        "empty": "holds no data files",
        "no_commit": "without a commit",
        "table:claims; drop table x": "is not a table name",
        "table:`x`": "is not a table name",
        "table:": "is not a table name",
        "s3a://bucket/claims": "remote locations",
        "nowhere.csv": "not found",
    }
    for value, message in bad.items():
        with pytest.raises(ParameterError, match=message) as info:
            check(value)
        assert "\n" not in str(info.value) and str(info.value).startswith("parameter 'data'")
