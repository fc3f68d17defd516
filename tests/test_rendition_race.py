"""Render workers that need the same new rendition at once make it once: one row, one file, the plain name.

Before the lock (cms/images/renditions.py) each process made its own file and all but the first got a
random suffix, so two builds of the same content could name a rendition differently (seen as a failing
backup-and-restore comparison in full runs)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.installs import ROOT, install, manage

RACE = r"""
import json, multiprocessing, os, time
from django.db import connections
from cms.images.models import CustomImage
from tests.support.helpers import make_image

image = make_image(size=(900, 600))
pk = image.pk
slow = CustomImage.generate_rendition_file

def generate_slowly(self, filter, *, source=None):
    time.sleep(0.4)  # long enough that every process is inside the creation at once, without the lock
    return slow(self, filter, source=source)

CustomImage.generate_rendition_file = generate_slowly
connections.close_all()
ctx = multiprocessing.get_context("fork")
barrier = ctx.Barrier(4)

def make(spec_list, queue):
    barrier.wait()
    img = CustomImage.objects.get(pk=pk)
    if len(spec_list) == 1:
        queue.put({spec_list[0]: img.get_rendition(spec_list[0]).file.name})
    else:
        queue.put({spec: r.file.name for spec, r in img.get_renditions(*spec_list).items()})
    connections.close_all()

queue = ctx.Queue()
jobs = [["fill-300x200"], ["fill-300x200"], ["fill-300x200", "width-500"], ["width-500", "fill-300x200"]]
procs = [ctx.Process(target=make, args=(specs, queue)) for specs in jobs]
for p in procs:
    p.start()
seen = [queue.get(timeout=60) for _ in procs]
for p in procs:
    p.join(30)
img = CustomImage.objects.get(pk=pk)
media = os.environ["MEDIA_ROOT"]
print(json.dumps({
    "seen": seen,
    "rows": sorted(r.file.name for r in img.renditions.all()),
    "files": sorted(n for n in os.listdir(os.path.join(media, "images"))),
    "codes": [p.exitcode for p in procs],
}))
"""


def test_four_processes_make_each_new_rendition_once(tmp_path):
    env = install(tmp_path, "race")
    manage("migrate", "-v0", env=env)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", RACE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["codes"] == [0, 0, 0, 0], result.stderr[-3000:]
    rows = out["rows"]
    assert len(rows) == 2, rows  # one row per spec
    assert all("_" not in name.rsplit("/", 1)[-1].split(".")[0] for name in rows), rows  # no random suffix
    assert sorted(out["files"]) == sorted(name.rsplit("/", 1)[-1] for name in rows), out["files"]
    for names in out["seen"]:  # every process got the one rendition of each spec
        for name in names.values():
            assert name in rows, (name, rows)
