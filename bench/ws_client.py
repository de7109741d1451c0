"""The load test's protocol client: a session that speaks Streamlit's websocket protocol as a browser tab does,
without drawing anything, so the figures it gives are the server's own answer to a click.

A tab opens ``/_stcore/stream`` with its owner cookie (``mtl_owner``, as a browser that visited before sends it),
asks for the Train page by name as the browser does for the ``/train`` address, and reads what the server sends:
protobuf ``ForwardMsg``s (deltas, the page's hash, ``auto_rerun`` timers of ``st.fragment(run_every=...)``), some
of them references (``ref_hash``) to elements it declared it already holds. It answers with ``BackMsg``s: a rerun
with its widgets' values, a button's trigger and, for a click inside a fragment, that fragment's id; and, while the
page has live fragments, their reruns at their intervals (each is the tab's heartbeat and its progress drawn).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.NumberInput_pb2 import NumberInput
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

from bench.load import ANSWER, EPOCHS_SHOWN, OPEN_MS

if TYPE_CHECKING:
    from bench.load import Session

PAGE = "train"  # the Train page's address (/train): the name the browser asks for on a first load
# a whole script run (not a fragment's) has ended; an early end for a rerun is followed by the rerun's own
FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
MAX_MESSAGE = 64 * 2**20  # a page's charts can outgrow websockets' default limit of 1 MiB


class Tab:
    """One visitor's connection: what its page holds (widgets by label, their fragments, live fragment timers, the
    elements it may be sent references to) and every text a status could be read from."""

    def __init__(self, url: str, owner: str) -> None:
        self.url, self.owner = url.replace("http://", "ws://", 1) + "/_stcore/stream", owner
        self.socket: ClientConnection | None = None
        self.page_hash = ""  # the page the server runs for this tab, once it has said which
        self.query = ""  # the address bar's query string (the page writes its settings there)
        self.widgets: dict[str, tuple[str, str, Any]] = {}  # label -> (widget id, fragment id, element)
        self.values: dict[str, WidgetState] = {}  # label -> the value this tab has set (sent with every rerun)
        self.timers: dict[str, tuple[float, float]] = {}  # fragment id -> (seconds between its reruns, next one due)
        self.cached: dict[str, ForwardMsg] = {}  # hash -> a cacheable element the server may send by reference
        self.texts: list[str] = []  # progress texts and markdown, in the order they came

    async def open(self) -> None:
        # Streamlit's client names the "streamlit" subprotocol; no Origin header: a client that is not a browser
        # sends none, and the server lets it in
        self.socket = await connect(self.url, subprotocols=["streamlit"],  # type: ignore[list-item]
                                    additional_headers={"Cookie": f"mtl_owner={self.owner}"}, proxy=None,
                                    max_size=MAX_MESSAGE, ping_interval=None, open_timeout=OPEN_MS / 1000)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def rerun(self, fragment_id: str = "", trigger: str | None = None, auto: bool = False) -> None:
        """Ask for a run of the page (or of fragment ``fragment_id``) with the values this tab holds, pressing the
        button labelled ``trigger`` if given; the first run names the page as the address does."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        if self.page_hash:
            state.page_script_hash = self.page_hash
        else:
            state.page_name = PAGE
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.cached_message_hashes.extend(self.cached)
        for label, value in self.values.items():
            if label in self.widgets:  # the id as the page drew it last: it follows the widget's parameters
                widget = state.widget_states.widgets.add()
                widget.CopyFrom(value)
                widget.id = self.widgets[label][0]
        if trigger is not None:
            state.widget_states.widgets.add(id=self.widgets[trigger][0], trigger_value=True)
        assert self.socket is not None
        await self.socket.send(message.SerializeToString())

    def set_number(self, label: str, value: float) -> None:
        """Type ``value`` into the number input labelled ``label`` (sent with the next rerun)."""
        element = self.widgets[label][2]
        state = WidgetState()
        if element.data_type == NumberInput.INT:
            state.int_value = int(value)
        else:
            state.double_value = float(value)
        self.values[label] = state

    async def receive(self, timeout: float | None = None) -> ForwardMsg | None:
        """The next message, its reference resolved and what it says kept; None when ``timeout`` passed first."""
        assert self.socket is not None
        try:
            data = await asyncio.wait_for(self.socket.recv(), timeout)
        except TimeoutError:
            return None
        message = ForwardMsg()
        message.ParseFromString(data if isinstance(data, bytes) else data.encode())
        if message.WhichOneof("type") == "ref_hash":  # an element this tab said it holds: taken from its cache
            kept = self.cached[message.ref_hash]
            resolved = ForwardMsg()
            resolved.CopyFrom(kept)
            resolved.metadata.CopyFrom(message.metadata)
            message = resolved
        elif message.metadata.cacheable:
            self.cached[message.hash] = message
        self._note(message)
        return message

    def _note(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            if message.new_session.page_script_hash:
                self.page_hash = message.new_session.page_script_hash
            if not message.metadata.run.fragment_ids:  # a run of the whole page: its fragments start anew
                self.timers.clear()
        elif kind == "navigation" and message.navigation.page_script_hash:
            self.page_hash = message.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            # the browser's timer starts when the fragment is drawn: its first rerun is one interval later
            interval = message.auto_rerun.interval
            self.timers[message.auto_rerun.fragment_id] = (interval, time.monotonic() + interval)
        elif kind == "stop_auto_rerun":
            for fragment in message.stop_auto_rerun.fragment_ids:
                self.timers.pop(fragment, None)
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            body = getattr(element, element.WhichOneof("type") or "", None)
            if body is None:
                return
            if element.WhichOneof("type") == "progress":
                self.texts.append(body.text)
            elif element.WhichOneof("type") == "markdown":
                self.texts.append(body.body)
            elif "id" in body.DESCRIPTOR.fields_by_name and "label" in body.DESCRIPTOR.fields_by_name and body.id:
                self.widgets[body.label] = (body.id, message.delta.fragment_id, body)

    async def finish(self, timeout: float) -> None:
        """Read until the run asked for has ended (a run cut short for a rerun goes on in that rerun)."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                raise TimeoutError(f"no end of the script run within {timeout:.0f} s")
            if message.WhichOneof("type") == "script_finished" and message.script_finished in FINISHED:
                return

    async def answer(self, timeout: float) -> float:
        """Seconds until a progress element whose text is a run's status or its queue place arrives."""
        started = time.monotonic()
        while True:
            message = await self.receive(max(0.0, started + timeout - time.monotonic()))
            if message is None:
                raise TimeoutError(f"no answer within {timeout:.0f} s")
            if (message.WhichOneof("type") == "delta" and message.delta.new_element.WhichOneof("type") == "progress"
                    and ANSWER.search(message.delta.new_element.progress.text)):
                return time.monotonic() - started

    async def follow(self, wanted: str, timeout: float) -> None:
        """Keep the page's live fragments polling at their intervals, as the browser does, until a text containing
        ``wanted`` arrives."""
        deadline = time.monotonic() + timeout
        while not any(wanted in text for text in self.texts):
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(f"{wanted!r} not shown within {timeout:.0f} s")
            for fragment, (interval, due) in list(self.timers.items()):
                if due <= now:
                    self.timers[fragment] = (interval, now + interval)
                    await self.rerun(fragment, auto=True)
            await self.receive(max(0.0, min([due for _, due in self.timers.values()] + [deadline]) - now))


async def visit(url: str, session: Session, go: asyncio.Event, ready: asyncio.Queue[int],
                opening: asyncio.Semaphore, finish_s: float) -> None:
    """One visitor over the protocol: open Train, set its epochs, press Start with everyone else, time the answer,
    then leave (its socket closed) or stay, polling, until its run has completed."""
    session.owner = secrets.token_urlsafe(18)  # its cookie, as a browser that visited before sends it
    tab = Tab(url, session.owner)
    try:
        async with opening:  # pages are opened a few at a time: the measure starts at the common click
            await tab.open()
            await tab.rerun()
            await tab.finish(OPEN_MS / 1000)
            tab.set_number("Epochs", session.epochs)
            await tab.rerun()
            await tab.finish(OPEN_MS / 1000)
        await ready.put(session.index)
        await go.wait()
        await tab.rerun(tab.widgets["Start"][1], trigger="Start")  # the click: a rerun of the fragment holding it
        session.answer_s = session.harness_s = await tab.answer(60.0)
        if session.abandons:
            return
        await tab.follow(f"completed: epoch {session.epochs} of {session.epochs}", finish_s)
        session.completed = True
        shown = {int(value) for text in tab.texts for value in EPOCHS_SHOWN.findall(text)}
        session.leaks = sorted(shown - {session.epochs})
    except Exception as error:  # a session that failed is counted, and the others go on
        session.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    finally:
        await tab.close()  # an abandoning visitor closes its tab here
