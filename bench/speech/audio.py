"""Spectrogram & MFCC targets (issue 3), each printed as a ratio against a reference measured in this run:

1. engine.speech.audio.mfcc vs librosa.feature.mfcc on a 30 s clip (librosa warmed up first): ratio ≤ 1.0.
2. Speech page: cold first render ≤ 3 s and p95 rerun after a slider change ≤ 300 ms, measured headlessly
   with AppTest in a fresh process (ratio against the target; an empty page's run is printed as the floor).
3. Server RSS with Home and Speech visited ≤ 400 MB (real `streamlit run` + Chromium when present).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from bench.common import ROOT, interleaved_min, page_timings, report, streamlit_server


def bench_mfcc() -> None:
    import librosa

    from engine.speech import audio

    parts = [librosa.load(ROOT / f"assets/audio/{n}.wav", sr=22050)[0]
             for n in ("quick_brown_fox", "counting", "hello_world")]
    y = np.tile(np.concatenate(parts), 5)[: 30 * 22050].astype(np.float32)       # 30 s at 22.05 kHz
    librosa.feature.mfcc(y=y, sr=22050)                                           # warm-up (numba, caches)
    audio.mfcc(y, sr=22050)
    ours, ref = interleaved_min(lambda: audio.mfcc(y, sr=22050), lambda: librosa.feature.mfcc(y=y, sr=22050))
    report("mfcc, 30 s clip: engine.speech.audio / librosa (fastest of 15, interleaved)", ours, ref, target=1.0)


def bench_page() -> None:
    frames = [(i * 37) % 300 for i in range(20)]
    floor = page_timings("pages/home.py", {})
    speech = page_timings("pages/speech/audio.py", {"audio.frame": frames, "audio.n_mels": [40, 64] * 5})
    print(f"  (floor: Home page cold {floor['cold']:.3f} s)")
    report("Speech page cold first render (s) vs 3 s target", speech["cold"], 3.0, target=1.0)
    for key, what in (("audio.frame", "frame slider"), ("audio.n_mels", "n_mels slider (full recompute)")):
        report(f"Speech page rerun, {what}, p95 (s) vs 0.3 s", float(np.percentile(speech[key], 95)), 0.3,
               target=1.0)


def _rss_mb(pid: int) -> float:
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def bench_server_rss() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("server RSS: skipped (Debian's chromium not installed)")
        return
    from playwright.sync_api import sync_playwright

    with streamlit_server() as (url, proc):
        idle = _rss_mb(proc.pid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            for path in ("/", "/audio"):
                page.goto(f"{url}{path}")
                page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                                       timeout=120_000)
                page.wait_for_timeout(1500)
            browser.close()
        visited = _rss_mb(proc.pid)
    print(f"  (server RSS right after start: {idle:.0f} MB)")
    report("server RSS after Home + Speech (MB) vs 400 MB", visited, 400.0, unit="MB", target=1.0)

def main() -> None:
    bench_mfcc()
    bench_page()
    bench_server_rss()
