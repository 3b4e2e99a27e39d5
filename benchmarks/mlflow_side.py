"""The MLflow side of each scenario. Runs inside MLflow's venv: ``python mlflow_side.py SCENARIO --url ...``.

Only the measured calls are inside the timers (imports, experiment creation and building the ``Metric``
objects are not). Prints one ``BENCH_RESULT {json}`` line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # no extra get_run per set_terminated

from common import emit_result, median, metric_value, percentile
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient


def ingest(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """Scenario 1: ``log_batch`` of ``--batch`` points (1000 = the API's maximum) into one run."""
    exp_id = client.create_experiment(f"ingest-{time.time_ns()}")
    run_id = client.create_run(exp_id).info.run_id
    base_ms = int(time.time() * 1000)
    batches = [
        [Metric(args.key, metric_value(i), base_ms + i, i) for i in range(start, min(start + args.batch, args.points))]
        for start in range(0, args.points, args.batch)
    ]
    per_call: list[float] = []
    start = time.perf_counter()
    for batch in batches:
        t0 = time.perf_counter()
        client.log_batch(run_id, metrics=batch)
        per_call.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    per_call.sort()
    return {
        "run_id": run_id,
        "key": args.key,
        "points": args.points,
        "seconds": seconds,
        "points_per_s": args.points / seconds,
        "batch": args.batch,
        "log_batch_ms_median": median(per_call) * 1e3,
        "log_batch_ms_p99": percentile(per_call, 99) * 1e3,
    }


def history(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """Scenario 2: ``get_metric_history`` of a whole metric, ``--repeat`` times."""
    seeded = None
    if not args.run_id:  # no run from scenario 1 to reuse: seed one (not timed here)
        seeded = ingest(client, args)
        args.run_id = seeded["run_id"]
    times: list[float] = []
    count = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        points = client.get_metric_history(args.run_id, args.key)
        times.append(time.perf_counter() - t0)
        count = len(points)
    return {"times": times, "median_s": median(times), "points": count, "run_id": args.run_id, "seeded": seeded}


def crud(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """Scenario 3: ``create_run`` + ``log_batch`` (params + metrics) + ``set_terminated``, then list."""
    exp_id = client.create_experiment(f"crud-{time.time_ns()}")
    start = time.perf_counter()
    for n in range(args.runs):
        run_id = client.create_run(exp_id).info.run_id
        now_ms = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(f"metric_{j}", metric_value(n * 10 + j), now_ms, 0) for j in range(args.metrics)],
            params=[Param(f"param_{j}", f"value-{n}-{j}") for j in range(args.params)],
        )
        client.set_terminated(run_id)
    create_s = time.perf_counter() - start

    def list_all() -> int:
        total, token = 0, None
        while True:
            page = client.search_runs([exp_id], max_results=args.page_size, page_token=token)
            total += len(page)
            token = page.token
            if not token:
                return total

    list_times: list[float] = []
    listed = 0
    for _ in range(args.list_repeat):
        t0 = time.perf_counter()
        listed = list_all()
        list_times.append(time.perf_counter() - t0)
    return {
        "runs": args.runs,
        "create_s": create_s,
        "runs_per_s": args.runs / create_s,
        "list_times": list_times,
        "list_median_s": median(list_times),
        "listed": listed,
    }


def _load_model(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The benchmark's pickled digits model when this venv's scikit-learn can load it (same version as the
    benchmark's), else the same model trained here on the same data with the same seed."""
    import sklearn

    if sklearn.__version__ == args.sklearn_version:
        import joblib

        return joblib.load(args.model_file), {"model": "the benchmark's pickle", "sklearn": sklearn.__version__}
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x, y = load_digits(return_X_y=True)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        model = LogisticRegression(max_iter=3000, random_state=0).fit(x, y)
    return model, {
        "model": f"retrained here (scikit-learn {sklearn.__version__} != {args.sklearn_version})",
        "sklearn": sklearn.__version__,
    }


def _signature(model: Any) -> Any:
    from mlflow.models import infer_signature
    from sklearn.datasets import load_digits

    x = load_digits().data[:8]
    return infer_signature(x, model.predict(x))


def serving_model(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """Scenario 6: log the digits model (with a signature) for ``mlflow models serve``; return its URI."""
    import mlflow
    import mlflow.sklearn
    import sklearn

    model, origin = _load_model(args)
    mlflow.set_tracking_uri(args.url)
    mlflow.set_experiment(f"serving-{time.time_ns()}")
    with mlflow.start_run() as run:
        start = time.perf_counter()
        info = mlflow.sklearn.log_model(
            model, name="model", signature=_signature(model), pip_requirements=[f"scikit-learn=={sklearn.__version__}"]
        )
        log_s = time.perf_counter() - start
    return {
        "model_uri": info.model_uri,
        "run_id": run.info.run_id,
        "log_s": log_s,
        "serialization": (info.flavors.get("sklearn") or {}).get("serialization_format"),
        **origin,
    }


def register(client: MlflowClient, args: argparse.Namespace) -> dict[str, Any]:
    """Scenario 7: ``mlflow.sklearn.log_model`` + ``mlflow.register_model``, ``--repeat`` times, in one run
    (started before the timers). ``--mode default``: the call as documented (MLflow infers the pip
    requirements, no signature); ``--mode fast``: ``pip_requirements`` and ``signature`` given, which skips
    the requirements inference (MLflow's fastest path)."""
    import mlflow
    import mlflow.sklearn
    import sklearn

    model, origin = _load_model(args)
    mlflow.set_tracking_uri(args.url)
    mlflow.set_experiment(f"register-{args.mode}-{time.time_ns()}")
    kwargs: dict[str, Any] = {}
    if args.mode == "fast":
        kwargs = {"pip_requirements": [f"scikit-learn=={sklearn.__version__}"], "signature": _signature(model)}
    name = f"{args.name}-{args.mode}"
    times, log_times, reg_times, versions = [], [], [], []
    with mlflow.start_run():
        for i in range(args.repeat):
            model.bench_iteration = i  # a different pickle each time, as on our side
            t0 = time.perf_counter()
            info = mlflow.sklearn.log_model(model, name="model", **kwargs)
            t1 = time.perf_counter()
            version = mlflow.register_model(info.model_uri, name)
            t2 = time.perf_counter()
            times.append(t2 - t0)
            log_times.append(t1 - t0)
            reg_times.append(t2 - t1)
            versions.append(int(version.version))
    return {
        "mode": args.mode,
        "times": times,
        "median_s": median(times),
        "log_model_median_s": median(log_times),
        "register_model_median_s": median(reg_times),
        "versions": versions,
        **origin,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["ingest", "history", "crud", "ping", "serving-model", "register"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--key", default="loss")
    parser.add_argument("--run-id")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--params", type=int, default=10)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--list-repeat", type=int, default=3)
    parser.add_argument("--model-file")
    parser.add_argument("--sklearn-version", default="")
    parser.add_argument("--name", default="bench-digits")
    parser.add_argument("--mode", choices=["default", "fast"], default="default")
    args = parser.parse_args()
    client = MlflowClient(tracking_uri=args.url)
    if args.scenario == "ping":
        import mlflow

        client.search_experiments(max_results=1)
        emit_result({"version": mlflow.__version__})
        return
    scenarios = {
        "ingest": ingest,
        "history": history,
        "crud": crud,
        "serving-model": serving_model,
        "register": register,
    }
    emit_result(scenarios[args.scenario](client, args))


if __name__ == "__main__":
    main()
