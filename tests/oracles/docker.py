"""A headless Streamlit browser session for the deploy tests and benchmark: it speaks the frontend's protocol.

What the browser does, step by step (streamlit/proto: BackMsg from the browser, ForwardMsg from the server):
1. GET /_stcore/health: the proxy sets its affinity cookie, Streamlit its XSRF cookie.
2. websocket /_stcore/stream with subprotocols ["streamlit", <xsrf token>]; BackMsg.rerun_script(ClientState)
   starts the script; ForwardMsgs arrive: new_session (the session id), deltas (elements), script_finished.
3. An upload: BackMsg.file_urls_request → ForwardMsg.file_urls_response (upload URL), then an HTTP PUT of the
   file to /_stcore/upload_file/<session>/<file> — which must reach the replica holding the session —, then
   BackMsg.rerun_script with the uploader's widget state naming the file.
"""
from __future__ import annotations

import time
import uuid

import requests
import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

AFFINITY_COOKIE = "KICKS_REPLICA"
XSRF_COOKIE = "_streamlit_xsrf"


class SessionError(RuntimeError):
    """The server (or the proxy) refused or dropped the session."""


class StreamlitSession:
    """One reader: one HTTP cookie jar, one websocket, one Streamlit session."""

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        self.ws: websocket.WebSocket | None = None
        self.session_id = ""
        self.uploader_id = ""
        self.markdown: list[str] = []

    @property
    def replica(self) -> str | None:
        """The replica the proxy pinned this reader to (its cookie), None without a proxy."""
        return self.http.cookies.get(AFFINITY_COOKIE)

    def _cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    def connect(self) -> "StreamlitSession":
        r = self.http.get(f"{self.base}/_stcore/health", timeout=self.timeout)
        r.raise_for_status()
        xsrf = self.http.cookies.get(XSRF_COOKIE, "")
        ws_url = "ws" + self.base[len("http"):] + "/_stcore/stream"
        try:
            self.ws = websocket.create_connection(ws_url, timeout=self.timeout, cookie=self._cookie_header(),
                                                  subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],
                                                  origin=self.base)
        except (OSError, websocket.WebSocketException) as e:
            raise SessionError(f"websocket: {e}") from e
        self._rerun([])
        return self

    def _send(self, msg: BackMsg) -> None:
        try:
            self.ws.send_binary(msg.SerializeToString())
        except (OSError, websocket.WebSocketException) as e:
            raise SessionError(f"send: {e}") from e

    def _recv(self) -> ForwardMsg:
        try:
            data = self.ws.recv()
        except (OSError, websocket.WebSocketException) as e:
            raise SessionError(f"receive: {e}") from e
        if not isinstance(data, bytes) or not data:
            raise SessionError("websocket closed")
        msg = ForwardMsg()
        msg.ParseFromString(data)
        return msg

    def _rerun(self, widget_states: list) -> list[str]:
        """Run the script with these widget states; the markdown bodies it drew."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        for state in widget_states:
            msg.rerun_script.widget_states.widgets.append(state)
        self._send(msg)
        self.markdown = []
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            fm = self._recv()
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                el = fm.delta.new_element
                which = el.WhichOneof("type")
                if which == "markdown":
                    self.markdown.append(el.markdown.body)
                elif which == "file_uploader":
                    self.uploader_id = el.file_uploader.id
                elif which == "exception":
                    raise SessionError(f"script raised: {el.exception.message}")
            elif kind == "script_finished":
                return self.markdown
        raise SessionError("script did not finish in time")

    def upload(self, name: str, data: bytes) -> list[str]:
        """Upload one file to the page's file_uploader and rerun; the markdown the script then drew."""
        req = BackMsg()
        req.file_urls_request.request_id = uuid.uuid4().hex
        req.file_urls_request.file_names.append(name)
        req.file_urls_request.session_id = self.session_id
        self._send(req)
        deadline = time.monotonic() + self.timeout
        while True:
            fm = self._recv()
            if fm.WhichOneof("type") == "file_urls_response":
                break
            if time.monotonic() > deadline:
                raise SessionError("no file URLs")
        if fm.file_urls_response.error_msg:
            raise SessionError(fm.file_urls_response.error_msg)
        urls = fm.file_urls_response.file_urls[0]
        upload_url = urls.upload_url if urls.upload_url.startswith("http") else self.base + urls.upload_url
        r = self.http.put(upload_url, files={"UploadedFile": (name, data, "image/png")},
                          headers={"X-Xsrftoken": self.http.cookies.get(XSRF_COOKIE, "")}, timeout=self.timeout)
        if r.status_code != 204 and r.status_code != 200:
            raise SessionError(f"upload answered {r.status_code}: {r.text[:200]}")
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState(id=self.uploader_id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        return self._rerun([state])

    def close(self) -> None:
        if self.ws is not None:
            try:
                self.ws.close()
            except (OSError, websocket.WebSocketException):
                pass
        self.http.close()


def png(seed: int, size: int = 24) -> tuple[bytes, str]:
    """A small PNG that differs per seed, and the answer the probe page must show for it: the first 16 hex
    digits of sha256 over its (H, W, 3) pixels."""
    import hashlib
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size, size + seed % 7, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue(), hashlib.sha256(pixels.tobytes()).hexdigest()[:16]


def answer_of(markdown: list[str]) -> tuple[str, int] | None:
    """(digest, pid) from the probe page's "answer <digest> <W>x<H> pid <pid>" line."""
    for body in markdown:
        if body.startswith("answer "):
            words = body.split()
            return words[1], int(words[-1])
    return None


