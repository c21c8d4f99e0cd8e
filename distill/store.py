"""The annotation store: one SQLite file in WAL mode, one row per (text id, teacher model, prompt version).

Every teacher answer is committed the moment it arrives, so a run killed at any point (even `kill -9`)
loses nothing that had arrived, and a restart asks the teacher only for what is missing. The schema
changes only through numbered, append-only migrations (`m001_initial`, `m002_batches`, ...), recorded
in `_emolite_migrations`, as in simonw/llm. No column holds an API key, and nothing a key could reach
(headers, client options) is ever written.

    from emolite.distill.store import AnnotationStore
    store = AnnotationStore("s.sqlite")
    for rec in store.records(status="done", mode="descriptors"):
        print(rec.id, rec.descriptors)
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from emolite.errors import EmoliteError

STATUSES = ("done", "failed")


class StoreError(EmoliteError, OSError):
    """An annotation store that cannot be opened or read."""


@dataclass
class Record:
    """One teacher answer (or final failure) for one text; `usage` counts every try spent on the text."""

    id: str
    text: str
    teacher: str
    prompt_version: str
    mode: str
    status: str
    descriptors: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    error: str | None = None
    label_set: str | None = None
    rationale: str | None = None
    raw: str | None = None
    attempts: int = 0
    usage: dict[str, int] = field(default_factory=dict)
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None

    @property
    def split(self) -> str | None:
        """The data split a text comes from, when known (imported GoEmotions: "train", "dev" or "test")."""
        return self.meta.get("split")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-lines shape of `emolite annotations dump`."""
        out = {k: getattr(self, k) for k in _DUMP_FIELDS}
        if self.mode != "descriptors":
            out.pop("descriptors")
        if self.mode != "labels":
            out.pop("labels")
        return out


_DUMP_FIELDS = (
    "id",
    "text",
    "teacher",
    "prompt_version",
    "mode",
    "label_set",
    "status",
    "descriptors",
    "labels",
    "rationale",
    "error",
    "raw",
    "attempts",
    "usage",
    "source",
    "meta",
)


# ---------------------------------------------------------------- migrations (append only, never edit)


def m001_initial(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE annotations (
            text_id           TEXT NOT NULL,
            teacher           TEXT NOT NULL,
            prompt_version    TEXT NOT NULL,
            mode              TEXT NOT NULL,
            label_set         TEXT,
            text              TEXT NOT NULL,
            status            TEXT NOT NULL CHECK (status IN ('done', 'failed')),
            descriptors       TEXT NOT NULL DEFAULT '[]',
            labels            TEXT NOT NULL DEFAULT '[]',
            rationale         TEXT,
            error             TEXT,
            raw               TEXT,
            attempts          INTEGER NOT NULL DEFAULT 0,
            prompt_tokens     INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            source            TEXT,
            meta              TEXT NOT NULL DEFAULT '{}',
            created_at        TEXT NOT NULL,
            updated_at        TEXT NOT NULL,
            PRIMARY KEY (text_id, teacher, prompt_version)
        )
        """
    )
    db.execute("CREATE INDEX annotations_status ON annotations (status, teacher, prompt_version)")


def m002_batches(db: sqlite3.Connection) -> None:
    """Batch API jobs and the texts each one carries, so a batch can be resumed by id after a restart."""
    db.execute(
        """
        CREATE TABLE batches (
            batch_id        TEXT PRIMARY KEY,
            teacher         TEXT NOT NULL,
            prompt_version  TEXT NOT NULL,
            mode            TEXT NOT NULL,
            label_set       TEXT,
            input_file_id   TEXT,
            status          TEXT NOT NULL,
            request_count   INTEGER NOT NULL DEFAULT 0,
            merged          INTEGER NOT NULL DEFAULT 0,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE batch_items (
            batch_id  TEXT NOT NULL REFERENCES batches (batch_id),
            text_id   TEXT NOT NULL,
            text      TEXT NOT NULL,
            meta      TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (batch_id, text_id)
        )
        """
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (m001_initial, m002_batches)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class AnnotationStore:
    """Opens (or creates) a store, runs pending migrations and switches the file to WAL mode."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(f"no annotation store at {self.path}")
        try:
            self.db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed answer survives a killed process (not a power cut).
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=60000")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable annotation store: {exc}") from None

    # ------------------------------------------------------------ lifecycle

    def migrate(self) -> list[str]:
        """Apply the migrations this file lacks, each in its own transaction; returns their names."""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS _emolite_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        applied = []
        for migration in MIGRATIONS:
            with self._transaction(immediate=True):
                done = self.db.execute(
                    "SELECT 1 FROM _emolite_migrations WHERE name = ?", (migration.__name__,)
                ).fetchone()
                if done:
                    continue
                migration(self.db)
                self.db.execute("INSERT INTO _emolite_migrations VALUES (?, ?)", (migration.__name__, _now()))
                applied.append(migration.__name__)
        return applied

    def migrations(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM _emolite_migrations ORDER BY name")]

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> AnnotationStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _transaction(self, immediate: bool = False):
        return _Transaction(self.db, immediate)

    # ------------------------------------------------------------ writing

    def save(self, rec: Record) -> None:
        """Insert or replace one answer and commit it. Tries and tokens add up over re-annotations."""
        with self._transaction(immediate=True):
            self._upsert(rec)

    def save_many(self, records: Iterable[Record]) -> int:
        """Insert or replace many answers in one transaction (imports)."""
        n = 0
        with self._transaction(immediate=True):
            for rec in records:
                self._upsert(rec)
                n += 1
        return n

    def _upsert(self, rec: Record) -> None:
        if rec.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {rec.status!r}")
        now = _now()
        self.db.execute(
            """
            INSERT INTO annotations (text_id, teacher, prompt_version, mode, label_set, text, status, descriptors,
                labels, rationale, error, raw, attempts, prompt_tokens, completion_tokens, source, meta,
                created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (text_id, teacher, prompt_version) DO UPDATE SET
                mode = excluded.mode, label_set = excluded.label_set, text = excluded.text,
                status = excluded.status, descriptors = excluded.descriptors, labels = excluded.labels,
                rationale = excluded.rationale, error = excluded.error, raw = excluded.raw,
                attempts = annotations.attempts + excluded.attempts,
                prompt_tokens = annotations.prompt_tokens + excluded.prompt_tokens,
                completion_tokens = annotations.completion_tokens + excluded.completion_tokens,
                source = excluded.source, meta = excluded.meta, updated_at = excluded.updated_at
            """,
            (
                rec.id,
                rec.teacher,
                rec.prompt_version,
                rec.mode,
                rec.label_set,
                rec.text,
                rec.status,
                json.dumps(rec.descriptors, ensure_ascii=False),
                json.dumps(rec.labels, ensure_ascii=False),
                rec.rationale,
                rec.error,
                rec.raw,
                rec.attempts,
                int(rec.usage.get("prompt_tokens", 0) or 0),
                int(rec.usage.get("completion_tokens", 0) or 0),
                rec.source,
                json.dumps(rec.meta, ensure_ascii=False),
                now,
                now,
            ),
        )

    # ------------------------------------------------------------ reading

    def records(
        self,
        status: str = "done",
        teacher: str | None = None,
        prompt_version: str | None = None,
        mode: str | None = None,
        label_set: str | None = None,
    ) -> Iterator[Record]:
        """Yield stored answers; `status` is "done", "failed" or "all"; None filters match anything."""
        if status not in (*STATUSES, "all"):
            raise ValueError(f"status must be 'done', 'failed' or 'all', not {status!r}")
        where, params = [], []
        for column, value in (
            ("teacher", teacher),
            ("prompt_version", prompt_version),
            ("mode", mode),
            ("label_set", label_set),
            ("status", None if status == "all" else status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT * FROM annotations" + (" WHERE " + " AND ".join(where) if where else "")
        # Fetch in one go: callers may write to the store while they iterate.
        rows = self.db.execute(sql + " ORDER BY rowid", params).fetchall()
        for row in rows:
            yield _record(row)

    def get(self, text_id: str, teacher: str, prompt_version: str) -> Record | None:
        row = self.db.execute(
            "SELECT * FROM annotations WHERE text_id = ? AND teacher = ? AND prompt_version = ?",
            (text_id, teacher, prompt_version),
        ).fetchone()
        return _record(row) if row else None

    def statuses(self, teacher: str, prompt_version: str) -> dict[str, str]:
        """text id -> "done" | "failed" for one teacher and prompt version (what a resumed run skips)."""
        rows = self.db.execute(
            "SELECT text_id, status FROM annotations WHERE teacher = ? AND prompt_version = ?",
            (teacher, prompt_version),
        )
        return {r[0]: r[1] for r in rows}

    def stats(self) -> dict[str, Any]:
        """Row counts, failures by reason and token usage, overall and per (teacher, prompt version)."""
        total = self._counts("")
        groups = [
            {
                "teacher": r["teacher"],
                "prompt_version": r["prompt_version"],
                "mode": r["mode"],
                "label_set": r["label_set"],
                **self._counts(
                    "WHERE teacher = ? AND prompt_version = ? AND mode = ? AND label_set IS ?",
                    (r["teacher"], r["prompt_version"], r["mode"], r["label_set"]),
                ),
            }
            for r in self.db.execute(
                "SELECT DISTINCT teacher, prompt_version, mode, label_set FROM annotations ORDER BY 1, 2"
            )
        ]
        reasons: dict[str, int] = {}
        for (error,) in self.db.execute("SELECT error FROM annotations WHERE status = 'failed'"):
            key = (error or "unknown").split(":", 1)[0].strip()
            reasons[key] = reasons.get(key, 0) + 1
        open_batches = self.db.execute("SELECT COUNT(*) FROM batches WHERE merged = 0").fetchone()[0]
        return {
            "path": str(self.path),
            **total,
            "failure_reasons": dict(sorted(reasons.items())),
            "by_teacher": groups,
            "open_batches": open_batches,
            "migrations": self.migrations(),
        }

    def _counts(self, where: str, params: tuple = ()) -> dict[str, int]:
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(status = 'done'), 0), COALESCE(SUM(status = 'failed'), 0),"
            " COALESCE(SUM(attempts), 0), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0)"
            f" FROM annotations {where}",
            params,
        ).fetchone()
        keys = ("rows", "done", "failed", "attempts", "prompt_tokens", "completion_tokens")
        return dict(zip(keys, (int(v) for v in row)))

    # ------------------------------------------------------------ batch jobs

    def add_batch(
        self,
        batch_id: str,
        *,
        teacher: str,
        prompt_version: str,
        mode: str,
        label_set: str | None,
        input_file_id: str | None,
        status: str,
        items: Iterable[tuple[str, str, dict]],
    ) -> None:
        """Record a submitted batch and its (text id, text, meta) items in one transaction."""
        now = _now()
        items = list(items)
        with self._transaction(immediate=True):
            self.db.execute(
                "INSERT OR REPLACE INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    batch_id,
                    teacher,
                    prompt_version,
                    mode,
                    label_set,
                    input_file_id,
                    status,
                    len(items),
                    now,
                    now,
                ),
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO batch_items VALUES (?, ?, ?, ?)",
                [(batch_id, i, t, json.dumps(m, ensure_ascii=False)) for i, t, m in items],
            )

    def update_batch(self, batch_id: str, *, status: str, merged: bool = False) -> None:
        with self._transaction(immediate=True):
            self.db.execute(
                "UPDATE batches SET status = ?, merged = ?, updated_at = ? WHERE batch_id = ?",
                (status, int(merged), _now(), batch_id),
            )

    def batches(
        self, teacher: str | None = None, prompt_version: str | None = None, open_only: bool = False
    ) -> list[dict[str, Any]]:
        sql, params = "SELECT * FROM batches WHERE 1", []
        if teacher is not None:
            sql, params = sql + " AND teacher = ?", [*params, teacher]
        if prompt_version is not None:
            sql, params = sql + " AND prompt_version = ?", [*params, prompt_version]
        if open_only:
            sql += " AND merged = 0"
        return [dict(r) for r in self.db.execute(sql + " ORDER BY created_at, batch_id", params)]

    def batch_items(self, batch_id: str) -> list[tuple[str, str, dict]]:
        rows = self.db.execute("SELECT text_id, text, meta FROM batch_items WHERE batch_id = ?", (batch_id,))
        return [(r[0], r[1], json.loads(r[2])) for r in rows]


class _Transaction:
    """BEGIN [IMMEDIATE] ... COMMIT, or ROLLBACK on error (the connection is in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection, immediate: bool):
        self.db, self.immediate = db, immediate

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE" if self.immediate else "BEGIN")

    def __exit__(self, exc_type, *_) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _record(row: sqlite3.Row) -> Record:
    return Record(
        id=row["text_id"],
        text=row["text"],
        teacher=row["teacher"],
        prompt_version=row["prompt_version"],
        mode=row["mode"],
        status=row["status"],
        descriptors=json.loads(row["descriptors"]),
        labels=json.loads(row["labels"]),
        error=row["error"],
        label_set=row["label_set"],
        rationale=row["rationale"],
        raw=row["raw"],
        attempts=row["attempts"],
        usage={"prompt_tokens": row["prompt_tokens"], "completion_tokens": row["completion_tokens"]},
        source=row["source"],
        meta=json.loads(row["meta"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
