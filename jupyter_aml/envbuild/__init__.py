"""Environment specs -> a ready interpreter: a user-managed Python, or a cached venv keyed by the spec's hash.

Stdlib only: the run agent imports it inside user environments. Used by the agent, serving and the
environment registry, so the rules (the pip rule, the hash, the build lock) live in one place.
"""

from jupyter_aml.envbuild.venv import (
    EnvBuildError,
    PreparedEnv,
    PythonSpec,
    default_managed_flag,
    definition_spec,
    definition_user_managed,
    needs_managed_venv,
    parse_spec,
    spec_hash,
)

__all__ = [
    "EnvBuildError", "PreparedEnv", "PythonSpec", "default_managed_flag", "definition_spec",
    "definition_user_managed", "needs_managed_venv", "parse_spec", "spec_hash",
]
