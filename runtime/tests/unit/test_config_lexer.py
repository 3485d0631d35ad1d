"""Lexer: keepalived's line rules, quoting, escapes, includes (docs/keepalived-compat.md §1)."""

from __future__ import annotations

import os

import pytest

from vrrpd.config.diagnostics import Reporter
from vrrpd.config.lexer import (QuoteError, Tok, expand_braces, lex_file, lex_text, split_words,
                                strip_comment)


def lines_of(text: str, **kwargs) -> tuple[list[list[str]], Reporter]:
    """The token values of each lexed line (braces included), and the reporter."""
    reporter = Reporter()
    lexed = lex_text(text, "t.conf", reporter, **kwargs)
    out: list[list[str]] = [[]]
    for token in lexed.tokens:
        if token.kind is Tok.EOL:
            out.append([])
        else:
            out[-1].append(token.value)
    return [line for line in out if line], reporter


# -- comments -----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("# whole line", []),
    ("! whole line", []),
    ("priority 100 # trailing", [["priority", "100"]]),
    ("priority 100 ! trailing", [["priority", "100"]]),
    ("priority 100# glued", [["priority", "100"]]),
    ("   indented 1   # x", [["indented", "1"]]),
    ('auth_pass "a#b!c"', [["auth_pass", "a#b!c"]]),
    ("auth_pass 'a#b'", [["auth_pass", "a#b"]]),
    (r"auth_pass a\#b", [["auth_pass", "a#b"]]),
])
def test_comments_anywhere_but_not_in_quotes(text, expected):
    lines, reporter = lines_of(text)
    assert lines == expected
    assert not reporter.diagnostics


def test_strip_comment_respects_quotes_and_escapes():
    assert strip_comment('a "b # c" # d') == 'a "b # c" '
    assert strip_comment(r"a \! b ! c") == r"a \! b "


# -- quotes and escapes --------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ('notify "/bin/x.sh a b"', ["notify", "/bin/x.sh a b"]),
    ("notify '/bin/x.sh a b'", ["notify", "/bin/x.sh a b"]),
    ('''notify "/bin/x.sh 'a b'"''', ["notify", "/bin/x.sh 'a b'"]),
    ('router_id ""', ["router_id", ""]),
    ('a"b c"d', ['ab cd']),
    (r"x a\tb", ["x", "a\tb"]),
    (r"x \x41\x42", ["x", "AB"]),
    (r"x \101", ["x", "A"]),
    (r"x \cA", ["x", "\x01"]),
    (r"x a\ b", ["x", "a b"]),
    (r'x "say \"hi\""', ["x", 'say "hi"']),
    (r"x \{", ["x", "{"]),
])
def test_quotes_and_escapes(text, expected):
    lines, reporter = lines_of(text)
    assert lines == [expected]
    assert not reporter.diagnostics


def test_quoted_brace_is_a_word_not_a_block():
    reporter = Reporter()
    lexed = lex_text('x "{" }', "t.conf", reporter)
    kinds = [t.kind for t in lexed.tokens]
    assert kinds == [Tok.WORD, Tok.WORD, Tok.CLOSE, Tok.EOL]
    assert lexed.tokens[1].quoted


def test_unterminated_quote_is_an_error_at_its_line():
    _lines, reporter = lines_of('a 1\nnotify "/bin/x\nb 2')
    assert [(d.line, d.severity) for d in reporter.diagnostics] == [(2, "error")]
    assert "unterminated quote" in reporter.diagnostics[0].message


def test_split_words_is_the_script_argv_rule():
    assert split_words("/path/x.sh a 'b c' \"d e\"") == ["/path/x.sh", "a", "b c", "d e"]
    assert split_words(r"/x a\ b") == ["/x", "a b"]
    with pytest.raises(QuoteError):
        split_words("/x 'a")


# -- braces ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("global_defs {", [["global_defs", "{"]]),
    ("global_defs{", [["global_defs", "{"]]),
    ("notification_email { root@crans.org }", [["notification_email", "{", "root@crans.org", "}"]]),
    ("notification_email {root@crans.org}", [["notification_email", "{", "root@crans.org", "}"]]),
    ("} x", [["}", "x"]]),
])
def test_braces_stand_alone(text, expected):
    assert lines_of(text)[0] == expected


@pytest.mark.parametrize("pattern, expected", [
    ("a.conf", ["a.conf"]),
    ("{a,b}.conf", ["a.conf", "b.conf"]),
    ("x{a,b{c,d}}y", ["xay", "xbcy", "xbdy"]),
    ("{a,b}{1,2}", ["a1", "a2", "b1", "b2"]),
    ("x{}y", ["x{}y"]),
    ("x{a}y", ["x{a}y"]),
])
def test_expand_braces(pattern, expected):
    assert expand_braces(pattern) == expected


# -- tokens keep their place -------------------------------------------------------

def test_tokens_keep_file_and_line():
    reporter = Reporter()
    lexed = lex_text("\n\na b\n  # c\nd", "here.conf", reporter)
    words = [(t.value, t.file, t.line) for t in lexed.tokens if t.kind is Tok.WORD]
    assert words == [("a", "here.conf", 3), ("b", "here.conf", 3), ("d", "here.conf", 5)]


# -- includes ---------------------------------------------------------------------

def write(path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_include_with_glob_and_braces_relative_to_the_includer(tmp_path, monkeypatch):
    main = write(tmp_path / "etc" / "keepalived.conf", "include conf.d/*.conf\ninclude {a,b}.inc\nlast 1\n")
    write(tmp_path / "etc" / "conf.d" / "20-second.conf", "second 2\n")
    write(tmp_path / "etc" / "conf.d" / "10-first.conf", "first 1\n")
    write(tmp_path / "etc" / "conf.d" / "skip.txt", "nope 0\n")
    write(tmp_path / "etc" / "a.inc", "from_a 1\n")
    write(tmp_path / "etc" / "b.inc", "from_b 1\n")
    monkeypatch.chdir(tmp_path)          # relative to the includer, not to the cwd
    reporter = Reporter()
    lexed = lex_file(main, reporter)
    words = [(t.value, os.path.basename(t.file), t.line) for t in lexed.tokens
             if t.kind is Tok.WORD and t.value != "1" and t.value != "2"]
    assert words == [("first", "10-first.conf", 1), ("second", "20-second.conf", 1),
                     ("from_a", "a.inc", 1), ("from_b", "b.inc", 1), ("last", "keepalived.conf", 3)]
    assert [os.path.basename(f) for f in lexed.files] == [
        "keepalived.conf", "10-first.conf", "20-second.conf", "a.inc", "b.inc"]
    assert not reporter.diagnostics


def test_include_inside_a_block_and_nested_relative_paths(tmp_path):
    main = write(tmp_path / "main.conf", "vrrp_instance X {\n  include sub/vips.conf\n}\n")
    write(tmp_path / "sub" / "vips.conf", "include more/prio.conf\nvirtual_router_id 1\n")
    write(tmp_path / "sub" / "more" / "prio.conf", "priority 10\n")
    reporter = Reporter()
    lexed = lex_file(main, reporter)
    values = [t.value for t in lexed.tokens if t.kind is not Tok.EOL]
    assert values == ["vrrp_instance", "X", "{", "priority", "10", "virtual_router_id", "1", "}"]
    assert not reporter.diagnostics


def test_include_loop_is_an_error_at_the_include_line(tmp_path):
    a = write(tmp_path / "a.conf", "x 1\ninclude b.conf\n")
    write(tmp_path / "b.conf", "y 2\n\ninclude a.conf\n")
    reporter = Reporter()
    lex_file(a, reporter)
    assert len(reporter.diagnostics) == 1
    diag = reporter.diagnostics[0]
    assert (diag.file, diag.line, diag.severity) == (str(tmp_path / "b.conf"), 3, "error")
    assert "include loop" in diag.message


def test_self_include_is_a_loop(tmp_path):
    a = write(tmp_path / "a.conf", "include *.conf\n")
    reporter = Reporter()
    lex_file(a, reporter)
    assert [d.line for d in reporter.diagnostics] == [1]
    assert "include loop" in reporter.diagnostics[0].message


def test_plain_include_without_match_is_silent(tmp_path):
    a = write(tmp_path / "a.conf", "include nothing/*.conf\ninclude missing.conf\nx 1\n")
    reporter = Reporter()
    lexed = lex_file(a, reporter)
    assert not reporter.diagnostics
    assert [t.value for t in lexed.tokens if t.kind is Tok.WORD] == ["x", "1"]


@pytest.mark.parametrize("line, error", [
    ("includem missing.conf", True),
    ("includem missing*.conf", False),       # a wildcard may match nothing
    ("includew missing*.conf", True),
    ("includeb {present,missing}.conf", True),
    ("includeb {present,other}.conf", False),
    ("includea present.conf", False),
    ("includer present.conf", False),
])
def test_include_variants(tmp_path, line, error):
    write(tmp_path / "present.conf", "x 1\n")
    write(tmp_path / "other.conf", "y 1\n")
    main = write(tmp_path / "main.conf", f"a 1\n{line}\n")
    reporter = Reporter()
    lex_file(main, reporter)
    assert [(d.line, d.severity) for d in reporter.diagnostics] == ([(2, "error")] if error else [])


def test_include_with_two_patterns_is_an_error():
    _lines, reporter = lines_of("include a b")
    assert [(d.line, d.severity) for d in reporter.diagnostics] == [(1, "error")]


def test_lex_text_includes_relative_to_base_dir(tmp_path):
    write(tmp_path / "x.conf", "from_x 1\n")
    lines, reporter = lines_of("include x.conf", base_dir=str(tmp_path))
    assert lines == [["from_x", "1"]]


# -- advanced: conditional lines and parameters ---------------------------------------

def test_conditional_lines_follow_config_id():
    text = "@alpha a 1\n@beta b 2\n@^alpha c 3\nd 4"
    assert lines_of(text, config_id="alpha")[0] == [["a", "1"], ["d", "4"]]
    assert lines_of(text, config_id="beta")[0] == [["b", "2"], ["c", "3"], ["d", "4"]]


def test_parameters_are_substituted():
    text = "$IF=ens18\n$PRIO = 150\ninterface $IF\npriority ${PRIO}\nkeep $UNDEFINED"
    assert lines_of(text)[0] == [["interface", "ens18"], ["priority", "150"], ["keep", "$UNDEFINED"]]


def test_sequence_expansion_is_reported_as_unsupported():
    lines, reporter = lines_of("~SEQ(i, 1, 3) x $i\ny 1")
    assert lines == [["y", "1"]]
    assert [(d.line, d.severity) for d in reporter.diagnostics] == [(1, "warning")]


# -- quoting used by the renderer reads back unchanged ---------------------------------------

from hypothesis import given, strategies as st  # noqa: E402

from vrrpd.config.kinds import quote  # noqa: E402


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_quote_round_trips_through_the_lexer(value):
    lines, reporter = lines_of(f"key {quote(value)}")
    assert lines == [["key", value]]
    assert not reporter.diagnostics


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\n\r\0", blacklist_categories=("Cs",)),
                        min_size=1), min_size=1))
def test_split_words_reads_back_quoted_words(words):
    assert split_words(" ".join(quote(w) for w in words)) == words


#: parameters a rendered file may find defined by the operator's main file (or its includes)
DEFINITIONS = "$a=EXPANDED\n$b = two words\n$ab=AB\n$_=U\n$A_1=A1\n$z={\n"
DOLLAR_TEXT = st.one_of(
    st.text(alphabet="$ab_zA1{} \"'\\#!@~x", max_size=12),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
)


@given(DOLLAR_TEXT)
def test_quote_round_trips_with_parameters_defined(value):
    """Substitution works on the raw line (quotes or not, as keepalived's): '$' must never be written as is."""
    lines, reporter = lines_of(f"{DEFINITIONS}key {quote(value)}")
    assert lines == [["key", value]]
    assert not reporter.diagnostics


@pytest.mark.parametrize("value", ["$a", "${a}", "x$a", "pa$$a", "$b$ab", "/bin/n $a ${ab}", "$_", "$z"])
def test_dollar_words_read_back_literally_with_parameters_defined(value):
    lines, _reporter = lines_of(f"{DEFINITIONS}key {quote(value)} {quote(value)}")
    assert lines == [["key", value, value]]
    assert split_words(quote(value)) == [value]
