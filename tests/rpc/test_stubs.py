"""The checked-in stubs match proto/ (regenerate with `python scripts/gen_proto.py`)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUBS = ROOT / "backend" / "rpc" / "_pb"


def test_generated_stubs_are_up_to_date(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_proto.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    for fresh in sorted(tmp_path.glob("deblur_pb2*")):
        checked_in = STUBS / fresh.name
        assert checked_in.exists(), f"{checked_in} is missing; run scripts/gen_proto.py"
        assert checked_in.read_text() == fresh.read_text(), (
            f"{checked_in.name} is stale; run `python scripts/gen_proto.py` and commit")
