"""The outbound send schedule: examples of each rule, then Hypothesis runs of random operations (adds,
sends at the instants the schedule gives, removals, flood waits) checked against a brute-force model:
every choice is the model's (of the chats eligible at the earliest instant every rate allows, an overdue
one, eligible earliest, else the one with the most queued, ties to the earliest eligible and the oldest
message), no rate is exceeded in any window, per-chat order and postponements hold, every message is sent
once; a message waits past its eligibility only while the global rate is used up, and never longer than
max_wait_s plus a global window per chat; with enough chats the global rate is reached, and so it is for
the bench's shape of workload (tests nothing of bench/bot.py itself: its rows, in virtual time)."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tgesc.domain.rates import Rate
from tgesc.domain.send_schedule import MAX_WAIT_S, NEVER, Due, Pending, SendSchedule


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


def schedule_of(*pending: Pending, **options) -> SendSchedule:
    schedule = SendSchedule(**options)
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


def test_of_equal_queues_the_chat_eligible_earliest_goes_first_ties_to_the_oldest_message():
    schedule = schedule_of(Pending("x", 1, not_before=5.0), Pending("y", 2, not_before=3.0), Pending("z", 3),
                           Pending("w", 4))
    assert [item.item_id for _, item in drain(schedule)] == ["z", "w", "y", "x"]


def test_of_the_chats_that_may_send_the_one_with_the_most_queued_goes_first():
    schedule = schedule_of(*items(1, 1), *items(2, 3), *items(3, 2), global_rate=Rate(1, 1))
    assert [(at, item.item_id) for at, item in drain(schedule)] == [
        (0.0, "2:0"),  # 3 queued
        (1.0, "3:0"),  # 2 queued, as chat 2 has now, but eligible since the start (chat 2 since 1.0)
        (2.0, "2:1"),  # 2 queued
        (3.0, "1:0"), (4.0, "3:1"), (5.0, "2:2")]  # 1 each: eligible since the start, 2.0 and 3.0


def test_adding_or_removing_a_message_changes_a_waiting_chat_s_place():
    schedule = schedule_of(*items(1, 1), *items(2, 1), global_rate=Rate(1, 1))
    assert schedule.next_send(0.0).item.item_id == "1:0"  # 1 each: the oldest message
    schedule.add(Pending("2:1", 2))
    assert schedule.next_send(0.0).item.item_id == "2:0"  # 2 queued
    schedule.add(Pending("1:1", 1))
    schedule.add(Pending("1:2", 1))
    assert schedule.next_send(0.0).item.item_id == "1:0"  # 3 queued
    schedule.remove("1:2")
    assert schedule.next_send(0.0).item.item_id == "1:0"  # 2 each: the oldest message
    schedule.remove("1:1")
    assert schedule.next_send(0.0).item.item_id == "2:0"


def test_long_queues_go_from_the_start_so_the_last_messages_still_go_at_the_global_rate():
    """Four groups with 15 messages (1/s each) among 100 chats with 1-2: first come first served left the
    groups for a tail at 4/s; longest first sends everything in the 15 s the rates allow."""
    pending = [*(item for chat in range(1, 101) for item in items(chat, 1 + chat % 2)),
               *(item for group in range(-4, 0) for item in items(group, 15))]
    random.Random(3).shuffle(pending)
    log = drain(schedule_of(*pending))
    assert log[-1][0] == 14.0
    assert_rates_kept(log, Rate(25, 1), Rate(1, 1), Rate(20, 60))
    assert [at for at, item in log if item.chat_id == -1] == [float(n) for n in range(15)]


def test_a_chat_eligible_for_max_wait_goes_before_longer_queues():
    long_queues = [*items(1, 20), *items(2, 20)]
    unbounded = schedule_of(*long_queues, Pending("short", 3), global_rate=Rate(2, 1), max_wait_s=math.inf)
    assert next(at for at, item in drain(unbounded) if item.item_id == "short") == 19.0  # behind 38 messages
    bounded = schedule_of(*long_queues, Pending("short", 3), global_rate=Rate(2, 1), max_wait_s=5.0)
    assert next(at for at, item in drain(bounded) if item.item_id == "short") == 5.0
    assert SendSchedule().max_wait_s == MAX_WAIT_S == 30.0


def test_max_wait_counts_from_the_first_instant_the_schedule_is_told():
    schedule = schedule_of(*items(1, 10), Pending("short", 2), global_rate=Rate(1, 1), max_wait_s=5.0)
    log = drain(schedule, now=100.0)  # added before any instant: waiting since 100.0, not since ever
    assert [(at, item.item_id) for at, item in log][:7] == [
        (100.0, "1:0"), (101.0, "1:1"), (102.0, "1:2"), (103.0, "1:3"), (104.0, "1:4"), (105.0, "short"),
        (106.0, "1:5")]


def test_a_chat_looked_at_for_later_does_not_go_early_when_another_may_go_sooner():
    schedule = schedule_of(*items(1, 5))
    schedule.sent("1:0", 0.0)
    assert schedule.next_send(0.0) == Due(Pending("1:1", 1), 1.0)  # the longest queue, waiting on its rate
    schedule.add(Pending("new", 2))
    assert schedule.next_send(0.2) == Due(Pending("new", 2), 0.2)
    schedule.sent("new", 0.2)
    assert schedule.next_send(0.3) == Due(Pending("1:1", 1), 1.0)


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


def test_a_chat_forgotten_and_met_again_is_not_confused_with_its_old_heap_entries():
    schedule = schedule_of(Pending("a", 1), Pending("b", 2, not_before=5.0))
    schedule.remove("b")  # chat 2: nothing queued, a stale heap entry left behind chat 1's
    schedule.next_send(0.0)  # chat 2, with nothing queued and no sends, is forgotten
    schedule.postpone(2, 1.0)  # and met again, nothing queued
    schedule.sent("a", 0.0)
    assert schedule.next_send(0.0) is None  # was an IndexError: the stale entry passed for the new chat's


def test_ten_thousand_messages_across_three_hundred_chats():
    rng = random.Random(7)
    schedule = SendSchedule()
    chats = [-(n + 1) if n % 10 == 0 else n + 1 for n in range(300)]
    for n in range(10_000):
        schedule.add(Pending(n, chat := rng.choice(chats), chat < 0, rng.uniform(0, 100)))
    log = drain(schedule)
    assert sorted(item.item_id for _, item in log) == list(range(10_000))
    assert_rates_kept(log, Rate(25, 1), Rate(1, 1), Rate(20, 60))
    heaps = len(schedule._waiting) + len(schedule._by_age) + len(schedule._by_priority)
    assert heaps <= 4 * 300 + 64  # stale heap entries are compacted
    schedule.next_send(log[-1][0] + 3600)
    assert not schedule._chats  # chats with nothing left are forgotten once their windows pass


# --- a brute-force model and random operations ----------------------------------------------------------


class Model:
    """What the schedule must do, computed the slow way from every send so far."""

    def __init__(self, global_rate: Rate, chat_rate: Rate, group_rate: Rate, max_wait_s: float) -> None:
        self.rates, self.max_wait_s = (global_rate, chat_rate, group_rate), max_wait_s
        self.queues: dict[int, list[tuple[int, Pending, float]]] = defaultdict(list)  # (sequence, item, added at)
        self.sends: list[tuple[float, int]] = []
        self.postponed: dict[int, float] = defaultdict(lambda: NEVER)
        self.postponed_all = NEVER
        self.sequence = 0
        self.latest = NEVER  # the latest instant the schedule was told
        self.epoch = NEVER  # the first

    def told(self, instant: float) -> None:
        self.latest = max(self.latest, instant)
        if self.epoch == NEVER:
            self.epoch = self.latest

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
        self.told(now)
        heads = [(self.eligible(chat, queue[0][1], queue[0][2]), queue[0][0], len(queue), queue[0][1])
                 for chat, queue in self.queues.items() if queue]
        if not heads:
            return None
        everyone = max(self.allowed([at for at, _ in self.sends], self.rates[0]), self.postponed_all)
        at = max(now, min(eligible for eligible, *_ in heads), everyone)
        may_go = [head for head in heads if head[0] <= at]
        overdue = [head for head in may_go if max(head[0], self.epoch) + self.max_wait_s <= at]
        if overdue:
            first = min(overdue, key=lambda head: (head[0], head[1]))  # eligible earliest, oldest message
        else:
            first = min(may_go, key=lambda head: (-head[2], head[0], head[1]))  # most queued
        return first[3].item_id, at

    def send(self, item: Pending, at: float) -> None:
        queue = self.queues[item.chat_id]
        assert queue[0][1] == item, "per-chat order"
        queue.pop(0)
        self.sends.append((at, item.chat_id))
        self.told(at)

    def remove(self, item_id) -> None:
        for queue in self.queues.values():
            queue[:] = [entry for entry in queue if entry[1].item_id != item_id]


CHAT_IDS = st.sampled_from([1, 2, 3, 4, -10, -20])
OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("add"), CHAT_IDS, st.one_of(st.none(), st.floats(0, 30))),
    st.tuples(st.just("send"), st.just(0), st.just(None)),  # at the instant the schedule says
    st.tuples(st.just("send"), st.just(0), st.floats(0, 2)),  # this much later
    st.tuples(st.just("peek"), st.just(0), st.none()),  # ask, but send nothing (yet)
    st.tuples(st.just("wait"), st.just(0), st.floats(0, 3)),  # time passes
    st.tuples(st.just("remove"), st.integers(0, 40), st.none()),
    st.tuples(st.just("postpone"), CHAT_IDS, st.floats(0, 20)),
    st.tuples(st.just("postpone_all"), st.just(0), st.floats(0, 5)),
), min_size=10, max_size=80)  # without a minimum, most lists are a few operations, too few to compete
RATES = st.builds(Rate, st.integers(1, 6), st.integers(1, 5))
MAX_WAITS = st.one_of(st.just(math.inf), st.just(MAX_WAIT_S), st.just(0.0), st.floats(0, 20))


def check_next(schedule: SendSchedule, model: Model, now: float) -> Due | None:
    due, expected = schedule.next_send(now), model.expected(now)
    if expected is None:
        assert due is None
        return None
    assert due is not None and (due.item.item_id, due.at) == expected, (due, expected)
    return due


@settings(max_examples=300, deadline=None)
@given(OPERATIONS, RATES, RATES, RATES, MAX_WAITS)
def test_random_operations_follow_the_model_and_keep_every_rule(operations, global_rate, chat_rate, group_rate,
                                                                max_wait_s):
    schedule = SendSchedule(global_rate, chat_rate, group_rate, max_wait_s=max_wait_s)
    model = Model(global_rate, chat_rate, group_rate, max_wait_s)
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
        elif op == "peek":
            check_next(schedule, model, now)
        elif op == "wait":
            now += value
        elif op == "send" and (due := check_next(schedule, model, now)) is not None:
            now = due.at + (value or 0.0)
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


# --- waiting, and the global rate reached -----------------------------------------------------------------


def eligibility(log: list[tuple[float, Pending]], chat_rate: Rate, group_rate: Rate, start: float = 0.0):
    """(item, when it became eligible, when it was sent) for messages all added before `start`, from the log:
    not before its not_before, its chat's previous send (it was not first before) and its chat's rates."""
    earlier: dict[int, list[float]] = defaultdict(list)
    for at, item in log:
        times = earlier[item.chat_id]
        eligible = max(start, item.not_before, times[-1] if times else NEVER, Model.allowed(times, chat_rate))
        if item.is_group:
            eligible = max(eligible, Model.allowed(times, group_rate))
        yield item, eligible, at
        times.append(at)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(CHAT_IDS, st.one_of(st.none(), st.none(), st.floats(0, 30))), min_size=5, max_size=80),
       RATES, RATES, RATES, MAX_WAITS)
def test_a_message_waits_past_its_eligibility_only_while_the_global_rate_is_used_up(adds, global_rate, chat_rate,
                                                                                  group_rate, max_wait_s):
    """Whatever the order among chats, no message waits while the global rate could take one more send:
    at every instant between its eligibility and its send, `count` sends are within the global window."""
    pending = [Pending(n, chat, chat < 0, NEVER if not_before is None else not_before)
               for n, (chat, not_before) in enumerate(adds)]
    log = drain(schedule_of(*pending, global_rate=global_rate, chat_rate=chat_rate, group_rate=group_rate,
                            max_wait_s=max_wait_s))
    sends, window = sorted(at for at, _ in log), global_rate.window_s
    for item, eligible, sent_at in eligibility(log, chat_rate, group_rate):
        # the sends in the window at t (t - window < send <= t, as the schedule compares: send + window > t)
        # change only at sends and where one leaves the window: enough to look there
        instants = {eligible} | {t for at in sends for t in (at, at + window) if eligible <= t < sent_at}
        for t in sorted(instants):
            if t < sent_at:
                in_window = sum(at <= t < at + window for at in sends)
                assert in_window >= global_rate.count, f"{item} eligible at {eligible}, sent at {sent_at}: " \
                                                      f"{in_window} sends in the window at {t}"


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 8), st.floats(0, 20), st.integers(0, 6), st.integers(1, 12), st.data())
def test_under_overload_a_short_queue_waits_at_most_max_wait_and_a_window_per_chat(
        global_count, max_wait_s, extra_long, shorts, data):
    """Enough long queues to use the whole global rate, kept long (each send to one is followed by another
    message for it), and chats with one message arriving in between: each of those goes within
    max_wait_s + ceil(chats / global count) windows of being added (chat rate 1/1 s)."""
    global_rate = Rate(global_count, 1)
    long_chats = list(range(1, global_count + extra_long + 1))
    schedule = SendSchedule(global_rate, Rate(1, 1), Rate(10**6, 1), max_wait_s=max_wait_s)
    for chat in long_chats:
        for n in range(5):
            schedule.add(Pending(f"{chat}:{n}", chat))
    arrivals = sorted(data.draw(st.lists(st.integers(0, 200), min_size=shorts, max_size=shorts)))
    added_at, waits, now, sends = {}, [], 0.0, 0
    while sends < 400 or (len(waits) < shorts and sends < 2000):  # (without max_wait_s they wait for ever)
        while arrivals and arrivals[0] <= sends:
            arrivals.pop(0)
            short = Pending(f"short {len(added_at)}", -1000 - len(added_at))  # a chat of its own
            schedule.add(short)
            added_at[short.item_id] = max(now, 0.0)  # the latest instant the schedule was told
        due = schedule.next_send(now)
        now = due.at
        schedule.sent(due.item.item_id, now)
        sends += 1
        if due.item.item_id in added_at:
            waits.append(now - added_at[due.item.item_id])
        else:
            schedule.add(Pending(f"{due.item.chat_id} after send {sends}", due.item.chat_id))
    assert len(waits) == shorts
    chats = len(long_chats) + shorts
    bound = max_wait_s + math.ceil(chats / global_count) * global_rate.window_s
    assert max(waits) <= bound + 1e-9, (waits, bound)


def bench_rows(rng: random.Random, chats: int, groups: int, rows: int, group_rows: int) -> list[Pending]:
    """bench/bot.py's outbound rows: `group_rows` per group, the rest over the private chats (each at least
    one, the rest at random), interleaved at random."""
    users = list(range(1, chats + 1))
    counts = Counter(users)
    for _ in range(max(0, rows - group_rows * groups - chats)):
        counts[rng.choice(users)] += 1
    counts.update({-group: group_rows for group in range(1, groups + 1)})
    sequence = [chat for chat, n in counts.items() for _ in range(n)]
    rng.shuffle(sequence)
    return [Pending(n, chat, chat < 0) for n, chat in enumerate(sequence)]


def throughput(log: list[tuple[float, Pending]]) -> float:
    """As bench/bot.py measures it: (sends - 1) / (last send - first send)."""
    return (len(log) - 1) / (log[-1][0] - log[0][0])


def test_the_bench_workload_goes_at_the_global_rate():
    """bench/bot.py's default: 480 rows, 100 private chats, 4 groups with 15 each, 25/s. First come first
    served (every chat overdue at once: max_wait_s=0) took 25 s, 19.2/s; longest first 19 s."""
    for seed in range(1, 6):
        pending = bench_rows(random.Random(seed), 100, 4, 480, 15)
        log = drain(schedule_of(*pending))
        assert log[-1][0] == 19.0 and throughput(log) >= 0.95 * 25
        assert_rates_kept(log, Rate(25, 1), Rate(1, 1), Rate(20, 60))
        assert throughput(drain(schedule_of(*pending, max_wait_s=0.0))) < 0.8 * 25


@settings(max_examples=60, deadline=None)
@given(st.integers(5, 30), st.integers(20, 150), st.integers(0, 6), st.integers(1, 20), st.integers(0, 600),
       st.integers(0, 2**32))
def test_the_bench_shape_of_workload_reaches_the_global_rate(rate, chats, groups, group_rows, more, seed):
    """Rows for many chats at once, a few of them (the groups) with many: whenever no chat has more rows
    than the global rate sends in all (so the rates allow it), >= 95 % of the global rate, as measured by
    the bench. (Group rows stay within the group rate: at most 20.)"""
    rows = chats + groups * group_rows + more
    pending = bench_rows(random.Random(seed), chats, groups, rows, group_rows)
    assume(rows > 2 * rate and max(Counter(item.chat_id for item in pending).values()) <= rows / rate)
    log = drain(schedule_of(*pending, global_rate=Rate(rate, 1)))
    assert throughput(log) >= 0.95 * rate
