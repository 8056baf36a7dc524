"""Time a client's check of a witnessed checkpoint against the raw calls it makes:
`uv run python bench/witness.py`.

What a client does on each new checkpoint with witnesses pinned (k = 2): verify the log's
signature and two cosignatures (:func:`colloque.crypto.witness.verify_witnessed_checkpoint`), then
the RFC 9162 consistency proof from the checkpoint it remembered
(:func:`colloque.crypto.transparency.verify_checkpoint_consistency`). The baseline is the three
``crypto_sign_open`` calls alone, through PyNaCl, interleaved in the same loop (medians, ratio =
ours / raw). The log has 100,000 leaves; the remembered checkpoint 99,000.
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import time
from collections.abc import Callable

from nacl import bindings as raw

from colloque.crypto import transparency, witness
from colloque.crypto.transparency import Checkpoint

ORIGIN = "colloque.example/key-directory"
LOG_SEED = bytes(range(32))
WITNESS_SEEDS = {"w1.example": bytes([1]) * 32, "w2.example": bytes([2]) * 32}
SIZE, OLD_SIZE = 100_000, 99_000
REPETITIONS = 3000


def _measure(
    ours: Callable[[], object], baseline: Callable[[], object], repetitions: int
) -> tuple[float, float]:
    """Medians in seconds, the two alternating so that drift hits both alike."""
    ours_ns: list[int] = []
    raw_ns: list[int] = []
    for i in range(repetitions):
        pair = ((ours, ours_ns), (baseline, raw_ns))
        for function, sink in pair if i % 2 == 0 else pair[::-1]:
            start = time.perf_counter_ns()
            function()
            sink.append(time.perf_counter_ns() - start)
    return statistics.median(ours_ns) / 1e9, statistics.median(raw_ns) / 1e9


def main() -> None:
    hashes = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(SIZE)]
    old = Checkpoint(ORIGIN, OLD_SIZE, transparency.tree_root(hashes[:OLD_SIZE]))
    new = Checkpoint(ORIGIN, SIZE, transparency.tree_root(hashes))
    proof = transparency.consistency_proof(hashes, OLD_SIZE)
    note = transparency.sign_checkpoint(new, log_signing_seed=LOG_SEED)
    witnesses = {}
    for name, seed in WITNESS_SEEDS.items():
        note += witness.cosign(new, name=name, witness_signing_seed=seed, timestamp=1_780_000_000)
        witnesses[name] = witness.witness_public_key(seed)
    log_key = transparency.log_public_key(LOG_SEED)

    def ours() -> None:
        checkpoint = witness.verify_witnessed_checkpoint(
            note, origin=ORIGIN, log_public_key=log_key, witnesses=witnesses, threshold=2
        )
        transparency.verify_checkpoint_consistency(old, checkpoint, proof)

    # The signed messages and signatures, cut out once: the baseline does only the three opens.
    text = note[: note.index("\n\n") + 1].encode()
    lines = note[note.index("\n\n") + 2 :].splitlines()
    log_signature = base64.b64decode(lines[0].split(" ")[2])[4:]
    opens = [(log_signature + text, log_key)]
    for line, public in zip(lines[1:], witnesses.values(), strict=True):
        raw_line = base64.b64decode(line.split(" ")[2])
        message = witness.cosigned_message(new, int.from_bytes(raw_line[4:12], "big"))
        opens.append((raw_line[12:] + message, public))

    def baseline() -> None:
        for signed, public in opens:
            raw.crypto_sign_open(signed, public)

    ours_s, raw_s = _measure(ours, baseline, REPETITIONS)
    print(f"proof hashes: {len(proof)}; repetitions: {REPETITIONS}")
    print("| what | ours | raw crypto_sign_open x3 | ratio |")
    print("| --- | --- | --- | --- |")
    print(
        f"| witnessed checkpoint (log + 2 cosignatures) + consistency proof "
        f"| {ours_s * 1e6:.0f} µs | {raw_s * 1e6:.0f} µs | {ours_s / raw_s:.2f} |"
    )


if __name__ == "__main__":
    main()
