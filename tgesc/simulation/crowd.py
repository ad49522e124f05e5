"""A generated crowd for `tgesc simulate --crowd N`: N customers and a week of everyday conversations at the desk,
the same for the same seed, played among the scenario files' stories to make a desk that looks lived in.

Each customer writes once, at a random instant of their daytime within DAYS of the start, in English (70 %),
Chinese or Russian (15 % each), and their conversation takes one of the everyday paths of `PATHS`: a question the
front line answers and resolves within the quarter hour; one it answers with a /wait question the customer answers
later, or never; one it answers but leaves, which the unresolved-for rule sends to L2; a refund, a locked account
or an angry message that goes to L2 at once; an outage, straight to L3; an FAQ answer the customer finds solves it,
or not, or never answers; and a few messages nobody answers, the desk's backlog. The crowd's own staff answer in
the ticket's thread (STAFF: two agents at L1, an agent and a lead at L2, in its office hours, an admin at L3), in
the customer's language. Two days after a staff member resolved a ticket, 60 % of the customers press a star on
the return-visit survey; three or fewer reopen it at L2, where it is answered and resolved again.

Every step is timed so that the shipped policy puts the ticket where the next step expects it: the front line
resolves before the unresolved-for rule's 15 minutes (and L2 answers a ticket that came from L1 only after them),
a customer presses a survey's star only after it can have been sent (24 hours, then their daytime). Steps after
DAYS are left out: the desk is caught in the middle of its work. Each customer is a story of their own
(`Step.story`), so `ticket = 1` is their first ticket whatever number the desk gives it (simulation.together).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tgesc.domain.scenario import Scenario, ScenarioCustomer, ScenarioStaff, Step

DAYS = 7
DEFAULT_START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: the crowd's week without a story to start it
FIRST_ID = 200_001  # the crowd's Telegram ids: FIRST_ID, FIRST_ID + 1, ...
L1_DONE_WITHIN = timedelta(minutes=13)  # the unresolved-for rule sends an L1 ticket to L2 after 15 minutes ...
L2_AFTER = timedelta(minutes=17)  # ... so L2 answers a ticket that came that way only after them
SURVEY_ANSWERED_AFTER = timedelta(hours=40)  # sent 24 h after the resolution, then within 14 h (the daytime)
SURVEYS_ANSWERED = 0.6
STARS = {5: 40, 4: 30, 3: 10, 2: 12, 1: 8}  # a survey's answer: stars and their weights

STAFF = {person.key: person for person in (
    ScenarioStaff("nina", 5101, "Nina", "agent", ("L1",), "en"),
    ScenarioStaff("omar", 5102, "Omar", "agent", ("L1",), "en"),
    ScenarioStaff("priya", 5103, "Priya", "agent", ("L2",), "en"),
    ScenarioStaff("sven", 5104, "Sven", "lead", ("L2",), "en"),
    ScenarioStaff("kofi", 5105, "Kofi", "admin", ("L3",), "en"))}
TIER_STAFF = {"L1": ("nina", "omar"), "L2": ("priya", "sven"), "L3": ("kofi",)}

# language: (weight, the zones of its customers (None: not known to the desk), the zone its daytime is read in,
# names as (display name, username))
LANGUAGES = {
    "en": (70, (None, "Europe/London", "Europe/Berlin", "America/New_York"), "Europe/London", (
        ("Olivia", "olivia"), ("Noah", "noah"), ("Emma", "emma"), ("Lucas", "lucas"), ("Ava", "ava"),
        ("Ethan", "ethan"), ("Mia", "mia"), ("Leo", "leo"), ("Chloe", "chloe"), ("Oscar", "oscar"), ("Isla", "isla"),
        ("Hugo", "hugo"), ("Ruby", "ruby"), ("Finn", "finn"), ("Lily", "lily"), ("Theo", "theo"), ("Zoe", "zoe"),
        ("Owen", "owen"))),
    "zh": (15, (None, "Asia/Shanghai"), "Asia/Shanghai", (
        ("王伟", "wangwei"), ("李娜", "lina"), ("张敏", "zhangmin"), ("刘洋", "liuyang"), ("陈静", "chenjing"),
        ("杨磊", "yanglei"), ("赵婷", "zhaoting"), ("黄涛", "huangtao"))),
    "ru": (15, (None, "Europe/Moscow"), "Europe/Moscow", (
        ("Иван", "ivan"), ("Ольга", "olga"), ("Дмитрий", "dmitry"), ("Анна", "anna"), ("Сергей", "sergey"),
        ("Ирина", "irina"), ("Павел", "pavel"), ("Юлия", "yulia"))),
}
# how likely a customer writes at each hour of their day
HOURLY = (0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.2, 0.5, 0.8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.8, 0.6, 0.4, 0.2)

# what customers write, by purpose and language; none of it trips a rule or reads as angry unless it is meant to
SAYS = {
    "question": {
        "en": ("Where is my order? It was due on Friday.", "How do I change the e-mail on my account?",
               "Can I pay with a bank transfer?", "The app crashes when I open my invoices.",
               "How can I download all my invoices as PDF?", "Do you ship to Norway?"),
        "zh": ("我的订单到哪里了？本来周五应该到。", "怎么修改账户的邮箱？", "可以用银行转账付款吗？",
               "打开发票页面时应用会崩溃。"),
        "ru": ("Где мой заказ? Он должен был прийти в пятницу.", "Как изменить почту в аккаунте?",
               "Можно оплатить банковским переводом?", "Приложение падает, когда я открываю счета.")},
    "refund": {
        "en": ("I was charged twice for my order, please refund the second payment.",
               "The parcel never came and I would like a refund."),
        "zh": ("我的订单被扣了两次，请退款。", "包裹一直没到，我想要退款。"),
        "ru": ("С меня списали дважды за заказ, верните деньги.", "Посылка не пришла, прошу оформить возврат.")},
    "account": {
        "en": ("I am locked out of my account since this morning.",),
        "zh": ("我的账号被封了，无法登录。",),
        "ru": ("Мой аккаунт заблокирован, не могу войти.",)},
    "angry": {
        "en": ("This is the third time my order is late, you idiots!",),
        "zh": ("你们这帮骗子，第三次了！",),
        "ru": ("Вы идиоты, заказ опять опоздал!",)},
    "outage": {
        "en": ("The service is down, I get an error on every page.", "Is there an outage? Nothing loads."),
        "zh": ("服务宕机了，每个页面都报错。",),
        "ru": ("Сервис не работает, сбой у всех.",)},
    "faq": {
        "en": ("How do I reset my 2FA? I got a new phone.",),
        "zh": ("两步验证怎么重置？我换了手机。",),
        "ru": ("Как сбросить двухэтапную проверку? Я сменил телефон.",)},
    "more": {"en": ("Any news?", "Hello? Still waiting for an answer."), "zh": ("有进展吗？",),
             "ru": ("Есть новости?",)},
    "reply": {"en": ("It is order A-10234.", "Here it is: A-20871."), "zh": ("订单号是 A-10234。",),
              "ru": ("Номер заказа A-10234.",)},
    "comment": {"en": ("The answer came far too late.", "It still does not work for me."),
                "zh": ("回复太慢了。",), "ru": ("Ответ пришёл слишком поздно.",)},
    "photo": {"en": ("Here is a screenshot.",), "zh": ("这是截图。",), "ru": ("Вот скриншот.",)},
}
# what the crowd's staff write, in the customer's language
ANSWERS = {
    "L1": {"en": ("Thanks for waiting: it is sorted now. Anything else, just write here.",
                  "Here is how: Settings, then Account, then E-mail. It works now.",
                  "Your parcel left our warehouse today and arrives tomorrow."),
           "zh": ("已经为您处理好了，如有其他问题请随时留言。",),
           "ru": ("Готово, всё исправлено. Если что-то ещё — пишите сюда.",)},
    "ask": {"en": ("/wait Could you send me the order number?",), "zh": ("/wait 请提供一下订单号？",),
            "ru": ("/wait Пришлите, пожалуйста, номер заказа.",)},
    "handover": {"en": ("Let me check that with the second line.",), "zh": ("我帮您转给二线同事核实一下。",),
                 "ru": ("Уточню у второй линии.",)},
    "L2": {"en": ("I have looked into it and sorted it out on our side; it is fine now.",
                  "Thanks for your patience: it is settled on our side, and you will see it within the day."),
           "zh": ("我们已经核实并处理好了，现在可以正常使用。",),
           "ru": ("Мы всё проверили и исправили, теперь всё работает.",)},
    "L3": {"en": ("We found the cause and fixed it; the service is back. Sorry for the trouble.",),
           "zh": ("我们已找到原因并修复，服务已恢复。",),
           "ru": ("Мы нашли причину и всё починили, сервис снова работает.",)},
}


@dataclass
class Conversation:
    """One customer's steps, built in the order of time (each path's function adds them)."""

    customer: ScenarioCustomer
    opened: datetime
    rng: random.Random
    tier: str = "L1"  # where the ticket is, as the path moves it
    steps: list[Step] = field(default_factory=list)
    staff: dict[str, str] = field(default_factory=dict)  # tier -> who of the crowd's staff works the ticket there

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=round(self.rng.uniform(low * 60, high * 60)))

    def says(self, at: datetime, purpose: str, **more: str) -> None:
        self._step(at, customer=self.customer.key, text=self.rng.choice(SAYS[purpose][self.customer.language]), **more)

    def presses(self, at: datetime, button: str) -> None:
        self._step(at, customer=self.customer.key, press=button)

    def answers(self, at: datetime, purpose: str) -> None:
        self._step(at, staff=self._worker(), ticket=1, text=self.rng.choice(ANSWERS[purpose][self.customer.language]))

    def resolves(self, at: datetime) -> datetime:
        self._step(at, staff=self._worker(), ticket=1, text="/resolve")
        return at

    def _worker(self) -> str:
        return self.staff.setdefault(self.tier, self.rng.choice(TIER_STAFF[self.tier]))

    def _step(self, at: datetime, **fields: object) -> None:
        self.steps.append(Step(number=len(self.steps) + 1, at=at, story=f"crowd {self.customer.key}", **fields))


# --- the paths: each plays a conversation from its first message; the resolution by staff, or None ---------


def answered(talk: Conversation) -> datetime | None:
    """A question the front line answers and resolves within the quarter hour (a photo, a nudge on the way)."""
    talk.says(talk.opened, "question")
    if talk.rng.random() < 0.15:
        talk.says(talk.opened + talk.minutes(0.3, 0.8), "photo", attachment="photo")
    answer = talk.opened + talk.minutes(1, 8)
    if talk.rng.random() < 0.3 and answer - talk.opened > timedelta(minutes=3):
        talk.says(talk.opened + talk.minutes(2, 2.8), "more")
    talk.answers(answer, "L1")
    return talk.resolves(min(answer + talk.minutes(1, 4), talk.opened + L1_DONE_WITHIN))


def waits(talk: Conversation) -> datetime | None:
    """The front line asks with /wait; the customer answers hours later; the front line answers and resolves."""
    talk.says(talk.opened, "question")
    talk.answers(talk.opened + talk.minutes(1.5, 5), "ask")
    back = talk.opened + talk.minutes(20, 20 * 60)
    talk.says(back, "reply")
    answer = back + talk.minutes(1, 3)
    talk.answers(answer, "L1")
    return talk.resolves(answer + talk.minutes(1, 2))


def silent(talk: Conversation) -> datetime | None:
    """The front line asks with /wait and the customer never answers: a reminder, then a resolution (no_reply)."""
    talk.says(talk.opened, "question")
    talk.answers(talk.opened + talk.minutes(1.5, 5), "ask")
    return None


def handed_on(talk: Conversation) -> datetime | None:
    """The front line answers but cannot solve it: after 15 minutes the unresolved-for rule sends it to L2."""
    talk.says(talk.opened, "question")
    talk.answers(talk.opened + talk.minutes(2, 8), "handover")
    talk.tier = "L2"
    return _second_line(talk, talk.opened + L2_AFTER)


def to_second_line(purpose: str) -> Callable[[Conversation], datetime | None]:
    """A refund, a locked account or an angry message: the shipped rules send it to L2 at once."""

    def path(talk: Conversation) -> datetime | None:
        talk.says(talk.opened, purpose)
        talk.tier = "L2"
        return _second_line(talk, talk.opened + talk.minutes(1, 2))

    return path


def _second_line(talk: Conversation, ready: datetime) -> datetime:
    """L2 answers in its office hours (the customer asks for news if that is long), then resolves."""
    answer = office_hours(ready) + talk.minutes(5, 50)
    if answer - ready > timedelta(hours=2) and talk.rng.random() < 0.4:
        talk.says(ready + talk.minutes(60, 110), "more")
    talk.answers(answer, "L2")
    return talk.resolves(answer + talk.minutes(10, 90))


def outage(talk: Conversation) -> datetime | None:
    """An outage goes straight to L3, answered at any hour (not always within its 15 minutes)."""
    talk.says(talk.opened, "outage")
    talk.tier = "L3"
    answer = talk.opened + talk.minutes(4, 25)
    talk.answers(answer, "L3")
    return talk.resolves(answer + talk.minutes(20, 90))


def faq(button: str | None) -> Callable[[Conversation], datetime | None]:
    """An FAQ answer with two buttons: "that solved it", "I still need help" (then the front line takes it), or
    no answer at all (resolved after a day, reason faq_silence)."""

    def path(talk: Conversation) -> datetime | None:
        talk.says(talk.opened, "faq")
        if button is None:
            return None
        pressed = talk.opened + talk.minutes(2, 40)
        talk.presses(pressed, button)
        if button == "solved":
            return None
        answer = pressed + talk.minutes(1, 5)
        talk.answers(answer, "L1")
        return talk.resolves(min(answer + talk.minutes(1, 4), pressed + L1_DONE_WITHIN))

    return path


def unanswered(talk: Conversation) -> datetime | None:
    """Nobody answers: warnings, the unresolved-for rule's move to L2, breaches; the backlog of the desk."""
    talk.says(talk.opened, "question")
    if talk.rng.random() < 0.5:
        talk.says(talk.opened + talk.minutes(60, 180), "more")
    return None


PATHS: tuple[tuple[Callable[[Conversation], datetime | None], int], ...] = (
    (answered, 40), (waits, 10), (silent, 4), (handed_on, 8), (to_second_line("refund"), 10),
    (to_second_line("account"), 4), (to_second_line("angry"), 3), (outage, 3), (faq("solved"), 8), (faq("help"), 4),
    (faq(None), 2), (unanswered, 4))


def surveyed(talk: Conversation, resolved: datetime) -> None:
    """The return-visit survey, answered by some: three stars or fewer reopen the ticket at L2 (or where it is, higher),
    where the customer says what went wrong and it is answered and resolved again."""
    if talk.rng.random() >= SURVEYS_ANSWERED:
        return
    pressed = resolved + SURVEY_ANSWERED_AFTER + talk.minutes(0, 180)
    stars = talk.rng.choices(list(STARS), weights=list(STARS.values()))[0]
    talk.presses(pressed, str(stars))
    if stars > 3:
        return
    talk.tier = "L3" if talk.tier == "L3" else "L2"
    if talk.rng.random() < 0.7:
        talk.says(pressed + talk.minutes(3, 30), "comment")
    _second_line(talk, pressed + talk.minutes(31, 40))


def office_hours(at: datetime) -> datetime:
    """`at`, or the next start of L2's office hours (the shipped calendar: weekdays 09:00-18:00 UTC; an answer is
    given before 17:00, with time to resolve)."""
    at = at.astimezone(UTC)
    while at.weekday() >= 5 or not 9 <= at.hour < 17:
        day = at if at.weekday() < 5 and at.hour < 9 else at + timedelta(days=1)
        at = day.replace(hour=9, minute=0, second=0, microsecond=0)
    return at


# --- the crowd -------------------------------------------------------------------------------------------


def crowd(size: int, *, seed: int, start: datetime = DEFAULT_START, days: int = DAYS) -> Scenario:
    """`size` generated customers and the crowd's staff, their conversations between `start` and `days` later."""
    rng = random.Random(seed)
    end = start + timedelta(days=days)
    customers, steps = {}, []
    for index in range(size):
        customer = _customer(rng, index)
        customers[customer.key] = customer
        talk = Conversation(customer, _first_message(rng, customer, start, days), rng)
        path = rng.choices([path for path, _ in PATHS], weights=[weight for _, weight in PATHS])[0]
        resolved = path(talk)
        if resolved is not None:
            surveyed(talk, resolved)
        steps += [step for step in talk.steps if step.at < end]
    return Scenario(name=f"a crowd of {size} (seed {seed})", path=None, start=start, config=None, customers=customers,
                    staff=dict(STAFF), steps=tuple(sorted(steps, key=lambda step: step.at)),
                    description=f"{size} generated customers over {days} days (seed {seed})")


def _customer(rng: random.Random, index: int) -> ScenarioCustomer:
    language = rng.choices(list(LANGUAGES), weights=[entry[0] for entry in LANGUAGES.values()])[0]
    _, zones, _, names = LANGUAGES[language]
    name, handle = rng.choice(names)
    username = f"{handle}_{index + 1:03d}"
    return ScenarioCustomer(key=username, id=FIRST_ID + index, name=name, language=language,
                            timezone=rng.choice(zones), username=username)


def _first_message(rng: random.Random, customer: ScenarioCustomer, start: datetime, days: int) -> datetime:
    """A random instant of the week, more likely in the customer's daytime (HOURLY), whole seconds; room is left
    after it for the front line's quarter hour."""
    zone = ZoneInfo(customer.timezone or LANGUAGES[customer.language][2])
    while True:
        at = start + timedelta(seconds=rng.randrange(days * 86_400 - 3600))
        if rng.random() < HOURLY[at.astimezone(zone).hour]:
            return at
