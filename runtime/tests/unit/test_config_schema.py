"""The schema: single source of truth shared with the Ansible modules."""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

import pytest

from vrrpd.config import (CONFIG_SCHEMA, GLOBAL_DEFS_SCHEMA, INSTANCE_SCHEMA, SCRIPT_SCHEMA,
                          SYNC_GROUP_SCHEMA, ValidationError, load, load_dict, load_text, validate)
from vrrpd.config.render import render_config
from vrrpd.config.schema import (GLOBAL_FIELDS, INSTANCE_FIELDS, SCRIPT_FIELDS, SYNC_GROUP_FIELDS,
                                 TOP_BLOCKS, TOP_LISTS)

CONFIGS = Path(__file__).resolve().parent.parent / "data" / "configs"
PACKAGE = Path(__file__).resolve().parent.parent.parent / "vrrpd" / "config"

RICH = """\
global_defs {
    router_id r1
    notification_email { a@x.org "Ops Team <ops@x.org>" }
    notification_email_from vrrp@x.org
    smtp_server 198.51.100.25 587
    smtp_helo_name r1.x.org
    smtp_connect_timeout 12.5
    smtp_alert_vrrp yes
    no_email_faults
    enable_script_security
    script_user nobody nogroup
    vrrp_version 3
    vrrp_garp_master_delay 2
    vrrp_garp_master_repeat 3
    vrrp_garp_master_refresh 30
    vrrp_garp_master_refresh_repeat 2
    vrrp_garp_lower_prio_delay 3
    vrrp_garp_lower_prio_repeat 1
    vrrp_garp_interval 0.002
    vrrp_gna_interval 0.003
    vrrp_mcast_group4 224.0.0.18
    vrrp_mcast_group6 ff02::12
    vrrp_skip_check_adv_addr
    v3_checksum_as_v2 on
    vrrp_lower_prio_no_advert false
    vrrp_higher_prio_send_advert
    vrrp_owner_ignore_adverts no
    vrrp_down_timer_adverts 4
    vrrp_notify_fifo /run/vrrp.fifo root root
    vrrp_notify_fifo_script "/usr/local/bin/fifo.sh --verbose"
    vrrpd_metrics_listen "[2001:db8::1]:9650"
    dynamic_interfaces allow_if_changes
    notify_fifo /run/all.fifo
    notify_fifo_script /usr/local/bin/all.sh
    smtp_alert false
    vrrp_strict
    state_dump_file /var/run/vrrpd/
    stats_dump_file /var/run/vrrpd/stats.txt
    json_dump_file state.json
    tmp_config_directory /var/tmp/vrrpd
    vrrp_check_unicast_src
    default_interface eth9
}
track_file up {
    file /run/up
    weight -10 reverse
    init_file 1 overwrite
}
vrrp_track_process daemon {
    process "/usr/sbin/daemon" -f "a b"
    param_match partial
    weight 20 reverse
    quorum 2
    quorum_max 4
    delay 1.5
    fork_delay 0.5
    terminate_delay 2
    full_command
}
vrrp_script chk {
    script "/bin/check 'a b'"
    interval 0.5
    timeout 2
    weight 10 reverse
    rise 3
    fall 4
    user nobody
    init_fail
}
vrrp_instance V4 {
    state BACKUP
    interface eth0
    virtual_router_id 10
    priority 120
    advert_int 0.5
    strict_mode false
    virtual_ipaddress {
        203.0.113.1/24 brd + dev eth0 scope global label eth0:v
        203.0.113.2
        203.0.113.5/24 peer 203.0.113.6/32 preferred_lft 30 noprefixroute
    }
    virtual_ipaddress_excluded {
        2001:db8::1/64 no_track
        2001:db8::2/64 preferred_lft forever -nodad home mngtmpaddr
    }
    virtual_routes {
        198.51.100.128/25 via 203.0.113.254 table 5 metric 7 onlink
        unreachable 198.51.100.0/26 metric 3
        198.51.100.64/26 via 203.0.113.254 dev eth0 src 203.0.113.1 table main scope global protocol static mtu lock 1400 advmss 1360 no_track
        2001:db8:5::/64 from 2001:db8:6::/64 pref high nexthop via 2001:db8::7 dev eth0 weight 2 nexthop via 2001:db8::8 onlink
    }
    virtual_rules {
        from 203.0.113.0/24 to 198.51.100.0/24 iif eth0 fwmark 0x10/0xff tos 8 preference 100 table 5
        not from all oif eth1 preference 101 unreachable l3mdev no_track inet6
        preference 102 goto 200
        from 203.0.113.7/32 preference 103 table 6 suppress_prefixlength 0
    }
    no_virtual_ipaddress
    check_unicast_src
    unicast_fault_no_peer
    vmac_xmit_base
    promote_secondaries
    kernel_rx_buf_size 262144
    nopreempt
    notify "/bin/notify.sh x" nobody
    notify_master /bin/m.sh
    notify_backup /bin/b.sh
    notify_fault /bin/f.sh
    notify_stop /bin/s.sh
    smtp_alert false
    unicast_src_ip 203.0.113.3
    unicast_peer {
        203.0.113.4
        203.0.113.8 min_ttl 250 max_ttl 255
    }
    garp_master_delay 1
    garp_master_repeat 2
    garp_master_refresh 10
    garp_master_refresh_repeat 1
    garp_lower_prio_delay 4
    garp_lower_prio_repeat 2
    no_accept
    track_interface {
        eth1 weight -5 reverse
        eth2
    }
    track_script {
        chk weight -50 noreverse
    }
    track_file {
        up weight 3 reverse
    }
    track_process {
        daemon weight -254
    }
    dont_track_primary
    use_vmac
    lower_prio_no_advert
    higher_prio_send_advert false
    owner_ignore_adverts
    skip_check_adv_addr
    v3_checksum_as_v2 false
    down_timer_adverts 3
    track_src_ip
}
vrrp_instance V6 {
    interface eth0
    virtual_router_id 10
    priority 255
    strict_mode off
    version 3
    preempt_delay 5
    authentication {
        auth_type AH
        auth_pass secret
    }
    virtual_ipaddress {
        fe80::10/64
    }
    mcast_src_ip fe80::2
    mcast_dst_ip ff02::12
    accept
    use_vmac vrrp6-10 02:00:00:00:0a
}
vrrp_sync_group G {
    group { V4 }
    notify /bin/g.sh
    notify_master "/bin/gm.sh m"
    notify_backup /bin/gb.sh
    notify_fault /bin/gf.sh
    notify_stop /bin/gs.sh
    smtp_alert
    track_interface { eth3 weight 5 }
    track_script { chk }
    track_file { up }
    track_process { daemon noreverse }
    sync_group_tracking_weight
}
static_ipaddress {
    198.51.100.9/24 dev eth1 noprefixroute
}
static_routes {
    blackhole 198.51.100.192/26 table 7
}
static_rules {
    from 198.51.100.0/24 preference 90 table 7
}
"""


def rich():
    result = load_text(RICH, "rich.conf", hostname="h")
    assert not result.errors, [str(e) for e in result.errors]
    return result


def leaves(value):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def test_rich_configuration_uses_every_keyword():
    result = rich()
    data = result.data
    for block in TOP_BLOCKS.values():
        bodies = [data[block.key]] if not block.named else list(data[block.key].values())
        used = set().union(*(body.keys() for body in bodies))
        assert used == {f.name for f in block.fields}, block.keyword
    assert set(TOP_LISTS) <= set(data)


def test_validate_accepts_the_parser_output_and_is_idempotent():
    data = rich().data
    assert validate(copy.deepcopy(data)) == data
    assert load(str(CONFIGS / "seed.conf")).data == validate(load(str(CONFIGS / "seed.conf")).data)


def test_dict_form_is_yaml_friendly():
    data = rich().data
    assert all(type(leaf) in (str, int, float, bool) for leaf in leaves(data))
    assert json.loads(json.dumps(data)) == data


def test_render_round_trips_through_the_parser():
    data = rich().data
    again = load_text(render_config(data), "rendered.conf", hostname="h")
    assert not again.errors, render_config(data)
    assert again.data == data
    assert again.config == rich().config


def test_scalar_or_mapping_forms():
    data = rich().data
    v4 = data["vrrp_instances"]["V4"]
    assert v4["notify"] == {"command": "/bin/notify.sh x", "user": "nobody"}
    assert v4["notify_master"] == "/bin/m.sh"
    assert v4["track_interface"] == [{"name": "eth1", "weight": -5, "reverse": True}, "eth2"]
    assert v4["track_script"] == [{"name": "chk", "weight": -50, "reverse": False}]
    assert v4["virtual_ipaddress"][1] == "203.0.113.2"
    assert v4["accept"] is False and v4["nopreempt"] is True and v4["use_vmac"] is True
    assert data["vrrp_instances"]["V6"]["use_vmac"] == {"name": "vrrp6-10", "mac": "02:00:00:00:0a"}
    assert v4["unicast_peer"] == ["203.0.113.4", {"address": "203.0.113.8", "min_ttl": 250, "max_ttl": 255}]
    assert data["vrrp_scripts"]["chk"]["weight"] == {"value": 10, "reverse": True}
    assert data["global_defs"]["script_user"] == {"user": "nobody", "group": "nogroup"}
    assert data["global_defs"]["notification_email"] == ["a@x.org", "Ops Team <ops@x.org>"]
    assert data["global_defs"]["v3_checksum_as_v2"] is True


@pytest.mark.parametrize("data, message", [
    ({"vrrp_instances": {"VI_1": {"virtual_router_id": 51, "priority": 300}}},
     "vrrp_instances.VI_1.priority: value must be at most 255 (got 300)"),
    ({"vrrp_instances": {"VI_1": {"virtual_router_id": 51, "priority": 1.5}}},
     "vrrp_instances.VI_1.priority: expected an integer (got 1.5)"),
    ({"vrrp_instances": {"VI_1": {"virtual_router_id": 51, "priority": True}}},
     "vrrp_instances.VI_1.priority: expected an integer (got True)"),
    ({"vrrp_instances": {"VI_1": {"priority": 100}}},
     "vrrp_instances.VI_1.virtual_router_id: required option missing"),
    ({"vrrp_instances": {"VI_1": {"virtual_router_id": 51, "virtual_ipaddress": ["198.51.100.1/33"]}}},
     "vrrp_instances.VI_1.virtual_ipaddress[0]: expected an IP address with optional /prefix (got 198.51.100.1/33)"),
    ({"vrrp_instances": {"VI_1": {"virtual_router_id": 51,
                                  "virtual_ipaddress": [{"address": "198.51.100.1", "dev": ""}]}}},
     "vrrp_instances.VI_1.virtual_ipaddress[0].dev: length of value must be at least 1 (got '')"),
    ({"vrrp_instances": {"VI_1": {"virtual_router_id": 51, "prority": 100}}},
     "vrrp_instances.VI_1.prority: unknown option"),
    ({"global_defs": {"smtp_server": {"host": "mail", "port": "smtp"}}},
     "global_defs.smtp_server.port: expected an integer (got smtp)"),
    ({"vrrp_instances": {"VI_1": {"virtual_router_id": 51, "advert_int": "nan"}}},
     "vrrp_instances.VI_1.advert_int: expected a finite number (got nan)"),
    ({"vrrp_scripts": {"chk": {"script": "/bin/true", "weight": {"value": 999}}}},
     "vrrp_scripts.chk.weight.value: value must be at most 253 (got 999)"),
    ({"vrrp_sync_groups": {"G": {"group": "VI_1"}}},
     "vrrp_sync_groups.G.group: expected a list (got VI_1)"),
])
def test_validate_rejects_with_path_and_value(data, message):
    with pytest.raises(ValidationError) as info:
        validate(data)
    assert [p.message for p in info.value.problems] == [message]
    assert str(info.value) == message


def test_validate_reports_every_problem():
    with pytest.raises(ValidationError) as info:
        validate({"vrrp_instances": {"A": {"virtual_router_id": 0},
                                     "B": {"virtual_router_id": 1, "state": ""}}})
    assert sorted(p.path for p in info.value.problems) == [
        ("vrrp_instances", "A", "virtual_router_id"), ("vrrp_instances", "B", "state")]


def test_validate_coerces_yaml_and_keepalived_spellings():
    data = validate({"global_defs": {"smtp_server": {"host": "m"}, "vrrp_strict": "yes"},
                     "vrrp_instances": {"VI_1": {"virtual_router_id": "7", "advert_int": "1.0",
                                                 "smtp_alert": "off", "accept": True}}})
    assert data["global_defs"]["smtp_server"] == {"host": "m", "port": 25}
    assert data["global_defs"]["vrrp_strict"] is True
    vi = data["vrrp_instances"]["VI_1"]
    assert (vi["virtual_router_id"], vi["advert_int"], vi["smtp_alert"]) == (7, 1, False)


def test_block_schemas_are_exported_and_usable_alone():
    assert INSTANCE_SCHEMA({"virtual_router_id": 1})["virtual_router_id"] == 1
    assert GLOBAL_DEFS_SCHEMA({"router_id": "x"}) == {"router_id": "x"}
    assert SCRIPT_SCHEMA({"script": "/bin/true", "rise": "2"})["rise"] == 2
    assert SYNC_GROUP_SCHEMA({"group": ["a"]}) == {"group": ["a"]}
    assert CONFIG_SCHEMA({}) == {}
    with pytest.raises(ValidationError):
        validate({"interface": "x"}, INSTANCE_SCHEMA)


def test_schemas_are_generated_from_the_field_tables():
    def keys(schema):
        return {str(k) for k in schema.schema}
    assert keys(GLOBAL_DEFS_SCHEMA) == {f.name for f in GLOBAL_FIELDS}
    assert keys(INSTANCE_SCHEMA) == {f.name for f in INSTANCE_FIELDS}
    assert keys(SCRIPT_SCHEMA) == {f.name for f in SCRIPT_FIELDS}
    assert keys(SYNC_GROUP_SCHEMA) == {f.name for f in SYNC_GROUP_FIELDS}


def test_load_dict_completes_operator_yaml():
    result = load_dict({"vrrp_instances": {"VI_1": {
        "state": "MASTER", "interface": "eth0", "virtual_router_id": 60,
        "virtual_ipaddress": ["198.51.100.1/24", {"address": "198.51.100.2/24", "dev": "eth1"}]}}},
        hostname="h")
    assert result.ok
    inst = result.config.instances["VI_1"]
    assert inst.priority == 255 and [v.dev for v in inst.vips] == ["eth0", "eth1"]
    bad = load_dict({"vrrp_instances": {"VI_1": {"state": "Master", "virtual_router_id": 1}}})
    assert [str(d) for d in bad.diagnostics] == [
        "<dict>: warning: (VI_1) unknown state 'Master', defaulting to BACKUP",
        "<dict>: warning: (VI_1) No VIP specified; at least one is sensible",
        "<dict>: (VI_1) no 'interface': a multicast instance needs one",
    ]


ALLOWED_VOLUPTUOUS = {"Schema", "Required", "Optional", "All", "Any", "Range", "Length", "In",
                      "Coerce", "Invalid", "MultipleInvalid", "Boolean"}


def test_only_the_basic_voluptuous_api_is_used():
    """voluptuous 0.12.2 (Debian 12) and 0.16 must both work: stick to the common basics."""
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("voluptuous"):
                names = {alias.name for alias in node.names}
                assert names <= ALLOWED_VOLUPTUOUS, (module.name, names - ALLOWED_VOLUPTUOUS)
            if isinstance(node, ast.Import):
                assert all(a.name != "voluptuous" for a in node.names), module.name


FORBIDDEN_IMPORTS = {"socket", "asyncio", "selectors", "ssl", "smtplib", "pyroute2", "scapy"}


def test_config_code_does_no_networking():
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = {node.module.split(".")[0]}
            else:
                continue
            assert not names & FORBIDDEN_IMPORTS, (module.name, names)
