"""The Python client of Colloque: the client side of sign-up, login and key handling.

``ColloqueClient(base_url)`` signs up, logs in, changes and recovers passwords without the
password ever leaving the process, and holds the user's unlocked keys. The password policy
(:func:`check_password`, :class:`WeakPassword`) applies before any request.
"""

from colloque.client.client import ApiError, ColloqueClient, NotLoggedIn
from colloque.client.passwords import WeakPassword, check_password

__all__ = ["ApiError", "ColloqueClient", "NotLoggedIn", "WeakPassword", "check_password"]
