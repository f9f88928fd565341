"""``deploytop serve``: the deployment server over HTTP and WebSocket.

The wire protocol lives in :mod:`backend_client.wire` (shared with the client); this
package serves an :class:`~backend_client.memory.InMemoryStore` through it.
"""

from .app import create_app
from .auth import TokenFileError, TokenTable, load_tokens_file

__all__ = ["TokenFileError", "TokenTable", "create_app", "load_tokens_file"]
