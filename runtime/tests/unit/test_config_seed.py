"""The Crans seed configuration and a full keepalived.conf with LVS parts, end to end."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

from vrrpd.config import load
from vrrpd.config.dump import format_config

CONFIGS = Path(__file__).resolve().parent.parent / "data" / "configs"
SEED = CONFIGS / "seed.conf"
FULL = CONFIGS / "full-lvs.conf"


def test_seed_loads_without_diagnostics():
    result = load(str(SEED), hostname="routeur-sam")
    assert result.ok
    assert result.diagnostics == []
    assert result.files == [str(SEED)]


def test_seed_global_defs():
    g = load(str(SEED)).config.global_defs
    assert g.router_id == "routeur-sam"
    assert g.notification_email == ("root@crans.org",)
    assert g.notification_email_from == "keepalived@crans.org"
    assert (g.smtp_server.host, g.smtp_server.port) == ("smtp.adm.crans.org", 25)
    assert g.email_enabled


def test_seed_instance():
    inst = load(str(SEED)).config.instances["VI_ALL"]
    assert inst.name == "VI_ALL"
    assert (inst.state, inst.priority) == ("MASTER", 150)
    assert inst.smtp_alert is True
    assert inst.interface == "ens18"
    assert inst.virtual_router_id == 60
    assert inst.advert_int == 2.0
    assert (inst.version, inst.family) == (2, "inet")
    assert inst.notify.command == "/var/local/services/keepalived/keepalived.py"
    assert inst.notify.argv == ("/var/local/services/keepalived/keepalived.py",)
    [vip] = inst.vips
    assert vip.address == IPv4Interface("185.230.79.62/26")
    assert vip.brd == IPv4Address("185.230.79.63")
    assert (vip.dev, vip.scope, vip.label, vip.no_track) == ("ens22", "global", None, False)
    assert inst.evips == () and inst.auth is None and inst.preempt


def test_seed_dict_form():
    data = load(str(SEED)).data
    assert data == {
        "global_defs": {
            "notification_email": ["root@crans.org"],
            "notification_email_from": "keepalived@crans.org",
            "smtp_server": {"host": "smtp.adm.crans.org", "port": 25},
            "router_id": "routeur-sam",
        },
        "vrrp_instances": {"VI_ALL": {
            "state": "MASTER", "priority": 150, "smtp_alert": True, "interface": "ens18",
            "virtual_router_id": 60, "advert_int": 2,
            "notify": "/var/local/services/keepalived/keepalived.py",
            "virtual_ipaddress": [{"address": "185.230.79.62/26", "brd": "185.230.79.63",
                                   "dev": "ens22", "scope": "global"}],
        }},
    }


def test_seed_dump():
    text = format_config(load(str(SEED)).config)
    for line in [
        "------< Global definitions >------",
        " Router ID = routeur-sam",
        " Email notification from = keepalived@crans.org",
        " Email notification = root@crans.org",
        " SMTP server = smtp.adm.crans.org:25",
        "------< VRRP Topology >------",
        " VRRP Instance = VI_ALL",
        "   Wantstate = MASTER",
        "   Priority = 150",
        "   Using smtp notification = yes",
        "   Interface = ens18",
        "   Virtual Router ID = 60",
        "   Advert interval = 2 sec",
        "   Generic state transition script = '/var/local/services/keepalived/keepalived.py'",
        "   Virtual IP (1):",
        "     185.230.79.62/26 brd 185.230.79.63 dev ens22 scope global",
    ]:
        assert line in text.splitlines(), line


def test_full_keepalived_conf_with_lvs_parts_loads_its_vrrp_part():
    result = load(str(FULL), hostname="lb1")
    assert result.ok, [str(d) for d in result.errors]
    warnings = [(w.line, w.message.split(" is not supported")[0]) for w in result.warnings]
    assert warnings == [
        (17, "'lvs_sync_daemon'"),
        (18, "'enable_snmp_vrrp'"),
        (78, "'virtual_server_group HTTP_GROUP'"),
        (83, "'virtual_server 198.51.100.100'"),
        (108, "'virtual_server 203.0.113.2'"),
    ]
    assert all(str(w).startswith(f"{FULL}:{w.line}: warning: ") for w in result.warnings)
    config = result.config
    assert list(config.instances) == ["VI_1", "VI_2"]
    vi1, vi2 = config.instances["VI_1"], config.instances["VI_2"]
    assert vi1.auth.password == "1111" and len(vi1.vips) == 3
    assert [t.name for t in vi1.track_scripts] == ["chk_haproxy"]
    assert vi1.notify_master.argv == ("/etc/keepalived/master.sh", "VI_1")
    assert vi2.preempt is False and len(vi2.virtual_routes) == 2
    assert config.sync_groups["VG_1"].group == ("VI_1", "VI_2")
    assert vi1.sync_group == vi2.sync_group == "VG_1"
    script = config.scripts["chk_haproxy"]
    assert script.argv == ("/usr/bin/killall", "-0", "haproxy")
    assert (script.interval, script.weight, script.fall, script.rise) == (2.0, -20, 2, 2)
    g = config.global_defs
    assert g.smtp_server.port == 2525 and g.vrrp_garp_interval == 0.001
    assert g.enable_script_security and g.script_user == "keepalived_script"


def test_unknown_keywords_are_warnings_with_location(tmp_path):
    path = tmp_path / "k.conf"
    path.write_text(SEED.read_text().replace("  priority 150\n", "  priority 150\n  bogus_keyword 1 {\n"
                                             "    nested { deeper }\n  }\n  fancy_option x\n"))
    result = load(str(path))
    assert result.ok
    assert [(w.line, w.message) for w in result.warnings] == [
        (12, "unknown keyword 'bogus_keyword' in 'vrrp_instance VI_ALL' and its block - ignored"),
        (15, "unknown keyword 'fancy_option' in 'vrrp_instance VI_ALL' - ignored"),
    ]


def test_dump_shows_every_section_of_the_full_sample():
    text = format_config(load(str(FULL), hostname="lb1").config)
    for line in [
        "   Sync group = VG_1",
        "   Authentication type = PASS",
        "   Tracked interfaces (1):",
        "     eth1 weight -10",
        "   Tracked scripts (1):",
        "     chk_haproxy",
        "     198.51.100.17/24 dev eth1 scope global label eth1:vip",
        "     198.51.100.18/32 brd 198.51.100.18 dev eth2 scope global no_track",
        "   Virtual Routes (2):",
        "     blackhole 203.0.113.128/25",
        "   Preempt = disabled",
        "   Master state transition script = '/etc/keepalived/master.sh VI_1'",
        "------< VRRP Sync groups >------",
        " VRRP Sync Group = VG_1",
        "   Generic state transition script = '/usr/local/bin/vg-notify.sh'",
        "------< VRRP Scripts >------",
        " VRRP Script = chk_haproxy",
        "   Command = '/usr/bin/killall -0 haproxy'",
        "   Weight = -20",
        " Script security = enabled",
        " Default script user = keepalived_script",
    ]:
        assert line in text.splitlines(), line
    assert "1111" not in text            # passwords are masked
