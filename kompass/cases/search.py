"""Full-text search over a case's title, description and conversation, on PostgreSQL and on SQLite.

One search document per case (:class:`~kompass.cases.models.CaseSearch`): ``heading`` (number and title),
``body`` (description and public replies) and ``internal`` (internal notes). :func:`index_case` rewrites it from
the case's rows; ``services._record`` calls :func:`on_change` for every change, so the document follows the change
inside its transaction (a rolled-back reply leaves no words behind). A new reply or note is appended to the
document (:func:`append`: one UPDATE, no read of the conversation), which gives the text a rewrite would; an edit
of the title or description rewrites it.

The indexes, made by migration 0002:

* **PostgreSQL**: four generated ``tsvector`` columns on ``cases_casesearch`` — public (heading and body) and
  internal text, each with the ``norwegian`` configuration and with ``simple`` — each with a GIN index. The
  Snowball stemmer is inconsistent (``skriver`` → ``skriv`` but ``skrivere`` → ``skriver``), so every word of a
  query matches either its stem in the ``norwegian`` vector or a prefix of an unstemmed word in the ``simple``
  one (``skriv`` finds *skrivere*).
* **SQLite**: the FTS5 table ``cases_casesearch_fts`` (``unicode61 remove_diacritics 2``), rowid = case id,
  written here (no triggers: a later migration that remakes a table would silently drop them). No stemming;
  every word is a quoted prefix query (``"skriv"*``).

A query is cut into words (letters and digits only: ``Tromsø-kontoret`` and ``C++`` cannot break either query
language) and every word must match. Words that appear only in internal notes find a case only for those whose
matrix lets them see that case's notes (:func:`search`).
"""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from kompass.cases.models import Case, CaseSearch, Note, Reply
from kompass.core import access

__all__ = [
    "INDEXED_KINDS",
    "MAX_WORDS",
    "append",
    "heading",
    "index_case",
    "index_cases",
    "index_new_case",
    "on_change",
    "rebuild",
    "search",
    "words",
]

#: The kinds of change (``CaseChange.kind``) that change the words of a case.
INDEXED_KINDS = frozenset({"created", "details", "reply", "note"})
#: At most this many words of a query are used (each is one more index lookup).
MAX_WORDS = 8
#: A tsvector holds at most 1 MB; a longer conversation is indexed up to here.
MAX_TEXT = 400_000
FTS_TABLE = "cases_casesearch_fts"

_WORD = re.compile(r"[^\W_]+")


def words(query: str) -> list[str]:
    """The searchable words of ``query``: runs of letters and digits, lower-cased, at most :data:`MAX_WORDS`."""
    return [w[:60] for w in _WORD.findall((query or "").lower())][:MAX_WORDS]


# ---------------------------------------------------------------------------------------------
# Writing the documents
# ---------------------------------------------------------------------------------------------


def heading(number: str, title: str) -> str:
    """Title and number; the number also in words, since PostgreSQL's parser reads ``-2026`` as one token."""
    return f"{title} {number} {number.replace('-', ' ')}"


def _documents(case_ids) -> dict[int, CaseSearch]:
    docs = {
        pk: CaseSearch(case_id=pk, heading=heading(number, title), body=description, internal="")
        for pk, number, title, description in Case.objects.filter(pk__in=case_ids).values_list(
            "pk", "number", "title", "description"
        )
    }
    bodies: dict[int, list[str]] = {pk: [doc.body] for pk, doc in docs.items()}
    notes: dict[int, list[str]] = {pk: [] for pk in docs}
    for case_id, text in Reply.objects.filter(case_id__in=docs).order_by("pk").values_list("case_id", "text"):
        bodies[case_id].append(text)
    for case_id, text in Note.objects.filter(case_id__in=docs).order_by("pk").values_list("case_id", "text"):
        notes[case_id].append(text)
    for pk, doc in docs.items():
        doc.body = "\n".join(bodies[pk])[:MAX_TEXT]
        doc.internal = "\n".join(notes[pk])[:MAX_TEXT]
    return docs


def _write(docs: list[CaseSearch], *, new: bool = False) -> None:
    if not docs:
        return
    if new:
        CaseSearch.objects.bulk_create(docs)
    else:
        CaseSearch.objects.bulk_create(
            docs, update_conflicts=True, unique_fields=["case"], update_fields=["heading", "body", "internal"]
        )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            ids = [doc.case_id for doc in docs]
            if not new:
                cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({','.join('%s' for _ in ids)})", ids)  # noqa: S608
            cursor.executemany(
                f"INSERT INTO {FTS_TABLE} (rowid, heading, body, internal) VALUES (%s, %s, %s, %s)",  # noqa: S608
                [(doc.case_id, doc.heading, doc.body, doc.internal) for doc in docs],
            )


def index_case(case_id: int) -> None:
    """Rewrite one case's search document from its rows (call inside the change's transaction)."""
    _write(list(_documents([case_id]).values()))


def index_cases(case_ids, *, batch_size: int = 2000) -> int:
    """Rewrite the documents of many cases (demo data and benchmarks insert in bulk, past the services)."""
    case_ids = list(case_ids)
    for start in range(0, len(case_ids), batch_size):
        _write(list(_documents(case_ids[start : start + batch_size]).values()))
    return len(case_ids)


def rebuild() -> int:
    """Rewrite every case's document (e.g. after loading rows in bulk)."""
    return index_cases(Case.objects.order_by("pk").values_list("pk", flat=True).iterator())


def index_new_case(case: Case) -> None:
    """Write the first document of a case just inserted, with no conversation yet, from the case in memory
    (no reads: a creation's share of the search costs one insert)."""
    doc = CaseSearch(case_id=case.pk, heading=heading(case.number, case.title), body=case.description[:MAX_TEXT])
    _write([doc], new=True)


def append(case_id: int, *, body: str = "", internal: str = "") -> bool:
    """Add the text of a reply (``body``) or a note (``internal``) just inserted, the newest of its case, to the
    end of the case's document: what :func:`index_case` would write, with one UPDATE instead of reading the case
    and its whole conversation (on SQLite, plus the FTS5 row's update). The case row is locked by the change, so
    the newest row is the last one. ``False`` (nothing written) if the case has no document yet."""
    table = CaseSearch._meta.db_table
    # As _documents joins them: the body starts with the description, so every reply follows a newline; the
    # notes start empty, so the first note has none. Both cut at MAX_TEXT characters (substr counts characters).
    sql = (
        f"UPDATE {table} SET "  # noqa: S608  (fixed SQL; the texts are parameters)
        "body = substr(body || %s, 1, %s), "
        "internal = substr(internal || CASE WHEN internal = '' THEN '' ELSE %s END || %s, 1, %s) "
        "WHERE case_id = %s"
    )
    params = [f"\n{body}" if body else "", MAX_TEXT, "\n" if internal else "", internal, MAX_TEXT, case_id]
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            cursor.execute(sql, params)
            return cursor.rowcount > 0
        cursor.execute(f"{sql} RETURNING body, internal", params)
        row = cursor.fetchone()
        if row is None:
            return False
        cursor.execute(f"UPDATE {FTS_TABLE} SET body = %s, internal = %s WHERE rowid = %s", [*row, case_id])  # noqa: S608
    return True


def on_change(case: Case, kind: str, *, new: bool = False, text: str | None = None) -> None:
    """Called by ``services._record`` for every change, inside its transaction (``new``: a case just created
    without conversation rows, indexed from memory; ``text``: the reply's or note's text, appended)."""
    if kind == "created" and new:
        index_new_case(case)
    elif kind in ("reply", "note") and text is not None:
        if not append(case.pk, **{"body" if kind == "reply" else "internal": text}):
            index_case(case.pk)  # no document yet (rows loaded in bulk, not indexed): write it whole
    elif kind in INDEXED_KINDS:
        index_case(case.pk)


# ---------------------------------------------------------------------------------------------
# Searching
# ---------------------------------------------------------------------------------------------


def _matching(found: list[str], *, internal: bool) -> RawSQL:
    """``SELECT case_id`` of the documents where every word matches (in the internal text too if asked)."""
    if connection.vendor == "postgresql":
        # Only fixed SQL is formatted in; the words (letters and digits only) go in as parameters.
        texts = ("public", "internal") if internal else ("public",)
        either = " OR ".join(
            f"{text}_norwegian @@ to_tsquery('norwegian', %s) OR {text}_simple @@ to_tsquery('simple', %s)"
            for text in texts
        )
        params = [p for word in found for _text in texts for p in (word, f"{word}:*")]
        where = " AND ".join(f"({either})" for _word in found)
        return RawSQL(f"SELECT case_id FROM cases_casesearch WHERE {where}", params)  # noqa: S608, S611
    phrases = " AND ".join(f'"{word}"*' for word in found)
    expression = phrases if internal else f"{{heading body}} : ({phrases})"
    return RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [expression])  # noqa: S608, S611


#: Up to this many matching cases, the search hands the database their ids; beyond it, the subquery itself.
INLINE_LIMIT = 5000


#: PostgreSQL's ``work_mem`` for the GIN lookup of :func:`_narrow` (``SET LOCAL``: that transaction only). Two
#: common words make bitmaps of ~100,000 rows each; at the default 4 MB they turn lossy and every row of 11,000
#: heap pages is checked again (250 ms among a million cases where nothing matches; 100 ms with this).
SEARCH_WORK_MEM = "32MB"


def _narrow(matching: RawSQL) -> Q:
    """The cases of ``matching``, in the form the database plans well.

    PostgreSQL cannot estimate a word's rarity well (the prefix matches), and given the subquery it may walk the
    queue's due-time index and test every case: 20 s for a rare word among a million. So the ids are fetched
    first (a GIN or FTS5 lookup, on PostgreSQL with :data:`SEARCH_WORK_MEM`); a word common enough to exceed
    :data:`INLINE_LIMIT` keeps the subquery, which then finds a page's worth of matches after a short walk.
    """
    sql, params = matching.sql, list(matching.params)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{SEARCH_WORK_MEM}'")
        cursor.execute(f"{sql} LIMIT {INLINE_LIMIT + 1}", params)
        ids = [row[0] for row in cursor.fetchall()]
    return Q(pk__in=ids) if len(ids) <= INLINE_LIMIT else Q(pk__in=matching)


#: The dense-word probe (PostgreSQL, the queue page): how many of the queue's first rows it checks, and how many
#: of them must match for the word to count as common.
PROBE_ROWS = 1000
DENSE_MATCHES = 51


def _per_row(found: list[str], *, internal: bool) -> RawSQL:
    """The match as a condition on one case (PostgreSQL): its document's vectors tested directly, by primary key.

    A scalar subquery is never flattened into a join, so PostgreSQL walks the queue's due-time index and tests
    the cases one by one until it has a page: for a common word a few hundred rows (~20 ms among a million
    cases) instead of collecting its ~100,000 matches from the GIN index first (~250 ms and up)."""
    texts = ("public", "internal") if internal else ("public",)
    either = " OR ".join(
        f"s.{text}_norwegian @@ to_tsquery('norwegian', %s) OR s.{text}_simple @@ to_tsquery('simple', %s)"
        for text in texts
    )
    params = [p for word in found for _text in texts for p in (word, f"{word}:*")]
    where = " AND ".join(f"({either})" for _word in found)
    table = Case._meta.db_table
    sql = f'(SELECT {where} FROM cases_casesearch s WHERE s.case_id = "{table}"."id")'  # noqa: S608
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611  (fixed SQL; the words are parameters)


def _dense(queryset, condition: RawSQL) -> bool:
    """Do at least :data:`DENSE_MATCHES` of the first :data:`PROBE_ROWS` cases of ``queryset`` (queue order)
    match? One bounded walk (~25 ms among a million cases); a rare word fails it and takes the GIN path."""
    from kompass.cases import keyset

    first = queryset.order_by(*keyset.ORDER).values("pk")[:PROBE_ROWS]
    sql, params = first.query.sql_with_params()
    check = condition.sql.replace(f'"{Case._meta.db_table}"."id"', "probe.id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM ({sql}) probe (id) WHERE {check}",  # noqa: S608
            [*params, *condition.params],
        )
        return cursor.fetchone()[0] >= DENSE_MATCHES


def search(queryset, query: str, user, *, hint: dict | None = None):
    """``queryset`` narrowed to the cases where every word of ``query`` appears.

    Internal notes count only for the cases whose notes ``user`` may see: everywhere (service desk, agreement
    managers), nowhere (requesters, every agency role), or, should the matrix ever say so, on some cases.

    ``hint`` (a dict; the queue page passes one, since it reads one page in due order and caps its count): on
    PostgreSQL a word common in the queue is then matched row by row along the due-time index
    (:func:`_per_row`), and ``hint["dense"]`` is set so the page counts only up to a small cap. Without a hint
    (the API, which counts every match) the matches are always collected from the GIN index.
    """
    found = words(query)
    if not found:
        return queryset
    notes_scope = access.restrict_q(user, "view", Note)
    sees_notes = notes_scope is None
    if hint is not None and connection.vendor == "postgresql" and (sees_notes or not access.can(user, "view", Note)):
        condition = _per_row(found, internal=sees_notes)
        if _dense(queryset, condition):
            hint["dense"] = True
            return queryset.filter(condition)
    if sees_notes:
        return queryset.filter(_narrow(_matching(found, internal=True)))
    public = _narrow(_matching(found, internal=False))
    if not access.can(user, "view", Note):
        return queryset.filter(public)
    note_cases = Note.objects.restrict(user, "view").values("case_id")
    return queryset.filter(public | _narrow(_matching(found, internal=True)) & Q(pk__in=note_cases))
