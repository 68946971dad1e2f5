"""A self-contained emulator of the Vidu platform API, for tests, benchmarks and offline work.

    app = create_emulator(EmulatorConfig(accounts={"key-a": 10_000}, process_seconds=0.2))
    # serve `app` with uvicorn, or run `vidugate emulate-vidu --port 8100 --key key-a`

It follows the project's reading of Vidu's platform API (its spec, vidu-upstream.md); where
that is silent, the module that makes the choice says so in its docstring. It shares no
code with `vidugate.providers` (the gateway's Vidu client must not be tested against its
own assumptions) and uses `vidugate.media` only to draw real MP4s.

Modules, one concept each:
- `config`: `EmulatorConfig`, `Faults`, checked partial updates;
- `catalog`: models per endpoint, durations, resolutions, ratios, prices, frame sizes;
- `images`, `validation`: a create body to a `CreateRequest`, or 400 `FieldInvalid`;
- `tasks`, `accounts`: the lazy state machine and the per-account FIFO slot scheduler;
- `core`: `Emulator`, the state (accounts, tasks, credits, fault dice, stats);
- `documents`, `listing`, `links`: the JSON documents, list filters/paging, signed links;
- `routes`, `results`, `admin`: the Vidu surface, result downloads, /_emulator control
  (unauthenticated: the emulator is served on loopback unless told otherwise);
- `faults`: latency/5xx/429 middleware and the lost create answer;
- `callbacks`, `signing`: signed callback delivery with retries; `sign_callback`;
- `app`: `create_emulator`, the one wiring point.
"""

from vidugate.emulator.app import create_emulator
from vidugate.emulator.config import EmulatorConfig, Faults
from vidugate.emulator.core import Emulator
from vidugate.emulator.signing import sign_callback

__all__ = ["Emulator", "EmulatorConfig", "Faults", "create_emulator", "sign_callback"]
