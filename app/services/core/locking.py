"""Row locks that serialise writers of the same row (PostgreSQL; SQLite serialises writers anyway).

Every lock is ``FOR NO KEY UPDATE``, never ``FOR UPDATE``: inserting a row that refers to another
(an audit entry to its 施工单, a time log to its task) takes ``FOR KEY SHARE`` on the referred row,
which ``FOR UPDATE`` waits for. Two reports finishing tasks of one 施工单 each held that share and
then both asked for the 施工单 ``FOR UPDATE``: a deadlock, and a 500 for one of them. No writer
changes a primary key, so the weaker lock still keeps every two writers of a row apart.
"""
from __future__ import annotations


def for_update(statement, of=None):
    """``statement`` with its rows (those of ``of``, when given) locked until the transaction ends."""
    return statement.with_for_update(key_share=True, of=of)
