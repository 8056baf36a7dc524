"""The Python client of Colloque: the client side of sign-up, login and key handling.

``ColloqueClient(base_url)`` signs up, logs in, changes and recovers passwords without the
password ever leaving the process, and holds the user's unlocked keys. It checks every public key
against the pinned key directory (:class:`KeyDirectory`) and handles practice key groups
(:class:`PracticeKeys`). The password policy
(:func:`check_password`, :class:`WeakPassword`) applies before any request.
"""

from colloque.client.client import ColloqueClient, NotPinned
from colloque.client.directory import (
    KeyDirectory,
    KeysChanged,
    SubjectKeys,
    UnsignedClinicalGroup,
    UnsignedPractice,
)
from colloque.client.http import ApiError
from colloque.client.monitor import Alert
from colloque.client.passwords import WeakPassword, check_password
from colloque.client.practice_keys import Member, PracticeKeys
from colloque.client.session import NotLoggedIn

__all__ = [
    "Alert",
    "ApiError",
    "ColloqueClient",
    "KeyDirectory",
    "KeysChanged",
    "Member",
    "NotLoggedIn",
    "NotPinned",
    "PracticeKeys",
    "SubjectKeys",
    "UnsignedClinicalGroup",
    "UnsignedPractice",
    "WeakPassword",
    "check_password",
]
