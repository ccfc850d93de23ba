"""The commands' options, made from the settings they set.

Every RunSettings field is a flag of `run`, and a field of EvalSettings one of `eval`: its name
(`select_k` -> `--select-k`), its default, its docstring as help and its panel in --help all
come from the field (settings.py), so a new setting is a new flag with nothing written here.
`score` and `eval` take the run's settings they share by name. A command declares its own
options (a Typer parameter each) only for what is not a setting: `--headless`, `--json`.
"""

from __future__ import annotations

import inspect
import re
import types
from typing import Any, Callable, Literal, Optional, Union, get_args, get_origin

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from inversion_tui.loop.components import default_weights

KEYWORD = inspect.Parameter.KEYWORD_ONLY

WEIGHTS_HELP = ("Score component weights, name=value,... (a component not named keeps its default; =0 turns one "
                "off); the score is the weighted mean over the components present. Default: "
                + ",".join(f"{name}={value:g}" for name, value in default_weights().items() if value > 0))


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _command_line_type(annotation: Any) -> Any:
    """The type Typer parses a setting's flag as: a choice (Literal) is text that the settings'
    own validation refuses in one line; a tuple is given comma-separated."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return Optional[_command_line_type(inner[0])]
    if origin is Literal:
        return type(get_args(annotation)[0])
    if origin is tuple:
        return Optional[str]
    return annotation


def _help(model: type[BaseModel], field: FieldInfo) -> str:
    """The field's docstring on one line, the other settings it names spelled as their flags,
    led by the choices where the setting is one of a few."""
    text = " ".join((field.description or "").split())
    text = re.sub(r"`([^`]+)`", lambda m: flag_name(m[1]) if m[1] in model.model_fields else m[1], text)
    kinds = get_args(field.annotation) if get_origin(field.annotation) in (Union, types.UnionType) else (field.annotation,)
    choices = [value for kind in kinds if get_origin(kind) is Literal for value in get_args(kind)]
    if isinstance(field.json_schema_extra, dict):
        choices += field.json_schema_extra.get("choices", ())
    return f"{' | '.join(choices)}: {text}" if choices else text


def setting_option(model: type[BaseModel], name: str, *, flag: str | None = None, default: Any = ...,
                   help: str | None = None, panel: str | None = None, param: str | None = None) -> inspect.Parameter:
    """One setting as a Typer option: its default, help and panel unless this command says
    otherwise (`param`: the keyword the command receives it as, where two models share a name)."""
    field = model.model_fields[name]
    value = field.default if default is ... else default
    kind = _command_line_type(field.annotation)
    if get_origin(field.annotation) is tuple and value == ():
        value = None  # not given: the setting's own default
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    option = typer.Option(value, flag or flag_name(name), help=help or _help(model, field),
                          rich_help_panel=panel or extra.get("panel"))
    return inspect.Parameter(param or name, KEYWORD, default=option, annotation=kind)


def option(name: str, kind: Any, default: Any, *flags: str, help: str, panel: str | None = None) -> inspect.Parameter:
    """An option that is not a setting (how a command runs or prints)."""
    return inspect.Parameter(name, KEYWORD, default=typer.Option(default, *(flags or (flag_name(name),)), help=help,
                                                                 rich_help_panel=panel),
                             annotation=kind)


def argument(name: str, kind: Any, help: str) -> inspect.Parameter:
    return inspect.Parameter(name, KEYWORD, default=typer.Argument(..., help=help), annotation=kind)


def weights_options(panel: str | None = "Scoring", self_rating: bool = True) -> list[inspect.Parameter]:
    """--weights and the switches that change it: one setting (`weights`) on the command line."""
    options = [option("weights", Optional[str], None, help=WEIGHTS_HELP, panel=panel),
               option("mask_literals", bool, False, "--mask-literals",
                      help="Score overlap and difflib with IPs, ports, paths and URLs masked.", panel=panel)]
    if self_rating:
        options.insert(1, option("self_rating", bool, False, "--self-rating",
                                 help="Add the model's own 0-10 rating to the score.", panel=panel))
    return options


def run_settings_options(exclude: tuple[str, ...] = ("weights",)) -> list[inspect.Parameter]:
    """Every run setting as a flag of `run`, in the settings' order."""
    from inversion_tui.settings import RunSettings

    return [setting_option(RunSettings, name) for name in RunSettings.model_fields if name not in exclude]


def with_options(*parameters: inspect.Parameter, context: bool = False) -> Callable[[Callable], Callable]:
    """Give a command the signature Typer reads its options from; the command takes them as
    keyword arguments (`**values`). Arguments come first, in the order given."""
    def decorate(command: Callable) -> Callable:
        ordered = sorted(parameters, key=lambda p: not isinstance(p.default, typer.models.ArgumentInfo))
        params = ([inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
                  if context else []) + ordered
        command.__signature__ = inspect.Signature(params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate

