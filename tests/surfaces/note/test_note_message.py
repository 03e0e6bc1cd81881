"""The note as an RFC 5322 message, and the address checks (pure)."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aligner.surfaces.note.message import (
    AddressError,
    NoteContent,
    address_problem,
    build_message,
    encode_raw,
    html_body,
    parse_address,
    with_signature_text,
)


def parsed(note: NoteContent, token: str = "tok") -> EmailMessage:
    raw = base64.urlsafe_b64decode(encode_raw(build_message(note, token)))
    assert raw.isascii()
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize(
    ("text", "name", "spec"),
    [
        ("recruiter@example.com", "", "recruiter@example.com"),
        ("Sam Rivera <sam@example.com>", "Sam Rivera", "sam@example.com"),
        ('"Rivera, Sam" <sam@example.com>', "Rivera, Sam", "sam@example.com"),
        ("Zoë <zoe+jobs@bücher.example>", "Zoë", "zoe+jobs@xn--bcher-kva.example"),
    ],
)
def test_addresses_that_parse(text: str, name: str, spec: str) -> None:
    address = parse_address(text)
    assert (address.display_name, address.addr_spec) == (name, spec)


@pytest.mark.parametrize(
    "text",
    [
        "recruiter-at-example.com",
        "sam@localhost",
        "sam@example.123",
        "two words@example.com",
        "sam@exa mple.com",
        "Sam <>",
        "sam@example.com\nBcc: everyone@example.com",
        "@example.com",
    ],
)
def test_addresses_that_do_not(text: str) -> None:
    with pytest.raises(AddressError):
        parse_address(text)
    assert address_problem(text)


def test_text_only_without_the_signature() -> None:
    message = parsed(NoteContent(("sam@example.com",), (), "Hi", "Hello\n"))
    assert message.get_content_type() == "text/plain"
    assert message["Message-ID"] == "<tok@localhost>"  # no sender known: a neutral domain
    assert "Cc" not in message


def test_the_message_id_is_neutral_and_on_the_senders_domain() -> None:
    note = NoteContent(("sam@example.com",), (), "Hi", "Hello\n", sender="Alex <alex@mail.test>")
    message = parsed(note, "0123abcd")
    assert message["Message-ID"] == "<0123abcd@mail.test>"
    assert all(not name.lower().startswith("x-") for name in message)
    unicode = NoteContent(("sam@example.com",), (), "Hi", "Hello\n", sender="alex@bücher.example")
    assert parsed(unicode, "ab")["Message-ID"] == "<ab@xn--bcher-kva.example>"
    given = parsed(note, "<given@example.net>")
    assert given["Message-ID"] == "<given@example.net>"


def test_alternative_parts_with_the_signature() -> None:
    note = NoteContent(
        ("Sam <sam@example.com>",),
        ("lee@example.com",),
        "Hi",
        with_signature_text("Hello → there\n", "Alex · p50"),
        html_body("Hello → there\n\n<b>not markup</b>", "<div>Alex · p50</div>"),
        "Alex <alex@example.com>",
    )
    message = parsed(note)
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == "Hello → there\n\n-- \nAlex · p50\n"  # type: ignore[attr-defined]
    html_text = html.get_content()  # type: ignore[attr-defined]
    assert "&lt;b&gt;not markup&lt;/b&gt;" in html_text
    assert '<div class="gmail_signature"' in html_text and "<div>Alex · p50</div>" in html_text
    assert str(message["Cc"]) == "lee@example.com"
    assert message["From"].addresses[0].display_name == "Alex"


def test_a_subject_cannot_inject_headers() -> None:
    message = parsed(NoteContent(("a@example.com",), (), "Hi\r\nBcc: x@example.com", "x"))
    assert "Bcc" not in message
    assert str(message["Subject"]) == "Hi Bcc: x@example.com"


subjects = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1
).map(lambda s: " ".join(s.split()))
names = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='"\\<>'
    )
).map(lambda s: " ".join(s.split()))


@given(subject=subjects.filter(bool), name=names)
def test_any_unicode_subject_and_name_decode_to_the_same_text(subject: str, name: str) -> None:
    to = f'"{name}" <sam@example.com>' if name else "sam@example.com"
    message = parsed(NoteContent((to,), (), subject, "x\n", "<p>x</p>"))
    assert str(message["Subject"]) == subject
    assert message["To"].addresses[0].display_name == name
