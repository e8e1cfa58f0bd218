"""Plain handler functions between the HTTP routes and the store: no Flask, testable without a socket.

Each takes the :class:`~chromatile.handlers.services.Services` of an app and what the route parsed
from the request, does every check (the one access decision, ids, paths), and returns plain data
(dicts, :class:`~chromatile.handlers.files.FileAnswer`) or raises a :mod:`chromatile.errors` type that
the HTTP layer maps to a status.
"""
