"""A catalogue of hostile inputs, generated on the fly (no committed blobs), with what each one must give.

Every entry builds one input under a folder and says what Emotion Studio must answer for it, on every surface:
an error with one of `codes` (a typed error naming the file), or a result (`codes` empty), optionally with a
warning about damage. `path_only` entries (a FIFO, /dev/zero, a symlink loop, ...) cannot be uploaded over
REST: they are things a path names, not bytes a client sends.

    from hostile import build_catalogue
    cases = build_catalogue(folder)        # {name: Case}
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from audio_factory import (
    bad_garbage_after_header,
    bad_jpeg,
    bad_unknown_codec,
    bad_video_only,
    encode,
    make_voice,
)

CATALOGUE_MAX_DURATION_S = 3600.0  # the surfaces run the catalogue with a 1-hour limit
LONG_LOWBITRATE_S = 3 * 3600  # the "3-hour low-bitrate file"
HOURS_FROM_TINY_S = 3 * 3600 + 50 * 60  # "a tiny file that decodes to hours"


@dataclass
class Case:
    name: str
    path: Path
    codes: frozenset[str]  # acceptable error codes; empty: a result is expected
    warning: bool = False  # a result with a damage warning is expected
    path_only: bool = False  # not a file's bytes: cannot be uploaded

    @property
    def expects_result(self) -> bool:
        return not self.codes


# ------------------------------------------------------------------------------------------------ writers
def wav_bytes(x: np.ndarray, rate: int, kind: str = "s16") -> bytes:
    """A canonical WAV of (samples,) or (samples, channels) floats in [-1, 1] as u8 / s16 / s24 / s32 / f32 / f64."""
    x = np.asarray(x, np.float64)
    x = x[:, None] if x.ndim == 1 else x
    ch = x.shape[1]
    if kind == "u8":
        data, fmt, bits = (np.clip(x, -1, 1) * 127 + 128).round().astype(np.uint8).tobytes(), 1, 8
    elif kind == "s16":
        data, fmt, bits = (np.clip(x, -1, 1) * 32767).round().astype("<i2").tobytes(), 1, 16
    elif kind == "s24":
        v = (np.clip(x, -1, 1) * (2**23 - 1)).round().astype("<i4").reshape(-1)
        data, fmt, bits = b"".join(int(s).to_bytes(3, "little", signed=True) for s in v), 1, 24
    elif kind == "s32":
        data, fmt, bits = (np.clip(x, -1, 1) * (2**31 - 1)).round().astype("<i4").tobytes(), 1, 32
    elif kind == "f32":
        data, fmt, bits = x.astype("<f4").tobytes(), 3, 32
    elif kind == "f64":
        data, fmt, bits = x.astype("<f8").tobytes(), 3, 64
    else:
        raise ValueError(kind)
    block = ch * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", fmt, ch, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    body += b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _voice(seconds: float = 1.5, rate: int = 16000, seed: int = 11) -> np.ndarray:
    return make_voice(seconds, rate, seed=seed)


def _cut(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    return _write(dst, data[: int(len(data) * keep)])


def encode_long(
    path: Path,
    seconds: float,
    *,
    fmt: str,
    codec: str,
    rate: int,
    bit_rate: int | None = None,
    quiet: bool = False,
) -> Path:
    """A long file made from one repeated block (fast): a voice (or, with `quiet`, near-silence with a blip)."""
    block_s = 10.0
    if quiet:
        block = np.zeros(int(block_s * rate), np.float32)
        block[:200] = 0.5 * np.sin(np.arange(200) / 3)  # not digital silence
    else:
        block = make_voice(block_s, rate, seed=3)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        sample_fmt = stream.codec_context.format.name
        n = 0
        while n < seconds * rate:
            if sample_fmt == "s16":
                frame = av.AudioFrame.from_ndarray(
                    (block * 32767).astype(np.int16)[None, :], format="s16", layout="mono"
                )
            else:
                frame = av.AudioFrame.from_ndarray(
                    block[None, :], format="flt" if sample_fmt == "flt" else "fltp", layout="mono"
                )
            frame.sample_rate, frame.pts, frame.time_base = rate, n, Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
            n += len(block)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def long_opus(path: Path, seconds: float, block_s: float = 60.0) -> Path:
    """An Ogg Opus file of `seconds` (8 kHz voice, 6 kb/s): one encoded block repeated by remuxing its packets."""
    block = path.with_name(f".block-{path.name}")
    encode_long(block, block_s, fmt="opus", codec="libopus", rate=8000, bit_rate=6000)
    with av.open(str(block)) as inp:
        stream = inp.streams.audio[0]
        packets = [p for p in inp.demux(stream) if p.size]
        span = packets[-1].pts + packets[-1].duration - packets[0].pts
        with av.open(str(path), "w", format="opus") as out:
            target = out.add_stream_from_template(stream)
            for k in range(int(np.ceil(seconds / (span * stream.time_base)))):
                for p in packets:
                    q = av.Packet(bytes(p))
                    q.pts = q.dts = p.pts + k * span
                    q.duration, q.time_base, q.stream = p.duration, p.time_base, target
                    out.mux(q)
    block.unlink()
    return path


def flac_without_length(path: Path, seconds: float) -> Path:
    """A small FLAC of hours of near-silence whose STREAMINFO does not say how long it is (0 samples)."""
    encode_long(path, seconds, fmt="flac", codec="flac", rate=8000, quiet=True)
    data = bytearray(path.read_bytes())
    # STREAMINFO starts at byte 8 (after "fLaC" + block header); total samples: the low 36 bits of bytes 21-25
    data[21] &= 0xF0
    data[22:26] = b"\0\0\0\0"
    data[26:42] = b"\0" * 16  # the MD5 of the audio is unknown as well
    path.write_bytes(bytes(data))
    return path


def _m4a_without_moov(folder: Path) -> Path:
    enc = encode(folder / "full.m4a", _voice(2.0, 22050), 22050, "m4a").path
    data = enc.read_bytes()
    at = data.find(b"moov")
    enc.unlink()
    return _write(folder / "no_moov.m4a", data[: at - 4])


def _flac_bitflips(folder: Path) -> Path:
    enc = encode(folder / "flips_src.flac", _voice(4.0, 16000, seed=4), 16000, "flac").path
    data = bytearray(enc.read_bytes())
    enc.unlink()
    rng = np.random.default_rng(0)
    for i in rng.integers(8000, len(data), 20):
        data[i] ^= 0x10
    return _write(folder / "bitflips.flac", bytes(data))


def _wav_odd_chunks(folder: Path) -> Path:
    """Valid WAV with a LIST chunk, an odd-sized unknown chunk (padded) and a fact chunk before the data."""
    canonical = wav_bytes(_voice(), 16000)
    fmt_end = 12 + 8 + 16
    extra = b"LIST" + struct.pack("<I", 10) + b"INFOISFT\0\0"
    extra += b"junk" + struct.pack("<I", 3) + b"abc\0"  # odd size: one pad byte
    extra += b"fact" + struct.pack("<I", 4) + struct.pack("<I", 24000)
    body = canonical[12:fmt_end] + extra + canonical[fmt_end:]
    return _write(folder / "odd_chunks.wav", b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body)


def _wav_claims(folder: Path, name: str, present_s: float, claimed_s: float | None) -> Path:
    """A WAV with `present_s` of audio whose data chunk claims `claimed_s` (None: 0xFFFFFFFF, unknown)."""
    data = wav_bytes(_voice(present_s), 16000)
    claimed = 0xFFFFFFFF if claimed_s is None else int(claimed_s * 16000) * 2
    at = data.find(b"data")
    return _write(folder / name, data[: at + 4] + struct.pack("<I", claimed) + data[at + 8 :])


def _symlink_loop(folder: Path) -> Path:
    a, b = folder / "loop_a.wav", folder / "loop_b.wav"
    a.symlink_to(b)
    b.symlink_to(a)
    return a


def _fifo(folder: Path) -> Path:
    path = folder / "pipe.wav"
    os.mkfifo(path)
    return path


def _long_name(folder: Path) -> Path:
    return folder / ("n" * 300 + ".wav")


def _named(folder: Path, name: str) -> Path:
    return _write(folder / name, wav_bytes(_voice(1.2, seed=21), 16000))


def _png(folder: Path) -> Path:
    buf = io.BytesIO()
    with av.open(buf, "w", format="image2pipe") as out:
        stream = out.add_stream("png", rate=1)
        stream.width = stream.height = 8
        stream.pix_fmt = "rgb24"
        frame = av.VideoFrame.from_ndarray(np.full((8, 8, 3), 200, np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return _write(folder / "picture.wav", buf.getvalue())


def _encoded(folder: Path, name: str, fmt: str, x: np.ndarray, rate: int) -> Path:
    return encode(folder / name, x, rate, fmt).path


# ------------------------------------------------------------------------------------------------ the table
def _entries(folder: Path, shared: Path) -> list[tuple[str, Callable[[], Path], frozenset[str], bool, bool]]:
    """(name, builder, codes, warning, path_only)."""
    v = _voice()
    E = frozenset
    long_opus = shared / "three_hours.opus"
    tiny_hours = shared / "hours_from_tiny.flac"
    return [
        ("empty", lambda: _write(folder / "empty.wav", b""), E({"empty"}), False, False),
        ("one_byte", lambda: _write(folder / "one_byte.wav", b"R"), E({"not_audio"}), False, False),
        (
            "text_as_wav",
            lambda: _write(folder / "notes.wav", b"Meeting notes, not audio.\n" * 40),
            E({"not_audio"}),
            False,
            False,
        ),
        (
            "text_as_mp3",
            lambda: _write(folder / "notes.mp3", b"Just some text.\n" * 40),
            E({"not_audio"}),
            False,
            False,
        ),
        ("png_as_wav", lambda: _png(folder), E({"not_audio"}), False, False),
        ("jpeg_as_mp3", lambda: bad_jpeg(folder), E({"not_audio"}), False, False),
        (
            "wav_header_only",
            lambda: _write(folder / "header_only.wav", wav_bytes(np.zeros(0), 16000)),
            E({"zero_length"}),
            False,
            False,
        ),
        (
            "wav_claims_10x",
            lambda: _wav_claims(folder, "claims_10x.wav", 1.0, 10.0),
            E({"corrupt"}),
            False,
            False,
        ),
        ("wav_claims_a_bit_more", lambda: _wav_claims(folder, "claims_more.wav", 3.2, 4.0), E(), True, False),
        ("wav_size_ffffffff", lambda: _wav_claims(folder, "streamed.wav", 1.5, None), E(), False, False),
        ("wav_odd_chunks", lambda: _wav_odd_chunks(folder), E(), False, False),
        ("wav_unknown_codec", lambda: bad_unknown_codec(folder), E({"unsupported"}), False, False),
        (
            "mp3_cut_25",
            lambda: _cut(
                _encoded(folder, "src25.mp3", "mp3", _voice(4.0, 22050), 22050), folder / "cut25.mp3", 0.25
            ),
            E({"corrupt"}),
            False,
            False,
        ),
        (
            "mp3_cut_75",
            lambda: _cut(
                _encoded(folder, "src75.mp3", "mp3", _voice(4.0, 22050), 22050), folder / "cut75.mp3", 0.75
            ),
            E(),
            True,
            False,
        ),
        ("m4a_no_moov", lambda: _m4a_without_moov(folder), E({"corrupt"}), False, False),
        (
            "m4a_cut_half",
            lambda: _cut(
                _encoded(folder, "srcm4a.m4a", "m4a", _voice(4.0, 22050), 22050), folder / "cut.m4a", 0.5
            ),
            E({"corrupt"}),
            False,
            False,
        ),
        (
            "ogg_cut_half",
            lambda: _cut(
                _encoded(folder, "src.ogg", "ogg", np.stack([_voice(4.0), _voice(4.0)], 1), 16000),
                folder / "cut.ogg",
                0.5,
            ),
            E(),
            True,
            False,
        ),
        (
            "opus_cut_half",
            lambda: _cut(_encoded(folder, "src.opus", "opus", _voice(4.0), 16000), folder / "cut.opus", 0.5),
            E(),
            True,
            False,
        ),
        (
            "flac_cut_30",
            lambda: _cut(
                _encoded(folder, "src30.flac", "flac", _voice(4.0), 16000), folder / "cut30.flac", 0.3
            ),
            E({"corrupt"}),
            False,
            False,
        ),
        (
            "flac_cut_85",
            lambda: _cut(
                _encoded(folder, "src85.flac", "flac", _voice(4.0), 16000), folder / "cut85.flac", 0.85
            ),
            E(),
            True,
            False,
        ),
        ("flac_bitflips", lambda: _flac_bitflips(folder), E(), True, False),
        ("flac_garbage_after_header", lambda: bad_garbage_after_header(folder), E({"corrupt"}), False, False),
        (
            "float_nan",
            lambda: _write(
                folder / "nan.wav", wav_bytes(np.where(np.arange(len(v)) == 900, np.nan, v), 16000, "f32")
            ),
            E({"non_finite"}),
            False,
            False,
        ),
        (
            "float_inf",
            lambda: _write(
                folder / "inf.wav", wav_bytes(np.where(np.arange(len(v)) == 300, np.inf, v), 16000, "f64")
            ),
            E({"non_finite"}),
            False,
            False,
        ),
        (
            "digital_silence",
            lambda: _write(folder / "silence.wav", wav_bytes(np.zeros(16000), 16000)),
            E({"silent"}),
            False,
            False,
        ),
        (
            "dc_only",
            lambda: _write(folder / "dc.wav", wav_bytes(np.full(24000, 0.3), 16000)),
            E(),
            False,
            False,
        ),
        (
            "square_full_scale",
            lambda: _write(
                folder / "square.wav",
                wav_bytes(np.sign(np.sin(np.arange(24000) * 2 * np.pi * 200 / 16000)), 16000),
            ),
            E(),
            False,
            False,
        ),
        (
            "stereo_antiphase",
            lambda: _write(folder / "antiphase.wav", wav_bytes(np.stack([v, -v], 1), 16000)),
            E({"silent"}),
            False,
            False,
        ),
        (
            "one_sample",
            lambda: _write(folder / "one_sample.wav", wav_bytes(np.array([0.5]), 16000)),
            E({"too_short"}),
            False,
            False,
        ),
        (
            "ms20",
            lambda: _write(folder / "ms20.wav", wav_bytes(v[:320], 16000)),
            E({"too_short"}),
            False,
            False,
        ),
        ("s0_05", lambda: _write(folder / "s0_05.wav", wav_bytes(v[:800], 16000)), E(), False, False),
        (
            "rate_8k",
            lambda: _write(folder / "r8k.wav", wav_bytes(_voice(1.5, 8000), 8000)),
            E(),
            False,
            False,
        ),
        (
            "rate_11k",
            lambda: _write(folder / "r11k.wav", wav_bytes(_voice(1.5, 11025), 11025)),
            E(),
            False,
            False,
        ),
        (
            "rate_96k",
            lambda: _write(folder / "r96k.wav", wav_bytes(_voice(1.5, 96000), 96000)),
            E(),
            False,
            False,
        ),
        (
            "rate_192k",
            lambda: _write(folder / "r192k.wav", wav_bytes(_voice(1.5, 192000), 192000)),
            E(),
            False,
            False,
        ),
        (
            "stereo",
            lambda: _write(folder / "stereo.wav", wav_bytes(np.stack([v, 0.5 * v], 1), 16000)),
            E(),
            False,
            False,
        ),
        (
            "six_channels",
            lambda: _write(folder / "six.wav", wav_bytes(np.stack([v] * 6, 1) * 0.5, 16000)),
            E(),
            False,
            False,
        ),
        (
            "eight_channels",
            lambda: _write(folder / "eight.wav", wav_bytes(np.stack([v] * 8, 1) * 0.5, 16000)),
            E(),
            False,
            False,
        ),
        ("u8", lambda: _write(folder / "u8.wav", wav_bytes(v, 16000, "u8")), E(), False, False),
        ("s24", lambda: _write(folder / "s24.wav", wav_bytes(v, 16000, "s24")), E(), False, False),
        ("s32", lambda: _write(folder / "s32.wav", wav_bytes(v, 16000, "s32")), E(), False, False),
        ("f64", lambda: _write(folder / "f64.wav", wav_bytes(v, 16000, "f64")), E(), False, False),
        ("video_without_audio", lambda: bad_video_only(folder), E({"not_audio"}), False, False),
        ("three_hour_low_bitrate", lambda: long_opus, E({"too_long"}), False, False),
        ("tiny_file_decodes_to_hours", lambda: tiny_hours, E({"too_long"}), False, False),
        ("unicode_name", lambda: _named(folder, "语音 情绪 🎵.wav"), E(), False, False),
        ("space_name", lambda: _named(folder, "my recording 1.wav"), E(), False, False),
        ("newline_name", lambda: _named(folder, "line\nbreak.wav"), E(), False, False),
        ("leading_dash_name", lambda: _named(folder, "-rf.wav"), E(), False, False),
        ("markup_name", lambda: _named(folder, "take [red] two.wav"), E(), False, False),
        ("directory", lambda: _mkdir(folder / "a_folder.wav"), E({"not_audio"}), False, True),
        ("fifo", lambda: _fifo(folder), E({"not_a_file"}), False, True),
        ("dev_zero", lambda: Path("/dev/zero"), E({"not_a_file"}), False, True),
        ("dev_urandom", lambda: Path("/dev/urandom"), E({"not_a_file"}), False, True),
        ("proc_environ", lambda: Path("/proc/self/environ"), E({"not_audio"}), False, True),
        ("unreadable_proc_mem", lambda: Path("/proc/self/mem"), E({"unreadable"}), False, True),
        ("symlink_loop", lambda: _symlink_loop(folder), E({"bad_path"}), False, True),
        ("broken_symlink", lambda: _broken_link(folder), E({"missing"}), False, True),
        ("missing", lambda: folder / "does_not_exist.wav", E({"missing"}), False, True),
        ("over_long_path", lambda: _long_name(folder), E({"bad_path"}), False, True),
    ]


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _broken_link(folder: Path) -> Path:
    link = folder / "dangling.wav"
    link.symlink_to(folder / "gone.wav")
    return link


def build_long_files(shared: Path) -> None:
    """The two hour-long inputs (a few seconds to build; reuse them across tests)."""
    shared.mkdir(parents=True, exist_ok=True)
    if not (shared / "three_hours.opus").exists():
        tmp = shared / ".three_hours.opus"
        long_opus(tmp, LONG_LOWBITRATE_S)
        tmp.rename(shared / "three_hours.opus")
    if not (shared / "hours_from_tiny.flac").exists():
        tmp = shared / ".hours_from_tiny.flac"
        flac_without_length(tmp, HOURS_FROM_TINY_S)
        tmp.rename(shared / "hours_from_tiny.flac")


def build_catalogue(folder: Path, shared: Path) -> dict[str, Case]:
    """Every hostile input under `folder` (the long ones under `shared`)."""
    folder.mkdir(parents=True, exist_ok=True)
    build_long_files(shared)
    cases = {}
    for name, build, codes, warning, path_only in _entries(folder, shared):
        cases[name] = Case(name, build(), codes, warning, path_only)
    for src in folder.glob("src*"):
        src.unlink()
    return cases


def good_files(folder: Path, n: int = 3) -> list[Path]:
    """Good neighbours: ordinary speech-like clips of 1-3 s."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        _write(folder / f"good_{i}.wav", wav_bytes(make_voice(1.0 + i, 16000, seed=40 + i), 16000))
        for i in range(n)
    ]
