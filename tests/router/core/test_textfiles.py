"""Uploaded text read line by line: encodings, line ends, and CSV records a stray quote cannot merge."""

from __future__ import annotations

from router.core.textfiles import MAX_RECORD_LINES, LineProblem, Record, csv_records, text_lines


def records(data: bytes | str) -> list[tuple[int, list[str]] | tuple[int, str, str]]:
    out: list[tuple[int, list[str]] | tuple[int, str, str]] = []
    for item in csv_records(text_lines(data)):
        out.append((item.line, item.values) if isinstance(item, Record) else (item.line, item.field, item.reason))
    return out


def test_lines_end_at_a_line_feed_only_never_at_unicode_separators() -> None:
    data = '{"a": "x\u2028y\u0085z"}\r\n{"b": 1}\n'
    assert list(text_lines(data)) == [(1, '{"a": "x\u2028y\u0085z"}'), (2, '{"b": 1}'), (3, "")]
    assert list(text_lines(data.encode())) == list(text_lines(data))


def test_a_binary_file_is_read_line_by_line_like_its_bytes() -> None:
    data = "\ufeffa,b\nМосква,1".encode()
    assert list(text_lines(iter(data.splitlines(keepends=True)))) == list(text_lines(data))
    assert list(text_lines(data))[0] == (1, "a,b")


def test_a_windows_1251_file_is_recognised_by_its_first_line_that_is_not_ascii() -> None:
    data = "a,b\n1,2\nМосква,Тула\nУфа,\n".encode("cp1251")
    assert [line for line in text_lines(data) if not isinstance(line, LineProblem)][2:4] == [
        (3, "Москва,Тула"),
        (4, "Уфа,"),
    ]


def test_in_a_utf8_file_a_line_in_another_encoding_is_reported_alone() -> None:
    data = "a,b\nМосква,1\n".encode() + "Тула,2\n".encode("cp1251") + "Уфа,3\n".encode()
    read = list(text_lines(data))
    assert [type(line).__name__ for line in read] == ["tuple", "tuple", "LineProblem", "tuple", "tuple"]
    assert read[2] == LineProblem(3, "", read[2].reason) and "UTF-8" in read[2].reason


def test_a_quoted_field_may_span_lines_when_its_quote_closes() -> None:
    assert records('id,address,n\n1,"ул. Мира,\nд. 5",7\n2,x,8\n') == [
        (1, ["id", "address", "n"]),
        (2, ["1", "ул. Мира,\nд. 5", "7"]),
        (4, ["2", "x", "8"]),
    ]


def test_an_unclosed_quote_is_reported_on_its_line_and_costs_no_other_row() -> None:
    read = records('id,address,n\n1,x,1\n2,"ул. Мира,2\n3,y,3\n4,"z, 4",4\n5,w,5\n')
    assert [r[:2] for r in read] == [
        (1, ["id", "address", "n"]),
        (2, ["1", "x", "1"]),
        (3, "address"),
        (4, ["3", "y", "3"]),
        (5, ["4", "z, 4", "4"]),
        (6, ["5", "w", "5"]),
    ]


def test_a_quote_running_on_past_the_line_limit_is_unclosed_even_when_a_later_quote_would_close_it() -> None:
    middle = [f"line {i}" for i in range(MAX_RECORD_LINES)]
    read = records("\n".join(["id,address,n", '1,"open', *middle, 'end",1', "2,x,2"]))
    assert read[1][:2] == (2, "address")
    assert read[-1] == (MAX_RECORD_LINES + 4, ["2", "x", "2"])


def test_fields_over_the_limit_are_reported_by_column_and_line() -> None:
    read = records(f'id,note\n1,{"x" * 5000}\n2,"{"y" * 200_000}"\n3,ok\n')
    assert [r[:2] for r in read] == [(1, ["id", "note"]), (2, "note"), (3, ""), (4, ["3", "ok"])]
