"""Dash pages: every module here has ``register(ctx: AppContext) -> None``.

``dashboard/app.py`` imports each module of this package and calls ``register``;
a page module calls ``dash.register_page`` with its path and layout and defines its
callbacks on ``ctx.dash``. Adding a page = adding a module; ``app.py`` stays unchanged.
"""
