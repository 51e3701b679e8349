"""Imported by a process pool's fork server (:data:`pixelfes.runners.PRELOAD`), once per run.

Loads what every photo's work needs before workers fork, so each worker starts with it
instead of paying it on its first photo (about 0.2 s a worker: the lazily imported modules,
the 68-point model's arrays, OpenCV's colour tables, the mouth bank, the default model).
Only single-threaded work runs here: a fork copies one thread, so a fork server must not
start thread pools (OpenCV is set to one thread first; the LiteRT nets made here run on one
thread and start none; the test suite checks the thread count).
Importing this module anywhere else is harmless but pointless.
"""

from __future__ import annotations

import cv2
import numpy as np

cv2.setNumThreads(1)  # before any OpenCV call: no worker threads in the server (none to fork)


def _warm() -> None:
    # modules the photo path imports on first use
    import numpy.ma  # noqa: F401
    from PIL import JpegImagePlugin, PngImagePlugin, TiffImagePlugin  # noqa: F401

    from . import mouth_regions, zoo  # noqa: F401
    from .face import blazeface, detect, plausible, pose  # noqa: F401
    from .mouth.bank import load_bank
    from .photojobs import _load, resolve_refs

    # OpenCV builds its Lab <-> RGB tables on first use (30-40 ms)
    lab = np.zeros((1, 1, 3), np.float32)
    cv2.cvtColor(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), cv2.COLOR_RGB2LAB)
    detect._cached("ert68")  # the 68-point model's arrays
    for side in (blazeface.SMALL_WINDOW, blazeface.WINDOW):  # the second looks' fixed shapes
        blazeface._net((side, side))  # one-thread LiteRT nets (their memory planned)
    load_bank()
    zoo.list_models()
    for _, ref in resolve_refs("neutral", ["happy"], None):  # the default model (most runs')
        _load(ref)


try:
    _warm()
except Exception:  # noqa: BLE001, S110 - warming is an optimisation: workers load on demand
    pass
