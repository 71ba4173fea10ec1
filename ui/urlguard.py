"""A guard for links with hostile values (issue #25), installed once when `ui` is imported.

Streamlit 1.67 seeds a bound `st.number_input(..., step=1)` from the URL with `int(float(value))`: `?k=inf` or
`?k=1e309` raises OverflowError inside the widget call, which Streamlit does not catch (it catches ValueError and
TypeError, and then ignores the value), so a hand-edited link broke the page with an exception box. The guard turns
that OverflowError into the ValueError Streamlit expects, so such a value is ignored like any other invalid one.
It changes no behaviour for values that come from the browser's widgets (always finite) and nothing per request.
"""
from __future__ import annotations

from streamlit.elements.widgets import number_input as _number_input

_serde = _number_input.NumberInputSerde
if not getattr(_serde.deserialize, "_kicks_guarded", False):
    _original = _serde.deserialize

    def _deserialize(self, ui_value):
        try:
            return _original(self, ui_value)
        except OverflowError as err:            # int(inf): not a number this widget can hold
            raise ValueError(f"not a finite number: {ui_value!r}") from err

    _deserialize._kicks_guarded = True
    _serde.deserialize = _deserialize
