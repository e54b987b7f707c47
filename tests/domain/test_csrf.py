"""The double-submit token's rules (parley.domain.csrf), shared by the sign-in pages and the pages for people."""

from __future__ import annotations

from parley.domain.csrf import TOKEN_LENGTH, new_token, plausible, same


def test_new_tokens_are_plausible_and_distinct() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(plausible(t) and len(t) == TOKEN_LENGTH for t in tokens)


def test_only_tokens_of_parleys_shape_are_plausible() -> None:
    token = new_token()
    for bad in (None, "", token[:-1], token + "a", "é" * TOKEN_LENGTH, "a" * (TOKEN_LENGTH - 1) + ";",
                "a" * (TOKEN_LENGTH - 1) + " "):
        assert not plausible(bad), bad
    assert plausible("a-_" * 14 + "b")


def test_both_copies_must_be_present_and_equal() -> None:
    token = new_token()
    assert same(token, token)
    assert not same(token, new_token())
    assert not same(None, token) and not same(token, None) and not same("", "") and not same(None, None)
    assert not same(token, token.upper() if token != token.upper() else token.lower())
