"""The outbound send schedule: examples of each rule, then Hypothesis runs of random operations (adds,
sends at the instants the schedule gives, removals, flood waits) checked against a brute-force model:
every choice is the model's (the chat eligible earliest, ties to the oldest message, at the earliest
instant every rate allows), no rate is exceeded in any window, per-chat order and postponements hold,
every message is sent once; and with enough chats the global rate is reached."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgesc.domain.rates import Rate
from tgesc.domain.send_schedule import NEVER, Due, Pending, SendSchedule


def drain(schedule: SendSchedule, now: float = 0.0) -> list[tuple[float, Pending]]:
    """Send everything, each message at the instant the schedule gives; (instant, item) in send order."""
    log = []
    while (due := schedule.next_send(now)) is not None:
        assert due.at >= now
        now = due.at
        schedule.sent(due.item.item_id, due.at)
        log.append((due.at, due.item))
    return log


def keeps_rate(times: list[float], rate: Rate) -> bool:
    """No `rate.count + 1` sends within one window: each send is at least a window after the count-th before it."""
    times = sorted(times)
    return all(times[i] >= times[i - rate.count] + rate.window_s for i in range(rate.count, len(times)))


def assert_rates_kept(log: list[tuple[float, Pending]], global_rate: Rate, chat_rate: Rate, group_rate: Rate):
    by_chat = defaultdict(list)
    for at, item in log:
        by_chat[item.chat_id].append(at)
    assert keeps_rate([at for at, _ in log], global_rate)
    for chat_id, times in by_chat.items():
        assert keeps_rate(times, chat_rate), f"chat {chat_id}: {times}"
        if chat_id < 0:  # groups, in these tests
            assert keeps_rate(times, group_rate), f"group {chat_id}: {times}"


def items(chat_id: int, count: int, start: int = 0, not_before: float = NEVER) -> list[Pending]:
    return [Pending(f"{chat_id}:{n}", chat_id, chat_id < 0, not_before) for n in range(start, start + count)]


def schedule_of(*pending: Pending, **rates: Rate) -> SendSchedule:
    schedule = SendSchedule(**rates)
    for item in pending:
        schedule.add(item)
    return schedule


# --- examples -------------------------------------------------------------------------------------------


def test_nothing_pending_is_nothing_to_send():
    schedule = SendSchedule()
    assert schedule.next_send(5.0) is None and len(schedule) == 0


def test_a_chat_gets_its_messages_in_order_one_a_second():
    log = drain(schedule_of(*items(7, 3)))
    assert [(at, item.item_id) for at, item in log] == [(0.0, "7:0"), (1.0, "7:1"), (2.0, "7:2")]


def test_the_next_send_is_never_before_now_and_is_a_tuple():
    schedule = schedule_of(*items(7, 1))
    item, at = schedule.next_send(12.5)
    assert (item.item_id, at) == ("7:0", 12.5)
    assert schedule.next_send(12.5) == Due(item, 12.5)  # asking again changes nothing


def test_a_busy_chat_does_not_hold_up_the_others():
    schedule = schedule_of(*items(1, 5))
    schedule.add(Pending("other", 2))
    log = drain(schedule)
    assert [item.item_id for _, item in log[:2]] == ["1:0", "other"]
    assert log[1][0] == 0.0


def test_a_chat_waiting_on_its_own_limit_does_not_block_another():
    schedule = schedule_of(*items(1, 2))
    schedule.sent("1:0", 0.0)
    schedule.add(Pending("late", 2, not_before=0.5))
    assert schedule.next_send(0.2) == Due(Pending("late", 2, not_before=0.5), 0.5)


def test_not_before_is_respected_and_a_later_message_waits_for_the_first():
    schedule = schedule_of(Pending("a", 1, not_before=10.0), Pending("b", 1, not_before=0.0))
    log = drain(schedule)
    assert [(at, item.item_id) for at, item in log] == [(10.0, "a"), (11.0, "b")]


def test_the_chat_eligible_earliest_goes_first_ties_to_the_oldest_message():
    schedule = schedule_of(Pending("x", 1, not_before=5.0), Pending("y", 2, not_before=3.0), Pending("z", 3),
                           Pending("w", 4))
    assert [item.item_id for _, item in drain(schedule)] == ["z", "w", "y", "x"]


def test_a_message_added_later_does_not_overtake_one_waiting_since_earlier():
    schedule = schedule_of(*items(1, 2))
    schedule.sent("1:0", 0.0)
    assert schedule.next_send(5.0).item.item_id == "1:1"  # eligible since 1.0
    schedule.add(Pending("new", 2))  # added at 5.0, the latest instant the schedule was told
    assert [(at, item.item_id) for at, item in drain(schedule, 5.0)] == [(5.0, "1:1"), (5.0, "new")]


def test_the_global_rate_holds_across_chats():
    log = drain(schedule_of(*(item for chat in range(1, 31) for item in items(chat, 1))))
    assert [at for at, _ in log] == [0.0] * 25 + [1.0] * 5


def test_a_group_also_keeps_to_the_group_rate():
    log = drain(schedule_of(*items(-100, 22)))
    assert [at for at, _ in log] == [float(n) for n in range(20)] + [60.0, 61.0]


def test_a_flood_wait_postpones_one_chat_only():
    schedule = schedule_of(*items(1, 2), *items(2, 1))
    schedule.postpone(1, 30.0)
    schedule.postpone(1, 20.0)  # never shortened
    log = drain(schedule)
    assert [(at, item.item_id) for at, item in log] == [(0.0, "2:0"), (30.0, "1:0"), (31.0, "1:1")]


def test_a_global_flood_wait_postpones_everything():
    schedule = schedule_of(*items(1, 1), *items(2, 1))
    schedule.postpone_all(42.0)
    assert [at for at, _ in drain(schedule)] == [42.0, 42.0]


def test_removing_the_first_or_a_later_message():
    schedule = schedule_of(*items(1, 3))
    assert schedule.remove("1:1") == Pending("1:1", 1)
    assert schedule.remove("1:1") is None and schedule.remove("unknown") is None
    assert schedule.remove("1:0").item_id == "1:0"
    assert "1:2" in schedule and "1:0" not in schedule
    assert [item.item_id for _, item in drain(schedule)] == ["1:2"]


def test_a_removed_id_can_come_back_at_the_end_of_its_chat():
    schedule = schedule_of(*items(1, 3))
    schedule.remove("1:1")
    schedule.add(Pending("1:1", 1))
    assert [item.item_id for _, item in drain(schedule)] == ["1:0", "1:2", "1:1"]


def test_the_same_id_twice_is_refused_and_an_unknown_send_is_an_error():
    schedule = schedule_of(*items(1, 1))
    with pytest.raises(ValueError, match="already pending"):
        schedule.add(Pending("1:0", 2))
    with pytest.raises(KeyError, match="not pending"):
        schedule.sent("nope", 0.0)


def test_sends_outside_the_schedule_count_against_the_rates():
    schedule = schedule_of(*items(1, 1))
    schedule.record_send(1, 4.0)
    assert schedule.next_send(4.0).at == 5.0
    for n in range(25):
        schedule.record_send(1000 + n, 6.0)
    assert schedule.next_send(6.0).at == 7.0  # the global window


def test_sending_a_later_message_first_is_recorded():
    schedule = schedule_of(*items(1, 2))
    assert schedule.sent("1:1", 0.0).item_id == "1:1"
    assert schedule.next_send(0.0) == Due(Pending("1:0", 1), 1.0)


def test_ten_thousand_messages_across_three_hundred_chats():
    rng = random.Random(7)
    schedule = SendSchedule()
    chats = [-(n + 1) if n % 10 == 0 else n + 1 for n in range(300)]
    for n in range(10_000):
        schedule.add(Pending(n, chat := rng.choice(chats), chat < 0, rng.uniform(0, 100)))
    log = drain(schedule)
    assert sorted(item.item_id for _, item in log) == list(range(10_000))
    assert_rates_kept(log, Rate(25, 1), Rate(1, 1), Rate(20, 60))
    assert len(schedule._ready) <= 2 * 300 + 64  # stale heap entries are compacted
    schedule.next_send(log[-1][0] + 3600)
    assert not schedule._chats  # chats with nothing left are forgotten once their windows pass


# --- a brute-force model and random operations ----------------------------------------------------------


class Model:
    """What the schedule must do, computed the slow way from every send so far."""

    def __init__(self, global_rate: Rate, chat_rate: Rate, group_rate: Rate) -> None:
        self.rates = global_rate, chat_rate, group_rate
        self.queues: dict[int, list[tuple[int, Pending, float]]] = defaultdict(list)  # (sequence, item, added at)
        self.sends: list[tuple[float, int]] = []
        self.postponed: dict[int, float] = defaultdict(lambda: NEVER)
        self.postponed_all = NEVER
        self.sequence = 0
        self.latest = NEVER  # the latest instant the schedule was told

    def add(self, item: Pending) -> None:
        self.sequence += 1
        self.queues[item.chat_id].append((self.sequence, item, self.latest))

    @staticmethod
    def allowed(times: list[float], rate: Rate) -> float:
        times = sorted(times)
        return times[-rate.count] + rate.window_s if len(times) >= rate.count else NEVER

    def eligible(self, chat_id: int, head: Pending, added_at: float) -> float:
        global_rate, chat_rate, group_rate = self.rates
        times = [at for at, c in self.sends if c == chat_id]
        ready = max(added_at, head.not_before, self.postponed[chat_id], self.allowed(times, chat_rate))
        return max(ready, self.allowed(times, group_rate)) if head.is_group else ready

    def expected(self, now: float) -> tuple[object, float] | None:
        """The id of the message to send next and the instant it may go."""
        self.latest = max(self.latest, now)
        keys = [(self.eligible(chat, queue[0][1], queue[0][2]), queue[0][0], queue[0][1])
                for chat, queue in self.queues.items() if queue]
        if not keys:
            return None
        first = min(keys, key=lambda k: (k[0], k[1]))
        everyone = max(self.allowed([at for at, _ in self.sends], self.rates[0]), self.postponed_all)
        return first[2].item_id, max(now, first[0], everyone)

    def send(self, item: Pending, at: float) -> None:
        queue = self.queues[item.chat_id]
        assert queue[0][1] == item, "per-chat order"
        queue.pop(0)
        self.sends.append((at, item.chat_id))
        self.latest = max(self.latest, at)

    def remove(self, item_id) -> None:
        for queue in self.queues.values():
            queue[:] = [entry for entry in queue if entry[1].item_id != item_id]


CHAT_IDS = st.sampled_from([1, 2, 3, 4, -10, -20])
OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("add"), CHAT_IDS, st.one_of(st.none(), st.floats(0, 30))),
    st.tuples(st.just("send"), st.just(0), st.just(None)),
    st.tuples(st.just("send"), st.just(0), st.just(None)),
    st.tuples(st.just("remove"), st.integers(0, 40), st.none()),
    st.tuples(st.just("postpone"), CHAT_IDS, st.floats(0, 20)),
    st.tuples(st.just("postpone_all"), st.just(0), st.floats(0, 5)),
), max_size=60)
RATES = st.builds(Rate, st.integers(1, 6), st.integers(1, 5))


def check_next(schedule: SendSchedule, model: Model, now: float) -> Due | None:
    due, expected = schedule.next_send(now), model.expected(now)
    if expected is None:
        assert due is None
        return None
    assert due is not None and (due.item.item_id, due.at) == expected, (due, expected)
    return due


@settings(max_examples=300, deadline=None)
@given(OPERATIONS, RATES, RATES, RATES)
def test_random_operations_follow_the_model_and_keep_every_rule(operations, global_rate, chat_rate, group_rate):
    schedule, model = SendSchedule(global_rate, chat_rate, group_rate), Model(global_rate, chat_rate, group_rate)
    now, added, removed, log, floors = 0.0, [], set(), [], defaultdict(lambda: NEVER)
    for op, arg, value in operations:
        if op == "add":
            item = Pending(len(added), arg, arg < 0, NEVER if value is None else value)
            added.append(item)
            schedule.add(item)
            model.add(item)
        elif op == "remove" and arg < len(added):
            pending = arg not in removed and arg not in {item.item_id for _, item in log}
            assert (schedule.remove(arg) is not None) == pending
            if pending:
                removed.add(arg)
                model.remove(arg)
        elif op == "postpone":
            schedule.postpone(arg, now + value)
            model.postponed[arg] = max(model.postponed[arg], now + value)
            floors[arg] = max(floors[arg], now + value)
        elif op == "postpone_all":
            schedule.postpone_all(now + value)
            model.postponed_all = max(model.postponed_all, now + value)
            floors["all"] = max(floors["all"], now + value)
        elif op == "send" and (due := check_next(schedule, model, now)) is not None:
            now = due.at
            schedule.sent(due.item.item_id, now)
            model.send(due.item, now)
            log.append((now, due.item))
            assert now >= max(floors[due.item.chat_id], floors["all"], due.item.not_before)
    while (due := check_next(schedule, model, now)) is not None:
        now = due.at
        schedule.sent(due.item.item_id, now)
        model.send(due.item, now)
        log.append((now, due.item))
        assert now >= max(floors[due.item.chat_id], floors["all"], due.item.not_before)
    assert sorted(item.item_id for _, item in log) == sorted(i.item_id for i in added if i.item_id not in removed)
    assert_rates_kept(log, global_rate, chat_rate, group_rate)
    for chat_id in {item.chat_id for item in added}:
        sent_ids = [item.item_id for _, item in log if item.chat_id == chat_id]
        assert sent_ids == sorted(sent_ids), "per-chat order"


@settings(max_examples=40, deadline=None)
@given(st.builds(Rate, st.integers(5, 30), st.integers(1, 3)), st.builds(Rate, st.integers(1, 3), st.integers(1, 3)),
       st.integers(0, 20), st.data())
def test_enough_ready_chats_reach_the_global_rate(global_rate, chat_rate, spare_chats, data):
    needed = math.ceil(global_rate.count / global_rate.window_s * chat_rate.window_s / chat_rate.count)
    chats = needed + spare_chats
    per_chat = data.draw(st.integers(3, 8)) * math.ceil(global_rate.count * chat_rate.window_s / chats) + 1
    schedule = schedule_of(*(item for chat in range(1, chats + 1) for item in items(chat, per_chat)),
                           global_rate=global_rate, chat_rate=chat_rate)
    log, left = [], dict.fromkeys(range(1, chats + 1), per_chat)
    while all(left.values()):  # while every chat still has messages ready
        due = schedule.next_send(log[-1][0] if log else 0.0)
        schedule.sent(due.item.item_id, due.at)
        log.append((due.at, due.item))
        left[due.item.chat_id] -= 1
    span = log[-1][0]
    assert span > 0
    assert len(log) >= 0.95 * global_rate.count / global_rate.window_s * span
    assert_rates_kept(log, global_rate, chat_rate, Rate(10**9, 1))
