"""A pipeline's graph, checked before anything is created: unique step and output names, every input produced
by some step, no cycle, every parameter known and of its default's type. Pure functions of the submitted
spec, so the submit route, ``pipeline.validate()`` and the driver share one definition of "valid"."""

from __future__ import annotations

from typing import Any

from jupyter_aml.core.models import DataOutput
from jupyter_aml.core.pipelines_models import PARAMETER_TOKEN, PipelineRunCreate, PipelineStepSpec
from jupyter_aml.errors import InvalidInput, ValidationError


def producers(spec: PipelineRunCreate) -> dict[str, tuple[str, DataOutput]]:
    """Each output name -> (the step that writes it, the output)."""
    out: dict[str, tuple[str, DataOutput]] = {}
    for step in spec.steps:
        for output in step.run_config.outputs:
            if output.name in out:
                raise InvalidInput(f"output {output.name!r} is written by both step {out[output.name][0]!r} and "
                                   f"step {step.name!r}", hint="give each PipelineData / OutputFileDatasetConfig "
                                   "its own name")
            out[output.name] = (step.name, output)
    return out


def dependencies(spec: PipelineRunCreate) -> dict[str, list[str]]:
    """Each step -> the steps it waits for (the producers of its inputs, then its run_after), checked."""
    names = [s.name for s in spec.steps]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidInput(f"step name(s) {twice} are used more than once", hint="give each step its own name")
    made = producers(spec)
    deps: dict[str, list[str]] = {}
    for step in spec.steps:
        seen = [i.name for i in step.inputs] + [i.name for i in step.run_config.inputs] + \
            [o.name for o in step.run_config.outputs]
        again = sorted({n for n in seen if seen.count(n) > 1})
        if again:
            raise InvalidInput(f"step {step.name!r} uses the input/output name(s) {again} more than once",
                               hint="give each input and output of a step its own name (as_input(name=...))")
        mine: list[str] = []
        for item in step.inputs:
            if item.source not in made:
                raise InvalidInput(f"step {step.name!r} reads {item.source!r}, which no step of the pipeline "
                                   "produces", hint="add the step that writes it to the pipeline's steps, or pass "
                                   "a registered dataset instead")
            producer = made[item.source][0]
            if producer == step.name:
                raise InvalidInput(f"step {step.name!r} reads its own output {item.source!r}")
            if producer not in mine:
                mine.append(producer)
        for other in step.run_after:
            if other not in names:
                raise InvalidInput(f"step {step.name!r} runs after {other!r}, which is not a step of the pipeline",
                                   hint="add that step to the pipeline's steps")
            if other == step.name:
                raise InvalidInput(f"step {step.name!r} cannot run after itself")
            if other not in mine:
                mine.append(other)
        deps[step.name] = mine
    return deps


def order(spec: PipelineRunCreate) -> list[str]:
    """The steps in an order they may run (Kahn's algorithm, ties by submission order); a cycle is refused
    naming its steps."""
    deps = dependencies(spec)
    done: list[str] = []
    left = [s.name for s in spec.steps]
    while left:
        ready = [n for n in left if all(d in done for d in deps[n])]
        if not ready:
            raise InvalidInput(f"the pipeline has a cycle through steps {_cycle(deps, left)}",
                               hint="a step cannot depend, through its inputs or run_after, on itself")
        done.extend(ready)
        left = [n for n in left if n not in ready]
    return done


def _cycle(deps: dict[str, list[str]], left: list[str]) -> list[str]:
    """One cycle among the steps that cannot run, in order (follow dependencies until a step repeats)."""
    path: list[str] = []
    current = left[0]
    while current not in path:
        path.append(current)
        current = next(d for d in deps[current] if d in left)
    return [*path[path.index(current):], current]


def parameter_values(spec: PipelineRunCreate) -> dict[str, Any]:
    """The value of each parameter: its assignment, else its default. An unknown name or a value of another
    type than the default's is a ValidationError (422), and so is a step naming an unknown parameter."""
    defaults = {p.name: p.default_value for p in spec.parameters}
    unknown = sorted(set(spec.parameter_assignments) - set(defaults))
    if unknown:
        raise ValidationError(f"pipeline_parameters {unknown} are not parameters of this pipeline",
                              hint="its parameters: " + (", ".join(sorted(defaults)) or "none"))
    values = dict(defaults)
    for name, value in spec.parameter_assignments.items():
        values[name] = _typed(name, value, defaults[name])
    for step in spec.steps:
        for used in _parameters_in(step):
            if used not in values:
                raise ValidationError(f"step {step.name!r} uses PipelineParameter {used!r}, which the pipeline "
                                      "does not declare", hint="declare it with PipelineParameter(name, default)")
    return values


def _typed(name: str, value: Any, default: Any) -> Any:
    kind = type(default)
    ok = (isinstance(value, bool) if kind is bool else
          isinstance(value, int) and not isinstance(value, bool) if kind is int else
          isinstance(value, (int, float)) and not isinstance(value, bool) if kind is float else
          isinstance(value, str))
    if not ok:
        raise ValidationError(f"pipeline parameter {name!r} is a {kind.__name__} (its default is {default!r}), "
                              f"not {type(value).__name__} {value!r}", hint=f"assign a {kind.__name__}")
    return float(value) if kind is float else value


def _parameters_in(step: PipelineStepSpec) -> list[str]:
    texts = [*step.run_config.arguments, *step.params.values()]
    return [t[len(PARAMETER_TOKEN):] for t in texts if t.startswith(PARAMETER_TOKEN)]


def as_text(value: Any) -> str:
    """A parameter's value as a script sees it (v1: booleans as True/False, numbers as Python prints them)."""
    return str(value)


def substitute(text: str, values: dict[str, Any]) -> str:
    """An argument or params value with a parameter token replaced by the parameter's value."""
    if text.startswith(PARAMETER_TOKEN):
        return as_text(values[text[len(PARAMETER_TOKEN):]])
    return text
