"""A minimal client of Streamlit's own websocket protocol (what the browser speaks), for load benchmarks and tests
that need many sessions without many browsers.

    with Session("http://127.0.0.1:8501") as s:
        run = s.open("ctc", "lang=en")        # one script run: seconds, bytes, exceptions, elements seen

A session is one websocket (`/_stcore/stream`, subprotocol "streamlit"); `open` sends a `rerun_script` BackMsg for a
page and reads ForwardMsgs until `script_finished`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class RunResult:
    page: str
    seconds: float
    bytes: int
    status: str                       # FINISHED_SUCCESSFULLY, … or "timeout"
    exceptions: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)     # markdown / text / caption bodies, in order
    first_s: float = float("nan")     # request → the first element on the page (until then the reader sees nothing)
    silent_s: float = 0.0             # the longest stretch of the run with nothing new on the page


class Session:
    def __init__(self, base_url: str, timeout_s: float = 120.0):
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + "/_stcore/stream"
        self.timeout_s = timeout_s
        self.ws = None
        self.session_id: str | None = None
        self.cookie: str | None = None        # e.g. a load balancer's sticky cookie, sent on connect

    def __enter__(self) -> "Session":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def connect(self) -> None:
        import websocket

        headers = [f"Cookie: {self.cookie}"] if self.cookie else []
        self.ws = websocket.create_connection(self.url, subprotocols=["streamlit"], timeout=self.timeout_s,
                                              header=headers)

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def open(self, page: str, query: str = "", widget_states=None) -> RunResult:
        """Run `page` (its url path, "" for Home) once and wait for the end of the run."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_name = page
        if widget_states is not None:
            msg.rerun_script.widget_states.CopyFrom(widget_states)
        t0 = time.perf_counter()
        self.ws.send_binary(msg.SerializeToString())
        result = RunResult(page, 0.0, 0, "timeout")
        deadline = t0 + self.timeout_s
        last = t0
        while time.perf_counter() < deadline:
            data = self.ws.recv()
            if isinstance(data, str):
                continue
            now = time.perf_counter()
            result.silent_s = max(result.silent_s, now - last)
            last = now
            result.bytes += len(data)
            fwd = ForwardMsg()
            fwd.ParseFromString(data)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                if result.first_s != result.first_s:
                    result.first_s = now - t0
                el = fwd.delta.new_element
                which = el.WhichOneof("type")
                if which == "exception":
                    result.exceptions.append(f"{el.exception.type}: {el.exception.message}")
                elif which == "markdown":
                    result.texts.append(el.markdown.body)
                elif which == "text":
                    result.texts.append(el.text.body)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue
                result.status = status
                break
        result.seconds = time.perf_counter() - t0
        return result
