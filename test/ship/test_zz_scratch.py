import time
from conftest import *

def test_scratch_spool(shared_node, sensor, tmp_path):
    n = shared_node
    s = sensor("scr", n.url, "lure-scr-%Y.%m.%d", es={"spool": {"path": str(tmp_path / "spool")}})
    for i in range(5):
        connect_banner(s.banner_port)
    time.sleep(2)
    print(len(s.ids()), len(node_ids(n, "lure-scr-*")))
    for i in range(5):
        connect_banner(s.banner_port)
    time.sleep(2)
    print(len(s.ids()), len(node_ids(n, "lure-scr-*")))
    for i in range(30):
        connect_banner(s.banner_port)
    time.sleep(2)
    print(len(s.ids()), len(node_ids(n, "lure-scr-*")))
    print(s.status())
    print(s.stderr()[-3000:])
