"""Statements and dict form: block shapes, repeats, aliases, locations."""

from __future__ import annotations

from vrrpd.config import load_text
from vrrpd.config.diagnostics import Reporter
from vrrpd.config.lexer import lex_text
from vrrpd.config.parser import parse_statements
from vrrpd.config.statements import Statement


def tree(text: str) -> tuple[list[Statement], Reporter]:
    reporter = Reporter()
    return parse_statements(lex_text(text, "t.conf", reporter).tokens, reporter), reporter


def shape(statements: list[Statement] | None):
    if statements is None:
        return None
    return [(s.name, [a.value for a in s.args], shape(s.block)) for s in statements]


def test_brace_on_the_next_line_opens_the_block():
    statements, reporter = tree("global_defs\n\n{\n  router_id x\n}\n")
    assert shape(statements) == [("global_defs", [], [("router_id", ["x"], None)])]
    assert not reporter.diagnostics


def test_one_line_blocks_and_words_after_a_closing_brace():
    statements, _reporter = tree("a { b c } d 1\ne { f { g } }")
    assert shape(statements) == [
        ("a", [], [("b", ["c"], None)]), ("d", ["1"], None),
        ("e", [], [("f", [], [("g", [], None)])]),
    ]


def test_statement_locations_follow_the_keyword():
    statements, _reporter = tree("\n\nvrrp_instance X {\n\n  priority 1\n}")
    assert statements[0].location == ("t.conf", 3)
    assert statements[0].block[0].location == ("t.conf", 5)


def test_repeated_scalar_warns_and_keeps_the_last_value():
    text = ("vrrp_instance V {\n interface eth0\n virtual_router_id 1\n priority 10\n priority 20\n"
            " virtual_ipaddress {\n  198.51.100.1\n }\n virtual_ipaddress {\n  198.51.100.2\n }\n}\n")
    result = load_text(text, "k.conf")
    assert result.ok
    v = result.data["vrrp_instances"]["V"]
    assert v["priority"] == 20
    assert v["virtual_ipaddress"] == ["198.51.100.1", "198.51.100.2"]         # list blocks accumulate
    assert [(w.line, w.message) for w in result.warnings] == [
        (5, "'priority' is set again (first at line 4); the last value is used")]
    assert result.locations[("vrrp_instances", "V", "virtual_ipaddress", 1)] == ("k.conf", 10)


def test_global_defs_blocks_merge():
    result = load_text("global_defs {\n router_id a\n}\nglobal_defs {\n smtp_helo_name b\n}\n", "k.conf")
    assert result.data["global_defs"] == {"router_id": "a", "smtp_helo_name": "b"}


def test_extra_arguments_are_warnings():
    result = load_text("global_defs {\n router_id a b\n}\n", "k.conf")
    assert result.ok
    assert [(w.line, w.message) for w in result.warnings] == [
        (2, "'router_id': extra arguments ignored: b")]


def test_negative_alias_keywords():
    text = ("vrrp_instance V {\n interface eth0\n virtual_router_id 1\n accept\n no_accept\n"
            " virtual_ipaddress {\n  198.51.100.1\n }\n}\n")
    result = load_text(text, "k.conf")
    assert result.data["vrrp_instances"]["V"]["accept"] is False
    assert result.locations[("vrrp_instances", "V", "accept")] == ("k.conf", 5)


def test_out_of_scope_blocks_are_skipped_whole():
    text = ("garp_group {\n garp_interval 1\n}\n"
            "virtual_server 198.51.100.1 80 {\n real_server 198.51.100.2 80 {\n  TCP_CHECK {\n   connect_timeout 3\n"
            "  }\n }\n}\n"
            "whatever_this_is {\n nested thing\n}\n")
    result = load_text(text, "k.conf")
    assert result.ok and result.config.instances == {}
    assert [(w.line, w.message.split(" - ")[0]) for w in result.warnings] == [
        (1, "'garp_group' is not supported by vrrpd (only the VRRP part of keepalived is implemented)"),
        (4, "'virtual_server 198.51.100.1' is not supported by vrrpd (only the VRRP part of keepalived is implemented)"),
        (11, "unknown keyword 'whatever_this_is' and its block"),
    ]
    # a top-level keyword inside a skipped block still means a missing '}'
    text2 = "whatever {\n vrrp_instance X {\n }\n"
    assert [e.line for e in load_text(text2, "k.conf").errors][:1] == [2]


def test_diagnostics_come_in_source_order():
    result = load_text('bogus 1\nglobal_defs {\n router_id "r\n}\n', "k.conf")
    assert [(d.line, d.severity) for d in result.diagnostics] == [(1, "warning"), (3, "error")]
