from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from warehouse.lake import Lake, LakeConfig, LakeError, ident, literal
from warehouse.migrations import current_version, discover, migrate

T_DDL = "CREATE TABLE t (id INTEGER, v VARCHAR, ts TIMESTAMPTZ)"


def _rows(ids: list[int], v: str = "a", at: datetime | None = None) -> pa.Table:
    at = at or datetime(2026, 1, 1, tzinfo=UTC)
    return pa.table({"id": ids, "v": [v] * len(ids), "ts": pa.array([at] * len(ids), pa.timestamp("us", tz="UTC"))})


@pytest.fixture
def tlake(lake: Lake) -> Lake:
    lake.execute(T_DDL)
    return lake


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([("append", [1, 2], "a"), ("append", [2, 3], "b")], [(1, "a"), (2, "a"), (2, "b"), (3, "b")]),
        ([("append", [1, 2], "a"), ("upsert", [2, 3], "b")], [(1, "a"), (2, "b"), (3, "b")]),
        ([("upsert", [1, 2], "a"), ("upsert", [1, 2], "a")], [(1, "a"), (2, "a")]),
        ([("append", [1], "a"), ("insert_new", [1, 2], "b"), ("insert_new", [1, 2], "c")], [(1, "a"), (2, "b")]),
        ([("append", [1, 2], "a"), ("replace", [5], "z")], [(5, "z")]),
    ],
)
def test_write_helpers(tlake: Lake, ops: list[tuple[str, list[int], str]], expected: list[tuple[int, str]]) -> None:
    for op, ids, v in ops:
        if op in ("upsert", "insert_new"):
            getattr(tlake, op)("t", _rows(ids, v), ["id"])
        else:
            getattr(tlake, op)("t", _rows(ids, v))
    got = [(r["id"], r["v"]) for r in tlake.query("SELECT id, v FROM t ORDER BY id, v").to_pylist()]
    assert got == expected


def test_migrations_are_versioned_and_idempotent(lake: Lake) -> None:
    versions = [m.version for m in discover()]
    assert versions == sorted(versions) and versions[0] == 1
    assert current_version(lake) == versions[-1]
    assert migrate(lake) == []
    assert {"cameras", "kelurahan", "reference_issues"} <= set(lake.tables())


def test_failed_migration_applies_nothing(lake_config: LakeConfig, tmp_path: Path) -> None:
    d = tmp_path / "migs"
    d.mkdir()
    (d / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    (d / "0002_bad.sql").write_text("CREATE TABLE b (x INTEGER);\nCREATE TABLE broken (x NOSUCHTYPE);\n")
    lk = Lake(lake_config)
    (d / "0002_bad.sql").rename(d / "hold.txt")
    assert migrate(lk, d) == [1]
    (d / "hold.txt").rename(d / "0002_bad.sql")
    with pytest.raises(Exception, match=r"NOSUCHTYPE|Type"):
        migrate(lk, d)
    assert "a" in lk.tables() and "b" not in lk.tables()
    assert lk.scalar("SELECT max(version) FROM schema_migrations") == 1


def test_read_only_handle_refuses_writes(tlake: Lake, lake_config: LakeConfig) -> None:
    tlake.append("t", _rows([1]))
    ro = Lake(lake_config, read_only=True)
    assert ro.scalar("SELECT count(*) FROM t") == 1
    with pytest.raises(LakeError):
        ro.append("t", _rows([2]))
    with pytest.raises(Exception, match=r"read-only|read only"):
        ro.cursor().execute("INSERT INTO t VALUES (3, 'x', now())")


def test_read_only_on_missing_lake_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="no lake"):
        Lake(LakeConfig(root=tmp_path / "nothing"), read_only=True).tables()


def test_time_travel_by_snapshot(tlake: Lake) -> None:
    tlake.append("t", _rows([1, 2]))
    snap = tlake.snapshot_id()
    tlake.append("t", _rows([3]))
    assert tlake.scalar("SELECT count(*) FROM t") == 3
    assert tlake.scalar("SELECT count(*) FROM t AT (VERSION => ?)", [snap]) == 2


def test_retention_deletes_old_rows_only(tlake: Lake) -> None:
    now = datetime.now(UTC)
    tlake.append("t", _rows([1, 2], at=now - timedelta(days=40)))
    tlake.append("t", _rows([3], at=now - timedelta(days=1)))
    assert tlake.apply_retention("t", "ts", timedelta(days=30)) == 2
    assert [r["id"] for r in tlake.query("SELECT id FROM t").to_pylist()] == [3]


def test_compaction_merges_small_files(tlake: Lake) -> None:
    for i in range(6):
        tlake.append("t", _rows([i]))
    stats = tlake.compact("t")
    assert stats["files_before"] == 6
    assert stats["files_after"] < stats["files_before"]
    assert tlake.scalar("SELECT count(*) FROM t") == 6


@pytest.mark.parametrize("bad", ["t; DROP TABLE x", "1abc", "a-b", ""])
def test_identifiers_are_validated(bad: str) -> None:
    with pytest.raises(ValueError):
        ident(bad)


def test_literal_escapes_quotes() -> None:
    assert literal("a'b") == "'a''b'"


# ------------------------------------------------------------------------------------------
# concurrency and crash safety (real processes)
# ------------------------------------------------------------------------------------------
WRITER = r"""
import sys, json, time
import pyarrow as pa
from pathlib import Path
from warehouse.lake import Lake, LakeConfig, S3Config
cfg = json.loads(sys.argv[1]); w = int(sys.argv[2]); batches = int(sys.argv[3]); size = int(sys.argv[4])
s3 = S3Config(**cfg.pop("s3")) if cfg.get("s3") else None
lake = Lake(LakeConfig(root=Path(cfg.pop("root")), s3=s3, **cfg))
for b in range(batches):
    ids = list(range(b * size, (b + 1) * size))
    lake.append("t", pa.table({"w": [w] * size, "id": ids, "pad": ["x" * 20] * size}))
    print("batch", b, flush=True)
"""

READER = r"""
import sys, json, time
from pathlib import Path
from warehouse.lake import Lake, LakeConfig, S3Config
cfg = json.loads(sys.argv[1]); seconds = float(sys.argv[2])
s3 = S3Config(**cfg.pop("s3")) if cfg.get("s3") else None
lake = Lake(LakeConfig(root=Path(cfg.pop("root")), s3=s3, **cfg), read_only=True)
end = time.time() + seconds; n = 0; last = -1
while time.time() < end:
    c = lake.scalar("SELECT count(*) FROM t")
    assert c >= last, (c, last)
    last = c; n += 1
print("reads", n, "last", last, flush=True)
"""


def _cfg_json(cfg: LakeConfig) -> str:
    d: dict[str, object] = {"catalog": cfg.catalog, "root": str(cfg.root), "postgres_dsn": cfg.postgres_dsn}
    if cfg.s3 is not None:
        d["s3"] = cfg.s3.__dict__
    return json.dumps(d)


BATCHES, SIZE = 8, 500
EXPECTED_COUNTS = [{"w": w, "n": BATCHES * SIZE, "d": BATCHES * SIZE} for w in range(4)]


def _run_concurrent(cfg: LakeConfig, tmp_path: Path) -> list[dict[str, int]]:
    """4 writer processes append while a reader process queries; returns rows and distinct ids per writer."""
    lake = Lake(cfg)
    migrate(lake)
    lake.execute("CREATE TABLE t (w INTEGER, id INTEGER, pad VARCHAR)")
    (tmp_path / "writer.py").write_text(WRITER)
    (tmp_path / "reader.py").write_text(READER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    batches, size = BATCHES, SIZE
    args = [str(batches), str(size)]
    pipes = {"env": env, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    writers = [
        subprocess.Popen([sys.executable, str(tmp_path / "writer.py"), _cfg_json(cfg), str(w), *args], **pipes)  # type: ignore[call-overload]
        for w in range(4)
    ]
    reader = subprocess.Popen(
        [sys.executable, str(tmp_path / "reader.py"), _cfg_json(cfg), "8"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for p in [*writers, reader]:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        assert "lock" not in err.lower(), err[-2000:]
    return lake.query("SELECT w, count(*) AS n, count(DISTINCT id) AS d FROM t GROUP BY w ORDER BY w").to_pylist()


@pytest.mark.slow
def test_four_writers_and_a_reader_embedded(lake_config: LakeConfig, tmp_path: Path) -> None:
    assert _run_concurrent(lake_config, tmp_path) == EXPECTED_COUNTS


@pytest.mark.slow
@pytest.mark.services
def test_four_writers_and_a_reader_postgres_s3(pg_lake_config: LakeConfig, tmp_path: Path) -> None:
    assert _run_concurrent(pg_lake_config, tmp_path) == EXPECTED_COUNTS


CRASHER = r"""
import sys
import pyarrow as pa
from pathlib import Path
from warehouse.lake import Lake, LakeConfig
lake = Lake(LakeConfig(root=Path(sys.argv[1])))
size = 200_000
b = 0
while True:
    lake.append("t", pa.table({"w": [b] * size, "id": list(range(size)), "pad": ["y" * 50] * size}))
    print("committed", b, flush=True)
    b += 1
"""


@pytest.mark.slow
def test_kill_9_mid_write_leaves_no_partial_rows(lake_config: LakeConfig, tmp_path: Path) -> None:
    lake = Lake(lake_config)
    migrate(lake)
    lake.execute("CREATE TABLE t (w INTEGER, id INTEGER, pad VARCHAR)")
    lake.close()
    (tmp_path / "crasher.py").write_text(CRASHER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    p = subprocess.Popen(
        [sys.executable, str(tmp_path / "crasher.py"), str(lake_config.root)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    assert p.stdout.readline().startswith("committed 0")
    time.sleep(0.3)  # now in the middle of the next batch
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    lake = Lake(lake_config)
    per_batch = lake.query("SELECT w, count(*) AS n FROM t GROUP BY w").to_pylist()
    assert per_batch, "the first committed batch must survive"
    assert all(r["n"] == 200_000 for r in per_batch), per_batch
    lake.append("t", pa.table({"w": [-1], "id": [0], "pad": ["z"]}))  # still writable


# how the embedded lake is reached later: (working directory, root spelling) — all read the same rows
REOPEN_CASES = [
    ("same", "relative"),  # `make demo` then `pantau dashboard` from the same folder
    ("other", "absolute"),  # the dashboard server resolves the data folder to an absolute path
    ("moved", "absolute"),  # the whole data folder copied elsewhere
]


@pytest.mark.parametrize(("where", "spelling"), REOPEN_CASES)
def test_embedded_lake_opens_however_its_folder_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, spelling: str
) -> None:
    import shutil

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with Lake(LakeConfig(root=Path("pantau-data"))) as lk:  # created with a relative root, as the CLI default
        lk.execute("CREATE TABLE t (x INTEGER)")
        lk.append("t", pa.table({"x": [1, 2, 3]}))
    root = work / "pantau-data"
    if where == "moved":
        root = Path(shutil.copytree(root, tmp_path / "elsewhere" / "pantau-data"))
        shutil.rmtree(work / "pantau-data")
    if where != "same":
        monkeypatch.chdir(tmp_path)
    with Lake(LakeConfig(root=root if spelling == "absolute" else Path("pantau-data")), read_only=True) as lk:
        assert lk.scalar("SELECT sum(x) FROM t") == 6
