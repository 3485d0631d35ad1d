"""`vrrpd -t` and `vrrpd -d` as an operator runs them: exit status, FILE:LINE on stderr, the dump."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vrrpd.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "configs"
SEED = DATA / "seed.conf"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vrrpd.cli", *args], capture_output=True, text=True, timeout=60, check=False)


def test_seed_passes_config_test_with_a_warning_for_the_missing_notify_script() -> None:
    result = run("-t", "-f", str(SEED))
    assert result.returncode == 0, result.stderr
    assert f"{SEED}:23: warning:" in result.stderr
    assert "keepalived.py" in result.stderr
    assert "configuration OK" in result.stderr


def test_seed_dump_shows_what_was_understood() -> None:
    result = run("-d", "-f", str(SEED))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("routeur-sam", "root@crans.org", "keepalived@crans.org", "smtp.adm.crans.org",
                     "VI_ALL", "MASTER", "150", "ens18", "60", "2 sec",
                     "/var/local/services/keepalived/keepalived.py",
                     "185.230.79.62/26 brd 185.230.79.63 dev ens22 scope global"):
        assert expected in out, expected
    assert "Using smtp notification = yes" in out


def test_config_test_fails_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conf"
    bad.write_text("vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 300\n}\n")
    result = run("-t", "-f", str(bad))
    assert result.returncode == 3
    assert f"{bad}:4:" in result.stderr


def test_missing_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.conf"
    assert main(["-t", "-f", str(missing)]) == 3
    assert str(missing) in capsys.readouterr().err


def test_full_keepalived_conf_with_lvs_parts_loads_its_vrrp_part() -> None:
    result = run("-t", "-f", str(DATA / "full-lvs.conf"))
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr


@pytest.mark.parametrize("interval, version", [("0.0000001", 3), ("0.0000001", 2), ("0.4", 2), ("41", 3)])
def test_config_test_refuses_an_advert_interval_the_version_cannot_carry(
        tmp_path: Path, interval: str, version: int) -> None:
    conf = tmp_path / "interval.conf"
    conf.write_text("vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n"
                    f"  version {version}\n  advert_int {interval}\n"
                    "  virtual_ipaddress {\n    198.51.100.1/24\n  }\n}\n")
    result = run("-t", "-f", str(conf))
    assert result.returncode == 3, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith(f"{conf}:5: ")]
    assert errors and "advert_int" in errors[0], result.stderr
