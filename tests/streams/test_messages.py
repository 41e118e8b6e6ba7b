import numpy as np
import pytest

from streams.messages import Reading, ReadingBatch


def _batch() -> ReadingBatch:
    return ReadingBatch.from_rows([("a", 1.0, 10), ("b", 2.0, 20), ("c", 3.0, 30)])


def test_rows_round_trip_through_columns() -> None:
    b = _batch()
    assert len(b) == 3
    assert list(b)[1] == Reading("b", 2.0, 20, 0)


def test_take_by_mask_and_index_keeps_order() -> None:
    b = _batch()
    assert b.take(np.array([True, False, True])).sensor_ids == ("a", "c")
    assert b.take(np.array([2, 0])).sensor_ids == ("c", "a")


def test_concat_and_empty() -> None:
    b = ReadingBatch.concat([_batch(), _batch()])
    assert len(b) == 6 and b.values.tolist() == [1, 2, 3, 1, 2, 3]
    assert len(ReadingBatch.concat([])) == 0


def test_columns_of_different_length_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        ReadingBatch(("a",), np.zeros(2), np.zeros(1, np.int64))
