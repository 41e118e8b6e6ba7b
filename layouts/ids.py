"""Every Dash component id in one place."""

STATUS_BODY = "status-body"
STATUS_TICK = "status-tick"
LANG_STORE = "lang-store"
LANG_BUTTON = "lang-button"
