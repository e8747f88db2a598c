"""B14 against an earlier commit in the same run: the read path's URLs served by that commit's code and by this
tree's, one after the other on each server and database, for several interleaved rounds (medians kept).

B14 itself compares with "before" figures stored from an earlier run; on a shared machine whose speed swings
(the raw app under daphne gave 5,600 req/s at 16:00 and 2,100 at 18:45 the same day) only a comparison made in
one run says what the code changed. Usage (from the repository, after `make setup`):

    .venv/bin/python bench/read_path_ab.py --against cb369f8 [--rounds 2] [--databases sqlite,postgresql]

The earlier commit is checked out in --workdir (a detached git worktree); each tree gets its own databases
(migrated, the demo catalog, static files, B14's signed-in shopper). Writes results/<date>-B14-ab[-N].{json,md}.
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

import run
from common import RESULTS, SERVERS, machine, save, shop_env
from read_path import SHOPPER, URLS


def tree(root: Path, revision: str, workdir: Path) -> Path:
    """Return a checkout of `revision` under `workdir`, made once, with its translations compiled."""
    path = workdir / f"tree-{revision}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), revision], cwd=root, check=True)
        compile_messages = [sys.executable, "manage.py", "compilemessages", "-v", "0"]
        subprocess.run(compile_messages, cwd=path, env={**os.environ, "DEBUG": "1"}, check=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", required=True, help="the earlier commit, e.g. cb369f8")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=int, default=3, help="seconds of load per measurement")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workdir", default=str(run.ROOT / "bench" / ".work"))
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    trees = {"before": tree(run.ROOT, args.against, workdir), "after": run.ROOT}
    bench = run.Bench(argparse.Namespace(products=0, duration=args.duration, workdir=str(workdir)))
    setups = {}  # (database, version) -> (environment, {name: (path, headers)})
    for database in args.databases.split(","):
        for version, root in trees.items():
            url = run.DATABASES[database]
            url = f"sqlite:///{workdir / f'b14-ab-{version}.sqlite3'}" if url is None else f"{url}_b14_ab_{version}"
            problem = None if database == "sqlite" else run.create_database(database, url)
            if problem:
                print(f"{database}: {problem}", file=sys.stderr)
                return 1
            run.ROOT, bench.env = root, {**bench.env, **shop_env(url, PGVECTOR="off"), "PYTHONPATH": str(root)}
            bench.env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
            for command in (
                ("migrate", "--noinput", "-v", "0"),
                ("seed_demo", "--if-empty"),
                ("collectstatic", "--noinput", "-v", "0"),
            ):
                bench.manage(*command)
            token = bench.manage_output("shell", "-c", SHOPPER).splitlines()[-1]
            urls = {
                name: (path, {h: v.format(token=token) for h, v in headers.items()})
                for name, (path, headers) in URLS.items()
            }
            setups[database, version] = (dict(bench.env), urls)
    runs = {}
    for _ in range(args.rounds):
        for database in args.databases.split(","):
            for kind in SERVERS:
                for version, root in trees.items():
                    run.ROOT, (bench.env, urls) = root, setups[database, version]
                    with bench.server(kind) as shop:
                        for path, headers in urls.values():
                            bench.wrk(shop + path, 8, headers, seconds=1)  # untimed: start-up work out of the figures
                        for name, (path, headers) in urls.items():
                            figures = bench.wrk(shop + path, 8, headers)
                            if figures["status"] != 200:
                                print(
                                    f"{database} {kind} {version} {name}: status {figures['status']}", file=sys.stderr
                                )
                                return 1
                            runs.setdefault(f"{database} {kind} {version} {name}", []).append(figures["rps"])
    medians = {key: statistics.median(values) for key, values in runs.items()}
    lines = [f"# B14 against {args.against}, same run ({args.rounds} rounds, median req/s at 8 clients)", ""]
    lines += ["| database | server | URL | before | after | x before |", "|---|---|---|---|---|---|"]
    ratios = {}
    for database in args.databases.split(","):
        for kind in SERVERS:
            for name in URLS:
                before, after = (medians[f"{database} {kind} {version} {name}"] for version in trees)
                ratios[f"{database} {kind} {name}"] = round(after / before, 2)
                lines.append(f"| {database} | {kind} | {name} | {before:,.0f} | {after:,.0f} | {after / before:.2f} |")
    report = {"against": args.against, "machine": machine(), "runs": runs, "x_before": ratios}
    stem = save("B14-ab", report, "\n".join(lines) + "\n")
    print(f"lowest x before: {min(ratios.values())}; wrote {stem.relative_to(RESULTS.parent)}.json and .md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
