"""The tabular readers, transformations and profile (jupyter_aml/data), on real files through fsspec."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jupyter_aml.data import profile as prof
from jupyter_aml.data import transforms as tf
from jupyter_aml.data.sources import fingerprint, resolve
from jupyter_aml.data.storage import StoreLocation
from jupyter_aml.data.tabular import ReaderOptions, Source, read_table
from jupyter_aml.errors import InvalidInput, NotFound

LOCAL = fsspec.filesystem("file")


def src(path: Path) -> Source:
    return Source(LOCAL, str(path), path.name)


def opts(**kw: object) -> ReaderOptions:
    return ReaderOptions.from_dict(kw)


def test_delimited_with_header_infers_types(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("id,score,name,ok\n1,0.5,x,true\n2,1.5,y,false\n")
    table = read_table([src(f)], opts())
    assert table.column_names == ["id", "score", "name", "ok"]
    assert [str(t) for t in table.schema.types] == ["int64", "double", "string", "bool"]
    assert table.column("name").to_pylist() == ["x", "y"]


def test_options_separator_no_header_no_inference_and_multi_line(tmp_path: Path) -> None:
    f = tmp_path / "a.tsv"
    f.write_text('1\t"two\nlines"\n3\tfour\n')
    table = read_table([src(f)], opts(separator="\t", header="NO_HEADERS", infer_column_types=False,
                                      support_multi_line=True))
    assert table.column_names == ["Column1", "Column2"]
    assert table.column("Column1").to_pylist() == ["1", "3"]  # not inferred: text
    assert table.column("Column2").to_pylist() == ["two\nlines", "four"]


def test_set_column_types_encoding_and_empty_as_string(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_bytes("when,n,city\n2020-01-31,7,Montr\xe9al\n2021-02-01,,\n".encode("latin-1"))
    table = read_table([src(f)], opts(encoding="latin1", set_column_types={
        "when": {"type": "datetime", "formats": ["%Y-%m-%d"]}, "n": {"type": "float"}}))
    assert table.column("when").to_pylist() == [datetime(2020, 1, 31), datetime(2021, 2, 1)]
    assert table.column("n").to_pylist() == [7.0, None]
    assert table.column("city").to_pylist() == ["Montréal", None]  # v1's default: empty is missing
    kept = read_table([src(f)], opts(encoding="latin1", empty_as_string=True))
    assert kept.column("city").to_pylist() == ["Montréal", ""]


def test_a_row_with_too_many_fields_names_the_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("a,b\n" + "1,2\n" * 50_000 + "3,4,5\n")
    with pytest.raises(InvalidInput) as err:
        read_table([src(f)], opts())
    assert "bad.csv, line 50002" in err.value.message
    assert "Expected 2 columns, got 3" in err.value.message


def test_a_value_that_does_not_convert_names_the_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "typed.csv"
    f.write_text("a,b\n1,2\n3,4\n5,oops\n")
    with pytest.raises(InvalidInput) as err:
        read_table([src(f)], opts(set_column_types={"b": {"type": "long"}}))
    assert err.value.message.startswith("typed.csv, line 4: column 2 has 'oops'")


def test_json_lines_and_a_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_text('{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    assert read_table([src(f)], opts(format="json_lines")).to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    f.write_text('{"a": 1}\n{"a": 2\n{"a": 3}\n')
    with pytest.raises(InvalidInput, match=r"a.jsonl, line 2: not a JSON object"):
        read_table([src(f)], opts(format="json_lines"))
    assert read_table([src(f)], opts(format="json_lines", invalid_lines="drop")).column("a").to_pylist() == [1, 3]


def test_parquet_files_concatenate_with_path_and_partitions(tmp_path: Path) -> None:
    for state, n in (("WA", 1), ("OR", 2)):
        folder = tmp_path / state / "2020" / "01" / f"0{n}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"v": [n, n * 10]}), folder / "data.parquet")
    files = sorted(tmp_path.rglob("*.parquet"))
    sources = [Source(LOCAL, str(p), p.relative_to(tmp_path).as_posix()) for p in files]
    table = read_table(sources, opts(format="parquet", include_path=True,
                                     partition_format="{state}/{day:yyyy/MM/dd}/data.parquet"))
    assert table.column_names == ["v", "state", "day", "Path"]
    assert table.column("state").to_pylist() == ["OR", "OR", "WA", "WA"]
    assert table.column("day").to_pylist()[0] == datetime(2020, 1, 2)
    assert table.column("Path").to_pylist()[0] == "OR/2020/01/02/data.parquet"


def test_files_with_different_columns_need_combine(tmp_path: Path) -> None:
    (tmp_path / "1.csv").write_text("a,b\n1,2\n")
    (tmp_path / "2.csv").write_text("a,c\n3,4\n")
    sources = [src(tmp_path / "1.csv"), src(tmp_path / "2.csv")]
    with pytest.raises(InvalidInput, match=r"2\.csv has the columns"):
        read_table(sources, opts())
    table = read_table(sources, opts(header="COMBINE_ALL_FILES_HEADERS"))
    assert table.to_pylist() == [{"a": 1, "b": 2, "c": None}, {"a": 3, "b": None, "c": 4}]
    (tmp_path / "3.csv").write_text("5,6\n")
    first_only = read_table([src(tmp_path / "1.csv"), src(tmp_path / "3.csv")],
                            opts(header="ONLY_FIRST_FILE_HAS_HEADERS"))
    assert first_only.to_pylist() == [{"a": 1, "b": 2}, {"a": 5, "b": 6}]


def test_bad_options_are_refused() -> None:
    for bad in ({"separator": "::"}, {"header": "SOMETIMES"}, {"encoding": "ebcdic"}, {"colour": 1},
                {"set_column_types": {"a": {"type": "int128"}}}, {"partition_format": "no/keys"}):
        with pytest.raises(InvalidInput):
            ReaderOptions.from_dict(bad)


# -- transformations ---------------------------------------------------------------------------------------
TABLE = pa.table({"n": list(range(100)), "s": [f"r{i}" for i in range(100)]})


def test_take_skip_and_columns() -> None:
    out = tf.apply_table(TABLE, [{"op": "skip", "count": 10}, {"op": "take", "count": 5},
                                 {"op": "keep_columns", "columns": ["n"]}])
    assert out.to_pylist() == [{"n": i} for i in range(10, 15)]
    assert tf.apply_table(TABLE, [{"op": "drop_columns", "columns": ["n"]}]).column_names == ["s"]
    with pytest.raises(InvalidInput, match="keep_columns names"):
        tf.apply_table(TABLE, [{"op": "keep_columns", "columns": ["zz"]}])


def test_random_split_is_deterministic_and_complementary() -> None:
    def part(p: int, seed: int = 7) -> list[int]:
        step = {"op": "random_split", "percentage": 0.7, "seed": seed, "part": p}
        return list(tf.apply_table(TABLE, [step]).column("n").to_pylist())

    a, b = part(0), part(1)
    assert a == part(0) and b == part(1)
    assert sorted(a + b) == list(range(100)) and not set(a) & set(b)
    assert 55 <= len(a) <= 85
    assert part(0, seed=8) != a
    files = tf.apply_list(list(range(100)), [{"op": "random_split", "percentage": 0.7, "seed": 7, "part": 0}])
    assert files == a


def test_filter_expressions() -> None:
    n, s = tf.column("n"), tf.column("s")
    expr = ((n > 5) & (n <= 8)) | (s == "r99")
    out = tf.apply_table(TABLE, [{"op": "filter", "expression": expr.tree}])
    assert out.column("n").to_pylist() == [6, 7, 8, 99]
    out = tf.apply_table(TABLE, [{"op": "filter", "expression": (~(n < 98)).tree}])
    assert out.column("n").to_pylist() == [98, 99]
    assert tf.apply_table(TABLE, [{"op": "filter", "expression": s.starts_with("r9").tree}]).num_rows == 11
    assert tf.apply_table(TABLE, [{"op": "filter", "expression": n.isin([1, 2]).tree}]).num_rows == 2
    json.dumps(expr.tree)  # definitions keep it as JSON
    with pytest.raises(InvalidInput, match="column 'zz'"):
        tf.apply_table(TABLE, [{"op": "filter", "expression": (tf.column("zz") > 1).tree}])
    with pytest.raises(InvalidInput, match="cannot compare"):
        tf.apply_table(TABLE, [{"op": "filter", "expression": (n > "x").tree}])
    with pytest.raises(TypeError, match="truth value"):
        bool(n > 1)


def test_bad_steps_are_refused() -> None:
    for step in ({"op": "take", "count": -1}, {"op": "explode"}, {"op": "random_split", "percentage": 2, "seed": 1,
                 "part": 0}, {"op": "take_sample", "probability": 0.5, "seed": "x"}):
        with pytest.raises(InvalidInput):
            tf.check_steps([step], kind="tabular")
    with pytest.raises(InvalidInput, match="not a transformation of a file dataset"):
        tf.check_steps([{"op": "keep_columns", "columns": ["a"]}], kind="file")


# -- profile ---------------------------------------------------------------------------------------------
def test_profile_numbers() -> None:
    table = pa.table({"x": [1.0, 2.0, None, float("nan"), 9.0], "k": ["b", "a", None, "c", "a"],
                      "i": [1, 2, 3, 4, 5]})
    p = prof.profile(table)
    assert p["row_count"] == 5 and p["column_count"] == 3
    x, k, i = p["columns"]
    assert (x["type"], x["missing"], x["min"], x["max"], x["mean"]) == ("float", 2, 1.0, 9.0, 4.0)
    assert (k["type"], k["missing"], k["min"], k["max"], k["mean"]) == ("string", 1, "a", "c", None)
    assert (i["type"], i["missing"], i["mean"]) == ("long", 0, 3.0)
    json.dumps(p)
    pre = prof.preview(table, 2)
    assert pre["rows"] == [[1.0, "b", 1], [2.0, "a", 2]] and pre["columns"][0] == {"name": "x", "type": "float"}


# -- resolving paths ------------------------------------------------------------------------------------------
def test_paths_resolve_fingerprint_and_refuse_nothing_matched(tmp_path: Path) -> None:
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.csv").write_text("a\n1\n")
    (tmp_path / "data" / "sub" / "b.csv").write_text("a\n2\n")
    loc = StoreLocation("file", str(tmp_path))
    files = resolve([{"datastore": "local", "path": "data/**/*.csv"}], lambda name: loc)
    assert [f.display for f in files] == ["local/data/a.csv", "local/data/sub/b.csv"]
    before = fingerprint(files)
    assert read_table([f.source for f in files], opts()).column("a").to_pylist() == [1, 2]
    (tmp_path / "data" / "a.csv").write_text("a\n1\n3\n")
    assert fingerprint(resolve([{"datastore": "local", "path": "data/**/*.csv"}], lambda name: loc)) != before
    with pytest.raises(NotFound, match=r"'data/\*\*/\*\.parquet' on datastore 'local' matches no file"):
        resolve([{"datastore": "local", "path": "data/**/*.parquet"}], lambda name: loc)
    with pytest.raises(InvalidInput, match="escapes"):
        resolve([{"datastore": "local", "path": "../x"}], lambda name: loc)
    with pytest.raises(InvalidInput, match="not both"):
        resolve([{"datastore": "local", "path": "a"}, {"url": "http://127.0.0.1:1/a.csv"}], lambda name: loc)


def test_to_pandas_matches_pandas(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    pd.DataFrame({"a": range(1000), "b": [i / 3 for i in range(1000)]}).to_csv(f, index=False)
    ours = read_table([src(f)], opts()).to_pandas()
    pd.testing.assert_frame_equal(ours, pd.read_csv(f))


def test_on_error_null_reads_bad_values_as_missing(tmp_path: Path) -> None:
    f = tmp_path / "typed.csv"
    f.write_text("a,b,c\n1,2,x\n3,oops,y\n5,6,z\n")
    table = read_table([src(f)], opts(set_column_types={"b": {"type": "long"}}), on_error="null")
    assert table.column("b").to_pylist() == [2, None, 6] and str(table.schema.field("b").type) == "int64"
    assert table.column("c").to_pylist() == ["x", "y", "z"]
    with pytest.raises(InvalidInput, match="line 3"):
        read_table([src(f)], opts(set_column_types={"b": {"type": "long"}}), on_error="fail")


def test_urls_to_link_local_hosts_are_refused() -> None:
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x.csv", "http://0.0.0.0/x.csv"):
        with pytest.raises(InvalidInput, match="link-local or unspecified"):
            resolve([{"url": url}], lambda name: StoreLocation("file", "/"))
    with pytest.raises(InvalidInput, match="not known"):
        resolve([{"url": "http://no-such-host.invalid/x.csv"}], lambda name: StoreLocation("file", "/"))
