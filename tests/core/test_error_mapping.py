"""Error responses of every shape (livy-rest.md §1.3, §14 literal bodies) to the right exception."""

from __future__ import annotations

import pytest

from livyd._core.errors import extract_message, map_http_error, resource_of
from livyd._exceptions import (
    AuthenticationError,
    BadRequestError,
    BatchNotFoundError,
    ForbiddenError,
    LivyHTTPError,
    NotFoundError,
    ServerError,
    SessionGoneError,
    SessionInactiveError,
    SessionNotFoundError,
    SessionNotReadyError,
    StatementNotFoundError,
)

BASE = "http://livy:8998"
JETTY_CSRF = (
    b'<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
    b"<title>Error 400 Missing Required Header for CSRF protection.</title>\n</head>\n<body><h2>"
    b"HTTP ERROR 400</h2>\n<p>Problem accessing /sessions. Reason:\n<pre>    Missing Required Header "
    b"for CSRF protection.</pre></p>\n</body>\n</html>\n"
)


def m(status: int, url: str, body: bytes, ctype: str | None = "application/json", **kw: str) -> LivyHTTPError:
    return map_http_error(
        status, method=kw.pop("method", "GET"), url=url, body=body, content_type=ctype, **kw
    )


def test_session_not_found_is_also_session_gone() -> None:
    err = m(404, f"{BASE}/sessions/7", b'{"msg":"Session \'7\' not found."}')
    assert isinstance(err, SessionNotFoundError) and isinstance(err, SessionGoneError)
    assert err.status == 404 and err.session_id == "7"
    assert err.livy_message == "Session '7' not found." and err.body_kind == "msg"
    assert f"GET {BASE}/sessions/7" in str(err)


def test_404_on_batches_says_session_but_is_a_batch() -> None:
    err = m(404, f"{BASE}/batches/3/log", b'{"msg":"Session \'3\' not found."}')
    assert isinstance(err, BatchNotFoundError) and not isinstance(err, SessionGoneError)
    assert err.batch_id == "3"


def test_statement_not_found_bare_string() -> None:
    err = m(404, f"{BASE}/sessions/0/statements/99", b'"Statement not found"')
    assert isinstance(err, StatementNotFoundError) and err.body_kind == "string"


def test_session_missing_while_reading_a_statement() -> None:
    err = m(404, f"{BASE}/sessions/4/statements/1", b'{"msg":"Session \'4\' not found."}')
    assert isinstance(err, SessionNotFoundError)


def test_500_session_is_in_state_starting() -> None:
    err = m(
        500,
        f"{BASE}/sessions/0/statements",
        b'"java.lang.IllegalStateException: Session is in state starting"',
        method="POST",
    )
    assert isinstance(err, SessionNotReadyError) and err.state == "starting" and err.status == 500
    assert "POST" in str(err)


def test_other_500_is_server_error() -> None:
    err = m(
        500,
        f"{BASE}/sessions/0/statements/1",
        b'"java.util.concurrent.ExecutionException: java.io.IOException: boom"',
    )
    assert isinstance(err, ServerError) and "ExecutionException" in (err.livy_message or "")


def test_csrf_html_400_names_the_missing_header() -> None:
    err = m(400, f"{BASE}/sessions", JETTY_CSRF, "text/html;charset=iso-8859-1", method="POST")
    assert isinstance(err, BadRequestError) and err.body_kind == "html"
    assert err.livy_message == "Missing Required Header for CSRF protection."
    assert "CSRF header was missing" in str(err) and "X-Requested-By" in str(err)


def test_jackson_bare_string_400() -> None:
    body = (
        b'"Unrecognized field \\"idleTimeout\\" (class org.apache.livy.server.interactive.Create'
        b'InteractiveRequest), not marked as ignorable"'
    )
    err = m(400, f"{BASE}/sessions", body, method="POST")
    assert isinstance(err, BadRequestError) and err.body_kind == "string"
    assert 'Unrecognized field "idleTimeout"' in str(err)


def test_rejected_reason_msg_400() -> None:
    err = m(
        400,
        f"{BASE}/sessions",
        b'{"msg":"Rejected, Reason: Duplicate session name: Some(foo) for session 3"}',
    )
    assert isinstance(err, BadRequestError) and "Duplicate session name" in (err.livy_message or "")


def test_401_kerberos_says_kinit_and_hides_credentials() -> None:
    err = m(
        401,
        "https://alice:pw@knox:8443/gateway/t/livy/v1/sessions?delegation=tok",
        b"",
        None,
        auth_description="Kerberos (SPNEGO) as the current ticket",
        www_authenticate="Negotiate",
    )
    assert isinstance(err, AuthenticationError)
    text = str(err)
    assert "Livy at https://knox:8443/gateway/t/livy/v1/sessions" in text
    assert "answered 401 to Kerberos (SPNEGO)" in text and "kinit" in text and "Negotiate" in text
    assert "pw" not in text.replace("SPNEGO", "") and "alice" not in text and "tok" not in text
    assert err.url is not None and "alice" not in err.url


def test_401_basic_does_not_talk_about_kerberos() -> None:
    err = m(
        401,
        f"{BASE}/sessions",
        b"<html><title>Unauthorized</title></html>",
        "text/html",
        auth_description="basic authentication as alice",
        www_authenticate='BASIC realm="application"',
    )
    assert "basic authentication as alice" in str(err) and "kinit" not in str(err)
    assert "BASIC" in str(err)


def test_403_empty_body() -> None:
    err = m(403, f"{BASE}/sessions/1/statements", b"", None, method="POST")
    assert isinstance(err, ForbiddenError) and err.body_kind == "empty" and err.livy_message is None
    assert "403" in str(err)


def test_403_impersonation_msg() -> None:
    err = m(403, f"{BASE}/sessions", b"{\"msg\":\"User 'alice' not allowed to impersonate 'Some(bob)'.\"}")
    assert isinstance(err, ForbiddenError) and "impersonate" in str(err)


def test_gateway_404_html_is_not_session_gone() -> None:
    err = m(
        404,
        "https://knox:8443/gateway/typo/livy/v1/sessions/1",
        b"<html><body><h2>Not Found</h2></body></html>",
        "text/html",
    )
    assert type(err) is NotFoundError and "Livy URL" in str(err)


def test_gateway_502_html() -> None:
    err = m(502, f"{BASE}/sessions", b"<html><head><title>502 Bad Gateway</title></head></html>", "text/html")
    assert isinstance(err, ServerError) and err.livy_message == "502 Bad Gateway"


def test_remote_exception_body() -> None:
    body = (
        b'{"RemoteException":{"exception":"FileNotFoundException","javaClassName":'
        b'"java.io.FileNotFoundException","message":"File does not exist: /user/alice/x"}}'
    )
    msg, kind = extract_message(body, "application/json")
    assert msg == "FileNotFoundException: File does not exist: /user/alice/x" and kind == "json"


@pytest.mark.parametrize(
    ("body", "ctype", "kind"),
    [
        (b"", None, "empty"),
        (b"  \n", "application/json", "empty"),
        (b"plain words", "text/plain", "text"),
        (b"{not json", "application/json", "text"),
        (b'{"other": 1}', "application/json", "json"),
    ],
)
def test_extract_message_shapes(body: bytes, ctype: str | None, kind: str) -> None:
    assert extract_message(body, ctype)[1] == kind


def test_resource_of_ignores_gateway_words() -> None:
    assert resource_of("https://k/gateway/sessions/livy/v1/batches/5/log") == ("batches", "5")
    assert resource_of(f"{BASE}/sessions/my%20name/state") == ("sessions", "my name")
    assert resource_of(f"{BASE}/version") == (None, None)


def test_bodies_echoing_credentials_are_masked() -> None:
    body = b"<html><pre>Bad header Authorization: Basic YWxpY2U6czNjcmV0 from https://bob:pw@gw/x?token=abc</pre>"
    err = m(400, f"{BASE}/sessions", body, "text/html", method="POST")
    text = str(err) + (err.livy_message or "")
    assert "YWxpY2U6czNjcmV0" not in text and "bob:pw" not in text and "token=abc" not in text


def test_session_isnt_active_400_is_session_gone() -> None:
    """Livy's 400 for statements of a session that ended is a SessionGoneError, still a 400."""
    body = b'{"msg":"requirement failed: Session isn\'t active."}'
    for url in (f"{BASE}/sessions/3/statements", f"{BASE}/sessions/3/statements/0"):
        err = m(400, url, body)
        assert isinstance(err, SessionInactiveError)
        assert isinstance(err, SessionGoneError) and isinstance(err, BadRequestError)
        assert err.session_id == "3" and err.code == "session-gone" and err.status == 400


def test_other_400_is_not_session_gone() -> None:
    """Only the 'isn't active' message on a session path is session-gone."""
    err = m(400, f"{BASE}/sessions/3/statements/x", b'{"msg":"For input string: \\"x\\""}')
    assert type(err) is BadRequestError
    err = m(400, f"{BASE}/version", b'{"msg":"requirement failed: Session isn\'t active."}')
    assert type(err) is BadRequestError
