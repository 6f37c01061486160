"""The web client with a long chat: 10,000 messages in one private chat, opened and scrolled
through to the first message in headless Chromium.

A `heliograph serve` process (SQLite) pinned to the first core gets two users, made over the
HTTP API, and --messages messages between them (sendMessage, --concurrency in flight, from
both sides in turn). The web client, as built into the package, is then opened in the
system's Chromium (HELIOGRAPH_CHROMIUM, else /usr/bin/chromium; driven by Python Playwright,
on the other core); one user signs in and opens the chat. Measured in the page:

- how long from the click on the chat until its first messages are painted;
- how many message nodes the DOM holds (the list is windowed: a few dozen, not thousands);
- scrolling up through the whole history, --step px every animation frame (older messages
  load 50 at a time as the top comes near), with the interval of every frame recorded:
  p50/p95/p99/max, the share of frames over 16.7 ms (that missed a vsync at 60 Hz; counted
  as over 20 ms, since rAF intervals of frames on time jitter around 16.7 ms) and over 50 ms
  (a long frame a person notices), and the time until the first message is on screen;
- the peak JS heap (performance.memory, sampled every frame with precise memory info) and
  the DOM's size at the end.

Run: .venv/bin/python -m bench.web_history [--messages 10000] [--step 150]
Prints a table and one JSON line `{"scenario": "web_history", ...}`. Needs a built client
(`npm run build` in web/) and Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from bench.common import (
    Api,
    ServerProcess,
    emit_json,
    fresh_store,
    machine_busy_seconds,
    machine_facts,
    percentile,
    pin,
    print_table,
    split_cpus,
)

CHROMIUM = os.environ.get("HELIOGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-precise-memory-info",
]
PASSWORD = "bench-pass-word-1"
# A frame on time at 60 Hz comes 16.7 ms after the last, give or take timer jitter; one that
# missed a vsync comes 33 ms or more after it.
MISSED_MS = 20.0


@dataclass(frozen=True, slots=True)
class WebHistoryOptions:
    messages: int = 10_000
    concurrency: int = 32
    step: int = 150
    width: int = 1280
    height: int = 800
    pin: bool = True
    workdir: str | None = None


def text_of(i: int) -> str:
    return f"m{i:05d}"


async def _fill(api: Api, sides: list[tuple[str, int]], count: int, concurrency: int) -> float:
    """Send `count` messages (from each side in turn); seconds taken."""
    started = time.perf_counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1, count + 1):
        queue.put_nowait(i)

    async def sender() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            token, chat_id = sides[i % 2]
            await api.call("sendMessage", token, chat_id=chat_id, text=text_of(i))

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return time.perf_counter() - started


# Resolves with the ms from now until the first message node is in the DOM and painted.
WATCH_FIRST_PAINT = """() => {
  const t0 = performance.now();
  window.__firstPaint = new Promise((resolve) => {
    const done = () => requestAnimationFrame(() => resolve(performance.now() - t0));
    const obs = new MutationObserver(() => {
      if (document.querySelector('[data-testid="message"]')) { obs.disconnect(); done(); }
    });
    obs.observe(document.body, { childList: true, subtree: true });
  });
}"""

# Scroll the message list up `step` px per animation frame until the first message is shown
# at the very top; every frame's interval, heap and node counts are recorded.
SCROLL_UP = """async ([step, firstText, limitMs]) => {
  const log = document.querySelector('[role="log"]');
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const messages = () => log.querySelectorAll('[data-testid="message"]');
  const heap = () => (performance.memory ? performance.memory.usedJSHeapSize : 0);
  const intervals = [];
  let peakHeap = heap(), peakMessageNodes = messages().length, peakNodes = 0, atTopFrames = 0;
  let last = await frame();
  const t0 = last;
  let reached = false;
  while (last - t0 < limitMs) {
    log.scrollTop = Math.max(0, log.scrollTop - step);
    const now = await frame();
    intervals.push(now - last);
    last = now;
    const nodes = messages();
    peakMessageNodes = Math.max(peakMessageNodes, nodes.length);
    peakHeap = Math.max(peakHeap, heap());
    if (intervals.length % 30 === 0) {
      peakNodes = Math.max(peakNodes, document.getElementsByTagName('*').length);
    }
    if (log.scrollTop === 0) {
      atTopFrames++;
      const first = nodes[0] && nodes[0].querySelector('[data-testid="message-text"]');
      if (first && first.textContent.trim() === firstText) { reached = true; break; }
    }
  }
  return {
    reached, intervals, ms: last - t0, atTopFrames, peakHeap, peakMessageNodes,
    peakNodes: Math.max(peakNodes, document.getElementsByTagName('*').length),
    messageNodesEnd: messages().length,
    nodesEnd: document.getElementsByTagName('*').length,
    loaded: log.scrollHeight,
  };
}"""


async def _browse(url: str, options: WebHistoryOptions) -> dict[str, Any]:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                viewport={"width": options.width, "height": options.height}
            )
            context.set_default_timeout(60_000)
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Performance.enable")
            await page.goto(url + "/")
            await page.get_by_test_id("signin-username").fill("bench_alice")
            await page.get_by_test_id("signin-password").fill(PASSWORD)
            await page.get_by_test_id("signin-submit").click()
            chat = page.get_by_test_id("chat-item").filter(has_text="Bobby")
            await expect(chat).to_have_count(1, timeout=60_000)

            await page.evaluate(WATCH_FIRST_PAINT)
            started = time.perf_counter()
            await chat.click()
            first_paint_ms: float = await page.evaluate("window.__firstPaint")
            newest = page.get_by_test_id("message").filter(has_text=text_of(options.messages))
            await expect(newest).to_be_in_viewport(timeout=60_000)
            open_ms = (time.perf_counter() - started) * 1000
            nodes_open: int = await page.get_by_test_id("message").count()
            dom_open: int = await page.evaluate("document.getElementsByTagName('*').length")

            scrolled: dict[str, Any] = await page.evaluate(
                SCROLL_UP, [options.step, text_of(1), 600_000]
            )
            metrics = {
                m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]
            }
            return {
                "chromium": browser.version,
                "first_paint_ms": first_paint_ms,
                "open_ms": open_ms,
                "nodes_open": nodes_open,
                "dom_open": dom_open,
                "scrolled": scrolled,
                "cdp_heap_used": metrics.get("JSHeapUsedSize", 0.0),
                "cdp_nodes": metrics.get("Nodes", 0.0),
            }
        finally:
            await browser.close()


async def run_web_history(options: WebHistoryOptions) -> dict[str, Any]:
    server_cpus, load_cpus = split_cpus(options.pin)
    async with fresh_store("sqlite", options.workdir) as store:
        server = ServerProcess(store, server_cpus)
        await server.start()
        pin(0, load_cpus)  # this process, and so the browser it starts, on the other core(s)
        try:
            async with Api(server.url) as api:
                alice = await api.call(
                    "signUp", username="bench_alice", password=PASSWORD, display_name="Alice"
                )
                bobby = await api.call(
                    "signUp", username="bench_bobby", password=PASSWORD, display_name="Bobby"
                )
                a_chat = await api.call(
                    "getPrivateChat", alice["token"], user_id=bobby["account"]["id"]
                )
                b_chat = await api.call(
                    "getPrivateChat", bobby["token"], user_id=alice["account"]["id"]
                )
                sides = [(bobby["token"], b_chat["id"]), (alice["token"], a_chat["id"])]
                fill_s = await _fill(api, sides, options.messages, options.concurrency)
            busy_before, wall_before = machine_busy_seconds(), time.monotonic()
            cpu_before = server.cpu_seconds()
            seen = await _browse(server.url, options)
            server_cpu = server.cpu_seconds() - cpu_before
            busy = machine_busy_seconds() - busy_before
            wall = time.monotonic() - wall_before
        finally:
            await server.stop()
    scrolled = seen["scrolled"]
    frames: list[float] = scrolled["intervals"]
    mib = 1024 * 1024
    return {
        "scenario": "web_history",
        "store": "sqlite",
        "messages": options.messages,
        "fill_s": round(fill_s, 1),
        "fill_per_s": round(options.messages / fill_s),
        "viewport": f"{options.width}x{options.height}",
        "step_px": options.step,
        "chromium": seen["chromium"],
        "open_first_paint_ms": round(seen["first_paint_ms"], 1),
        "open_newest_visible_ms": round(seen["open_ms"], 1),
        "message_nodes_after_open": seen["nodes_open"],
        "dom_nodes_after_open": seen["dom_open"],
        "reached_first_message": scrolled["reached"],
        "to_first_message_s": round(scrolled["ms"] / 1000, 2),
        "frames": len(frames),
        "frames_at_top_waiting": scrolled["atTopFrames"],
        "frame_ms": {
            "p50": round(percentile(frames, 50), 1),
            "p95": round(percentile(frames, 95), 1),
            "p99": round(percentile(frames, 99), 1),
            "max": round(max(frames), 1) if frames else 0,
        },
        "frames_over_16_7ms_pct": round(100 * sum(f > MISSED_MS for f in frames) / len(frames), 2),
        "frames_over_50ms_pct": round(100 * sum(f > 50 for f in frames) / len(frames), 2),
        "peak_message_nodes": scrolled["peakMessageNodes"],
        "peak_dom_nodes": scrolled["peakNodes"],
        "message_nodes_end": scrolled["messageNodesEnd"],
        "dom_nodes_end": scrolled["nodesEnd"],
        "peak_js_heap_mib": round(scrolled["peakHeap"] / mib, 1),
        "js_heap_end_mib": round(seen["cdp_heap_used"] / mib, 1),
        "list_height_px": scrolled["loaded"],
        "server_cpu_s": round(server_cpu, 2),
        "machine_busy_cores": round(busy / wall, 2) if wall else 0,
        "machine": machine_facts(),
    }


def report(result: dict[str, Any]) -> None:
    f = result["frame_ms"]
    print_table(
        f"web_history: {result['messages']:,} messages, {result['viewport']}, "
        f"Chromium {result['chromium']}",
        [
            (
                "fill through sendMessage (s, msgs/s)",
                f"{result['fill_s']} ({result['fill_per_s']})",
            ),
            ("open: first messages painted (ms)", result["open_first_paint_ms"]),
            ("open: newest message visible (ms)", result["open_newest_visible_ms"]),
            (
                "message / DOM nodes after open",
                f"{result['message_nodes_after_open']} / {result['dom_nodes_after_open']}",
            ),
            ("reached the first message", result["reached_first_message"]),
            ("scrolling up to it (s)", result["to_first_message_s"]),
            (
                "frames (of them waiting at the top)",
                f"{result['frames']} ({result['frames_at_top_waiting']})",
            ),
            (
                "frame time p50 / p95 / p99 / max (ms)",
                f"{f['p50']} / {f['p95']} / {f['p99']} / {f['max']}",
            ),
            (
                "frames over 16.7 ms / over 50 ms (%)",
                f"{result['frames_over_16_7ms_pct']} / {result['frames_over_50ms_pct']}",
            ),
            (
                "peak message / DOM nodes",
                f"{result['peak_message_nodes']} / {result['peak_dom_nodes']}",
            ),
            (
                "message / DOM nodes at the end",
                f"{result['message_nodes_end']} / {result['dom_nodes_end']}",
            ),
            (
                "JS heap: peak / at the end (MiB)",
                f"{result['peak_js_heap_mib']} / {result['js_heap_end_mib']}",
            ),
            ("server CPU while browsing (s)", result["server_cpu_s"]),
            ("machine busy meanwhile (cores)", result["machine_busy_cores"]),
        ],
    )
    emit_json(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--step", type=int, default=150, help="px scrolled per frame")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and browser")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    options = WebHistoryOptions(
        messages=args.messages,
        concurrency=args.concurrency,
        step=args.step,
        pin=not args.no_pin,
        workdir=args.workdir,
    )
    report(asyncio.run(run_web_history(options)))


if __name__ == "__main__":
    main()
