"""One validated settings object for a run. Flag names and defaults follow the seed.

Validation happens once, here, at the edge; the engine trusts what it is given.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from inversion_tui.errors import SettingsError
from inversion_tui.loop.backend import BUNDLED_EMBEDDER, BUNDLED_GENERATOR, GENERATORS
from inversion_tui.loop.components import component_names, default_weights, mask_weights
from inversion_tui.loop.objectives import OBJECTIVES
from inversion_tui.loop.select import DEFAULT_K, DEFAULT_KEEP_TOP, RULES

# Score components, their default weights and what they measure: loop/components.py's REGISTRY.

SELF_RATING_ON_WEIGHT = 1.0
"""Weight given to self_rating when it is switched on with a flag but no weight was named."""

BUNDLED_SUITES = ("intercode", "intercode:a", "intercode:b")
"""Held-out suites shipped as data (eval_sets.py): `eval --suite` takes these (InterCode-ALFA's
300 tasks, or one of its two fixed halves)."""
EVAL_SUITES = (*BUNDLED_SUITES, "holdout", "pool")
"""Held-out suites a run can evaluate on besides a task file: the bundled ones, the tasks the
run holds out of training (`holdout`), and the pool's own tasks (`pool`: test-time training,
not a held-out measure; see eval_sets.py)."""



# Where each setting's flag is listed in `run --help` (cli/flags.py makes the flags from the fields);
# a setting whose values a registry names lists them as its "choices".
LOOP, SCORING, MODEL, OUTPUT, EVALUATION = ({"panel": name} for name in ("Loop", "Scoring", "Model", "Output",
                                                                        "Evaluation"))


NAMED_BY = {"select": "selection rule", "engine": "engine", "objective": "objective"}
"""What a setting names from a registry is called in its error."""


class RunSettings(BaseModel):
    """Everything a run needs to know. Saved as settings.json in the run directory."""

    # The field docstrings are the flags' help (use_attribute_docstrings makes them descriptions).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True)

    # The loop's defaults (cycles, tasks, candidates, pack, tasks_from, train_from, select,
    # threshold, objective) are the recipe of issue 14's screen that held up on all 300
    # InterCode tasks, `thr-base-core` (docs/RESULTS.md): what every new user measures.
    cycles: int = Field(3, ge=1, json_schema_extra=LOOP)
    """Number of before -> train -> after cycles."""
    tasks: int = Field(16, ge=1, json_schema_extra=LOOP)
    """Tasks sampled for each pass (before and after each draw a fresh sample)."""
    candidates: int = Field(4, ge=1, le=64, json_schema_extra=LOOP)
    """Candidate commands generated per task."""
    threshold: float = Field(0.4, ge=0.0, le=1.0, json_schema_extra=SCORING)
    """A candidate is accepted when its score is at least this (and no guard flagged it); under
    best-per-task and top-k it is the floor; keep-top does not use it."""
    select: str = Field("threshold", json_schema_extra={**SCORING, "choices": RULES})
    """Which candidates join the training pool (loop/select.py): all above the threshold, or
    only the best (best-per-task) or the `select_k` best (top-k) of each task's above it, or
    (keep-top) each task's best for the `keep_top` fraction of tasks whose best scores highest,
    by rank alone, with no threshold."""
    select_k: int = Field(DEFAULT_K, ge=1, json_schema_extra=SCORING)
    """How many of a task's candidates top-k keeps."""
    keep_top: float = Field(DEFAULT_KEEP_TOP, gt=0.0, le=1.0, json_schema_extra=SCORING)
    """The fraction of a pass's tasks keep-top trains on, in (0, 1]: those whose best candidate
    scores highest, max(1, round(Q x tasks)) of them; the threshold does not apply."""
    temperature: float = Field(0.7, ge=0.0, le=5.0, json_schema_extra=LOOP)
    """Sampling temperature of the forward pass; 0 means greedy."""
    inverse_temperature: float = Field(0.0, ge=0.0, le=5.0, json_schema_extra=LOOP)
    """Temperature of the inverse pass; greedy by default so a command always gets the same
    reconstruction and the score measures the command, not sampling luck."""
    model: str = Field(BUNDLED_GENERATOR, json_schema_extra=MODEL)
    """Generator: the bundled name, a local directory, or a hub id."""
    engine: str = Field("hf", json_schema_extra={**MODEL, "choices": tuple(GENERATORS)})
    """Where commands are generated (loop/backend.GENERATORS): hf = transformers, on the model the
    trainer trains. The embedder and the trainer are Hugging Face's whatever the engine."""
    embedder: str = Field(BUNDLED_EMBEDDER, json_schema_extra=MODEL)
    """Sentence-transformers model for the embedding-cosine component."""
    quant: Literal["auto", "none", "4bit"] = Field("auto", json_schema_extra=MODEL)
    """4bit = bitsandbytes NF4 with double quantization; auto = 4bit only where it pays: on a GPU,
    for a model whose dense weights would fill more than 40% of its memory; none otherwise."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field("auto", json_schema_extra=MODEL)
    """Compute dtype: auto = bfloat16 on a GPU that has it, float16 on one that does not (Turing
    and older), float32 on a CPU (where bf16 matmuls are slow)."""
    gradient_checkpointing: Literal["auto", "on", "off"] = Field("auto", json_schema_extra=MODEL)
    """Recompute activations in training to save memory. auto = on only on a GPU where a
    training batch's activations would not fit beside the model; off keeps training's faster
    shared-prefix path."""
    output: Path | None = Field(None, json_schema_extra=OUTPUT)
    """Run directory; default ./output/<model>-<timestamp>."""
    pack: str = Field("pentest,shell", json_schema_extra=LOOP)
    """Task pack name(s) from sample_tasks/ or path(s) to YAML files, comma-separated: the few-shot
    examples of every prompt, and the templates a run draws on with --tasks-from packs. Both
    packs, as every run of issue 14's screen had them."""
    # None, as runs saved before this default have it, means `packs`.
    tasks_from: str | None = Field("cheat-basics", json_schema_extra=LOOP)
    """Where each pass draws its tasks: cheat-basics (the cheat package's 137 tasks for basic
    programs: the pool of the best recipe of issue 14's screen, docs/RESULTS.md), cheat (all its
    cheatsheets, ~900 tasks over ~170 programs), a file of task descriptions (one per line, or
    JSONL), or packs (the `pack` templates). The few-shot examples come from `pack` either way."""
    lr: float = Field(2e-4, gt=0.0, le=1.0, json_schema_extra=MODEL)
    """LoRA learning rate."""
    batch_size: int = Field(4, ge=1, json_schema_extra=MODEL)
    """Training micro-batch size."""
    train_from: Literal["last", "base"] = Field("base", json_schema_extra=MODEL)
    """last = each step goes on from the adapter so far; base = each step starts from a fresh
    adapter (the base model) and trains on every example accepted so far, accumulated."""
    patience: int = Field(0, ge=0, json_schema_extra=LOOP)
    """Stop when `patience_on` has not improved on its best for this many cycles (0: never)."""
    patience_on: str = Field("score", json_schema_extra=LOOP)
    """What --patience tracks (loop/stopping.py): score (the AFTER pass's mean score, by the
    verifier), consensus (agreement of a task's candidates on a program), or the name of a
    held-out set (its right-program accuracy: labels, so report on another set)."""
    replay: float = Field(0.0, ge=0.0, le=4.0, json_schema_extra=MODEL)
    """Add this many of the base model's own greedy commands on fresh pool tasks per training
    example (0.5: one for every two), unflagged ones only; SFT only."""
    replay_from: str | None = Field(None, json_schema_extra=MODEL)
    """Where --replay draws its tasks: a pool (`cheat`) or a file, as `tasks_from`; default the
    run's own task pool. A broad pool holds in place what the model did on programs the training
    pool lacks; held-out templates are never drawn."""
    objective: str = Field("sft", json_schema_extra={**MODEL, "choices": tuple(OBJECTIVES)})
    """What a training step optimises (loop/objectives.py): sft = the accepted commands'
    likelihood; dpo = each accepted command preferred to the lowest-scoring other command of its
    task, against the base model (the adapter off) as the reference."""
    dpo_beta: float = Field(0.1, gt=0.0, le=10.0, json_schema_extra=MODEL)
    """DPO's beta: how far the policy may move from the reference for a preference."""
    epochs: int = Field(1, ge=1, json_schema_extra=MODEL)
    """Epochs over the accepted pool per training step."""
    gen_batch_size: int = Field(8, ge=1, json_schema_extra=MODEL)
    """Tasks per batched generate call (each yields `candidates` sequences)."""
    max_new_tokens: int = Field(48, ge=4, le=1024, json_schema_extra=LOOP)
    """Token budget for a generated command or reconstruction."""
    seed: int = Field(0, json_schema_extra=LOOP)
    """Seeds task sampling, generation sampling and training order."""
    weights: dict[str, float] = Field(default_factory=default_weights, json_schema_extra=SCORING)
    """Score component weights; the score is the weighted mean over the components present."""
    few_shot: int = Field(2, ge=0, le=8, json_schema_extra=LOOP)
    """Demonstrations from the task pack put in the forward and inverse prompts."""
    eval_file: Path | None = Field(None, json_schema_extra=EVALUATION)
    """JSONL held-out tasks evaluated before cycle 1 and after every cycle."""
    # Runs saved before several suites were allowed hold one name or null.
    eval_suite: tuple[str, ...] = Field((), json_schema_extra=EVALUATION)
    """Sets evaluated before cycle 1 and after every cycle, each on its own, comma-separated:
    intercode (all 300), intercode:a or intercode:b (its fixed halves), holdout (the tasks
    `holdout` keeps out of training), pool (the pool's own tasks: test-time training, not a
    held-out gain; needs references)."""
    holdout: float = Field(0.0, ge=0.0, lt=1.0, json_schema_extra=EVALUATION)
    """Fraction of the training pool kept out of training, for `eval_suite` holdout, fixed by
    id whatever the seed: of a file's tasks (each its own unless it gives a group), a cheat
    pool's programs, the packs' templates."""
    eval_limit: int | None = Field(None, ge=1, json_schema_extra=EVALUATION)
    """Evaluate only N tasks of each set: a suite's or file's first N, a pool's (holdout, pool)
    fixed N; without it every task (the packs' templates: 100 samples)."""
    verifier: Literal["base", "policy"] = Field("base", json_schema_extra=SCORING)
    """Which weights score: base = the inversion and the likelihood components come from the
    base model (the adapter switched off while scoring), so the scorer cannot drift with the
    policy it judges; policy = the weights being trained (runs before this option)."""
    placeholders: bool = Field(False, json_schema_extra=SCORING)
    """The inverter reads commands with typed placeholders for literals (<IP>, <PATH>, <NUMBER>,
    <STRING>, ...), and tasks are compared with them too: copied literals cannot carry a score."""
    eval_samples: int = Field(0, ge=0, le=64, json_schema_extra=EVALUATION)
    """Also sample N commands per held-out task at each evaluation: the verification gap
    (best of N by the score, a random one, any of N right) beside greedy. 0 = greedy only."""
    allow_flagged: bool = Field(False, json_schema_extra=SCORING)
    """Let candidates flagged by a guard be accepted (and trained on) when they score enough."""
    lora_r: int = Field(16, ge=1, json_schema_extra=MODEL)
    """LoRA rank: the adapter's size (trainable parameters grow with it)."""
    lora_alpha: int = Field(32, ge=1, json_schema_extra=MODEL)
    """LoRA alpha: the adapter's update is scaled by alpha / rank."""
    lora_dropout: float = Field(0.05, ge=0.0, lt=1.0, json_schema_extra=MODEL)
    """Dropout on the adapter's input in training."""

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, weights: dict[str, float]) -> dict[str, float]:
        return check_weights(weights)

    @model_validator(mode="after")
    def _default_output(self) -> "RunSettings":
        if self.output is None:
            short = Path(self.model.rstrip("/")).name or "model"
            stamp = time.strftime("%Y%m%d-%H%M%S")
            object.__setattr__(self, "output", Path("output") / f"{short}-{stamp}")
        return self

    @field_validator("select", "engine", "objective")
    @classmethod
    def _registered(cls, name: str, info: ValidationInfo) -> str:
        """A name one of the registries holds (their "choices", which --help lists)."""
        return one_of(name, NAMED_BY[info.field_name], cls.model_fields[info.field_name].json_schema_extra["choices"])

    @field_validator("eval_suite", mode="before")
    @classmethod
    def _split_suites(cls, value):
        if value is None:
            return ()
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for name in value:
            one_of(name, "suite", EVAL_SUITES)
        if len(set(value)) != len(value):
            raise ValueError("a suite is named twice")
        return tuple(value)

    @model_validator(mode="after")
    def _eval_sources(self) -> "RunSettings":
        if "holdout" in self.eval_suite and self.holdout <= 0:
            raise ValueError("--eval-suite holdout needs --holdout F (the fraction of templates held out)")
        if "pool" in self.eval_suite and self.tasks_from in (None, "packs"):
            raise ValueError("--eval-suite pool measures a pool of tasks (--tasks-from FILE or a pool), "
                             "not the packs' templates")
        sets = list(self.eval_suite) + ([Path(self.eval_file).stem] if self.eval_file else [])
        if self.patience_on not in ("score", "consensus", *sets):
            raise ValueError(f"--patience-on {self.patience_on!r}: score, consensus or a held-out set of this run "
                             f"({', '.join(sets) or 'none given'})")
        return self

    @model_validator(mode="after")
    def _objective_settings(self) -> "RunSettings":
        """A hyperparameter of another objective than the one chosen would be silently unused."""
        for spec in OBJECTIVES.values():
            for name in spec.owns if spec.name != self.objective else ():
                if getattr(self, name) != type(self).model_fields[name].default:
                    raise ValueError(f"--{name.replace('_', '-')} is a setting of --objective {spec.name} "
                                     f"(this run's is {self.objective})")
        return self

    @model_validator(mode="after")
    def _replay_needs_sft(self) -> "RunSettings":
        if self.replay > 0 and not OBJECTIVES[self.objective].takes_replay:
            raise ValueError(f"--replay adds SFT examples; a {self.objective} step cannot train on them "
                             "(use --objective sft)")
        if self.replay_from is not None and self.replay <= 0:
            raise ValueError("--replay-from says where --replay draws its tasks: give --replay R too")
        return self

    @property
    def self_rating_enabled(self) -> bool:
        return self.weights.get("self_rating", 0.0) > 0


def one_of(name: str, what: str, known) -> str:
    """`name`, or a ValueError saying it is not one of `known` and what is."""
    if name not in known:
        raise ValueError(f"unknown {what} {name!r} (known: {', '.join(known)})")
    return name


TASKS = {"panel": "Tasks"}


class EvalSettings(BaseModel):
    """What `inversion-tui eval` evaluates and what it writes; the model, prompts and scoring it
    shares with a run are RunSettings (cli/eval_commands.py passes them through)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    tasks_file: Path | None = Field(None, json_schema_extra=TASKS)
    """JSONL tasks with their references: {"task": ..., "references": [...]} a line."""
    suite: str | None = Field(None, json_schema_extra=TASKS)
    """A bundled suite: intercode (InterCode-ALFA's 300 NL-to-bash tasks)."""
    pack: str | None = Field(None, json_schema_extra=TASKS)
    """Sample tasks (with their templates' references) from a task pack."""
    limit: int | None = Field(None, json_schema_extra=TASKS)  # checked with the sources (its message is the flag's)
    """Evaluate the first N tasks (a pack samples N, default 100)."""
    adapter: Path | None = None
    """A LoRA checkpoint directory of a run, or a run directory: its best adapter."""
    samples: int = Field(0, ge=0, le=64)
    """Also sample N commands per task: the verification gap (best of N by the score, a random
    one, the oracle) beside greedy, and each component's AUROC."""
    save_rows: Path | None = Field(None, json_schema_extra=OUTPUT)
    """Write one JSONL row per task (command, reconstruction, score, metrics)."""
    paired_with: Path | None = Field(None, json_schema_extra=OUTPUT)
    """Rows of an earlier --save-rows on the same tasks: adds the change, task by task."""
    save_samples: Path | None = Field(None, json_schema_extra=OUTPUT)
    """Write one JSONL row per sample (components, flags, metrics); needs --samples."""
    hints: Literal["none", "docs"] = "none"
    """docs: put before each task the programs whose manual NAME lines match it best (needs the
    index `make setup` builds); measured in docs/RESULTS.md, not a default."""
    hints_k: int = Field(3, ge=1, le=10)
    """How many programs --hints docs names a task."""

    @field_validator("suite")
    @classmethod
    def _bundled_suite(cls, name: str | None) -> str | None:
        return None if name is None else one_of(name, "suite", BUNDLED_SUITES)

    @model_validator(mode="after")
    def _one_source_and_new_files(self) -> "EvalSettings":
        if len(self.sources) != 1:
            raise ValueError("give exactly one task source: --tasks-file, --suite or --pack (with --adapter too)")
        if self.limit is not None and self.limit < 1:
            raise ValueError("--limit must be at least 1")
        for flag, path in (("--save-rows", self.save_rows), ("--save-samples", self.save_samples)):
            if path is not None and path.exists():
                raise ValueError(f"{flag} {path}: already exists (remove it or name another file)")
            if path is not None and not path.parent.is_dir():
                raise ValueError(f"{flag} {path}: no such directory {path.parent}")
        if self.save_samples is not None and not self.samples:
            raise ValueError("--save-samples needs --samples N")
        if self.hints == "none" and self.hints_k != type(self).model_fields["hints_k"].default:
            raise ValueError("--hints-k needs --hints docs")
        return self

    @property
    def sources(self) -> list[str]:
        """The task source given, as the flag and what it named (the report's title says it)."""
        return [f"--{name.replace('_', '-')} {value}" for name, value in
                (("tasks_file", self.tasks_file), ("suite", self.suite), ("pack", self.pack)) if value]


def check_weights(weights: dict[str, float]) -> dict[str, float]:
    """Every component named, none unknown, none negative, not all zero. Raises ValueError;
    used for --weights and for weights typed in the UI alike."""
    names = component_names()
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(f"unknown component {unknown[0]!r} (known: {', '.join(names)})")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must be >= 0")
    full = {name: float(weights.get(name, 0.0)) for name in names}
    if sum(full.values()) <= 0:
        raise ValueError("at least one weight must be > 0")
    return full


def command_line_weights(text: str | None, self_rating: bool, mask_literals: bool = False) -> dict[str, float]:
    """--weights with the switches that change it: --self-rating weighs the model's own rating
    in (SELF_RATING_ON_WEIGHT unless --weights named one), --mask-literals moves overlap and
    difflib onto their literal-masked variants."""
    result = parse_weights(text or "")
    if self_rating and result["self_rating"] <= 0:
        result["self_rating"] = SELF_RATING_ON_WEIGHT
    return mask_weights(result) if mask_literals else result


def parse_weights(text: str) -> dict[str, float]:
    """Parse `embed=0.6,overlap=0.2` into a dict; names are checked by RunSettings."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise SettingsError(f"--weights: expected name=value, got {part!r}")
        try:
            weights[name.strip()] = float(value)
        except ValueError:
            raise SettingsError(f"--weights: {name.strip()}={value!r} is not a number") from None
    return {**default_weights(), **weights}


AS_SAVED_BEFORE = {"verifier": "policy", "tasks_from": None, "train_from": "last"}
"""What a run saved before a setting existed ran with, where today's default differs: it scored
with the policy's own weights (before --verifier), drew on the packs (before --tasks-from) and
trained on from the last adapter (before --train-from). Every reader that rebuilds a saved
run's settings fills these in (`as_saved`), so a resume, a replay or a report sees the run as
it ran."""


def as_saved(saved: dict) -> dict:
    """A run's settings.json with every setting it lacks filled in as it ran: AS_SAVED_BEFORE
    where today's default differs, the default otherwise. Every reader of settings.json goes
    through here, so none restates a default."""
    defaults = {name: field.get_default(call_default_factory=True) for name, field in RunSettings.model_fields.items()}
    filled = {**defaults, **AS_SAVED_BEFORE, **saved}
    # Runs saved before other objectives' settings were refused (`--dpo-beta` with sft) never
    # used them: they read back with the default, as they ran.
    spec = OBJECTIVES.get(filled["objective"])
    for other in OBJECTIVES.values():
        if spec is not None and other is not spec:
            filled.update({name: defaults[name] for name in other.owns})
    return filled


def saved_settings(saved: dict) -> RunSettings:
    """A run's settings.json as RunSettings, as it ran."""
    return build_settings(**as_saved(saved))


def build_settings(flags: dict[str, str] | None = None, **values) -> RunSettings:
    """Build settings, turning pydantic's multi-line report into one line a user can act on."""
    return build(RunSettings, flags, **values)


def build(kind: type[BaseModel], flags: dict[str, str] | None = None, **values):
    """Settings of `kind`, or a SettingsError of one line naming the flag (`flags`: a command's
    own spelling of a setting's flag, as eval's --batch-size for gen_batch_size)."""
    try:
        return kind(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        # A check across settings names its flags in its message; one setting's check does not.
        flag = (flags or {}).get(where) or f"--{where.replace('_', '-')}"
        raise SettingsError(f"{flag}: {message}" if where else message) from None
