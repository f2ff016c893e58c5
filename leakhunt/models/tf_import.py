"""Import TensorFlow in the parent without its C++ start-up chatter on the user's terminal.

TF 2.21 prints oneDNN/CUDA-probe lines through absl before TF_CPP_MIN_LOG_LEVEL is read, so the only way
to keep `leakhunt model info` or a bad-model error to one clean line is to point file descriptor 2 at a
temporary file while the import runs. If the import fails, what it printed is replayed so nothing is hidden.
Children do not use this: their stderr goes to child.log, where the chatter is evidence.
"""

from __future__ import annotations

import os
import sys
import tempfile
from types import ModuleType


def import_tensorflow_quietly() -> ModuleType:
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    sys.stderr.flush()
    saved_fd = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow

            # Device discovery (cuInit) logs its own errors on machines without a GPU: do it now, quietly.
            tensorflow.config.list_physical_devices()
        except BaseException:
            os.dup2(saved_fd, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
    return tensorflow
