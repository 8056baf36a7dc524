"""The agenda settings' versions are the project's one scheme: ``colloque.versions``."""

from __future__ import annotations

from colloque.versions import check_version as check_version
from colloque.versions import version_of as version_of
