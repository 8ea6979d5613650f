"""Running a power study's chunks: on a Dask cluster, or in this process.

The default starts a LocalCluster of worker processes (one per core, one
thread each: every fit runs single-threaded BLAS) and closes it at the end;
`scheduler="tcp://host:port"` uses an existing scheduler and its workers
(e.g. one started by dask-jobqueue on SLURM or PBS); `workers=0` runs every
chunk here without Dask (for debugging).

At most a few chunks per worker are in flight at a time, results stream back
as they finish (distributed.as_completed), each finished chunk is saved in
DIR/.chunks/ before it is folded in, so `resume=True` only runs the
replicates that are missing.  Dask recomputes the chunk of a worker that
dies.  Ctrl-C cancels the futures, keeps the saved chunks and re-raises.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np

from ..errors import AttachpathError
from .replicate import Study, run_chunk

CHUNK_DIR = ".chunks"
_CHUNK_NAME = re.compile(r"^d(\d+)_(\d+)_(\d+)\.npz$")


class SchedulerError(AttachpathError):
    """The Dask scheduler cannot be reached or has no workers."""


def fingerprint(study: Study) -> str:
    """What saved chunks depend on: the population, analyses, designs, seed
    and SE kind (not alpha, level or the number of replicates: a resumed
    study may ask for more replicates or other tests)."""
    from .. import __version__
    desc = {"population": study.population,
            "analyses": [(a.name, a.text, a.kind) for a in study.analyses],
            "designs": [d.columns() | {"kind": d.kind} for d in study.designs],
            "seed": study.seed, "se": [study.se_for(d) for d in study.designs],
            "attachpath": __version__}
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()


class Checkpoints:
    """Finished chunks saved as DIR/.chunks/d{design}_{start}_{stop}.npz."""

    def __init__(self, out: Path, study: Study, resume: bool):
        self.dir = Path(out) / CHUNK_DIR
        self.key = fingerprint(study)
        manifest = self.dir / "manifest.json"
        if resume and self.dir.is_dir():
            try:
                saved = json.loads(manifest.read_text())["fingerprint"]
            except (OSError, ValueError, KeyError):
                saved = None
            if saved != self.key:
                raise AttachpathError(
                    f"--resume: the saved chunks in '{self.dir}' belong to another study "
                    f"(a different population, analysis, design, seed or SE kind). Run "
                    f"without --resume to start this study afresh (the saved chunks are "
                    f"then deleted), or use another --out.")
        elif self.dir.exists():
            shutil.rmtree(self.dir)
        from ..files import write_text_atomic
        write_text_atomic(manifest, json.dumps({"fingerprint": self.key}) + "\n")

    def saved(self, n_designs: int, reps: int) -> list[tuple[int, int, int, Path]]:
        out = []
        for path in sorted(self.dir.iterdir()):
            m = _CHUNK_NAME.match(path.name)
            if m:
                d, start, stop = map(int, m.groups())
                if d < n_designs and stop <= reps:
                    out.append((d, start, stop, path))
        return out

    def load(self, d: int, start: int, stop: int, path: Path, n_analyses: int) -> dict:
        with np.load(path) as z:
            return {"design": d, "start": start, "stop": stop,
                    "est": [z[f"est{a}"] for a in range(n_analyses)],
                    "se": [z[f"se{a}"] for a in range(n_analyses)],
                    "ok": [z[f"ok{a}"] for a in range(n_analyses)]}

    def save(self, chunk: dict) -> None:
        from ..files import write_bytes_atomic
        buf = io.BytesIO()
        arrays = {}
        for a in range(len(chunk["est"])):
            arrays[f"est{a}"] = chunk["est"][a]
            arrays[f"se{a}"] = chunk["se"][a]
            arrays[f"ok{a}"] = chunk["ok"][a]
        np.savez(buf, **arrays)
        name = f"d{chunk['design']}_{chunk['start']:08d}_{chunk['stop']:08d}.npz"
        write_bytes_atomic(self.dir / name, buf.getvalue())


def missing_ranges(done: list[tuple[int, int]], reps: int, chunk_size: int):
    """Chunks (start, stop) covering 0..reps-1 minus the `done` ranges."""
    out, pos = [], 0
    for start, stop in sorted(done) + [(reps, reps)]:
        while pos < start:
            out.append((pos, min(pos + chunk_size, start)))
            pos = out[-1][1]
        pos = max(pos, stop)
    return out


def run(study: Study, reps: int, *, chunk_size: int, folds, checkpoints: Checkpoints | None,
        scheduler: str | None = None, workers: int | None = None,
        progress: bool = False) -> dict:
    """Run the missing chunks of every design, folding results into `folds`
    (an OrderedFolds).  Returns {"scheduler", "workers", "resumed_reps"}."""
    n_an = len(study.analyses)
    tasks: list[tuple[int, int, int]] = []
    resumed = 0
    for d in range(len(study.designs)):
        done = []
        if checkpoints is not None:
            for dd, start, stop, path in checkpoints.saved(len(study.designs), reps):
                if dd == d:
                    folds.add(checkpoints.load(d, start, stop, path, n_an))
                    done.append((start, stop))
                    resumed += stop - start
        tasks += [(d, s, e) for s, e in missing_ranges(done, reps, chunk_size)]
    total = reps * len(study.designs)
    from tqdm.auto import tqdm
    bar = tqdm(total=total, initial=resumed, unit="rep", disable=not progress,
               desc="power", smoothing=0.1, dynamic_ncols=True)

    def finished(chunk):
        if checkpoints is not None:
            checkpoints.save(chunk)
        folds.add(chunk)
        bar.update(chunk["stop"] - chunk["start"])

    info = {"resumed_reps": resumed}
    try:
        if not tasks:
            info.update(scheduler="none (every chunk was saved)", workers=0)
        elif workers == 0 and scheduler is None:
            info.update(scheduler="none (in process)", workers=0)
            for d, s, e in tasks:
                finished(run_chunk(study, d, s, e))
        else:
            info.update(_run_dask(study, tasks, finished, scheduler, workers))
    finally:
        bar.close()
    return info


# Dask settings for a batch of long tasks without a dashboard.  The defaults
# sample the running task every 10 ms (the workers' statistical profiler),
# tick every event loop every 20 ms and poll memory and system monitors
# several times a second: measured on 2 cores, ~25% extra CPU per chunk on a
# worker and ~5-10% of a core in the client process (scheduler and client
# loops), all taken from the fits.  Set while the LocalCluster starts, they
# reach its workers too (a Nanny passes its config on); with --scheduler only
# this process's client uses them.
LEAN_DASK = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
}


def _run_dask(study, tasks, finished, scheduler, workers) -> dict:
    import dask
    import distributed  # noqa: F401  (first: its defaults must be in dask.config
    #                     before the set, whose exit would drop a whole new section)
    with dask.config.set(LEAN_DASK):
        return _run_dask_lean(study, tasks, finished, scheduler, workers)


def _run_dask_lean(study, tasks, finished, scheduler, workers) -> dict:
    from distributed import Client, LocalCluster, as_completed
    cluster = None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        try:
            client = Client(scheduler, timeout="15s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(f"Cannot connect to the Dask scheduler at '{scheduler}' "
                                 f"({type(exc).__name__}: {exc}). Is it running, and is "
                                 f"the address tcp://HOST:PORT?") from None
        address = scheduler
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
        address = f"LocalCluster ({n} worker processes)"
    pending = []
    try:
        if scheduler:
            try:
                client.wait_for_workers(1, timeout=60)
            except (TimeoutError, OSError):
                raise SchedulerError(f"The Dask scheduler at '{scheduler}' has no workers "
                                     f"(waited 60 s); start some with 'dask worker "
                                     f"{scheduler}'.") from None
        n_workers = len(client.scheduler_info(n_workers=-1)["workers"]) or 1
        window = max(4, 3 * n_workers)         # chunks in flight: keeps memory bounded
        queue = list(reversed(tasks))
        study_future = client.scatter(study, broadcast=True)
        ac = as_completed()

        def submit():
            d, s, e = queue.pop()
            f = client.submit(run_chunk, study_future, d, s, e, pure=False)
            pending.append(f)
            ac.add(f)

        while queue and len(pending) < window:
            submit()
        for fut in ac:
            pending.remove(fut)
            chunk = fut.result()
            fut.release()
            finished(chunk)
            if queue:
                submit()
        return {"scheduler": address, "workers": n_workers}
    except KeyboardInterrupt:
        client.cancel(pending)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
