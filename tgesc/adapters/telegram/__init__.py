"""The Telegram adapter: kurigram (`import pyrogram`, the only tgesc package that does) translated to and from
`tgesc.domain.telegram`. No business rules here.

Threading: a `TelegramConnection` owns an asyncio loop in a background thread; the `Client` is created and started
in it. Handlers (`on_message`, `on_press`) run ON that thread, one update at a time (workers=1: a chat's messages
arrive in order). Outbound methods are called from any OTHER thread and block until Telegram answered (from a
handler they would deadlock, so they raise). Import this module outside a running event loop: pyrogram.sync
remembers the importing thread's loop and would run the library's coroutines there if it were running.

Offline (tests, `tgesc simulate`): pass `session_factory` (builds a `pyrogram.session.Session` subclass for the
client) and nothing touches the network; `feed(updates)` hands raw updates to the library as the server would.

Modules: `connection` (the client and its thread), `storage` (the durable session file), `wire` (a Telegram
server in memory, for `tgesc simulate` and the tests: the real library, no network).
"""

from tgesc.adapters.telegram.connection import MEDIA_KINDS, TelegramConnection
from tgesc.adapters.telegram.storage import DurableStorage

__all__ = ["MEDIA_KINDS", "DurableStorage", "TelegramConnection"]
