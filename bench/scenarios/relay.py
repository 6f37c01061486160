"""`relay`: the pairs load against the bare relay of bench/relay.py instead of the server:
the floor under the pairs figures on the same machine (see that module)."""

from __future__ import annotations

from bench.common import ServerProcess, fresh_store, split_cpus
from bench.relay import pair_token
from bench.scenarios import Outcome, ScenarioContext
from bench.scenarios.pairs import Pair, PairsOptions, measure_pairs, pairs_outcome


class RelayProcess(ServerProcess):
    def command(self) -> list[str]:
        return ["-m", "bench.relay", "--port", str(self.port)]


async def run_relay(ctx: ScenarioContext, o: PairsOptions) -> Outcome:
    server_cpus, load_cpus = split_cpus(ctx.pin, 1)
    # A store only for the working folder (the relay's log); the relay keeps nothing.
    async with fresh_store("sqlite") as store:
        server = RelayProcess(store, server_cpus)
        await server.start()
        try:
            pairs = [Pair(i, pair_token(2 * i), pair_token(2 * i + 1), i) for i in range(o.pairs)]
            connected, phases, cpu = await measure_pairs(server, store, pairs, load_cpus, o)
        finally:
            await server.stop()
    outcome = pairs_outcome("relay", o, connected, phases, cpu)
    outcome.record["store"] = "none"
    return outcome
