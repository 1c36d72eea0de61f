"""End-to-end latency of the live dashboard: ingest commit -> each browser page's DOM.

Workload: 50 live mock games polled every 5 s (one poll stores ~20,000 quotes), a real
``panel serve`` process, and 10 headless Debian Chromium sessions each showing the whole board.

Run it:       python bench/e2e_latency.py [--sessions 10 --games 50 --interval 5 --seconds 60]
Served by it: panel serve bench/e2e_latency.py  (this same file; see ``serve_app``)

How it measures:
* The served app wraps the store's ``apply_offers`` and the bus's ``publish``: every published
  ODDS_UPDATE frame carries ``attrs['committed_at']`` = wall time right after its poll's commit.
* Each session's state stamps the oldest commit time of the batch it applied; the page's
  status probe records ``[stamp, Date.now()]`` in ``window.__propsage_applied`` when that
  stamp reaches the browser (in the same document update as the table patch it follows).
  Latency = arrival - commit, same machine clock.
* Server side, per poll: ``publish`` = time for the bus to hand the poll's events to every
  session's queue; ``fanout`` = server CPU time of all sessions' ticks that applied the poll
  (the work of pushing one poll to every browser); ``applied`` = commit -> the last session's
  tick done (includes waiting for the 250 ms coalescing tick).
* RSS of the server process, sampled each second (psutil).

The last line printed is one JSON object (``seconds`` = wall time of the whole run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from propsage.serving import free_port, wait_http

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
CACHE_KEY = "propsage-bench-runtime"


# -- the served app (runs inside `panel serve bench/e2e_latency.py`) --------------------------
def _build_bench_runtime():  # noqa: ANN202 - propsage.runtime.Runtime
    """A runtime like ``get_runtime()``'s, on a mock market whose games are all live."""
    # Local imports: Bokeh runs this file once per session and may clear a finished session's
    # module globals, while these closures live as long as the server.
    import json
    import os
    import sys
    import threading
    import time
    from pathlib import Path

    import numpy as np
    import pandas as pd

    from propsage.bus import EventBus
    from propsage.config import load_settings
    from propsage.domain import EventKind
    from propsage.ingest import Ingestor
    from propsage.providers.mock import MockDataProvider
    from propsage.runtime import Runtime, default_analyzers, default_pricer
    from propsage.store import Store
    from propsage.ui.state import DashboardState

    class AllLiveMock(MockDataProvider):
        """The simulated market with every game under way (started 5-60 minutes ago)."""

        def _build(self, n_games: int) -> None:
            super()._build(n_games)
            rng = np.random.default_rng(self.seed)
            for gb in self._games.values():
                ago = pd.Timedelta(minutes=float(rng.uniform(5, 60)))
                gb.game.start_time = (self._anchor - ago).to_pydatetime()

    settings = load_settings()
    store = Store(settings.db_path)
    bus = EventBus()
    provider = AllLiveMock.from_settings(settings)
    models = os.environ.get("BENCH_MODELS", "1") == "1"
    pricer = default_pricer(store) if models else None
    analyzers = default_analyzers(store) if models else []
    ingestor = Ingestor(provider, store, bus, max_games=settings.max_games,
                        live_interval=settings.live_interval,
                        pregame_interval=settings.pregame_interval,
                        pricer=pricer, analyzers=analyzers)
    rt = Runtime(settings, store, bus, provider, ingestor)

    stats = {"polls": {}, "poll_s": [], "models": {"pricer": pricer is not None,
                                                   "analyzers": len(analyzers)}}
    lock = threading.Lock()
    last_commit = [0.0]

    def poll_entry(commit: float) -> dict:
        return stats["polls"].setdefault(f"{commit:.6f}", {
            "commit": commit, "publish_s": 0.0, "events": 0, "ticks": 0, "tick_s": 0.0,
            "last_applied": 0.0})

    apply_offers = store.apply_offers

    def timed_apply(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        changes = apply_offers(*args, **kwargs)
        last_commit[0] = time.time()
        return changes

    store.apply_offers = timed_apply
    publish = bus.publish

    def timed_publish(event):  # noqa: ANN001, ANN202
        if event.kind != EventKind.ODDS_UPDATE or not isinstance(event.data, pd.DataFrame):
            return publish(event)
        event.data.attrs["committed_at"] = last_commit[0]
        t0 = time.perf_counter()
        n = publish(event)
        with lock:
            e = poll_entry(last_commit[0])
            e["publish_s"] += time.perf_counter() - t0
            e["events"] += 1
        return n

    bus.publish = timed_publish
    poll = ingestor.poll

    def timed_poll(window: str = "all"):  # noqa: ANN202
        report = poll(window)
        with lock:
            stats["poll_s"].append([time.time(), report.seconds, report.quotes])
        return report

    ingestor.poll = timed_poll  # before start(): the scheduler binds ingestor.poll then
    on_tick = DashboardState.on_tick
    profile_to = os.environ.get("BENCH_PROFILE")
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()

    def timed_tick(self, arrivals):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        if profiler is not None and arrivals:
            profiler.enable()
            on_tick(self, arrivals)
            profiler.disable()
            profiler.dump_stats(profile_to)
        else:
            on_tick(self, arrivals)
        dt = time.perf_counter() - t0
        commits = {a.event.data.attrs.get("committed_at") for a in arrivals
                   if isinstance(a.event.data, pd.DataFrame)
                   and a.event.data.attrs.get("committed_at")}
        if commits:
            with lock:
                e = poll_entry(min(commits))
                e["ticks"] += 1
                e["tick_s"] += dt
                e["last_applied"] = max(e["last_applied"], time.time())

    DashboardState.on_tick = timed_tick
    out = os.environ.get("BENCH_STATS")

    def dump() -> None:
        while out:
            time.sleep(1.0)
            with lock:
                text = json.dumps(stats)
            Path(out).write_text(text)

    threading.Thread(target=dump, daemon=True, name="bench-stats").start()
    def _sample_loop_thread(path: str, every: float = 0.01) -> None:
        """Poor man's profiler: where the server's main (event loop) thread is, every 10 ms."""
        import collections
        import traceback

        main_id = threading.main_thread().ident
        counts: collections.Counter = collections.Counter()
        n = 0
        while True:
            time.sleep(every)
            frame = sys._current_frames().get(main_id)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)[-depth:]
            counts[" < ".join(f"{Path(f.filename).name}:{f.name}" for f in reversed(stack))] += 1
            n += 1
            if n % 500 == 0:
                Path(path).write_text("\n".join(f"{c:6d} {s}" for s, c in counts.most_common(40)))

    depth = int(os.environ.get("BENCH_SAMPLE_DEPTH", "6"))
    if os.environ.get("BENCH_SAMPLE"):
        threading.Thread(target=_sample_loop_thread, args=(os.environ["BENCH_SAMPLE"],),
                         daemon=True, name="bench-sampler").start()
    ingestor.start()
    return rt


def serve_app() -> None:
    """The dashboard on the bench runtime (built once per server process)."""
    import panel as pn

    from propsage.ui.dashboard import build_dashboard

    pn.extension("tabulator")
    rt = pn.state.cache.get(CACHE_KEY)
    if rt is None:
        rt = pn.state.cache[CACHE_KEY] = _build_bench_runtime()
    build_dashboard(rt).servable(title="PropSage bench")


# -- the driver (python bench/e2e_latency.py) -------------------------------------------------
def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 1) if values else None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; the last line is JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--games", type=int, default=50)
    ap.add_argument("--interval", type=float, default=5.0, help="live poll interval, s")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured window, s")
    ap.add_argument("--warmup", type=float, default=12.0, help="seconds ignored after load")
    ap.add_argument("--no-models", action="store_true",
                    help="ingest without the pricing/analytics stages (to see their cost)")
    ap.add_argument("--sample", default="",
                    help="write where the server's event-loop thread spends its time here")
    ap.add_argument("--profile", default="", help="write a cProfile of the sessions' ticks here")
    args = ap.parse_args(argv)

    import psutil
    from playwright.sync_api import sync_playwright

    t_start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="propsage-e2e-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPSAGE_")}
    env.update({
        "PROPSAGE_PROVIDER": "mock", "PROPSAGE_DB": str(tmp / "bench.duckdb"),
        "PROPSAGE_MOCK_GAMES": str(args.games), "PROPSAGE_MAX_GAMES": str(args.games),
        "PROPSAGE_LIVE_INTERVAL": str(args.interval), "PROPSAGE_PREGAME_INTERVAL": "3600",
        "PROPSAGE_LEAGUES": "nfl,nba,cfb", "PROPSAGE_LOG_LEVEL": "WARNING",
        "BENCH_STATS": str(tmp / "stats.json"),
    })
    if args.sample:
        env["BENCH_SAMPLE"] = str(Path(args.sample).resolve())
    if args.no_models:
        env["BENCH_MODELS"] = "0"
    if args.profile:
        env["BENCH_PROFILE"] = str(Path(args.profile).resolve())
    panel = Path(sys.executable).with_name("panel")
    cmd = [str(panel), "serve", str(Path(__file__).resolve()), "--port", str(port),
           "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"]
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/{Path(__file__).stem}"
    rss: list[float] = []
    stop = threading.Event()

    def sample_rss() -> None:
        p = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                rss.append(p.memory_info().rss / 2**20)
            except psutil.Error:
                return
            stop.wait(1.0)

    threading.Thread(target=sample_rss, daemon=True).start()
    try:
        wait_http(url, 90.0, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            pages = []
            for _ in range(args.sessions):
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.goto(url)
                page.locator(".ps-props .tabulator-row").first.wait_for(timeout=120_000)
                pages.append(page)
            print(f"{len(pages)} sessions open after {time.perf_counter() - t_start:.1f}s",
                  flush=True)
            time.sleep(args.warmup)
            t0_ms = time.time() * 1000.0
            time.sleep(args.seconds)
            t1_ms = time.time() * 1000.0
            lat: list[float] = []
            per_page = []
            for page in pages:
                pairs = page.evaluate("window.__propsage_applied || []")
                mine = [dom - stamp for stamp, dom in pairs if t0_ms <= stamp <= t1_ms]
                per_page.append(len(mine))
                lat.extend(mine)
            browser.close()
        stats = json.loads((tmp / "stats.json").read_text())
    finally:
        stop.set()
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

    polls = [p for p in stats["polls"].values()
             if t0_ms / 1000 <= p["commit"] <= t1_ms / 1000 and p["ticks"]]
    publish_ms = [p["publish_s"] * 1000 for p in polls]
    fanout_ms = [p["tick_s"] * 1000 for p in polls]
    per_tick_ms = [p["tick_s"] * 1000 / p["ticks"] for p in polls]
    applied_ms = [(p["last_applied"] - p["commit"]) * 1000 for p in polls]
    poll_s = [s for t, s, _ in stats["poll_s"] if t0_ms / 1000 <= t <= t1_ms / 1000]
    quotes = [q for t, _, q in stats["poll_s"] if t0_ms / 1000 <= t <= t1_ms / 1000]
    result = {
        "seconds": round(time.perf_counter() - t_start, 1),
        "sessions": args.sessions, "games": args.games, "poll_interval_s": args.interval,
        "measured_s": args.seconds, "polls": len(polls), "samples": len(lat),
        "samples_per_session": per_page,
        "latency_p50_ms": _pct(lat, 50), "latency_p95_ms": _pct(lat, 95),
        "latency_max_ms": round(max(lat), 1) if lat else None,
        "publish_p95_ms": _pct(publish_ms, 95),
        "fanout_p50_ms": _pct(fanout_ms, 50), "fanout_p95_ms": _pct(fanout_ms, 95),
        "tick_per_session_p95_ms": _pct(per_tick_ms, 95),
        "commit_to_all_applied_p95_ms": _pct(applied_ms, 95),
        "ingest_poll_p50_s": round(float(np.median(poll_s)), 2) if poll_s else None,
        "quotes_per_poll": int(np.median(quotes)) if quotes else None,
        "server_rss_mb": round(rss[-1], 1) if rss else None,
        "server_rss_peak_mb": round(max(rss), 1) if rss else None,
        "models": stats.get("models"),
    }
    print(f"latency commit->DOM p50 {result['latency_p50_ms']} ms, p95 "
          f"{result['latency_p95_ms']} ms over {len(lat)} samples; fan-out p95 "
          f"{result['fanout_p95_ms']} ms; RSS {result['server_rss_mb']} MB")
    print(json.dumps(result))
    return 0 if lat else 1


if __name__ == "__main__":
    sys.exit(main())
elif __name__.startswith("bokeh_app"):
    serve_app()
