"""Session identity (livyd._core.identity): every rule, driven synchronously."""

from __future__ import annotations

from typing import Any

import pytest

from livyd import Session, SessionIdentity, Statement
from livyd._core.identity import IdentityVerdict

SAME, UNPROVEN, DIFFERENT = IdentityVerdict.SAME, IdentityVerdict.UNPROVEN, IdentityVerdict.DIFFERENT


def session(**over: Any) -> dict[str, Any]:
    base = {"id": 0, "name": "livyd-1a2b3c4d", "appId": None, "owner": "alice", "proxyUser": "alice",
            "state": "idle", "kind": "pyspark"}
    return {**base, **over}


def statement(**over: Any) -> dict[str, Any]:
    base = {"id": 0, "code": "x = 1\r\nx", "state": "available", "output": None, "started": 1700000000123}
    return {**base, **over}


def test_a_unique_name_proves_it() -> None:
    known = SessionIdentity.of(session(), unique_name=True)
    assert known.check_session(session(state="busy")).verdict is SAME


@pytest.mark.parametrize(("field", "value"), [
    ("name", "nightly-etl"), ("name", None), ("kind", "spark"), ("owner", "bob"), ("proxyUser", "bob"),
    ("proxyUser", None), ("id", 1),
])
def test_a_field_that_never_changes_changed(field: str, value: Any) -> None:
    known = SessionIdentity.of(session(), unique_name=True)
    check = known.check_session(session(**{field: value}))
    assert check.verdict is DIFFERENT and check.field == field
    assert known.lost is check  # once different, always different
    assert known.check_session(session()).verdict is DIFFERENT


def test_the_app_id_may_appear_but_never_change_or_vanish() -> None:
    known = SessionIdentity.of(session(name=None))
    assert known.check_session(session(name=None)).verdict is UNPROVEN  # nothing proves it
    assert known.check_session(session(name=None, appId="application_1_0001")).verdict is SAME  # learned
    assert known.check_session(session(name=None, appId="application_1_0001")).verdict is SAME
    gone = SessionIdentity.of(session(name=None, appId="application_1_0001"))
    assert gone.check_session(session(name=None)).field == "appId"
    other = SessionIdentity.of(session(name=None, appId="application_1_0001"))
    assert other.check_session(session(name=None, appId="application_2_0001")).verdict is DIFFERENT


def test_kind_and_models_compare_like_json() -> None:
    known = SessionIdentity.of(Session.model_validate(session(kind="PySpark")), unique_name=True)
    assert known.kind == "pyspark"
    assert known.check_session(Session.model_validate(session())).verdict is SAME


def test_a_name_the_user_chose_is_not_proof() -> None:
    known = SessionIdentity.of(session(name="etl"), unique_name=False)
    assert known.check_session(session(name="etl")).verdict is UNPROVEN


def test_a_statement_is_ours_by_id_code_and_started() -> None:
    known = SessionIdentity.of(session(), unique_name=True)
    known.remember_statement(statement(state="waiting", started=0), "x = 1\nx")
    assert known.check_statement(statement(state="running", started=1700000000100)).verdict is SAME
    # a local server may refine started once while it runs; a finished statement's never moves
    assert known.check_statement(statement(state="available")).verdict is SAME
    assert known.statements[0].settled
    assert known.check_statement(statement(started=1700000000999)).verdict is DIFFERENT


def test_someone_elses_statement_with_our_id() -> None:
    known = SessionIdentity.of(session(), unique_name=True)
    known.remember_statement(statement(), "x = 1\nx")
    check = known.check_statement(statement(code="print(secret_report())"))
    assert check.verdict is DIFFERENT and check.field == "code"
    assert "other code" in check.describe()


def test_a_statement_that_started_again() -> None:
    known = SessionIdentity.of(session(), unique_name=True)
    known.remember_statement(statement(), "x = 1\nx")  # finished: started is settled
    assert known.check_statement(statement(state="waiting", started=0)).verdict is DIFFERENT


def test_statements_not_submitted_by_livyd_prove_nothing() -> None:
    known = SessionIdentity.of(session(), unique_name=True)
    assert known.check_statement(statement(id=7)).verdict is UNPROVEN


def test_a_listing_missing_our_statement_is_another_session() -> None:
    known = SessionIdentity.of(session(name=None))
    known.remember_statement(statement(id=3), "x = 1\nx")
    assert known.check_statements([statement(id=0, code="a"), statement(id=1, code="b")]).verdict is DIFFERENT


def test_a_page_or_an_evicted_statement_is_not_missing() -> None:
    known = SessionIdentity.of(session(name=None))
    known.remember_statement(statement(id=3), "x = 1\nx")
    assert known.check_statements([statement(id=9, code="a")], complete=False).verdict is UNPROVEN
    evicted = SessionIdentity.of(session(name=None))
    evicted.remember_statement(statement(id=3), "x = 1\nx")
    retained = [statement(id=i, code=str(i)) for i in range(4, 104)]  # Livy keeps the newest 100
    assert evicted.check_statements(retained).verdict is UNPROVEN


def test_prove_after_a_gap_by_statement_history() -> None:
    known = SessionIdentity.of(session(name=None, owner=None, proxyUser=None))  # Livy 0.7 / local
    bare = session(name=None, owner=None, proxyUser=None)
    assert known.prove(bare, []).verdict is UNPROVEN  # nothing to compare: write nothing
    known.remember_statement(statement(), "x = 1\nx")
    assert known.prove(bare, [statement()]).verdict is SAME
    assert known.prove(bare, [statement(started=1)]).verdict is DIFFERENT


def test_a_fresh_session_after_restart_has_none_of_our_statements() -> None:
    known = SessionIdentity.of(session(name=None, owner=None, proxyUser=None))
    known.remember_statement(statement(), "x = 1\nx")
    check = known.prove(session(name=None, owner=None, proxyUser=None), [])
    assert check.verdict is DIFFERENT and "gone" in check.describe()


def test_statement_models_work_too() -> None:
    known = SessionIdentity.of(session(), unique_name=True)
    known.remember_statement(Statement.model_validate(statement()), None)
    assert known.check_statement(Statement.model_validate(statement())).verdict is SAME


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="integer id"):
        SessionIdentity.of({"id": "0"})
    with pytest.raises(ValueError, match="integer id"):
        SessionIdentity.of(session()).remember_statement({"id": True})


def test_an_identity_survives_a_state_file() -> None:
    import json

    known = SessionIdentity.of(session(appId="application_1_0001"), unique_name=True)
    known.remember_statement(statement(), "x = 1\nx")
    again = SessionIdentity.from_dict(json.loads(json.dumps(known.to_dict())))
    assert again == known
    assert again.check_session(session(name="someone-else", appId="application_1_0001")).verdict is DIFFERENT
    gone = SessionIdentity.from_dict({**known.to_dict(), "lost": "Livy no longer knows session 0"})
    assert gone.check_session(session()).verdict is DIFFERENT
    with pytest.raises(ValueError, match="not a session identity"):
        SessionIdentity.from_dict({"name": "x"})
