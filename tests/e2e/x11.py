"""The window as the X server sees it, for the whole-app tests: close it the way a window
manager's close button does (WM_DELETE_WINDOW), or say whether it is on screen.

    x11.py close "Pitchbar Admin"   sends the close request; exit 1 if no such window
    x11.py state "Pitchbar Admin"   prints viewable, unmapped or missing
"""

import sys

from Xlib import X, display, protocol


def find(d, title):
    """The top-level windows named `title` that speak WM_DELETE_WINDOW."""
    protocols = d.intern_atom("WM_PROTOCOLS")
    net_name = d.intern_atom("_NET_WM_NAME")
    utf8 = d.intern_atom("UTF8_STRING")
    found = []
    for w in d.screen().root.query_tree().children:
        try:
            prop = w.get_full_property(net_name, utf8)
            name = prop.value.decode() if prop else w.get_wm_name()
            if name == title and w.get_full_property(protocols, X.AnyPropertyType):
                found.append(w)
        except Exception:  # a window gone meanwhile
            continue
    return found


def main():
    command, title = sys.argv[1], sys.argv[2]
    d = display.Display()
    windows = find(d, title)
    if command == "state":
        if not windows:
            print("missing")
        else:
            states = [w.get_attributes().map_state for w in windows]
            print("viewable" if X.IsViewable in states else "unmapped")
        return 0
    if command == "close":
        if not windows:
            print(f"no window named {title!r}", file=sys.stderr)
            return 1
        delete = d.intern_atom("WM_DELETE_WINDOW")
        protocols = d.intern_atom("WM_PROTOCOLS")
        for w in windows:
            event = protocol.event.ClientMessage(
                window=w,
                client_type=protocols,
                data=(32, [delete, X.CurrentTime, 0, 0, 0]),
            )
            w.send_event(event, event_mask=X.NoEventMask)
        d.sync()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
