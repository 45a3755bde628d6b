"""ChunkStreamHasher: data hashed in pieces of any size as it arrives gives hash_chunks' digests of the file."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataseal.registry.sealing import EmptyInputError, SealError
from dataseal.registry.sealing.files import ChunkStreamHasher, hash_chunks


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=1, max_size=3000), chunk_size=st.integers(1, 700),
       cuts=st.lists(st.integers(0, 3000), max_size=8))
def test_pieces_of_any_size_give_the_digests_of_the_file(
        tmp_path_factory: pytest.TempPathFactory, data: bytes, chunk_size: int, cuts: list[int]) -> None:
    path = tmp_path_factory.mktemp("stream") / "data.bin"
    path.write_bytes(data)
    hasher = ChunkStreamHasher(chunk_size)
    edges = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
    for start, end in zip(edges, edges[1:], strict=False):
        hasher.update(memoryview(data)[start:end] if start % 2 else data[start:end])
    hasher.update(b"")
    assert hasher.finish() == hash_chunks(path, chunk_size)


def test_no_data_and_too_many_chunks_are_refused() -> None:
    with pytest.raises(EmptyInputError, match=r"the data is empty \(0 bytes\)"):
        ChunkStreamHasher(16).finish()
    hasher = ChunkStreamHasher(1)
    hasher.update(bytes(1 << 20))
    with pytest.raises(SealError, match="more than the 1,048,576 chunks a sealed file may have") as refused:
        hasher.update(b"x")
    assert refused.value.options == ("chunk_size",)
    with pytest.raises(SealError, match="chunk size 0 is out of range"):
        ChunkStreamHasher(0)

