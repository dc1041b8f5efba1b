"""The model table is the one source: derived lists and docs/model.md follow it."""

from __future__ import annotations

from pathlib import Path

from policyengine.docsgen import render_model
from policyengine.model import kinds
from policyengine.model.timestamps import format_timestamp, normalise_timestamp
from tests.generated_docs import assert_check_reports_a_stale_page

DOC = Path(__file__).resolve().parents[2] / "docs" / "model.md"


def test_docs_model_md_is_generated_from_the_table() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert render_model(current) == current, (
        "docs/model.md is stale: run `policyengine docs model --output docs/model.md`"
    )


def test_docs_check_reports_a_stale_model_page(tmp_path: Path, capsys) -> None:
    assert_check_reports_a_stale_page(
        "model", DOC, tmp_path, capsys, "| `locked_at` |", "| `gone` |"
    )


def test_timestamp_fields_are_the_table_s_timestamp_typed_fields() -> None:
    typed = {
        n for fields in kinds.FIELDS.values() for n, f in fields.items() if f.type == "timestamp"
    }
    assert typed == kinds.TIMESTAMP_FIELDS
    assert "locked_at" in kinds.TIMESTAMP_FIELDS_BY_KIND["account"]


def test_every_field_has_a_known_type() -> None:
    for kind, fields in kinds.FIELDS.items():
        for name, spec in fields.items():
            assert spec.type in kinds.FIELD_TYPE_NAMES, f"{kind}.{name}: {spec.type}"


def test_one_timestamp_form_for_every_input() -> None:
    import datetime as dt

    assert format_timestamp(dt.datetime(2026, 1, 5, 10, 0, 0, 123456)) == "2026-01-05T10:00:00Z"
    assert format_timestamp(dt.datetime(5, 1, 2, tzinfo=dt.UTC)) == "0005-01-02T00:00:00Z"
    offset = dt.timezone(dt.timedelta(hours=2))
    assert format_timestamp(dt.datetime(2026, 1, 5, 12, tzinfo=offset)) == "2026-01-05T10:00:00Z"
    assert normalise_timestamp("2026-01-05T12:00:00.000+0200") == "2026-01-05T10:00:00Z"
