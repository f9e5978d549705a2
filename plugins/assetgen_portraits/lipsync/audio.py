"""Reading speech audio safely: WAV, OGG (Vorbis) and FLAC through ``soundfile``.

:func:`check_audio` validates a file without decoding it: a regular file of at most
:data:`MAX_AUDIO_BYTES`, the right magic bytes, for WAV a data chunk that fits in the file
(libsndfile itself quietly shortens a truncated WAV, or one whose header claims gigabytes),
a header libsndfile accepts, 1 or 2 channels, 8-48 kHz and at most :data:`MAX_AUDIO_SECONDS`.
:func:`read_audio` then decodes at most that many frames, mixes stereo down to mono and
resamples to 16 kHz. Every failure is an :class:`InvalidOptionsError` naming 'audio'.

Resampling (:func:`resample`) is done in the frequency domain: the real FFT of the whole
clip is cut (or zero-padded) to the new rate's band and transformed back. That is an ideal
low-pass at the new Nyquist frequency, so downsampling does not alias; it treats the clip as
periodic, which only touches the first and last few milliseconds, where lines have silence.
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assetgen import InvalidOptionsError

from .shapes import MAX_SECONDS, path_error, regular_file_size

FloatArray = npt.NDArray[np.float32]

#: Longest clip the speech drivers accept, in seconds.
MAX_AUDIO_SECONDS = MAX_SECONDS
#: Largest file read at all (60 s of 48 kHz stereo 64-bit float WAV is 46 MB).
MAX_AUDIO_BYTES = 64 * 1024 * 1024
RATE_MIN = 8000
RATE_MAX = 48000
#: Formats accepted, by their first bytes.
_MAGIC = {b"RIFF": "WAV", b"RIFX": "WAV", b"RF64": "WAV", b"OggS": "OGG", b"fLaC": "FLAC"}
#: Sample rate the recogniser works at.
ANALYSIS_RATE = 16000


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`check_audio` found out about a file, without decoding it."""

    path: str
    format: str  # WAV | OGG | FLAC
    subtype: str  # libsndfile's sample encoding (PCM_16, FLOAT, VORBIS...)
    rate: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


#: what the ``audio`` option reads, for its errors
AUDIO_EXPECTED = (
    f"a WAV, OGG (Vorbis) or FLAC file, mono or stereo, {RATE_MIN // 1000}-{RATE_MAX // 1000} "
    f"kHz, of at most {MAX_AUDIO_SECONDS:g} s"
)


def audio_error(path: Any, reason: str) -> InvalidOptionsError:
    return path_error("audio", path, reason, AUDIO_EXPECTED)


def _soundfile() -> Any:
    try:
        import soundfile
    except (ImportError, OSError) as exc:  # OSError: the libsndfile library is missing
        raise InvalidOptionsError(
            "option 'audio' needs the soundfile package to read audio, which is not installed "
            f"({exc}); install it with: pip install 'assetgen[lipsync]'",
            parameter="audio",
        ) from None
    return soundfile


def _check_wav_chunks(path: Path, head: bytes, size: int) -> None:
    """Refuse a RIFF WAV whose data chunk claims more bytes than the file holds."""
    if head[:4] == b"RF64":  # 64-bit sizes: left to libsndfile, the byte limit bounds them
        return
    if len(head) < 12 or head[8:12] != b"WAVE":
        raise audio_error(path, "not a WAV file (RIFF header without WAVE)")
    order = "<" if head[:4] == b"RIFF" else ">"
    with path.open("rb") as stream:
        stream.seek(12)
        for _ in range(256):  # a real WAV has a handful of chunks
            header = stream.read(8)
            if len(header) < 8:
                raise audio_error(path, "the WAV file is truncated (no data chunk)")
            chunk, length = header[:4], struct.unpack(order + "I", header[4:])[0]
            here = stream.tell()
            if chunk == b"data":
                if length == 0xFFFFFFFF:  # streamed WAV: length unknown, libsndfile counts
                    return
                if here + length > size + 1:
                    claimed = f"{length / 1e6:.1f} MB" if length >= 1e6 else f"{length} bytes"
                    raise audio_error(
                        path,
                        f"the WAV header claims {claimed} of samples but the file holds only "
                        f"{max(size - here, 0)} bytes after it (truncated or corrupt)",
                    )
                return
            stream.seek(here + length + (length & 1))
            if stream.tell() > size:
                raise audio_error(path, "the WAV file is truncated (a chunk runs past its end)")
        raise audio_error(path, "the WAV file has too many chunks before its data")


def check_audio(path: str | Path) -> AudioInfo:
    """Validate an audio file from its header alone; raise InvalidOptionsError naming 'audio'."""
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise InvalidOptionsError(
            f"option 'audio' must be a path to a WAV, OGG or FLAC file; got {type(path).__name__}",
            parameter="audio",
            value=path,
        )
    file = Path(path)
    if str(path) == "":
        raise InvalidOptionsError(
            "option 'audio' must be a path to a WAV, OGG or FLAC file; got an empty string",
            parameter="audio",
            value=path,
        )
    size = regular_file_size(file, audio_error)
    if size == 0:
        raise audio_error(file, "the file is empty")
    if size > MAX_AUDIO_BYTES:
        raise audio_error(
            file, f"the file is {size / 2**20:.0f} MiB, more than "
            f"{MAX_AUDIO_BYTES // 2**20} MiB"
        )
    try:
        with file.open("rb") as stream:
            head = stream.read(12)
    except OSError as exc:
        raise audio_error(file, f"cannot read it ({exc.strerror or exc})") from None
    kind = _MAGIC.get(head[:4])
    if kind is None:
        raise audio_error(file, "not a WAV, OGG or FLAC file (unknown first bytes)")
    if kind == "WAV":
        _check_wav_chunks(file, head, size)
    soundfile = _soundfile()
    try:
        found = soundfile.info(str(file))
    except Exception as exc:  # libsndfile's reasons are good; its exception types vary
        raise audio_error(file, f"unreadable {kind} ({_reason(exc)})") from None
    if found.channels not in (1, 2):
        raise audio_error(file, f"it has {found.channels} channels; mono or stereo is needed")
    if not RATE_MIN <= found.samplerate <= RATE_MAX:
        raise audio_error(file, f"its sample rate is {found.samplerate} Hz")
    if found.frames <= 0:
        raise audio_error(file, "it holds no audio samples")
    result = AudioInfo(
        path=str(file),
        format=kind,
        subtype=str(found.subtype),
        rate=int(found.samplerate),
        channels=int(found.channels),
        frames=int(found.frames),
    )
    if result.seconds > MAX_AUDIO_SECONDS:
        raise audio_error(
            file, f"it lasts {result.seconds:.1f} s, longer than {MAX_AUDIO_SECONDS:g} s"
        )
    return result


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    prefix = "Error opening "
    if text.startswith(prefix) and ": " in text:
        text = text.split(": ", 1)[1]
    elif text.startswith("Error : "):
        text = text[len("Error : "):]
    return text[:200]


def read_audio(path: str | Path) -> tuple[FloatArray, AudioInfo]:
    """Decode a checked file to mono float32 samples in [-1, 1] at its own rate."""
    info = check_audio(path)
    soundfile = _soundfile()
    try:
        data = soundfile.read(info.path, frames=info.frames, dtype="float32", always_2d=True)[0]
    except Exception as exc:
        raise audio_error(info.path, f"cannot decode it, truncated or corrupt ({_reason(exc)})"
                          ) from None
    if info.format == "FLAC" and data.shape[0] < info.frames:
        raise audio_error(
            info.path,
            f"the FLAC file is truncated ({data.shape[0]} of {info.frames} samples decoded)",
        )
    if data.shape[0] == 0:
        raise audio_error(info.path, "it holds no audio samples")
    mono = data.mean(axis=1, dtype=np.float64) if data.shape[1] > 1 else data[:, 0]
    mono = np.nan_to_num(np.asarray(mono, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    if peak > 1.0:  # float files may exceed full scale; keep the shape of the signal
        mono = mono / peak
    return mono.astype(np.float32), info


def resample(samples: npt.NDArray[Any], rate: int, target: int = ANALYSIS_RATE) -> FloatArray:
    """Band-limited resampling of a mono clip by FFT truncation / zero-padding (module doc)."""
    signal = np.asarray(samples, dtype=np.float64)
    if rate == target or signal.size == 0:
        return signal.astype(np.float32)
    count = max(1, round(signal.size * target / rate))
    # Pad with silence to a length the FFT is fast at (a prime length is ten times slower)
    # that both rates divide exactly, so the ratio, and with it the timing, stays exact.
    common = math.gcd(rate, target)
    up, down = target // common, rate // common
    blocks = _smooth_at_least(-(-signal.size // down))
    padded = np.zeros(blocks * down)
    padded[: signal.size] = signal
    spectrum = np.fft.rfft(padded)
    out = np.zeros(blocks * up // 2 + 1, dtype=np.complex128)
    keep = min(out.size, spectrum.size)
    out[:keep] = spectrum[:keep]
    result = np.fft.irfft(out, blocks * up) * (up / down)
    return result[:count].astype(np.float32)


def _smooth_at_least(n: int) -> int:
    """The smallest 2**a * 3**b * 5**c >= n."""
    best = 1 << max(0, (n - 1).bit_length())
    three = 1
    while three < best:
        five = three
        while five < best:
            value = five
            while value < n:
                value *= 2
            best = min(best, value)
            five *= 5
        three *= 3
    return best


def frame_levels(samples: npt.NDArray[Any], rate: int, hop: float = 0.01) -> FloatArray:
    """RMS level in dBFS of each ``hop``-second frame (a 20 ms window centred on it)."""
    signal = np.asarray(samples, dtype=np.float64)
    step = max(1, round(rate * hop))
    count = max(1, int(np.ceil(signal.size / step)))
    padded = np.zeros(count * step + step, dtype=np.float64)
    padded[step // 2 : step // 2 + signal.size] = signal
    power = (padded.reshape(-1, step) ** 2).mean(axis=1)
    window = (power[:-1] + power[1:]) / 2  # 2 hops = 20 ms
    return (10 * np.log10(window[:count] + 1e-12)).astype(np.float32)
