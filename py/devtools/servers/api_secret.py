"""The demo API's client secret at the local provider: random, made once per process tree.

The provider registers the API's client with it (launcher.mjs: apiClients) and the API
introspects tokens with it (api.py). Both read it from the environment, which every child
process inherits (devtools.paths.child_env), so it never appears on a command line.
"""

from __future__ import annotations

import os
import secrets

from devtools.servers.api import API_CLIENT_SECRET_ENV


def share_api_client_secret() -> str:
    """The secret, made now if this process has none yet."""
    return os.environ.setdefault(API_CLIENT_SECRET_ENV, secrets.token_urlsafe(32))
