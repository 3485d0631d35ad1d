"""Completion rules: keepalived's quirks that the model must reproduce (docs/keepalived-compat.md §2, §3)."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv4Interface, IPv6Address, ip_address

import pytest

from vrrpd.config import load_text


def conf(*lines: str, vips: tuple[str, ...] = ("198.51.100.1/24",), globals_: tuple[str, ...] = (),
         extra: str = "") -> str:
    text = ""
    if globals_:
        text += "global_defs {\n" + "".join(f"    {g}\n" for g in globals_) + "}\n"
    text += "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n"
    text += "".join(f"    {line}\n" for line in lines)
    if vips:
        text += "    virtual_ipaddress {\n" + "".join(f"        {v}\n" for v in vips) + "    }\n"
    return text + "}\n" + extra


def load_ok(text: str):
    result = load_text(text, "k.conf", hostname="node1")
    assert result.ok, [str(d) for d in result.diagnostics]
    return result


def instance(*lines: str, **kwargs):
    result = load_ok(conf(*lines, **kwargs))
    return result.config.instances["VI_1"], [d.message for d in result.warnings]


# -- state and priority --------------------------------------------------------------

def test_state_master_without_priority_means_owner():
    inst, warnings = instance("state MASTER")
    assert (inst.state, inst.priority) == ("MASTER", 255)
    assert warnings == []


def test_defaults_without_state_or_priority():
    inst, _warnings = instance()
    assert (inst.state, inst.priority) == ("BACKUP", 100)


def test_priority_255_without_state_wants_master():
    inst, _warnings = instance("priority 255")
    assert inst.state == "MASTER"


@pytest.mark.parametrize("state", ["Master", "master", "BACKUP ", "MASTER_"])
def test_state_is_case_sensitive(state):
    result = load_text(conf(f'state "{state}"', "priority 150"), "k.conf")
    assert result.ok
    inst = result.config.instances["VI_1"]
    assert inst.state == "BACKUP"
    [warning] = result.warnings
    assert (warning.line, warning.tag) == (4, "corrected")
    assert warning.message == f"(VI_1) unknown state '{state}', defaulting to BACKUP"


# -- family and version --------------------------------------------------------------------

def test_ipv6_vips_force_version_3():
    inst, warnings = instance(vips=("fe80::10/64", "2001:db8::10/64"))
    assert (inst.family, inst.version) == ("inet6", 3)
    assert inst.mcast_group == IPv6Address("ff02::12")
    assert warnings == []


def test_ipv6_overrides_an_explicit_version_2_with_a_warning():
    inst, warnings = instance("version 2", vips=("fe80::10/64",))
    assert inst.version == 3
    assert any("use VRRP version 3" in w for w in warnings)


def test_non_link_local_first_ipv6_vip_is_a_warning_outside_strict_mode():
    inst, warnings = instance(vips=("2001:db8::10/64",))
    assert any("should be link local" in w for w in warnings)


def test_global_vrrp_version_applies_to_ipv4():
    inst, _warnings = instance(globals_=("vrrp_version 3",))
    assert inst.version == 3


def test_family_comes_from_unicast_src_ip_when_there_is_no_vip():
    result = load_text(conf("version 2", "unicast_src_ip 2001:db8::1", "unicast_peer {", "    2001:db8::2",
                            "}", vips=()), "k.conf")
    # IPv6 (from the source address) forces v3, and v3 needs a VIP
    assert any("use VRRP version 3" in d.message for d in result.warnings)
    assert any("No VIP specified; at least one is required" in d.message for d in result.errors)


def test_unicast_instance_without_interface():
    text = ("vrrp_instance U {\n    virtual_router_id 7\n    unicast_src_ip 198.51.100.1\n"
            "    unicast_peer {\n        198.51.100.2\n        198.51.100.3\n    }\n"
            "    virtual_ipaddress {\n        198.51.100.100/24\n    }\n}\n")
    inst = load_ok(text).config.instances["U"]
    assert inst.interface is None and inst.unicast
    assert inst.unicast_peers == (ip_address("198.51.100.2"), ip_address("198.51.100.3"))
    assert inst.unicast_src_ip == inst.source_ip == ip_address("198.51.100.1")
    assert inst.vips[0].dev is None


def test_v2_without_vip_is_only_a_warning():
    inst, warnings = instance(vips=())
    assert inst.vips == ()
    assert any("at least one is sensible" in w for w in warnings)


# -- advert interval rounding ------------------------------------------------------------------

@pytest.mark.parametrize("given, version, expected, warned", [
    ("2", 2, 2.0, False),
    ("1.5", 2, 2.0, True),
    ("1", 2, 1.0, False),
    ("255", 2, 255.0, False),
    ("254.6", 2, 255.0, True),
    ("0.01", 3, 0.01, False),
    ("0.015", 3, 0.02, True),
    ("1.234", 3, 1.23, True),
    ("40.95", 3, 40.95, False),
])
def test_advert_int_rounding(given, version, expected, warned):
    inst, warnings = instance(f"advert_int {given}", f"version {version}")
    assert inst.advert_int == pytest.approx(expected)
    assert inst.advert_int_cs == round(expected * 100)
    assert any("advertisement interval" in w for w in warnings) == warned


@pytest.mark.parametrize("given, version, message", [
    # below what any version carries: the schema refuses it (rounded, these ran with a zero interval)
    ("0.0000001", 2, r"vrrp_instances\.VI_1\.advert_int: value must be at least 0.01 \(got 0.0000001\)"),
    ("0.0000001", 3, r"vrrp_instances\.VI_1\.advert_int: value must be at least 0.01 \(got 0.0000001\)"),
    ("1e-9", 3, r"vrrp_instances\.VI_1\.advert_int: value must be at least 0.01 \(got 1e-9\)"),
    ("0.004", 3, r"vrrp_instances\.VI_1\.advert_int: value must be at least 0.01 \(got 0.004\)"),
    ("0", 2, r"vrrp_instances\.VI_1\.advert_int: value must be at least 0.01 \(got 0\)"),
    ("256", 2, r"vrrp_instances\.VI_1\.advert_int: value must be at most 255 \(got 256\)"),
    # inside that, outside the version's own bounds
    ("0.4", 2, r"^\(VI_1\) VRRPv2 advertisement interval \(advert_int\) 0.4s is out of range: "
               r"1 to 255 whole seconds$"),
    ("0.01", 2, r"VRRPv2 advertisement interval \(advert_int\) 0.01s is out of range"),
    ("40.96", 3, r"^\(VI_1\) VRRPv3 advertisement interval \(advert_int\) 40.96s is out of range: "
                 r"0.01 to 40.95 seconds$"),
    ("255", 3, r"VRRPv3 advertisement interval \(advert_int\) 255s is out of range"),
])
def test_advert_int_out_of_range_is_an_error_at_its_line(given, version, message):
    result = load_text(conf(f"version {version}", f"advert_int {given}"), "k.conf", hostname="node1")
    assert not result.ok and result.config is None
    [error] = result.errors
    assert (error.file, error.line) == ("k.conf", 5), str(error)
    assert re.search(message, error.message), error.message


def test_default_advert_int_is_one_second():
    inst, _warnings = instance()
    assert inst.advert_int == 1.0


# -- preemption ---------------------------------------------------------------------------------

def test_nopreempt_cleared_with_state_master():
    inst, warnings = instance("state MASTER", "priority 150", "nopreempt")
    assert inst.preempt is True
    assert any("nopreempt will not work with initial state MASTER" in w for w in warnings)


def test_nopreempt_cleared_at_priority_255():
    inst, warnings = instance("state BACKUP", "priority 255", "nopreempt")
    assert inst.preempt is True
    assert any("nopreempt is incompatible with priority 255" in w for w in warnings)


def test_preempt_delay_cleared_with_state_master():
    inst, warnings = instance("state MASTER", "priority 150", "preempt_delay 30")
    assert inst.preempt_delay == 0
    assert any("preempt delay will not work" in w for w in warnings)


def test_nopreempt_and_preempt_delay_for_a_backup():
    inst, warnings = instance("state BACKUP", "priority 90", "nopreempt")
    assert inst.preempt is False and warnings == []
    inst, warnings = instance("state BACKUP", "priority 90", "preempt_delay 12.5")
    assert inst.preempt_delay == 12.5 and warnings == []


def test_preempt_keyword_is_nopreempt_false():
    result = load_ok(conf("nopreempt", "preempt", "state BACKUP"))
    assert result.data["vrrp_instances"]["VI_1"]["nopreempt"] is False
    assert result.config.instances["VI_1"].preempt is True


# -- authentication --------------------------------------------------------------------------------

AUTH = ("authentication {", "    auth_type PASS", "    auth_pass secret", "}")


def test_authentication_kept_in_v2():
    inst, _warnings = instance(*AUTH)
    assert (inst.auth.type, inst.auth.password) == ("PASS", "secret")


def test_authentication_dropped_in_v3():
    inst, warnings = instance(*AUTH, "version 3")
    assert inst.auth is None
    assert any("VRRP version 3 does not support authentication" in w for w in warnings)


def test_auth_pass_cut_to_8_characters():
    inst, warnings = instance("authentication {", "    auth_type PASS", "    auth_pass 0123456789", "}")
    assert inst.auth.password == "01234567"
    assert any("first 8 characters" in w for w in warnings)


# -- accept, strict mode and the advert knobs ----------------------------------------------------------

def test_accept_defaults_to_true_and_no_accept_clears_it():
    assert instance()[0].accept is True
    assert instance("no_accept")[0].accept is False


def test_strict_mode_defaults():
    inst, _warnings = instance("priority 100", globals_=("vrrp_strict",))
    assert inst.strict is True
    assert inst.accept is False
    assert inst.lower_prio_no_advert is True
    assert inst.higher_prio_send_advert is False
    assert inst.owner_ignore_adverts is True
    owner, _warnings = instance("state MASTER", "priority 255", globals_=("vrrp_strict",))
    assert owner.accept is True


def test_globals_fold_into_instances():
    inst, _warnings = instance(globals_=("vrrp_garp_master_delay 10", "vrrp_garp_master_repeat 2",
                                         "vrrp_garp_master_refresh 60", "vrrp_garp_master_refresh_repeat 3",
                                         "vrrp_mcast_group4 224.0.0.19", "vrrp_skip_check_adv_addr",
                                         "v3_checksum_as_v2", "vrrp_lower_prio_no_advert",
                                         "vrrp_higher_prio_send_advert true", "vrrp_down_timer_adverts 5"))
    assert (inst.garp_master_delay, inst.garp_master_repeat) == (10.0, 2)
    assert (inst.garp_master_refresh, inst.garp_master_refresh_repeat) == (60.0, 3)
    assert inst.mcast_group == IPv4Address("224.0.0.19")
    assert inst.skip_check_adv_addr and inst.v3_checksum_as_v2
    assert inst.lower_prio_no_advert and inst.higher_prio_send_advert
    assert inst.down_timer_adverts == 5


def test_instance_values_win_over_globals():
    inst, _warnings = instance("garp_master_delay 1", "mcast_dst_ip 224.0.0.20", "lower_prio_no_advert false",
                               "down_timer_adverts 4",
                               globals_=("vrrp_garp_master_delay 10", "vrrp_lower_prio_no_advert"))
    assert inst.garp_master_delay == 1.0
    assert inst.mcast_group == IPv4Address("224.0.0.20")
    assert inst.lower_prio_no_advert is False
    assert inst.down_timer_adverts == 4


@pytest.mark.parametrize("globals_, lines, expected", [
    ((), (), False),
    (("smtp_alert",), (), True),
    (("smtp_alert true", "smtp_alert_vrrp false"), (), False),
    (("smtp_alert_vrrp on",), ("smtp_alert no",), False),
    ((), ("smtp_alert",), True),
])
def test_smtp_alert_resolution(globals_, lines, expected):
    inst, _warnings = instance(*lines, globals_=globals_)
    assert inst.smtp_alert is expected


# -- addresses, VMAC, trackers, routes ----------------------------------------------------------------

def test_vip_details_and_default_device():
    inst, _warnings = instance(vips=("198.51.100.1", "198.51.100.2/24 brd + label eth0:1", "198.51.100.3/24 brd - dev eth9 "
                                     "scope link no_track"), extra="")
    a, b, c = inst.vips
    assert a.address == IPv4Interface("198.51.100.1/32") and a.dev == "eth0" and a.scope == "global"
    assert b.brd == IPv4Address("198.51.100.255") and b.label == "eth0:1"
    assert c.brd is None and c.dev == "eth9" and c.scope == "link" and c.no_track
    assert str(b) == "198.51.100.2/24 brd 198.51.100.255 dev eth0 scope global label eth0:1"


def test_use_vmac_default_name_and_vip_device():
    inst, _warnings = instance("use_vmac")
    assert inst.use_vmac == "vrrp.51"
    assert inst.vips[0].dev == "vrrp.51"
    named, _warnings = instance("use_vmac vrrp-web")
    assert named.use_vmac == "vrrp-web"
    assert instance()[0].use_vmac is None


def test_unknown_address_option_is_a_warning():
    result = load_text(conf(vips=("198.51.100.1/24 dev eth1 shiny", "198.51.100.2/24 autojoin")), "k.conf")
    assert result.ok
    assert [(w.line, "shiny" in w.message or "autojoin" in w.message) for w in result.warnings] == [
        (5, True), (6, True)]
    assert result.config.instances["VI_1"].vips[1].address == IPv4Interface("198.51.100.2/24")


def test_track_script_to_an_undefined_script_is_ignored_with_a_warning():
    text = ("vrrp_script chk {\n    script /bin/true\n    weight -10 reverse\n}\n"
            + conf("track_script {", "    chk weight 20 noreverse", "    nothere", "}"))
    result = load_text(text, "k.conf")
    assert result.ok
    inst = result.config.instances["VI_1"]
    assert [(t.name, t.weight, t.reverse) for t in inst.track_scripts] == [("chk", 20, False)]
    [warning] = result.warnings
    assert warning.line == 10 and "track script nothere not found, ignoring" in warning.message
    script = result.config.scripts["chk"]
    assert (script.weight, script.weight_reverse, script.timeout, script.rise) == (-10, True, 1.0, 1)


def test_track_interfaces():
    inst, _warnings = instance("track_interface {", "    eth1", "    eth2 weight -30 reverse", "}")
    assert [(t.name, t.weight, t.reverse) for t in inst.track_interfaces] == [
        ("eth1", 0, False), ("eth2", -30, True)]


def test_virtual_routes():
    inst, warnings = instance("virtual_routes {", "    src 198.51.100.1 to 203.0.113.0/24 via 198.51.100.254 "
                              "dev eth0 table 100 metric 5", "    default gw 198.51.100.254 no_track",
                              "    blackhole 203.0.113.64/26", "}")
    r1, r2, r3 = inst.virtual_routes
    assert str(r1.to) == "203.0.113.0/24" and r1.via == ip_address("198.51.100.254")
    assert (r1.src, r1.dev, r1.table, r1.metric) == (ip_address("198.51.100.1"), "eth0", 100, 5)
    assert str(r2.to) == "0.0.0.0/0" and r2.no_track
    assert r3.blackhole and r3.tokens == ("blackhole", "203.0.113.64/26")
    assert warnings == []


def test_too_many_vips_move_to_evips():
    vips = tuple(f"10.1.{i // 250}.{i % 250 + 1}" for i in range(260))
    inst, warnings = instance(vips=vips)
    assert len(inst.vips) == 255 and len(inst.evips) == 5
    assert any("excess moved to eVIPs" in w for w in warnings)


def test_evips_may_mix_families():
    inst, _warnings = instance("virtual_ipaddress_excluded {", "    2001:db8::5/64", "    203.0.113.9/32", "}")
    assert inst.family == "inet" and len(inst.evips) == 2


def test_same_vrid_allowed_on_unicast_with_disjoint_peers():
    def unicast(name: str, peer: str) -> str:
        return (f"vrrp_instance {name} {{\n interface eth0\n virtual_router_id 9\n unicast_peer {{\n"
                f"  {peer}\n }}\n virtual_ipaddress {{\n  198.51.100.9/24\n }}\n}}\n")
    assert load_text(unicast("A", "198.51.100.2") + unicast("B", "198.51.100.3"), "k.conf").ok
    assert not load_text(unicast("A", "198.51.100.2") + unicast("B", "198.51.100.2"), "k.conf").ok


def test_same_vrid_on_other_interface_or_family_is_fine():
    text = conf() + conf().replace("VI_1", "VI_2").replace("eth0", "eth1")
    assert load_text(text, "k.conf").ok


def test_notify_scripts_are_split_like_keepalived():
    inst, _warnings = instance('notify_master "/usr/local/bin/master.sh VI_1 \'two words\'" nobody nogroup',
                               "notify_backup /bin/backup.sh", 'notify "/bin/n.sh" root')
    assert inst.notify_master.argv == ("/usr/local/bin/master.sh", "VI_1", "two words")
    assert (inst.notify_master.user, inst.notify_master.group) == ("nobody", "nogroup")
    assert inst.notify_backup.argv == ("/bin/backup.sh",) and inst.notify_backup.user is None
    assert inst.notify.user == "root"
    assert inst.notify_fault is None and inst.notify_stop is None


def test_sync_group_membership():
    text = conf() + conf().replace("VI_1", "VI_2").replace("51", "52") + (
        "vrrp_sync_group G {\n  group {\n    VI_1 VI_2\n  }\n  notify_master /bin/g.sh\n  smtp_alert\n}\n")
    config = load_ok(text).config
    assert config.sync_groups["G"].group == ("VI_1", "VI_2")
    assert config.sync_groups["G"].smtp_alert is True
    assert config.instances["VI_1"].sync_group == "G"


def test_instance_in_two_sync_groups_is_an_error():
    text = conf() + ("vrrp_sync_group A {\n group {\n  VI_1\n }\n}\n"
                     "vrrp_sync_group B {\n group {\n  VI_1\n }\n}\n")
    result = load_text(text, "k.conf")
    assert [(e.line, "already in sync group A" in e.message) for e in result.errors] == [(15, True)]


def test_global_defaults_use_the_host_name():
    config = load_ok(conf()).config
    g = config.global_defs
    assert g.router_id == "node1" and g.smtp_helo_name == "node1"
    assert g.notification_email_from.endswith("@node1")
    assert g.smtp_server is None and not g.email_enabled


def test_config_where_points_at_the_source():
    config = load_ok(conf("priority 120")).config
    assert config.where("vrrp_instances", "VI_1", "priority") == ("k.conf", 4)
    assert config.where("vrrp_instances", "VI_1", "virtual_ipaddress", 0, "brd") == ("k.conf", 6)
    assert config.where("nothing") is None


# -- garp_lower_prio_delay / garp_lower_prio_repeat (keepalived's inheritance) ----------------------

def test_garp_lower_prio_inherits_the_global_master_values():
    inst, _warnings = instance("garp_master_delay 1", "garp_master_repeat 1",
                               globals_=("vrrp_garp_master_delay 7", "vrrp_garp_master_repeat 3"))
    # keepalived: the instance's lower-priority values come from the globals, not its garp_master_*
    assert (inst.garp_lower_prio_delay, inst.garp_lower_prio_repeat) == (7.0, 3)


def test_garp_lower_prio_global_and_instance_values():
    inst, _warnings = instance(globals_=("vrrp_garp_lower_prio_delay 9", "vrrp_garp_lower_prio_repeat 2"))
    assert (inst.garp_lower_prio_delay, inst.garp_lower_prio_repeat) == (9.0, 2)
    inst, _warnings = instance("garp_lower_prio_delay 0", "garp_lower_prio_repeat 1",
                               globals_=("vrrp_garp_lower_prio_delay 9",))
    assert (inst.garp_lower_prio_delay, inst.garp_lower_prio_repeat) == (0.0, 1)


def test_strict_mode_sends_no_lower_prio_garp():
    inst, _warnings = instance("priority 100", globals_=("vrrp_strict",))
    assert (inst.garp_lower_prio_delay, inst.garp_lower_prio_repeat) == (0.0, 0)
    inst, warnings = instance("priority 100", "garp_lower_prio_repeat 4", globals_=("vrrp_strict",))
    assert inst.garp_lower_prio_repeat == 0
    assert any("garp_lower_prio_repeat is incompatible with strict mode" in w for w in warnings)


# -- options inherited from global_defs: one table (complete.INHERITED) --------------------

def test_every_instance_option_with_a_global_default_is_in_the_table():
    """A new instance option with a global_defs default goes into INHERITED, not a new stanza."""
    from dataclasses import fields

    from vrrpd.config.complete import INHERITED
    from vrrpd.config.model import GlobalDefs, Instance

    global_names = {f.name for f in fields(GlobalDefs)}
    with_global = {f.name for f in fields(Instance)
                   if f.name in global_names or f"vrrp_{f.name}" in global_names}
    own_rules = {"version", "smtp_alert", "strict"}     # sections of their own in complete.py
    assert {row.key for row in INHERITED} == with_global - own_rules
    assert all(row.global_name in global_names for row in INHERITED)


#: instance keyword -> (instance text, its value, global text, its value)
INHERITED_CASES = {
    "garp_master_delay": ("garp_master_delay 2", 2.0, "vrrp_garp_master_delay 9", 9.0),
    "garp_master_repeat": ("garp_master_repeat 2", 2, "vrrp_garp_master_repeat 9", 9),
    "garp_master_refresh": ("garp_master_refresh 2", 2.0, "vrrp_garp_master_refresh 9", 9.0),
    "garp_master_refresh_repeat": ("garp_master_refresh_repeat 2", 2,
                                   "vrrp_garp_master_refresh_repeat 9", 9),
    "garp_lower_prio_delay": ("garp_lower_prio_delay 2", 2.0, "vrrp_garp_lower_prio_delay 9", 9.0),
    "garp_lower_prio_repeat": ("garp_lower_prio_repeat 2", 2, "vrrp_garp_lower_prio_repeat 9", 9),
    "lower_prio_no_advert": ("lower_prio_no_advert false", False, "vrrp_lower_prio_no_advert", True),
    "higher_prio_send_advert": ("higher_prio_send_advert false", False,
                                "vrrp_higher_prio_send_advert", True),
    "owner_ignore_adverts": ("owner_ignore_adverts false", False, "vrrp_owner_ignore_adverts", True),
    "skip_check_adv_addr": ("skip_check_adv_addr false", False, "vrrp_skip_check_adv_addr", True),
    "v3_checksum_as_v2": ("v3_checksum_as_v2 false", False, "v3_checksum_as_v2", True),
    "down_timer_adverts": ("down_timer_adverts 2", 2, "vrrp_down_timer_adverts 9", 9),
}


@pytest.mark.parametrize("key", sorted(INHERITED_CASES))
def test_inherited_option_instance_value_else_global_value(key):
    own, own_value, global_line, global_value = INHERITED_CASES[key]
    inst, _warnings = instance(globals_=(global_line,))
    assert getattr(inst, key) == global_value
    inst, _warnings = instance(own, globals_=(global_line,))
    assert getattr(inst, key) == own_value


@pytest.mark.parametrize("key, line, value, outcome", [
    ("garp_lower_prio_delay", "garp_lower_prio_delay 3", 0.0, "corrected"),
    ("garp_lower_prio_repeat", "garp_lower_prio_repeat 3", 0, "corrected"),
    ("lower_prio_no_advert", "lower_prio_no_advert false", None, "Strict mode requires lower_prio_no_advert"),
    ("higher_prio_send_advert", "higher_prio_send_advert", None,
     "strict mode requires higher_prio_send_advert to be clear"),
    ("owner_ignore_adverts", "owner_ignore_adverts false", False, None),
])
def test_inherited_option_in_strict_mode(key, line, value, outcome):
    """Strict mode's value replaces the global one; an instance's own value is refused, reset or kept."""
    result = load_text(conf("priority 100", line, globals_=("vrrp_strict",)), "k.conf", hostname="node1")
    if value is None:
        assert [d.message for d in result.errors] == [f"(VI_1) {outcome}"]
        return
    assert result.ok, [str(d) for d in result.diagnostics]
    assert getattr(result.config.instances["VI_1"], key) == value
    assert [d.tag for d in result.warnings] == ([outcome] if outcome else [])


# -- interfaces that come and go (docs/interfaces.md) ------------------------------------

@pytest.mark.parametrize("line, dynamic, changes", [
    (None, False, False), ("dynamic_interfaces", True, False),
    ("dynamic_interfaces allow_if_changes", True, True)])
def test_dynamic_interfaces(line, dynamic, changes):
    result = load_ok(conf(globals_=(line,) if line else ()))
    g = result.config.global_defs
    assert (g.dynamic_interfaces, g.allow_if_changes) == (dynamic, changes)


def test_track_src_ip_with_a_configured_source():
    inst, warnings = instance("unicast_src_ip 198.51.100.11", "track_src_ip", "unicast_peer {", "198.51.100.12", "}")
    assert inst.track_src_ip and warnings == []


def test_track_src_ip_without_a_configured_source_is_ignored_with_a_warning_at_its_line():
    result = load_ok(conf("track_src_ip"))
    assert result.config.instances["VI_1"].track_src_ip is False
    assert [(w.location[1], w.message) for w in result.warnings] == [
        (4, "(VI_1) track_src_ip without unicast_src_ip or mcast_src_ip - ignored")]
