"""Benchmark the whole build on a generated corpus: time, records/s and peak RSS per stage.

``python bench/run.py 100000`` (``make bench N=100000``) does, in
``bench/out/project-N`` (a fresh copy of this project whose only sources are
the generated ``sessions_a`` / ``sessions_b``):

1. full ``dvc repro`` (pandas executor, cold score cache), with every stage
   process watched by psutil: wall time, peak RSS (the stage process and,
   for dask, its workers), records in (from data/metrics);
2. a no-op ``dvc repro``;
3. near-duplicate recall / precision against the generator's ground truth;
4. a rebuild after +1 % new sessions in one source (``sessions_b``);
5. the CPU-bound stages back to back with the score cache off: pandas, dask
   with a LocalCluster per stage, dask on one long-lived loopback cluster
   (``executor.address``); records/s of each dask run against pandas.

Results go to ``bench/out/results-N.json``; bench/RESULTS.md quotes them.
Nothing here is a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import psutil
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SOURCES = ("bench_a", "bench_b")
CPU_STAGES = ("clean", "dedup", "quality", "validate")
NO_CACHE = ["cache.ops=[]", "cache.stages=[]"]  # executors compared on real work
# The example's annotation batches name the example's records, not the bench's.
BENCH_OVERRIDES = [
    "annotate.inputs=[]",
    "annotate.gold=[]",
    "annotate.adjudication=[]",
    "annotate.spot_check_verdicts=[]",
]

SOURCE_YAML = """# Generated benchmark sessions (bench/gen.py), chat-log format.
path: data/raw/bench/{file}
format: jsonl
kind: logs
license: internal-use-only  # accepted by export.accepted_licenses
owner: bench
collected_at: "2025-01-01"
encoding: utf-8
fields:
  id: session_id
  conversation_id: session_id
  messages: turns
  role: speaker
  content: text
  label: biz_tag
  meta: [channel, started_at, agent_id, csat]
roles: {{用户: user, 客服: assistant, customer: user, agent: assistant}}
label_map:
  BILL_QUERY: 账户问题>账单>账单查询
  OVERDUE: 账户问题>还款>逾期处理
  LIMIT_ADJUST: 账户问题>额度>额度调整
  CARD_LOSS: 账户问题>卡片>挂失补卡
  POINTS_REDEEM: 产品问题>积分规则>兑换流程
  INSTALLMENT: 产品问题>分期>分期办理
  ANNUAL_FEE: 产品问题>年费>年费政策
"""


def sh(cmd: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **(env or {}),
    }
    full_env.pop("FTDATA_ROOT", None)
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=full_env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


class Watch:
    """Runs a command and samples its process tree: per-stage wall time and peak RSS."""

    def __init__(self, cmd: list[str], cwd: Path, interval: float = 0.1, allow_fail: bool = False):
        self.cmd, self.cwd, self.interval, self.allow_fail = cmd, cwd, interval, allow_fail
        self.stages: dict[str, dict] = {}
        self.peak_tree_rss = 0
        self.peak_proc_rss = 0

    def run(self) -> float:
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop("FTDATA_ROOT", None)
        start = time.perf_counter()
        proc = psutil.Popen(
            self.cmd,
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        done = threading.Event()
        out: dict[str, str] = {}

        def drain():
            out["stdout"], out["stderr"] = proc.communicate()
            done.set()

        threading.Thread(target=drain, daemon=True).start()
        while not done.is_set():
            self._sample(proc)
            time.sleep(self.interval)
        self.elapsed = time.perf_counter() - start
        self.stdout, self.stderr = out["stdout"], out["stderr"]
        self.ok = proc.returncode == 0
        if not self.ok:
            failed = re.findall(r"failed to reproduce '([^']+)'", self.stderr + self.stdout)
            self.error = (failed[0] if failed else "?", (self.stderr or self.stdout)[-1500:])
            if not self.allow_fail:
                raise SystemExit(
                    f"{' '.join(self.cmd)} failed:\n{self.stdout[-3000:]}\n{self.stderr[-3000:]}"
                )
        return self.elapsed

    def _sample(self, root: psutil.Process) -> None:
        now = time.perf_counter()
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        tree = 0
        by_stage: dict[str, int] = defaultdict(int)
        for p in procs:
            try:
                rss = p.memory_info().rss
                cmd = p.cmdline()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            tree += rss
            self.peak_proc_rss = max(self.peak_proc_rss, rss)
            stage = _stage_of(cmd)
            if stage is None:
                for parent in _parents(p):
                    stage = _stage_of(parent)
                    if stage:
                        break
            if stage:
                by_stage[stage] += rss
        self.peak_tree_rss = max(self.peak_tree_rss, tree)
        for stage, rss in by_stage.items():
            entry = self.stages.setdefault(stage, {"first": now, "last": now, "peak_rss": 0})
            entry["last"] = now
            entry["peak_rss"] = max(entry["peak_rss"], rss)


def _parents(p: psutil.Process) -> list[list[str]]:
    out = []
    try:
        for parent in p.parents()[:3]:
            out.append(parent.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
    return out


def _stage_of(cmd: list[str]) -> str | None:
    for i, part in enumerate(cmd):
        if part.startswith("stages."):
            name = part.split(".", 1)[1]
            if name == "ingest" and i + 1 < len(cmd):
                return f"ingest@{cmd[i + 1]}"
            return name
    return None


def make_project(n: int, corpus: Path, dest: Path) -> Path:
    from tests.conftest import copy_project

    if dest.exists():
        shutil.rmtree(dest)
    project = copy_project(dest)
    raw = project / "data/raw/bench"
    raw.mkdir(parents=True)
    for name, fname in zip(SOURCES, ("sessions_a.jsonl", "sessions_b.jsonl"), strict=True):
        shutil.copy(corpus / fname, raw / fname)
        (project / "conf/source" / f"{name}.yaml").write_text(
            SOURCE_YAML.format(file=fname), encoding="utf-8"
        )
    config = project / "conf/config.yaml"
    text = config.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.strip().startswith("- source@source.")]
    at = next(i for i, line in enumerate(lines) if line.strip() == "defaults:") + 1
    lines[at:at] = [f"  - source@source.{name}: {name}" for name in SOURCES]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Bench data is not committed (DVC reads it from the work tree); ingest gates are
    # sized for hand-curated sources, the bench plants 2 % junk on purpose.
    (project / ".gitignore").write_text((project / ".gitignore").read_text() + "data/raw/bench/\n")
    sh(["git", "add", "-A"], project)
    sh(["git", "commit", "-q", "-m", "bench sources"], project)
    return project


def stage_table(watch: Watch, project: Path) -> dict:
    table = {}
    for stage, entry in watch.stages.items():
        metrics = project / "data/metrics" / (stage.replace("@", "/") + ".json")
        n_in = json.loads(metrics.read_text())["in"] if metrics.is_file() else None
        seconds = entry["last"] - entry["first"]
        table[stage] = {
            "seconds": round(seconds, 2),
            "records_in": n_in,
            "records_per_s": round(n_in / seconds, 1) if n_in and seconds > 0 else None,
            "peak_rss_mib": round(entry["peak_rss"] / 2**20, 1),
        }
    return table


def dedup_quality(project: Path, corpus: Path) -> dict:
    """Near-dup recall / precision of the dedup stage against the planted ground truth."""
    truth = [
        json.loads(line)
        for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    file_of = {
        "sessions_a.jsonl": "data/raw/bench/sessions_a.jsonl",
        "sessions_b.jsonl": "data/raw/bench/sessions_b.jsonl",
    }

    def loc(ref: str) -> str:
        fname, line = ref.rsplit(":", 1)
        return f"{file_of[fname]}:{line}"

    family: dict[str, str] = {}  # locator -> family root locator
    planted_near = []
    for t in truth:
        if t["kind"] in ("exact_dup", "near_dup"):
            root = loc(t["of"])
            family[root] = root
            family[loc(f"{t['file']}:{t['line']}")] = root
            if t["kind"] == "near_dup":
                planted_near.append((loc(f"{t['file']}:{t['line']}"), root, t["jaccard"]))
    clean = pq.read_table(
        project / "data/interim/clean.parquet", columns=["id", "locator"]
    ).to_pydict()
    locator_of = dict(zip(clean["id"], clean["locator"], strict=True))
    rejects = pq.read_table(project / "data/interim/rejects/dedup.parquet").to_pydict()
    flagged = {}
    for reason, rid, dup_of in zip(
        rejects["reason"], rejects["id"], rejects["duplicate_of"], strict=True
    ):
        flagged[locator_of[rid]] = (reason, locator_of.get(dup_of))
    in_dedup = set(locator_of.values())
    eligible = [p for p in planted_near if p[0] in in_dedup and p[1] in in_dedup and p[2] >= 0.8]
    # Found: one of the pair was rejected as a duplicate of its family (input order is
    # by source, so the copy may come first and the original be the one rejected).
    found = [
        p
        for p in eligible
        if any(m in flagged and family.get(flagged[m][1]) == p[1] for m in (p[0], p[1]))
    ]
    near_flags = [(k, v[1]) for k, v in flagged.items() if v[0] == "near_duplicate"]
    correct = [
        k
        for k, target in near_flags
        if family.get(k) is not None and family.get(k) == family.get(target)
    ]
    return {
        "planted_near_dups": len(planted_near),
        "planted_below_threshold": sum(1 for p in planted_near if p[2] < 0.8),
        "eligible": len(eligible),
        "found": len(found),
        "recall": round(len(found) / len(eligible), 4) if eligible else None,
        "near_flagged": len(near_flags),
        "near_flagged_in_planted_family": len(correct),
        "precision": round(len(correct) / len(near_flags), 4) if near_flags else None,
        "exact_flagged": sum(1 for v in flagged.values() if v[0] == "exact_duplicate"),
    }


def _scope_seconds(watch: Watch) -> float:
    """Wall time from the first ingest process to the end of quality."""
    entries = [
        e
        for st, e in watch.stages.items()
        if st.startswith("ingest") or st in ("clean", "dedup", "quality")
    ]
    return max(e["last"] for e in entries) - min(e["first"] for e in entries)


@contextlib.contextmanager
def loopback_cluster(project: Path, workers: int) -> Iterator[str]:
    """A dask scheduler and ``workers`` single-threaded workers on 127.0.0.1, started once
    (so stages do not each pay a LocalCluster's start-up); workers import the project's
    code from its directory."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(project)}
    scheduler = subprocess.Popen(
        [
            str(BIN / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    address = f"tcp://127.0.0.1:{port}"
    worker = subprocess.Popen(
        [
            str(BIN / "dask"),
            "worker",
            address,
            "--nworkers",
            str(workers),
            "--nthreads",
            "1",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=60)
        yield address
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
            proc.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ran(stdout: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", stdout)


def compare_executors(project: Path, scope: list[str], results: dict) -> None:
    """The CPU-bound stages forced one at a time, per-record caches off, back to back:
    pandas, dask with a LocalCluster per stage (the default), dask on one long-lived
    loopback cluster (``executor.address``, how a team with a cluster runs it)."""
    runs = {
        "pandas": NO_CACHE,
        "dask": ["executor=dask", *NO_CACHE],
    }
    with loopback_cluster(project, workers=2) as address:
        runs["dask_cluster"] = ["executor=dask", f"executor.address={address}", *NO_CACHE]
        for name, overrides in runs.items():
            sh(["ftdata", "compose", *BENCH_OVERRIDES, *overrides], project)
            results[name] = {"stages": {}}
            for stage in CPU_STAGES:  # forced, one at a time: same inputs for every run
                watch = Watch(["dvc", "repro", "--force", "--single-item", stage], project)
                watch.run()
                results[name]["stages"].update(stage_table(watch, project))
    for name in ("dask", "dask_cluster"):
        results[name]["speedup_vs_pandas"] = {
            s: round(
                results[name]["stages"][s]["records_per_s"]
                / results["pandas"]["stages"][s]["records_per_s"],
                2,
            )
            for s in CPU_STAGES
            if s in results[name]["stages"] and s in results["pandas"]["stages"]
        }
        print(name, json.dumps(results[name]["speedup_vs_pandas"]), flush=True)
    sh(["ftdata", "compose", *BENCH_OVERRIDES], project)
    sh(["dvc", "repro", *scope], project)  # back to pandas (run cache / warm score cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument(
        "--executors-only",
        action="store_true",
        help="rerun only the executor comparison on the built bench/out/project-N",
    )
    args = parser.parse_args()
    out_dir = ROOT / "bench" / "out"
    path = out_dir / f"results-{args.n}.json"
    if args.executors_only:
        results = json.loads(path.read_text(encoding="utf-8"))
        compare_executors(out_dir / f"project-{args.n}", [], results)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    corpus = out_dir / f"corpus-{args.n}"
    if not (corpus / "truth.jsonl").is_file():
        sh([sys.executable, str(ROOT / "bench/gen.py"), str(args.n), "--out", str(corpus)], ROOT)
    project = make_project(args.n, corpus, out_dir / f"project-{args.n}")
    results: dict = {"n": args.n, "cpu_count": os.cpu_count()}

    sh(["ftdata", "compose", *BENCH_OVERRIDES], project)
    full = Watch(["dvc", "repro"], project, allow_fail=True)
    results["full_build_s"] = round(full.run(), 2)
    scope: list[str] = []
    if not full.ok:
        # A stage outside this benchmark's concern failed (the pipeline is shared work in
        # progress): report it, and measure no-op / rebuild on the chain up to quality.
        results["full_build_failed_stage"], results["full_build_error"] = full.error
        scope = ["quality"]
        print(f"full build failed at {full.error[0]}; measuring up to quality", flush=True)
    results["full_build_peak_proc_rss_mib"] = round(full.peak_proc_rss / 2**20, 1)
    results["full_build_peak_tree_rss_mib"] = round(full.peak_tree_rss / 2**20, 1)
    results["stages"] = stage_table(full, project)
    print(json.dumps(results, indent=1), flush=True)

    t = time.perf_counter()
    noop = sh(["dvc", "repro", *scope], project)
    results["noop_repro_s"] = round(time.perf_counter() - t, 2)
    results["noop_ran"] = ran(noop.stdout)
    results["near_dup"] = dedup_quality(project, corpus)
    print(json.dumps({k: results[k] for k in ("noop_repro_s", "near_dup")}, indent=1), flush=True)

    if not args.skip_rebuild:
        sh(
            [
                sys.executable,
                str(ROOT / "bench/gen.py"),
                str(args.n),
                "--out",
                str(project / "data/raw/bench"),
                "--append",
                "0.01",
            ],
            ROOT,
        )
        rebuild = Watch(["dvc", "repro", *scope], project)
        results["rebuild_1pct_s"] = round(rebuild.run(), 2)
        base = results["full_build_s"]
        if scope:  # compare like with like: the full build's time up to quality
            base = _scope_seconds(full)
            results["full_build_to_quality_s"] = round(base, 2)
        results["rebuild_1pct_ratio"] = round(results["rebuild_1pct_s"] / base, 3)
        results["rebuild_stages"] = stage_table(rebuild, project)
        print(
            json.dumps(
                {k: results[k] for k in ("rebuild_1pct_s", "rebuild_1pct_ratio", "rebuild_stages")},
                indent=1,
            ),
            flush=True,
        )

    if not args.skip_dask:
        compare_executors(project, scope, results)

    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
