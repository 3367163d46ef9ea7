"""Shared set-up of the kit's tests: quiet TensorFlow, and find the data
directory CI provides (``../shared/data``) unless DLKIT_DATA says otherwise."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
_shared = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
if _shared.is_dir():
    os.environ.setdefault("DLKIT_DATA", str(_shared))
