"""Reader tests for issue 11 items 1 and 8: track_file, vrrp_track_process, their references in
instances and sync groups, global_tracking, and the dump-file keywords of global_defs.

Each keyword's value reaches the model; a bad value is an error at its FILE:LINE.
"""

from __future__ import annotations

import re

import pytest

from vrrpd.config import load_text

INSTANCE = """\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        198.51.100.1/24
    }
%s}
"""


def _load(text: str):
    return load_text(text, "t.conf", hostname="h")


def _config(text: str):
    result = _load(text)
    assert not result.errors, [str(e) for e in result.errors]
    return result.config


def test_track_file_block_reaches_the_model() -> None:
    config = _config("track_file up {\n    file /run/up\n    weight -7 reverse\n    init_file 4 overwrite\n}\n"
                     + INSTANCE % "    track_file {\n        up weight 3 noreverse\n    }\n")
    tf = config.track_files["up"]
    assert (tf.path, tf.weight, tf.reverse, tf.init, tf.init_value, tf.init_overwrite) == \
        ("/run/up", -7, True, True, 4, True)
    ref = config.instances["VI_1"].track_files[0]
    assert (ref.name, ref.weight, ref.reverse) == ("up", 3, False)


def test_track_file_defaults_and_deprecated_synonym() -> None:
    config = _config("vrrp_track_file up {\n    file /run/up\n    init_file\n}\n"
                     + INSTANCE % "    track_file {\n        up\n    }\n")
    tf = config.track_files["up"]
    assert (tf.weight, tf.reverse, tf.init, tf.init_value, tf.init_overwrite) == (1, False, True, 0, False)
    ref = config.instances["VI_1"].track_files[0]
    assert (ref.weight, ref.reverse) == (None, None)     # the file's own weight


def test_track_process_block_reaches_the_model() -> None:
    config = _config('vrrp_track_process web {\n    process /usr/sbin/nginx -g "daemon off;"\n'
                     "    param_match initial\n    weight 30 reverse\n    quorum 2\n    quorum_max 5\n"
                     "    delay 3\n    fork_delay 0.5\n}\n"
                     + INSTANCE % "    track_process {\n        web weight -254\n    }\n")
    tp = config.track_processes["web"]
    assert (tp.process, tp.params, tp.param_match, tp.full_command) == \
        ("/usr/sbin/nginx", ("-g", "daemon off;"), "initial", True)
    assert (tp.weight, tp.reverse, tp.quorum, tp.quorum_max) == (30, True, 2, 5)
    assert (tp.fork_delay, tp.terminate_delay) == (0.5, 3.0)     # delay sets both, fork_delay wins
    assert config.instances["VI_1"].track_processes[0].weight == -254


def test_track_process_defaults() -> None:
    config = _config("vrrp_track_process p {\n    process sleep\n}\n"
                     "vrrp_track_process q {\n    process sleep 100\n}\n"
                     "vrrp_track_process r {\n    process sleep\n    full_command\n    quorum_max 0\n}\n")
    p, q, r = (config.track_processes[n] for n in "pqr")
    assert (p.param_match, p.full_command, p.weight, p.quorum, p.quorum_max) == ("none", False, 0, 1, 2**32 - 1)
    assert (q.params, q.param_match, q.full_command) == (("100",), "exact", True)  # arguments: exact match
    assert (r.full_command, r.quorum, r.quorum_max) == (True, 0, 0)                # no process may run


def test_sync_group_trackers_and_global_tracking() -> None:
    config = _config("track_file f {\n    file /run/f\n}\nvrrp_track_process p {\n    process sleep\n}\n"
                     + INSTANCE % ""
                     + "vrrp_sync_group G {\n    group { VI_1 }\n    global_tracking\n"
                     "    track_file { f weight 0 }\n    track_process { p reverse }\n}\n")
    group = config.sync_groups["G"]
    assert group.sync_group_tracking_weight is True
    assert (group.track_files[0].name, group.track_files[0].weight) == ("f", 0)
    assert (group.track_processes[0].name, group.track_processes[0].reverse) == ("p", True)


def test_dump_file_keywords_reach_the_model() -> None:
    config = _config("global_defs {\n    state_dump_file /var/tmp/\n    stats_dump_file /var/tmp/s.txt\n"
                     "    json_dump_file j.json\n    tmp_config_directory /var/tmp/cfg\n}\n")
    g = config.global_defs
    assert (g.state_dump_file, g.stats_dump_file, g.json_dump_file, g.tmp_config_directory) == \
        ("/var/tmp/", "/var/tmp/s.txt", "j.json", "/var/tmp/cfg")


def test_unknown_tracker_name_is_a_warning_at_its_line() -> None:
    result = _load(INSTANCE % "    track_file {\n        nowhere\n    }\n    track_process {\n        none\n    }\n")
    assert result.ok and not result.config.instances["VI_1"].track_files
    text = [str(w) for w in result.warnings]
    assert any(w.startswith("t.conf:8:") and "track file nowhere not found" in w for w in text), text
    assert any(w.startswith("t.conf:11:") and "track process none not found" in w for w in text), text


TF = "track_file up {\n    file /run/up\n%s}\n"
TP = "vrrp_track_process p {\n    process sleep\n%s}\n"

BAD = [
    # (id, text, line, message pattern)
    ("file-weight-too-big", TF % "    weight 255\n", 3, r"track_files\.up\.weight: .*255"),
    ("file-weight-not-int", TF % "    weight heavy\n", 3, r"track_files\.up\.weight: .*heavy"),
    ("file-no-file", "track_file up {\n    weight 2\n}\n", 1, r"track_files\.up\.file: required option missing"),
    ("init-file-bad-word", TF % "    init_file 3 keep\n", 3, r"'init_file': unknown option 'keep'"),
    ("init-file-out-of-range", TF % "    init_file 300\n", 3, r"init_file.*300"),
    ("process-no-name", TP % "    process\n", 3, r"'process' needs a value"),
    ("param-match-bad", TP % "    param_match whole\n", 3, r"param_match.*whole"),
    ("quorum-zero", TP % "    quorum 0\n", 3, r"quorum: value must be at least 1"),
    ("quorum-over-max", TP % "    quorum_max 2\n    quorum 3\n", 4, r"quorum 3 is greater than quorum_max 2"),
    ("delay-zero", TP % "    delay 0\n", 3, r"delay: value must be higher than 0"),
    ("delay-too-long", TP % "    terminate_delay 3601\n", 3, r"terminate_delay: value must be at most 3600"),
    ("instance-file-weight", INSTANCE % "    track_file {\n        up weight 300\n    }\n", 8,
     r"track_file\[0\]\.weight: value must be at most 254"),
    ("group-process-weight", INSTANCE % "" + "vrrp_sync_group G {\n    group { VI_1 }\n"
     "    track_process {\n        p weight -255\n    }\n}\n", 11, r"track_process\[0\]\.weight: value must be at least -254"),
    ("state-dump-no-value", "global_defs {\n    state_dump_file\n}\n", 2, r"'state_dump_file' needs a value"),
]


@pytest.mark.parametrize("text,line,pattern", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_values_are_errors_at_their_line(text: str, line: int, pattern: str) -> None:
    result = _load(text)
    assert not result.ok
    errors = [str(e) for e in result.errors]
    assert any(e.startswith(f"t.conf:{line}:") and re.search(pattern, e) for e in errors), errors
