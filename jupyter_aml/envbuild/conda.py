"""Conda specifications -> PyPI requirements, because these machines reach PyPI and no conda channel.

A v1 environment names its packages in a conda file (``dependencies: [python=3.10, scikit-learn, pip: [...]]``).
Each conda package is turned into its PyPI requirement through ``CONDA_TO_PYPI`` (a rename: ``pytorch`` is
``torch`` on PyPI) or ``SAME_NAME`` (the same project under the same name); ``NATIVE`` packages (BLAS, MKL,
CUDA runtimes, compilers) are skipped, because PyPI wheels carry their own; ``python`` gives the Python version
and ``pip`` is pip itself (skipped). Channels do not exist here: they are kept and ignored, with a note. The
``pip:`` section's ``azureml-*`` packages are skipped too: the jupyter-aml shim provides ``azureml.core`` (a
real azureml-core would talk to Azure). A conda package that is in none of these tables is an error naming it:
the table is in docs/environments.md, with how to add a row.

Stdlib only: the agent imports it inside run environments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# conda name -> PyPI name, where they differ
CONDA_TO_PYPI: dict[str, str] = {
    "pytorch": "torch", "pytorch-cpu": "torch", "pytorch-lightning": "pytorch-lightning",
    "py-xgboost": "xgboost", "py-xgboost-cpu": "xgboost", "libxgboost": "xgboost",
    "tensorflow-cpu": "tensorflow-cpu", "tensorflow-base": "tensorflow",
    "py-opencv": "opencv-python-headless", "opencv": "opencv-python-headless",
    "matplotlib-base": "matplotlib", "pyyaml": "PyYAML", "msgpack-python": "msgpack", "pytables": "tables",
    "py-lightgbm": "lightgbm", "arrow-cpp": "pyarrow", "pyqt": "PyQt5", "typing_extensions": "typing-extensions",
    "importlib_metadata": "importlib-metadata", "ruamel_yaml": "ruamel.yaml", "ruamel.yaml": "ruamel.yaml",
    "protobuf": "protobuf", "libprotobuf": "protobuf", "pillow-simd": "pillow", "jpype1": "JPype1",
    "dask-core": "dask", "scikit-image": "scikit-image", "python-dateutil": "python-dateutil",
    "python-graphviz": "graphviz", "shapely": "shapely", "gdal": "GDAL",
}
# conda packages published on PyPI under the same name
SAME_NAME: frozenset[str] = frozenset({
    "numpy", "scipy", "pandas", "scikit-learn", "tensorflow", "keras", "lightgbm", "xgboost", "catboost",
    "torchvision", "torchaudio", "matplotlib", "seaborn", "plotly", "bokeh", "pillow", "requests", "six", "joblib",
    "nltk", "statsmodels", "sympy", "networkx", "h5py", "pyarrow", "psutil", "tqdm", "click", "flask", "fastapi",
    "uvicorn", "cython", "numba", "llvmlite", "pytest", "jupyter", "notebook", "ipykernel", "ipython", "ipywidgets",
    "dask", "distributed", "mlflow", "sqlalchemy", "pydantic", "tensorboard", "transformers", "tokenizers",
    "datasets", "shap", "xlrd", "openpyxl", "lxml", "beautifulsoup4", "onnx", "onnxruntime", "cloudpickle", "toolz",
    "attrs", "packaging", "setuptools", "wheel", "certifi", "urllib3", "idna", "chardet", "charset-normalizer",
    "markupsafe", "jinja2", "pyparsing", "cycler", "kiwisolver", "fonttools", "threadpoolctl", "pytz", "tzdata",
    "regex", "sentencepiece", "spacy", "gensim", "xarray", "netcdf4", "pyspark", "scikit-optimize", "optuna",
    "hyperopt", "imbalanced-learn", "category_encoders", "patsy", "tabulate", "pyodbc", "pymysql", "psycopg2",
    "boto3", "azure-storage-blob", "fsspec", "s3fs", "gcsfs",
})
# native libraries and toolchains that PyPI wheels bundle: nothing to install
NATIVE: frozenset[str] = frozenset({
    "mkl", "mkl-service", "mkl_fft", "mkl_random", "mkl-include", "intel-openmp", "blas", "libblas", "libcblas",
    "liblapack", "openblas", "libopenblas", "nomkl", "cudatoolkit", "cudnn", "nccl", "cuda-toolkit", "cuda-runtime",
    "cpuonly", "_libgcc_mutex", "_openmp_mutex", "libgcc-ng", "libstdcxx-ng", "libgfortran-ng", "libgfortran5",
    "libffi", "openssl", "ca-certificates", "zlib", "xz", "tk", "sqlite", "readline", "ncurses", "ld_impl_linux-64",
    "gcc_linux-64", "gxx_linux-64", "libuv", "libzlib", "bzip2", "tzdata-conda",
})
SKIPPED_PIP = re.compile(r"^azureml(?:[-_.][A-Za-z0-9._-]+)?$", re.I)  # provided by the shim
# azureml-* packages whose job here is done by PyPI packages the shim's code needs in the run's environment:
# v1's dataset runtime reads datasets (run.input_datasets[...].to_pandas_dataframe()) with these.
SHIM_NEEDS: dict[str, tuple[str, ...]] = {
    "azureml-dataset-runtime": ("pyarrow", "fsspec", "s3fs"),
    "azureml-dataprep": ("pyarrow", "fsspec", "s3fs"),
}
# conda match spec: [channel::]name[ version[ build]] or name{=,==,>=,<=,>,<,!=}version[=build]
_SPEC = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_.-]+)\s*(?P<rest>.*)$")
_PY_PIN = re.compile(r"^(?:==?)?\s*(?P<major>3)\.(?P<minor>[0-9]{1,2})(?:\.[0-9*]+)*(?:=\S+)?$")


class CondaError(ValueError):
    """A conda specification that cannot be honoured here; the message names the package, ``hint`` the fix."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}: {self.hint}" if self.hint else self.message


@dataclass(frozen=True)
class CondaResolution:
    pip: tuple[str, ...]  # PyPI requirements, conda packages first, then the file's pip section
    python_version: str | None  # "3.10" from a ``python=3.10`` entry
    notes: tuple[str, ...] = field(default=())  # what was skipped or ignored, for the build log


def _normal(name: str) -> str:
    return name.strip().lower()


def pypi_name(conda_name: str) -> str | None:
    """The PyPI project of a conda package; "" for one that needs nothing here; None when unknown."""
    name = _normal(conda_name)
    if name in CONDA_TO_PYPI:
        return CONDA_TO_PYPI[name]
    if name in SAME_NAME or name.replace("_", "-") in SAME_NAME:
        return name
    if name in NATIVE:
        return ""
    return None


def _version_part(rest: str) -> tuple[str, str]:
    """(pip version specifier, dropped build string) of a conda spec's tail."""
    rest = rest.strip()
    if not rest:
        return "", ""
    if rest[0] not in "=<>!~":  # "name 1.2 build" form
        parts = rest.split()
        rest, build = "=" + parts[0], " ".join(parts[1:])
    else:
        build = ""
    if rest.startswith("=") and not rest.startswith("=="):  # conda's fuzzy "=1.2": 1.2.*
        version, _, extra = rest[1:].partition("=")
        build = build or extra
        version = version.strip()
        if not version:
            return "", build
        return ("==" + version if version.endswith("*") or version.count(".") >= 2 else f"=={version}.*"), build
    if rest.startswith("==") and rest.count("=") > 2:  # ==1.2=build
        version, _, extra = rest[2:].partition("=")
        return "==" + version.strip(), build or extra
    return rest.replace(" ", ""), build


def python_pin(spec: str) -> str | None:
    """"3.10" of a conda ``python`` entry (``python``, ``python=3.10``, ``python=3.10.4``); None when unpinned."""
    match = _SPEC.match(spec.strip())
    rest = (match.group("rest") if match else "").strip()
    if not rest:
        return None
    pin = _PY_PIN.match(rest)
    if pin is None:
        raise CondaError(f"conda entry {spec!r}: only an exact Python version can be honoured here",
                         hint="write python=3.X")
    return f"{pin.group('major')}.{pin.group('minor')}"


def resolve(conda_packages: Iterable[str], pip: Iterable[str] = (), channels: Iterable[str] = ()) -> CondaResolution:
    """The PyPI requirements and Python version of a conda specification (see the module docstring)."""
    out: list[str] = []
    notes: list[str] = []
    python_version: str | None = None
    unknown: list[str] = []
    chans = [c for c in channels if str(c).strip()]
    if chans:
        notes.append(f"conda channels {', '.join(chans)} ignored: packages come from PyPI here")
    for raw in conda_packages:
        entry = str(raw).strip()
        if not entry:
            continue
        match = _SPEC.match(entry)
        if match is None:
            raise CondaError(f"conda entry {entry!r} is not a package specification", hint="write name or name=1.2")
        name = match.group("name")
        if _normal(name) == "python":
            python_version = python_pin(entry) or python_version
            continue
        if _normal(name) == "pip":
            continue  # pip itself: every venv has it
        target = pypi_name(name)
        if target is None:
            unknown.append(name)
            continue
        if target == "":
            notes.append(f"conda package {name} skipped: native libraries come inside PyPI wheels")
            continue
        version, build = _version_part(match.group("rest"))
        if build:
            notes.append(f"conda build string {build!r} of {name} ignored")
        out.append(target + version)
    if unknown:
        raise CondaError(
            f"conda package{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} ha{'ve' if len(unknown) > 1 else 's'}"
            " no known PyPI equivalent (these machines install from PyPI, not conda channels)",
            hint="move it to the pip section with its PyPI name (CondaDependencies.add_pip_package), or add a row to "
            "CONDA_TO_PYPI in jupyter_aml/envbuild/conda.py (docs/environments.md lists the table)")
    for raw in pip:
        req = str(raw).strip()
        if not req:
            continue
        name = re.split(r"[\s\[<>=!~;@]", req, maxsplit=1)[0]
        if SKIPPED_PIP.match(name):
            needs = list(SHIM_NEEDS.get(_normal(name), ()))
            if needs and "pandas" in req.partition("[")[2].partition("]")[0].lower():
                needs.append("pandas")
            if needs:
                notes.append(f"pip package {name} is provided by the jupyter-aml shim with {', '.join(needs)}")
                out.extend(n for n in needs if n not in out)
            else:
                notes.append(f"pip package {name} skipped: the jupyter-aml shim provides azureml.core")
            continue
        out.append(req)
    return CondaResolution(tuple(out), python_version, tuple(notes))


def resolve_section(section: Mapping[str, Any] | None) -> CondaResolution | None:
    """A spec's ``python.conda_dependencies`` ({channels, dependencies, pip}) resolved; None when absent."""
    if not section:
        return None
    return resolve(section.get("dependencies") or [], section.get("pip") or [], section.get("channels") or [])
