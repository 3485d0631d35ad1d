"""Malformed configurations: each is rejected with the exact FILE:LINE and a clear message."""

from __future__ import annotations

import re

import pytest

from vrrpd.config import load

#: A valid instance occupying lines 1-6; extra lines given to inst() start at line 7.
BASE = """\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        198.51.100.1/24
    }
"""


def inst(*lines: str, before: str = "", after: str = "") -> str:
    """BASE plus ``lines`` (from line 7 on, or later if ``before`` adds lines) and its '}'."""
    return before + BASE + "".join(line + "\n" for line in lines) + "}\n" + after


STRICT = "global_defs {\n    vrrp_strict\n}\n"       # 3 lines: instance lines shift by 3

CASES = [
    # (id, configuration text, expected error line, message pattern)
    ("unclosed-brace", BASE + "    priority 100\n", 1, r"block 'vrrp_instance VI_1' is never closed"),
    ("stray-close", inst() + "}\n", 8, r"unexpected '}'"),
    ("stray-open", "{\n}\n" + inst(), 1, r"unexpected '\{'"),
    ("priority-too-high", inst("    priority 300"), 7,
     r"vrrp_instances\.VI_1\.priority: value must be at most 255 \(got 300\)"),
    ("priority-not-a-number", inst("    priority high"), 7, r"priority: expected an integer \(got high\)"),
    ("priority-no-value", inst("    priority"), 7, r"'priority' needs a value"),
    ("vrid-zero", BASE.replace("virtual_router_id 51", "virtual_router_id 0") + "}\n", 3,
     r"virtual_router_id: value must be at least 1 \(got 0\)"),
    ("vrid-missing", BASE.replace("    virtual_router_id 51\n", "") + "}\n", 1,
     r"virtual_router_id: required option missing"),
    ("no-interface", BASE.replace("    interface eth0\n", "") + "}\n", 1,
     r"\(VI_1\) no 'interface'"),
    ("bad-vip", inst("    virtual_ipaddress {", "        198.51.100.300/24", "    }"), 8,
     r"virtual_ipaddress\[1\]: expected an IP address .*\(got 198\.51\.100\.300/24\)"),
    ("bad-brd", inst("    virtual_ipaddress {", "        198.51.100.2/24 brd nowhere", "    }"), 8,
     r"brd: expected an IP address, '\+' or '-' \(got nowhere\)"),
    ("bad-scope", inst("    virtual_ipaddress {", "        198.51.100.2/24 scope planet", "    }"), 8,
     r"scope: .*\(got planet\)"),
    ("vip-option-no-value", inst("    virtual_ipaddress {", "        198.51.100.2/24 dev", "    }"), 8,
     r"'dev' needs a value"),
    ("mixed-families", inst("    virtual_ipaddress {", "        2001:db8::1/64", "    }"), 8,
     r"all virtual_ipaddress entries must be one family"),
    ("duplicate-vrid", inst() + BASE.replace("VI_1", "VI_2") + "}\n", 10,
     r"\(VI_2\) VRID 51 is already used on eth0 \(inet\) by instance VI_1"),
    ("duplicate-instance", inst() + inst(), 8, r"vrrp_instance VI_1 is already defined at .*:1"),
    ("dynamic-interfaces-option", "global_defs {\n    dynamic_interfaces allow_changes\n}\n" + inst(), 2,
     r"global_defs\.dynamic_interfaces: value must be one of \['allow_if_changes'\] \(got allow_changes\)"),
    ("instance-without-name", "vrrp_instance {\n}\n", 1, r"'vrrp_instance' needs exactly one name"),
    ("sync-group-unknown-member",
     inst(after="vrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\n"), 11,
     r"sync group G: unknown vrrp_instance 'VI_9'"),
    ("unterminated-quote", inst('    notify_master "/bin/true'), 7, r"unterminated quote"),
    ("advert-int-negative", inst("    advert_int -1"), 7, r"advert_int: value must be at least 0.01 \(got -1\)"),
    ("auth-type-unknown", inst("    authentication {", "        auth_type MD5", "        auth_pass x", "    }"),
     8, r"authentication\.auth_type: .*\(got MD5\)"),
    ("version-4", inst("    version 4"), 7, r"version: value must be at most 3 \(got 4\)"),
    ("smtp-port", "global_defs {\n    smtp_server mail.example 99999\n}\n", 2,
     r"global_defs\.smtp_server\.port: value must be at most 65535 \(got 99999\)"),
    ("mcast-group4-not-multicast", "global_defs {\n    vrrp_mcast_group4 198.51.100.1\n}\n" + inst(), 2,
     r"vrrp_mcast_group4: expected an IPv4 multicast address \(got 198\.51\.100\.1\)"),
    ("smtp-alert-not-bool", inst("    smtp_alert maybe"), 7, r"smtp_alert: expected boolean \(got maybe\)"),
    ("script-without-command", "vrrp_script chk {\n    interval 2\n}\n", 1, r"script: required option missing"),
    ("scalar-with-block", inst("    state BACKUP {", "    }"), 7, r"'state' does not take a \{ \} block"),
    ("list-without-block", inst("    unicast_peer 198.51.100.2"), 7, r"'unicast_peer' needs a \{ \} block"),
    ("nested-instance", BASE + BASE.replace("VI_1", "VI_2").replace("51", "52") + "}\n", 7,
     r"'vrrp_instance' cannot appear inside 'vrrp_instance VI_1' - is a '\}' missing"),
    ("track-weight-range", inst("    track_interface {", "        eth1 weight 300", "    }"), 8,
     r"track_interface\[0\]\.weight: value must be at most 253 \(got 300\)"),
    ("v3-without-vip", "vrrp_instance V {\n    interface eth0\n    virtual_router_id 1\n    version 3\n}\n",
     1, r"\(V\) No VIP specified; at least one is required"),
    ("unicast-src-family", inst("    unicast_src_ip 2001:db8::2"), 7,
     r"\(VI_1\) unicast_src_ip 2001:db8::2 and the VIPs must be the same family"),
    ("peer-family", inst("    unicast_peer {", "        2001:db8::3", "    }"), 8,
     r"unicast peer 2001:db8::3 is not inet"),
    ("mcast-dst-not-multicast", inst("    mcast_dst_ip 203.0.113.1"), 7,
     r"mcast_dst_ip 203\.0\.113\.1 is not an inet multicast"),
    ("vmac-name-too-long", inst("    use_vmac averyveryverylongname"), 7, r"longer than 15 characters"),
    ("route-without-destination", inst("    virtual_routes {", "        via 198.51.100.254", "    }"), 8,
     r"route has no destination"),
    ("route-bad-gateway", inst("    virtual_routes {", "        203.0.113.0/24 via gateway", "    }"), 8,
     r"virtual_routes\[0\]\.via: expected an IP address \(got gateway\)"),
    ("notify-bad-inner-quote", inst('''    notify "/bin/x 'a"'''), 7, r"cannot split command"),
    ("unicast-without-src-or-interface",
     "vrrp_instance U {\n    virtual_router_id 5\n    unicast_peer {\n        198.51.100.2\n    }\n"
     "    virtual_ipaddress {\n        198.51.100.1\n    }\n}\n", 1,
     r"\(U\) Unicast instances must have unicast_src_ip or interface"),
    ("strict-master-not-owner", STRICT + inst("    state MASTER", "    priority 100"), 10,
     r"State MASTER must match being address owner"),
    ("strict-unicast", STRICT + inst("    unicast_peer {", "        198.51.100.2", "    }"), 10,
     r"Unicast peers are not supported in strict mode"),
    ("strict-auth", STRICT + inst("    authentication {", "        auth_type PASS", "        auth_pass x",
                                  "    }"), 10, r"Strict mode does not support authentication"),
    ("strict-preempt-delay", STRICT + inst("    preempt_delay 10"), 10,
     r"preempt_delay is incompatible with strict mode"),
    ("strict-accept-v2", STRICT + inst("    accept"), 10, r"accept mode for VRRP version 2"),
    ("strict-ipv6-link-local", STRICT + BASE.replace("198.51.100.1/24", "2001:db8::1/64") + "}\n", 8,
     r"the first IPv6 VIP address must be link local"),
    ("strict-ipv6-v2", STRICT + inst("    version 2").replace("198.51.100.1/24", "fe80::1/64"), 10,
     r"cannot use IPv6 with VRRP version 2"),
    ("includem-missing", "includem missing.conf\n" + inst(), 1, r"includem missing\.conf: no file matches"),
]


@pytest.mark.parametrize("text, line, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_configuration(tmp_path, text, line, pattern):
    path = tmp_path / "keepalived.conf"
    path.write_text(text)
    result = load(str(path), hostname="test")
    assert result.config is None and not result.ok
    errors = result.errors
    assert len(errors) == 1, [str(e) for e in result.diagnostics]
    error = errors[0]
    assert (error.file, error.line) == (str(path), line), str(error)
    assert re.search(pattern, error.message), str(error)
    assert str(error).startswith(f"{path}:{line}: ")


def test_error_inside_an_included_file_names_that_file(tmp_path):
    (tmp_path / "conf.d").mkdir()
    included = tmp_path / "conf.d" / "vi_1.conf"
    included.write_text("# instance VI_1\n" + inst("    priority 999"))
    main = tmp_path / "keepalived.conf"
    main.write_text("global_defs {\n    router_id r\n}\ninclude conf.d/*.conf\n")
    result = load(str(main), hostname="test")
    assert [(e.file, e.line) for e in result.errors] == [(str(included), 8)]
    assert "priority: value must be at most 255 (got 999)" in result.errors[0].message


def test_unclosed_block_inside_an_included_file(tmp_path):
    included = tmp_path / "vips.conf"
    included.write_text("virtual_ipaddress {\n    198.51.100.1/24\n")
    main = tmp_path / "keepalived.conf"
    main.write_text("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
                    "    include vips.conf\n}\n")
    result = load(str(main), hostname="test")
    # the '}' of the instance closes virtual_ipaddress: the instance itself is left open
    assert [(e.file, e.line) for e in result.errors] == [(str(main), 1)]
    assert "never closed" in result.errors[0].message


def test_include_loop_reported_at_the_include_line(tmp_path):
    (tmp_path / "a.conf").write_text("include b.conf\n")
    (tmp_path / "b.conf").write_text("\ninclude a.conf\n")
    main = tmp_path / "keepalived.conf"
    main.write_text(inst(after="include a.conf\n"))
    result = load(str(main), hostname="test")
    assert [(e.file, e.line) for e in result.errors] == [(str(tmp_path / "b.conf"), 2)]
    assert "include loop" in result.errors[0].message


def test_missing_main_file(tmp_path):
    path = tmp_path / "nope.conf"
    result = load(str(path))
    assert not result.ok
    assert str(result.errors[0]).startswith(f"{path}: cannot read")


def test_several_errors_are_all_reported(tmp_path):
    path = tmp_path / "keepalived.conf"
    path.write_text(inst("    priority 0", "    advert_int x", "    garp_master_repeat -2"))
    result = load(str(path), hostname="test")
    assert [e.line for e in result.errors] == [7, 8, 9]


def test_diagnostic_text_and_config_test_status():
    from vrrpd.config import Diagnostic, config_test_status

    error = Diagnostic("k.conf", 7, "error", "bad")
    warning = Diagnostic("k.conf", 8, "warning", "odd")
    security = Diagnostic("k.conf", 9, "warning", "SECURITY VIOLATION", "security")
    assert str(error) == "k.conf:7: bad"
    assert str(warning) == "k.conf:8: warning: odd"
    assert str(Diagnostic("k.conf", 0, "error", "cannot read")) == "k.conf: cannot read"
    assert config_test_status([]) == 0
    assert config_test_status([warning]) == 4
    assert config_test_status([warning, security]) == 5
    assert config_test_status([security, error]) == 3
