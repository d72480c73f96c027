"""Rules that exist twice: once as a Python predicate (one object in hand) and once as SQL (a list).

Each module here holds one such rule, both of its forms side by side, and they must agree: the
predicate is true of a row exactly when the query selects it. tests/core/test_rule_twins.py
builds random plants and people and proves it on every row, on SQLite and PostgreSQL. Change one
form and you change the other in the same commit.

- ``workorder_visibility``: which 施工单 a person sees;
- ``task_visibility``: which tasks a person sees;
- ``workorder_approvers``: who approves a 施工单 (and which 施工单 a person approves);
- ``task_claiming``: which tasks an operator may claim now.

``app.policy`` (who may do what) calls the predicates; the services' lists call the queries.
"""
