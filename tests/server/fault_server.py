"""A throwaway deploytop server for the kill-and-restart tests (run in a subprocess).

``python -m tests.server.fault_server PORT COUNT``: a fresh store (new instance, forgets
everything) with fixed team, user and site ids, serving on 127.0.0.1:PORT; it triggers COUNT
quick deployments, one every 20 ms, then stays up idle. Prints READY when listening.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from backend_client.clock import SystemClock
from backend_client.memory import InMemoryStore
from backend_client.models import Role
from backend_server import create_app

from .conftest import registry

TEAM_ID = "01J00000000000000000000TEA"
USER_ID = "01J00000000000000000000USR"
SITE_ID = "01J00000000000000000000S1T"
TOKEN = "fault-token"


async def main(port: int, count: int) -> None:
    store = InMemoryStore(clock=SystemClock(), seed=port, registry=registry(), speed=300, workers=4)
    store.add_team("Faulty", team_id=TEAM_ID)
    store.add_user("Fay", "fay@example.com", user_id=USER_ID)
    store.add_member(TEAM_ID, USER_ID, Role.OPERATOR)
    sites = [SITE_ID] + [store.add_site(TEAM_ID, f"site{n}.example.com").id for n in range(3)]
    store.add_site(TEAM_ID, "main.example.com", site_id=SITE_ID)
    await store.start()
    app = create_app(store, {TOKEN: USER_ID}, heartbeat_interval=0.2)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", ws="wsproto", log_level="error"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    print("READY", flush=True)
    backend = store.backend_for(USER_ID)
    for n in range(count):
        await backend.trigger_deployment(TEAM_ID, "quick", sites[n % len(sites)], {"n": n})
        await asyncio.sleep(0.02)
    await serving


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
