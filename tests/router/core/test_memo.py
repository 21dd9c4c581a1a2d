from router.core.memo import IdMemo


class Thing:
    def __init__(self, n: int) -> None:
        self.n = n


def test_the_same_object_gets_its_kept_result_and_another_one_its_own() -> None:
    made: list[int] = []

    def make(thing: Thing) -> int:
        made.append(thing.n)
        return thing.n * 10

    memo = IdMemo(make, limit=8)
    a, b = Thing(1), Thing(2)
    assert [memo(a), memo(a), memo(b), memo(a)] == [10, 10, 20, 10]
    assert made == [1, 2]


def test_a_full_memo_starts_again_and_an_object_gone_cannot_lend_its_id() -> None:
    made: list[int] = []
    memo = IdMemo(lambda t: made.append(t.n) or t.n, limit=2)
    things = [Thing(i) for i in range(3)]
    for thing in things:
        memo(thing)
    memo(things[0])  # dropped when the third came in: made again
    assert made == [0, 1, 2, 0]
    # Objects made and dropped one after another would reuse an id; the memo holds them, so
    # every new object is a new id and gets its own result.
    assert [memo(Thing(n)) for n in range(5, 8)] == [5, 6, 7]
