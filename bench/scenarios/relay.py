"""`relay`: the pairs load against the bare relay of bench/relay.py instead of the server:
the floor under the pairs figures on the same machine (see that module). With `writes`
("each" or "batch") the relay also stores every message in the chosen store, as the server
would (bench/relay_store.py): the floor under a durable messenger."""

from __future__ import annotations

from bench.common import ServerProcess, Store, fresh_store, split_cpus
from bench.relay import pair_token
from bench.scenarios import Outcome, ScenarioContext
from bench.scenarios.pairs import Pair, PairsOptions, measure_pairs, pairs_outcome


class RelayProcess(ServerProcess):
    def __init__(self, store: Store, cpus: set[int] | None, writes: str, pairs: int) -> None:
        super().__init__(store, cpus)
        self.writes = writes
        self.pairs = pairs

    def command(self) -> list[str]:
        args = ["-m", "bench.relay", "--port", str(self.port), "--writes", self.writes]
        if self.writes != "none":
            url = self.store.database_url or f"sqlite:///{self.store.data_dir / 'relay.db'}"
            args += ["--database-url", url, "--pairs", str(self.pairs)]
        return args


async def run_relay(ctx: ScenarioContext, o: PairsOptions, writes: str = "none") -> Outcome:
    server_cpus, load_cpus = split_cpus(ctx.pin, 1)
    # Without writes the store only gives the working folder (the relay's log).
    kind = ctx.store if writes != "none" else "sqlite"
    async with fresh_store(kind, None, ctx.postgres_url) as store:
        server = RelayProcess(store, server_cpus, writes, o.pairs)
        await server.start()
        try:
            pairs = [Pair(i, pair_token(2 * i), pair_token(2 * i + 1), i) for i in range(o.pairs)]
            connected, phases, cpu = await measure_pairs(server, store, pairs, load_cpus, o)
        finally:
            await server.stop()
    outcome = pairs_outcome("relay", o, connected, phases, cpu)
    outcome.record["store"] = store.kind if writes != "none" else "none"
    outcome.record["writes"] = writes
    return outcome
