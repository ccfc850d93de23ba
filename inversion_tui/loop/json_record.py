"""The base of every record kept in a run file (progress.json's and the results file's): known
keys are dataclass fields, unknown ones are kept and written back."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, ClassVar


class JsonRecord:
    """A dataclass kept in a run file: known keys are fields, keys this version does not know
    stay in `extra` and are written back. A record read from a file is written back with the
    keys it was read with and any field since set to other than its default (an older run's
    file keeps its shape when a resume rewrites it); one made in this version writes every
    field. `NESTED`, `LISTS` and `DICTS` name the fields that hold records, lists of them, and
    dicts of them by name; `OMITTED_WHEN_NONE` the fields written only when they hold something
    (their absence says something, as `vs_base` absent: paired with nothing)."""

    NESTED: ClassVar[dict[str, type]] = {}
    LISTS: ClassVar[dict[str, type]] = {}
    DICTS: ClassVar[dict[str, type]] = {}
    OMITTED_WHEN_NONE: ClassVar[tuple[str, ...]] = ()
    # The keys of the file it came from; None: made here. Not a field: `==` ignores it (compare
    # to_json() where the shape matters), and dataclasses.replace gives a record made here.
    _read_keys: frozenset[str] | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]):
        names = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in data.items() if k in names}
        for name, kind in cls.NESTED.items():
            if isinstance(values.get(name), dict):
                values[name] = kind.from_json(values[name])
        for name, kind in cls.LISTS.items():
            if name in values:
                values[name] = [kind.from_json(item) for item in values[name] or ()]
        for name, kind in cls.DICTS.items():
            if isinstance(values.get(name), dict):
                values[name] = {key: kind.from_json(item) for key, item in values[name].items()}
        record = cls(**values, extra={k: v for k, v in data.items() if k not in names})
        record._read_keys = frozenset(data)
        return record

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or (self._read_keys is not None and f.name not in self._read_keys
                                     and value == _default(f)):
                continue
            if value is None and f.name in self.OMITTED_WHEN_NONE:
                continue
            if hasattr(value, "to_json"):  # a record, or a typed value of one (metrics.PairedDifference)
                value = value.to_json()
            elif isinstance(value, list) and f.name in self.LISTS:
                value = [item.to_json() for item in value]
            elif isinstance(value, dict) and f.name in self.DICTS:
                value = {key: item.to_json() for key, item in value.items()}
            data[f.name] = value
        return {**data, **self.extra}


def _default(f) -> Any:
    return f.default_factory() if f.default_factory is not MISSING else f.default
