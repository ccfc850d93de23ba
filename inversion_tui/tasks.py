"""Task packs: YAML files of templated tasks with slots, few-shot examples and references.

A pack renders task *instances*. References (gold commands) travel with an instance for
evaluation only: the prompt builders take the task text, never the instance, so a reference
cannot leak into a prompt or a training pair.
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from inversion_tui.errors import TaskPackError
from inversion_tui.loop.seeding import derive_seed
from inversion_tui.shell import program_name

PACKS_DIR = Path(__file__).resolve().parent.parent / "sample_tasks"


@dataclass(frozen=True)
class Example:
    """A few-shot demonstration: a task and a command that does it."""

    task: str
    command: str


@dataclass(frozen=True)
class Template:
    id: str
    task: str
    references: tuple[str, ...]
    tool: str
    slots: dict[str, tuple[str, ...]]
    line: int


@dataclass(frozen=True)
class TaskInstance:
    """One rendered task. `references` are for evaluation only."""

    task: str
    template_id: str
    tool: str
    references: tuple[str, ...] = ()


@dataclass
class TaskPack:
    name: str
    description: str
    templates: list[Template]
    examples: list[Example] = field(default_factory=list)

    def sample(self, n: int, rng: random.Random) -> list[TaskInstance]:
        """n tasks drawn with replacement (replay's draws, a pack's evaluation sample)."""
        return [render(rng.choice(self.templates), rng) for _ in range(n)]

    def draw_pass(self, n: int, pass_number: int, seed: int) -> list[TaskInstance]:
        """The n tasks of a run's pass `pass_number` (0, 1, 2, ...): the templates without
        replacement over the whole run, every one once before any twice. The run's passes take
        consecutive stretches of one sequence, shuffle after shuffle of the templates, each
        shuffle seeded by the run's seed and its number, so a pool of 150 tasks gives 150
        distinct tasks before one repeats, and a resumed pass draws what it drew before. A
        template's slots are filled from a seed of the pass's own."""
        count = len(self.templates)
        start = pass_number * n
        shuffles = {}
        chosen = []
        for position in range(start, start + n):
            number, at = divmod(position, count)
            if number not in shuffles:
                order = list(range(count))
                random.Random(derive_seed(seed, "task-order", number)).shuffle(order)
                shuffles[number] = order
            chosen.append(self.templates[shuffles[number][at]])
        rng = random.Random(derive_seed(seed, "task-slots", pass_number))
        return [render(template, rng) for template in chosen]

    def split(self, fraction: float) -> tuple["TaskPack", "TaskPack"]:
        """(training, held out): round(fraction x templates) templates, at least one, are held
        out of training, for a held-out evaluation on templates the loop never sees. Chosen by
        a stable hash of the template id, so every run and every resume holds out the same ones."""
        if len(self.templates) < 2:
            raise TaskPackError(f"pack {self.name} has {len(self.templates)} template(s): nothing to hold out")
        ranked = sorted(self.templates, key=lambda t: hashlib.sha256(t.id.encode()).hexdigest())
        count = min(len(ranked) - 1, max(1, round(fraction * len(ranked))))
        held = {t.id for t in ranked[:count]}
        training = [t for t in self.templates if t.id not in held]
        heldout = [t for t in self.templates if t.id in held]
        return (TaskPack(self.name, self.description, training, self.examples),
                TaskPack(f"{self.name} (held out)", self.description, heldout, self.examples))


def slot_names(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def render(template: Template, rng: random.Random) -> TaskInstance:
    if not template.slots:  # a pool's task (task_pools.py): its braces are the command's own
        return TaskInstance(template.task, template.id, template.tool, template.references)
    # One value per slot, shared by the task and its references, so they describe one action.
    values = {name: rng.choice(options) for name, options in template.slots.items()}
    return TaskInstance(
        task=template.task.format(**values),
        template_id=template.id,
        tool=template.tool,
        references=tuple(ref.format(**values) for ref in template.references),
    )


# ---------------------------------------------------------------- loading


def resolve_pack_path(name_or_path: str) -> Path:
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise TaskPackError(f"{name_or_path}: no such task pack file")
        return path
    bundled = PACKS_DIR / f"{name_or_path}.yaml"
    if not bundled.is_file():
        known = ", ".join(available_packs()) or "none"
        raise TaskPackError(f"unknown task pack {name_or_path!r} (bundled: {known}; or give a .yaml path)")
    return bundled


def available_packs() -> list[str]:
    return sorted(p.stem for p in PACKS_DIR.glob("*.yaml"))


def load_packs(spec: str) -> TaskPack:
    """Load one pack or several (comma-separated names or paths) merged into one."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise TaskPackError("no task pack given")
    packs = [load_pack(resolve_pack_path(p)) for p in parts]
    if len(packs) == 1:
        return packs[0]
    return TaskPack(
        name="+".join(p.name for p in packs),
        description="; ".join(p.description for p in packs if p.description),
        templates=[t for p in packs for t in p.templates],
        examples=[e for p in packs for e in p.examples],
    )


def load_pack(path: Path) -> TaskPack:
    return _PackReader(path).read()


class _PackReader:
    """Reads a pack from YAML nodes (not plain dicts) so every error can name its line."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: yaml.Node | None, message: str) -> TaskPackError:
        line = node.start_mark.line + 1 if node is not None else 1
        return TaskPackError(f"{self.path}:{line}: {message}")

    def read(self) -> TaskPack:
        try:
            root = yaml.compose(self.path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except OSError as exc:
            raise TaskPackError(f"{self.path}: cannot read ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise TaskPackError(f"{self.path}: not a UTF-8 text file") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 1
            raise TaskPackError(f"{self.path}:{line}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
        top = self.mapping(root, "the pack", allowed={"name", "description", "slots", "examples", "templates"})
        name = self.text(top["name"]) if "name" in top else self.path.stem
        description = self.text(top["description"]) if "description" in top else ""
        shared_slots = self.slots(top["slots"]) if "slots" in top else {}
        if "templates" not in top:
            raise self.fail(root, "missing 'templates'")
        templates = [
            self.template(node, index, name, shared_slots)
            for index, node in enumerate(self.sequence(top["templates"], "templates"))
        ]
        if not templates:
            raise self.fail(top["templates"], "'templates' is empty")
        seen: dict[str, int] = {}
        for template in templates:
            if template.id in seen:
                raise TaskPackError(f"{self.path}:{template.line}: duplicate template id {template.id!r}")
            seen[template.id] = template.line
        examples = [self.example(n) for n in self.sequence(top["examples"], "examples")] if "examples" in top else []
        return TaskPack(name=name, description=description, templates=templates, examples=examples)

    def template(self, node, index, pack_name, shared_slots) -> Template:
        fields = self.mapping(node, "a template", allowed={"id", "task", "references", "tool", "slots"})
        if "task" not in fields:
            raise self.fail(node, "template has no 'task'")
        task = self.text(fields["task"])
        references = []
        if "references" in fields:
            references = [self.text(n) for n in self.sequence(fields["references"], "references")]
        slots = {**shared_slots, **(self.slots(fields["slots"]) if "slots" in fields else {})}
        self.check_slots(fields["task"], task, slots)
        # Ordered as they appear in the task, never a set: values are drawn in this order, and
        # set order follows per-process string hashing, which made --seed sample differently.
        task_slots = list(dict.fromkeys(slot_names(task)))
        for ref_node, ref in zip(self.sequence(fields["references"], "references") if references else [], references):
            self.check_slots(ref_node, ref, slots)
            extra = sorted(set(slot_names(ref)) - set(task_slots))
            if extra:
                raise self.fail(ref_node, f"reference uses slot {{{extra[0]}}} that the task does not mention")
        tool = self.text(fields["tool"]) if "tool" in fields else (program_name(references[0]) if references else "")
        used = {s: slots[s] for s in task_slots}
        template_id = self.text(fields["id"]) if "id" in fields else f"{pack_name}-{index + 1}"
        return Template(template_id, task, tuple(references), tool, used, node.start_mark.line + 1)

    def check_slots(self, node, text: str, slots: dict) -> None:
        try:
            names = slot_names(text)
        except ValueError as exc:
            raise self.fail(node, f"bad template text {text!r} ({exc})") from None
        for name in names:
            if not name.isidentifier():
                raise self.fail(node, f"bad slot {{{name}}}: slot names are plain identifiers")
            if name not in slots:
                raise self.fail(node, f"unknown slot {{{name}}}")

    def example(self, node) -> Example:
        fields = self.mapping(node, "an example", allowed={"task", "command"})
        for key in ("task", "command"):
            if key not in fields:
                raise self.fail(node, f"example has no {key!r}")
        return Example(self.text(fields["task"]), self.text(fields["command"]))

    def slots(self, node) -> dict[str, tuple[str, ...]]:
        result = {}
        for name, value_node in self.mapping(node, "slots").items():
            values = tuple(self.text(v) for v in self.sequence(value_node, f"slot {name!r}"))
            if not values:
                raise self.fail(value_node, f"slot {name!r} has no values")
            result[name] = values
        return result

    # --- node shapes

    def mapping(self, node, what: str, allowed: set[str] | None = None) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        result = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if allowed is not None and key not in allowed:
                raise self.fail(key_node, f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})")
            result[key] = value_node
        return result

    def sequence(self, node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            raise self.fail(node, "expected a non-empty text value")
        return str(node.value).strip()
