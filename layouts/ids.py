"""Every Dash component id in one place."""

# app shell
LANG_STORE = "lang-store"
LANG_BUTTON = "lang-button"
NAV = "nav"

# /status
STATUS_BODY = "status-body"
STATUS_TICK = "status-tick"
STATUS_TITLE = "status-title"

# / (the wall)
WALL_ROOT = "wall-root"
WALL_MAP = "wall-map"
WALL_CONFIG = "wall-config"
WALL_STALE = "wall-stale"
WALL_CLOCK = "wall-clock"
WALL_TICKER = "wall-ticker"
WALL_TOGGLES = "wall-toggles"
WALL_DETAIL = "wall-detail"
WALL_TITLE = "wall-title"
WALL_LEGEND = "wall-legend"

# /dispatch
DISPATCH_TITLE = "dispatch-title"
DISPATCH_TICK = "dispatch-tick"
DISPATCH_USER = "dispatch-user"
DISPATCH_LOGOUT = "dispatch-logout"
DISPATCH_BODY = "dispatch-body"
DISPATCH_AUTH = "dispatch-auth"  # store: bumped on login/logout
DISPATCH_LOGIN_USER = "dispatch-login-user"
DISPATCH_LOGIN_PASSWORD = "dispatch-login-password"
DISPATCH_LOGIN_BUTTON = "dispatch-login-button"
DISPATCH_LOGIN_ERROR = "dispatch-login-error"
DISPATCH_FORM_TYPE = "dispatch-form-type"
DISPATCH_FORM_LEVEL = "dispatch-form-level"
DISPATCH_FORM_PRIORITY = "dispatch-form-priority"
DISPATCH_FORM_LON = "dispatch-form-lon"
DISPATCH_FORM_LAT = "dispatch-form-lat"
DISPATCH_FORM_CALLER = "dispatch-form-caller"
DISPATCH_FORM_PHONE = "dispatch-form-phone"
DISPATCH_FORM_DESCRIPTION = "dispatch-form-description"
DISPATCH_FORM_SUBMIT = "dispatch-form-submit"
DISPATCH_MESSAGE = "dispatch-message"
DISPATCH_QUEUE = "dispatch-queue"
DISPATCH_QUEUE_ROW = "dispatch-queue-row"  # pattern-matching type
DISPATCH_SELECTED = "dispatch-selected"  # store: selected incident id
DISPATCH_REFRESH = "dispatch-refresh"  # store: bumped after every action
DISPATCH_MAP = "dispatch-map"
DISPATCH_DETAIL = "dispatch-detail"
DISPATCH_RECS = "dispatch-recs"
DISPATCH_ASSIGN = "dispatch-assign"  # pattern-matching type
DISPATCH_UNIT_ACTION = "dispatch-unit-action"  # pattern-matching type
DISPATCH_INCIDENT_ACTION = "dispatch-incident-action"  # pattern-matching type
DISPATCH_UNITS = "dispatch-units"
DISPATCH_TIMELINE = "dispatch-timeline"

# /alerts (operator alert queue)
ALERTS_TITLE = "alerts-title"
ALERTS_USER = "alerts-user"
ALERTS_TICK = "alerts-tick"
ALERTS_AUTH = "alerts-auth"
ALERTS_BUMP = "alerts-bump"
ALERTS_SELECTED = "alerts-selected"
ALERTS_SOUND = "alerts-sound"
ALERTS_SOUND_TOGGLE = "alerts-sound-toggle"
ALERTS_CUE = "alerts-cue"
ALERTS_FILTER = "alerts-filter"
ALERTS_SUMMARY = "alerts-summary"
ALERTS_QUEUE = "alerts-queue"
ALERTS_ROW = "alerts-row"  # pattern-matching id type {"type": ALERTS_ROW, "index": alert id}
ALERTS_DETAIL = "alerts-detail"
ALERTS_ACTIONS = "alerts-actions"
ALERTS_ACK = "alerts-ack"
ALERTS_ASSIGN_INPUT = "alerts-assign-input"
ALERTS_ASSIGN = "alerts-assign"
ALERTS_COMMENT_INPUT = "alerts-comment-input"
ALERTS_COMMENT = "alerts-comment"
ALERTS_CLEAR = "alerts-clear"
ALERTS_INCIDENT = "alerts-incident"
ALERTS_MESSAGE = "alerts-message"
ALERTS_LOGIN = "alerts-login"
ALERTS_LOGIN_USER = "alerts-login-user"
ALERTS_LOGIN_PASSWORD = "alerts-login-password"
ALERTS_LOGIN_BUTTON = "alerts-login-button"
ALERTS_LOGIN_ERROR = "alerts-login-error"
ALERTS_MAIN = "alerts-main"
ALERTS_TIMELINE = "alerts-timeline"
ALERTS_REFRESHED = "alerts-refreshed"  # data-age line; data-tick read by alerts.js
ALERTS_EMPTY = "alerts-empty"
