"""Every Dash component id in one place."""

# app shell
LANG_STORE = "lang-store"
LANG_BUTTON = "lang-button"
NAV = "nav"

# /status
STATUS_BODY = "status-body"
STATUS_TICK = "status-tick"
STATUS_TITLE = "status-title"
