from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.object_store import LocalObjectStore, ObjectNotFoundError, ObjectStore, S3ObjectStore


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "objects")
    else:
        s3 = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        yield S3ObjectStore(s3["endpoint"], bucket, s3["access_key"], s3["secret_key"], prefix="p")


def test_put_get_exists_delete(store: ObjectStore) -> None:
    assert not store.exists("a/b.bin")
    store.put_bytes("a/b.bin", b"hello")
    assert store.exists("a/b.bin")
    assert store.get_bytes("a/b.bin") == b"hello"
    store.put_bytes("a/b.bin", b"world")  # overwrite is atomic, last writer wins
    assert store.get_bytes("a/b.bin") == b"world"
    store.delete("a/b.bin")
    assert not store.exists("a/b.bin")
    with pytest.raises(ObjectNotFoundError):
        store.get_bytes("a/b.bin")


def test_list_by_prefix(store: ObjectStore) -> None:
    for k in ["landing/1.parquet", "landing/2.parquet", "keyframes/c1/1.jpg"]:
        store.put_bytes(k, k.encode())
    assert sorted(o.key for o in store.list("landing/")) == ["landing/1.parquet", "landing/2.parquet"]
    assert {o.key for o in store.list()} >= {"landing/1.parquet", "keyframes/c1/1.jpg"}
    assert all(o.size > 0 for o in store.list())


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a\\b", "./a"])
def test_bad_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put_bytes(key, b"x")


def test_concurrent_writers_never_expose_partial_objects(store: ObjectStore) -> None:
    payloads = [bytes([i]) * 200_000 for i in range(4)]
    seen: list[bytes] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(store.get_bytes("big.bin"))
            except ObjectNotFoundError:
                pass

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(3):
        for p in payloads:
            store.put_bytes("big.bin", p)
    stop.set()
    t.join()
    assert all(s in payloads for s in seen)


def test_local_store_leaves_no_temp_files(tmp_path: Path) -> None:
    s = LocalObjectStore(tmp_path)
    s.put_bytes("x/y.bin", b"1")
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["y.bin"]


def test_copy_gives_an_independent_equal_object(store: ObjectStore) -> None:
    store.put_bytes("releases/v1/a.csv", b"rows")
    store.copy("releases/v1/a.csv", "releases/v2/a.csv")
    store.copy("releases/v1/a.csv", "releases/v2/a.csv")  # again over itself: still one object
    assert store.get_bytes("releases/v2/a.csv") == b"rows"
    store.put_bytes("releases/v1/a.csv", b"changed")  # objects are replaced, never edited: the copy keeps its bytes
    assert store.get_bytes("releases/v2/a.csv") == b"rows"
    store.delete("releases/v1/a.csv")
    assert store.get_bytes("releases/v2/a.csv") == b"rows"
    with pytest.raises(ObjectNotFoundError):
        store.copy("releases/v1/a.csv", "releases/v3/a.csv")
    assert sorted(o.key for o in store.list("releases/")) == ["releases/v2/a.csv"]


def test_deferred_flush_reads_back_and_syncs(store: ObjectStore) -> None:
    keys = [f"releases/v1/data/part-{i}.csv" for i in range(3)]
    for i, key in enumerate(keys):
        store.put_bytes(key, bytes([i]) * 1000, durable=False)
    store.sync(keys)  # one flush for many objects before the release marker is written
    assert [store.get_bytes(k) for k in keys] == [bytes([i]) * 1000 for i in range(3)]
