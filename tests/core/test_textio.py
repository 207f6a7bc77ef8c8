"""core.textio: one encoding detection and one reader for every CSV the project reads."""

import io

import pytest

from core.textio import BOM, CsvSource, detect_encoding


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (BOM + "受注番号".encode(), "utf-8"),
        ("受注番号,対応状況".encode(), "utf-8"),
        ("受注番号,対応状況".encode("cp932"), "cp932"),
        ("受注番号".encode()[:-1], "utf-8"),  # a character cut by the peek
        (b"order,status", "utf-8"),
        (b"", "utf-8"),
    ],
)
def test_detect_encoding(head, encoding) -> None:  # noqa: ANN001
    assert detect_encoding(head) == encoding


@pytest.mark.parametrize(
    "encoded", [BOM + "番号, 状態 \n1, 発送済み \n".encode(), "番号, 状態 \n1, 発送済み \n".encode("cp932")]
)
def test_reader_strips_the_bom_and_on_request_the_cells(encoded) -> None:  # noqa: ANN001
    source = CsvSource(io.BytesIO(encoded), strip=True)
    assert source.header == ["番号", "状態"]
    assert [r.cells for r in source.rows()] == [{"番号": "1", "状態": "発送済み"}]
    raw = CsvSource(io.BytesIO(encoded))
    assert [r.cells for r in raw.rows()] == [{"番号": "1", "状態": " 発送済み "}]


def test_a_line_not_in_the_encoding_marks_its_row() -> None:
    data = "a,b\n".encode("cp932") + b"1,\x81 x\n" + "2,ok\n".encode("cp932")
    rows = list(CsvSource(io.BytesIO(data), encoding="cp932").rows())
    assert [(r.number, r.decoded) for r in rows] == [(2, False), (3, True)]
