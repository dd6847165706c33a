"""Audio reference fixtures for @perfrdiff/features.

Step 1, here (numpy only):      python3 make_audio_fixtures.py wavs       -> fixtures/audio/*.wav
Step 2, where torchaudio is:    python3 make_audio_fixtures.py reference OUTDIR
                                 -> OUTDIR/*.npy and OUTDIR/versions.json (copied into fixtures/audio/)

The WAVs are speech-like: a glottal pulse train with a moving pitch through moving formant resonators (vowels),
noise bursts (fricatives) and pauses, written in several sample rates and sample formats by our own RIFF writer.
The references are what torchaudio computes from them:
  <name>.react78.npy   the official PerFRDiff per-video-frame features at 25 fps ([n_frames, 78] float32): each
                       int(sr/25)-sample slice (signal cut or zero-padded to n_frames slices) -> kaldi.mfcc(
                       sample_frequency=sr, use_energy=True) -> compute_deltas twice -> stack [3, 13, 2] -> flatten
  <name>.kaldi.npy     kaldi.mfcc of the whole signal with defaults except sample_frequency ([frames, 13])
  <name>.deltas.npy    compute_deltas of that (time last), transposed back ([frames, 13])
  speech16k_24.mfcc.npy      torchaudio.transforms.MFCC(sample_rate=16000)(x) ([40, frames])
  speech16k_24.mfcc_log.npy  MFCC(sample_rate=16000, n_mfcc=13, log_mels=True, melkwargs=dict(n_fft=512,
                             hop_length=160, n_mels=40)) ([13, frames])
  speech44k_16.resample16k.npy  torchaudio.functional.resample(x, 44100, 16000)
  speech16k_24.resample22k.npy  torchaudio.functional.resample(x, 16000, 22050)
Decoding follows libsndfile (soundfile.read, used by the official loader): int PCM / 2^(bits-1), 8-bit (x-128)/128.
"""
import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WAV_DIR = os.path.join(HERE, "fixtures", "audio")

# name, sample rate, format ("pcm8" unsigned, "pcm16", "pcm24", "pcm32", "float32"), channels, seconds, n_frames
FILES = [
    ("speech44k_16", 44100, "pcm16", 1, 1.30, 35),  # 32.5 video frames of audio: padding to 35
    ("speech16k_24", 16000, "pcm24", 1, 1.00, 25),
    ("speech22k_8", 22050, "pcm8", 1, 0.80, 18),  # 20 frames of audio: cut to 18
    ("speech48k_f32st", 48000, "float32", 2, 0.60, 15),
    ("speech8k_32", 8000, "pcm32", 1, 0.90, 23),
]


def speech_like(sr, seconds, seed):
    rng = np.random.default_rng(seed)
    n = int(round(sr * seconds))
    t = np.arange(n) / sr
    f0 = 120 + 40 * np.sin(2 * np.pi * 1.3 * t + seed) + 10 * np.sin(2 * np.pi * 5.1 * t)
    phase = np.cumsum(f0 / sr)
    pulses = np.diff(np.floor(phase), prepend=0.0)  # one impulse per pitch period
    src = np.convolve(pulses, np.exp(-np.arange(int(0.004 * sr)) / (0.0008 * sr)), mode="same")
    vowels = [(730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410)]
    seg = int(0.18 * sr)
    out = np.zeros(n)
    for s in range(0, n, seg):
        e = min(n, s + seg)
        k = (s // seg + seed) % 7
        if k == 5:  # pause
            continue
        if k == 6:  # fricative: high-passed noise
            x = rng.standard_normal(e - s) * 0.05
            x = np.diff(x, prepend=0.0)
        else:
            x = src[s:e].copy()
            for f, bw in zip(vowels[k % 5], (80, 100, 120)):
                if f >= sr / 2:
                    continue
                r = math.exp(-math.pi * bw / sr)
                a1, a2 = -2 * r * math.cos(2 * math.pi * f / sr), r * r
                y = np.zeros_like(x)
                for i in range(len(x)):
                    y[i] = x[i] - a1 * (y[i - 1] if i > 0 else 0) - a2 * (y[i - 2] if i > 1 else 0)
                x = y
        ramp = np.minimum(1, np.minimum(np.arange(e - s), np.arange(e - s)[::-1]) / (0.01 * sr))
        out[s:e] = x * ramp
    out = 0.5 * out / (np.max(np.abs(out)) + 1e-12)
    return out + 1e-4 * rng.standard_normal(n)


def write_wav(path, sr, fmt, data):
    """data: [samples, channels] float in [-1, 1]."""
    ch = data.shape[1]
    if fmt == "float32":
        payload, tag, bits = data.astype("<f4").tobytes(), 3, 32
    else:
        bits = int(fmt[3:])
        q = np.clip(np.round(data * 2 ** (bits - 1)), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1).astype(np.int64)
        if bits == 8:
            payload = (q + 128).astype(np.uint8).tobytes()
        elif bits == 16:
            payload = q.astype("<i2").tobytes()
        elif bits == 24:
            b = q.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
            payload = b.tobytes()
        else:
            payload = q.astype("<i4").tobytes()
        tag = 1
    block = ch * bits // 8
    fmt_chunk = struct.pack("<4sIHHIIHH", b"fmt ", 16, tag, ch, sr, sr * block, block, bits)
    pad = b"\0" if len(payload) % 2 else b""
    body = b"WAVE" + fmt_chunk + struct.pack("<4sI", b"data", len(payload)) + payload + pad
    with open(path, "wb") as f:
        f.write(struct.pack("<4sI", b"RIFF", len(body)) + body)


def read_wav(path):
    """Minimal RIFF reader with libsndfile's scaling; returns float64 [samples, channels] and the rate."""
    with open(path, "rb") as f:
        raw = f.read()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE", path
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(raw):
        cid, size = struct.unpack("<4sI", raw[pos:pos + 8])
        body = raw[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            data = body
        pos += 8 + size + (size & 1)
    tag, ch, sr, _, _, bits = fmt
    if tag == 3:
        x = np.frombuffer(data, "<f4" if bits == 32 else "<f8").astype(np.float64)
    elif bits == 8:
        x = (np.frombuffer(data, np.uint8).astype(np.float64) - 128) / 128
    elif bits == 16:
        x = np.frombuffer(data, "<i2") / 2.0 ** 15
    elif bits == 24:
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = np.where(v >= 2 ** 23, v - 2 ** 24, v) / 2.0 ** 23
    else:
        x = np.frombuffer(data, "<i4") / 2.0 ** 31
    return x.reshape(-1, ch), sr


def make_wavs():
    os.makedirs(WAV_DIR, exist_ok=True)
    for i, (name, sr, fmt, ch, sec, _) in enumerate(FILES):
        chans = [speech_like(sr, sec, 7 * i + c) for c in range(ch)]
        write_wav(os.path.join(WAV_DIR, name + ".wav"), sr, fmt, np.stack(chans, axis=1))
        print("wrote", name)


def reference(outdir):
    import torch
    import torchaudio
    from torchaudio.compliance import kaldi

    os.makedirs(outdir, exist_ok=True)
    versions = {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "numpy": np.__version__}
    try:
        import soundfile as sf
        versions["soundfile"] = sf.__version__
    except Exception:
        sf = None
    for name, sr_expected, _, _, _, n_frames in FILES:
        path = os.path.join(WAV_DIR, name + ".wav")
        audio, sr = read_wav(path)
        assert sr == sr_expected
        if sf is not None:  # confirm our decoder matches the official loader's
            a2, sr2 = sf.read(path, always_2d=True)
            versions["max_decode_diff_" + name] = float(np.max(np.abs(a2 - audio)))
        mono = audio.mean(-1)
        per = int(sr / 25)
        target = per * n_frames
        mono_fit = mono[:target] if len(mono) >= target else np.pad(mono, [0, target - len(mono)])
        rows = []
        for f in range(n_frames):
            x = torch.from_numpy(mono_fit[f * per:(f + 1) * per]).float().view(1, -1)
            m = kaldi.mfcc(x, sample_frequency=sr, use_energy=True).transpose(0, 1)
            d = torchaudio.functional.compute_deltas(m)
            dd = torchaudio.functional.compute_deltas(d)
            rows.append(np.stack((m.numpy(), d.numpy(), dd.numpy())).reshape(-1))
        np.save(os.path.join(outdir, name + ".react78.npy"), np.stack(rows).astype(np.float32))
        full = torch.from_numpy(mono).float().view(1, -1)
        k = kaldi.mfcc(full, sample_frequency=sr)
        np.save(os.path.join(outdir, name + ".kaldi.npy"), k.numpy().astype(np.float32, order="C"))
        dk = torchaudio.functional.compute_deltas(k.transpose(0, 1)).transpose(0, 1)
        np.save(os.path.join(outdir, name + ".deltas.npy"), dk.numpy().astype(np.float32, order="C"))
        try:
            extras(name, full, outdir)
        except Exception as err:  # keep the other references if an optional API moved
            versions["error_" + name] = repr(err)
        print("reference", name, flush=True)
    with open(os.path.join(outdir, "versions.json"), "w") as f:
        json.dump(versions, f, indent=1)
    print(json.dumps(versions))


def extras(name, full, outdir):
    import torchaudio

    if name == "speech16k_24":
        m = torchaudio.transforms.MFCC(sample_rate=16000)(full[0])
        np.save(os.path.join(outdir, name + ".mfcc.npy"), m.numpy().astype(np.float32, order="C"))
        m2 = torchaudio.transforms.MFCC(
            sample_rate=16000, n_mfcc=13, log_mels=True, melkwargs=dict(n_fft=512, hop_length=160, n_mels=40)
        )(full[0])
        np.save(os.path.join(outdir, name + ".mfcc_log.npy"), m2.numpy().astype(np.float32, order="C"))
        r = torchaudio.functional.resample(full[0], 16000, 22050)
        np.save(os.path.join(outdir, name + ".resample22k.npy"), r.numpy().astype(np.float32, order="C"))
    if name == "speech44k_16":
        r = torchaudio.functional.resample(full[0], 44100, 16000)
        np.save(os.path.join(outdir, name + ".resample16k.npy"), r.numpy().astype(np.float32, order="C"))


if __name__ == "__main__":
    if sys.argv[1:2] == ["wavs"]:
        make_wavs()
    elif sys.argv[1:2] == ["reference"]:
        reference(sys.argv[2])
    else:
        sys.exit(__doc__)
