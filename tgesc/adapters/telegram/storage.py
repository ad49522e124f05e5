"""The bot's session file: kurigram's SQLite storage made durable (peers and handled update states committed
as they change), so a killed bot process loses neither a customer's access hash nor its place in the updates."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from pyrogram.storage import SQLiteStorage, UpdateState

from tgesc.adapters.clock import utc_now
from tgesc.private_files import make_private
from tgesc.settings import SQLITE_SYNCHRONOUS

log = logging.getLogger(__name__)
PEER_REFRESH_S = 60  # a known, unchanged peer's row is rewritten at most this often (DurableStorage.update_peers)


class DurableStorage(SQLiteStorage):
    """The session file (mode 0600), committed after every write: a killed process loses no peer and no update
    state (stock kurigram commits at stop). WAL + synchronous=NORMAL: survives a kill, not a power cut, without an
    fsync per update (`synchronous="off"`: no fsync at all, for a throwaway session). Session fields are written
    by the base class in `with conn:`, which commits. Channel states without pts are neither stored nor
    returned: catch-up would crash on them (kurigram issue 465).

    After `defer_update_state()` the library's own writes of the update state are not saved, only passed to
    `on_update_state`: it writes an update's pts when the update arrives, before any handler ran, and a catch-up's
    final pts before the caught-up updates are handled, so a kill -9 with updates still queued lost them for good
    (the next start asked getDifference from beyond them). The owner saves what was handled with `checkpoint`.
    The common box's first state (updates.getState at the very first start) is still saved at once."""

    def __init__(self, name: str, workdir: str | Path, clock: Callable[[], datetime] = utc_now, *,
                 synchronous: str = "normal") -> None:
        if synchronous not in SQLITE_SYNCHRONOUS:
            raise ValueError(f"synchronous={synchronous!r}; use off, normal or full")
        super().__init__(name, workdir=Path(workdir), use_wal=True)
        self._clock, self._synchronous = clock, synchronous
        self._written_at: dict[int, float] = {}  # peer id -> when this process last wrote its row
        self._deferred = False
        self._common_saved = False  # the common box's state is in the file (known once seen)
        self.on_update_state: Callable[[list[UpdateState]], None] = lambda states: None

    def defer_update_state(self) -> None:
        self._deferred = True

    async def open(self) -> None:
        await super().open()
        self.conn.execute(f"PRAGMA synchronous={self._synchronous}")
        make_private(*(Path(f"{self.database}{suffix}") for suffix in ("", "-wal", "-shm")))

    async def update_peers(self, peers: Iterable[tuple[int, int, str, str | None]]) -> None:
        """Write (and commit) only the peers whose row would change: the library passes every peer of every
        update, nearly always known already. A peer this process wrote within PEER_REFRESH_S (on the injected
        clock) is not rewritten for its `last_update_on` alone (only the library's username lookup reads it,
        against a TTL of hours)."""
        latest = {peer[0]: peer for peer in peers}  # should an id come twice, its last row is the one stored
        now = self._clock().timestamp()
        changed = [peer for peer in latest.values() if self._peer_changes(peer, now)]
        if changed:
            await super().update_peers(changed)
            self.conn.commit()
            self._written_at.update((peer[0], now) for peer in changed)

    def _peer_changes(self, peer: tuple[int, int, str, str | None], now: float) -> bool:
        row = self.conn.execute("SELECT access_hash, type, phone_number FROM peers WHERE id = ?",
                                (peer[0],)).fetchone()
        stale = now - self._written_at.get(peer[0], float("-inf")) >= PEER_REFRESH_S
        return row is None or tuple(row) != tuple(peer[1:]) or stale

    async def update_usernames(self, usernames: Iterable[tuple[int, list[str | None]]]) -> None:
        """Write (and commit) only the peers whose usernames differ from those stored."""
        entries = list(usernames)
        wanted: dict[int, list[str]] = {}  # what the library would store for each id: all its entries' names
        for peer_id, names in entries:
            wanted.setdefault(peer_id, []).extend(name for name in names if name is not None)
        changed = {peer_id for peer_id, names in wanted.items() if sorted(names) != sorted(
            name for (name,) in self.conn.execute("SELECT username FROM usernames WHERE id = ?", (peer_id,)))}
        if changed:
            await super().update_usernames([entry for entry in entries if entry[0] in changed])
            self.conn.commit()

    async def set_update_state(self, update_state: UpdateState | Iterable[UpdateState]) -> None:
        states = [update_state] if isinstance(update_state, UpdateState) else list(update_state)
        states = [s for s in states if s.id == 0 or s.pts is not None]
        if self._deferred and states:
            if not self._common_saved:
                self._common_saved = self.conn.execute("SELECT 1 FROM update_state WHERE id = 0").fetchone() is not None
            now = [] if self._common_saved else [s for s in states if s.id == 0 and s.pts is not None]
            self.on_update_state([s for s in states if s not in now])
            states = now
        await self.checkpoint(states)

    async def checkpoint(self, states: Iterable[UpdateState]) -> None:
        """Save update states (with `defer_update_state`: of updates that have been handled)."""
        states = [s for s in states if s.id == 0 or s.pts is not None]
        if states:
            await super().set_update_state(states)
            self.conn.commit()

    async def get_update_states(self, ids: int | Iterable[int] | None = None) -> list[UpdateState]:
        states = await super().get_update_states(ids)
        if any(s.pts is None for s in states):
            log.warning("ignoring stored update states without pts (kurigram issue 465)")
        return [s for s in states if s.pts is not None]

    async def close(self) -> None:
        if self._conn is not None:  # idempotent: a failed start may close what was never opened
            await super().close()
            self._conn = None

    async def delete_update_state(self, state_id: int | Iterable[int]) -> None:
        await super().delete_update_state(state_id)
        self.conn.commit()



def merged_state(old: UpdateState | None, new: UpdateState) -> UpdateState:
    """Two states of one box: the further pts, and the newer of every other field that is known."""
    if old is None:
        return new
    pts = max((p for p in (old.pts, new.pts) if p is not None), default=None)
    return UpdateState(new.id, pts, new.qts if new.qts is not None else old.qts,
                       new.date if new.date is not None else old.date, new.seq if new.seq is not None else old.seq)

