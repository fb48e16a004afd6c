"""Every threshold and knob of the analysis, in one place (the parts read them from here).

    BandThresholds, CompoundRule, TimelineSettings   reading the scores (emostudio.interpret)
    QualityThresholds                                the quality verdicts (emostudio.quality)
    EnhanceSettings                                  the enhancement chain (emostudio.enhance)
    SILENT_ACTIVE_DBFS, COPY_CORRELATION, MAX_CHANNELS   two-party recordings (emostudio.channels), files and
                                                     live streams alike
    MAX_TEXT_CHARS                                   how much of a transcript is read (emostudio.multimodal)
    MAX_MANIFEST_ROWS, MAX_BAD_ROWS_LISTED           how big a test set and its report's list of bad rows may
                                                     be (emostudio.evaluate)
    Settings                                         one object holding the per-analysis thresholds; its
                                                     `to_dict()` is recorded in every result.json

Changing a threshold is a change here; `Settings.to_dict()` is part of a batch job's identity, so a job resumed
with another value is refused (see emostudio.batch.job).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass

import numpy as np

# ---- two-party recordings (channels="separate"), files and live streams ----------------------------------------
SILENT_ACTIVE_DBFS = -50.0  # a channel whose 99th-percentile 20 ms level is below this is silent
COPY_CORRELATION = 0.98  # channels whose waveforms correlate above this carry one signal
MAX_CHANNELS = 8  # channels scored separately at most (a 7.1 file); more is refused

# ---- speaker turns (emostudio.speakers) -------------------------------------------------------------------------
MAX_SPEAKERS = 8  # speakers asked for at most (--speakers N)


@dataclass(frozen=True)
class SpeakerSettings:
    """How speaker turns are found and scored (emostudio.speakers, prepare, assemble). Not part of
    `Settings.to_dict()` (so runs and jobs without speaker turns keep their identity); recorded in result.json's
    `diarization.settings` when turns were asked for."""

    min_scored_turn_s: float = 1.0  # turns shorter than this (after merging) are kept but not scored
    # speech and overlap frames (engine "emostudio"): pyannote segmentation-3.0 and silero VAD agree
    seg_step_s: float = 5.0  # the segmentation model's 10 s windows start this far apart
    vad_silero_weight: float = 0.5  # speech probability = (1-w)·segmentation + w·silero
    vad_threshold: float = 0.5  # a 10 ms frame is speech above this probability
    min_speech_s: float = 0.25  # shorter speech islands are dropped
    min_silence_s: float = 0.2  # shorter gaps inside speech are filled
    overlap_threshold: float = 0.5  # a speech frame is overlapped above this P(two or more speakers)
    min_overlap_s: float = 0.2  # shorter overlapped stretches are not marked
    # speaker embeddings (CAM++) and the speaker count
    window_s: float = 3.0  # each embedding covers this much speech (1.5 s split one voice into several)
    shift_s: float = 1.5  # embeddings start this far apart inside a speech stretch
    # each embedding keeps its closest share of affinities (3D-Speaker's fixed 0.012 over-split): the share of
    # these with the clearest eigengap (NME-SC); above 0.35 four-speaker recordings read as two
    spectral_pvals: tuple[float, ...] = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)
    merge_cos: float = 0.9  # speakers whose centroids' cosine similarity is above this are one speaker
    min_speaker_s: float = 5.0  # a cluster with less speech than this is given to the nearest speaker
    max_cluster_embeddings: int = (
        1500  # at most this many embeddings are clustered; the rest join the nearest
    )
    # turns
    min_turn_s: float = 0.6  # a shorter run of one speaker between others is given to a neighbour
    merge_gap_s: float = 0.6  # a speaker's turns closer than this become one turn


# ---- transcripts ---------------------------------------------------------------------------------------------
MAX_TEXT_CHARS = 10_000  # characters analysed; longer transcripts are cut here (with a warning)

# ---- evaluation manifests and reports ------------------------------------------------------------------------
MAX_MANIFEST_ROWS = (
    200_000  # rows a test set may list (manifest lines, audio files); more is refused, naming both
)
MAX_BAD_ROWS_LISTED = 1_000  # bad rows listed in metrics.json and report.html; the rest are counted only


@dataclass(frozen=True)
class BandThresholds:
    """Confidence bands (probabilities 0–1): > confident is confident, ≥ leaning is leaning, below is uncertain."""

    confident: float = 0.80
    leaning: float = 0.60


@dataclass(frozen=True)
class CompoundRule:
    """When is the runner-up close enough to read the top two as one compound emotion."""

    min_second: float = 0.15  # runner-up probability at least this
    min_ratio: float = 0.5  # runner-up / top at least this


@dataclass(frozen=True)
class TimelineSettings:
    """Frame mode: one step every `step_s`, each aggregating the 50 Hz frame logits inside a `window_s` window."""

    step_s: float = 0.1
    window_s: float = 0.1
    min_segment_s: float = 0.3  # dominant-segment runs shorter than this merge into a neighbour


@dataclass(frozen=True)
class QualityThresholds:
    """Every limit a verdict uses. Values at a limit get the better verdict unless noted."""

    min_sample_rate_hz: int = 16000  # below: bad (the model was trained on 16 kHz)
    duration_bad_below_s: float = 1.0  # too short to carry an emotion
    duration_ok_from_s: float = 3.0  # 3–10 s is ideal; 1–3 s warn
    duration_ok_to_s: float = 10.0  # 10–30 s warn (an utterance-level score averages over more)
    duration_split_above_s: float = 30.0  # above: warn, the file is split into segments for the model
    snr_ok_above_db: float = 30.0  # SNR > 30 dB ok
    snr_bad_below_db: float = 20.0  # 20–30 dB warn, < 20 dB bad
    clipping_warn_ratio: float = 0.001  # fraction of samples in clipped runs: ≥ 0.1 % warn
    clipping_bad_ratio: float = 0.005  # ≥ 0.5 % bad
    clip_level: float = 0.999  # |x| at or above this is full scale
    clip_min_run: int = 3  # consecutive samples at the clip level that make a plateau
    clip_lossy_rel: float = 0.9  # on 16 kHz/lossy audio: plateaus are runs at ≥ 90 % of the peak …
    clip_lossy_min_peak_dbfs: float = -3.0  # … counted only when the peak is within 3 dB of full scale
    peak_warn_below_dbfs: float = -20.0  # quiet recording
    peak_bad_below_dbfs: float = -30.0
    # float audio beyond full scale (|x| > 1): resampling and lossy decoders overshoot a little (warn), far beyond
    # is no valid level (float samples of ±1e30): out of range
    peak_warn_above_dbfs: float = 1.0
    peak_bad_above_dbfs: float = 6.0
    loudness_warn_below_lufs: float = -30.0
    loudness_bad_below_lufs: float = -40.0
    loudness_warn_above_lufs: float = -8.0  # very loud: likely limited or clipped
    dc_warn_above: float = 0.01  # |mean| as a fraction of full scale
    dc_bad_above: float = 0.05
    hum_warn_above_db: float = -15.0  # energy below 100 Hz relative to all energy
    hum_bad_above_db: float = -6.0
    hum_cutoff_hz: float = 100.0
    speech_warn_below_ratio: float = 0.3  # fraction of the clip the VAD marks as speech; 0 is bad
    # hints
    hint_min_voiced_s: float = 2.0  # pitch hints need at least this much voiced audio
    music_stable_run_s: float = 0.8  # a pitch held within ±0.5 semitone this long suggests singing / music
    speakers_min_gap_semitones: float = 7.0  # two pitch clusters this far apart suggest two speakers
    flat_pitch_std_semitones: float = 1.0  # pitch and energy spread below both → weak expression
    flat_energy_std_db: float = 3.0


@dataclass
class EnhanceSettings:
    """Which enhancement steps run and how. Peak targets of −1…−3 dBFS are recommended; any ≤ 0 dBFS works."""

    highpass: bool = True
    highpass_hz: float = 100.0
    highpass_order: int = 4
    denoise: bool = True
    noise_from: tuple[float, float] | None = None  # (start_s, end_s) holding only noise
    noise_profile: np.ndarray | None = field(default=None, repr=False)  # (samples,) noise at the same rate
    peak_dbfs: float = -1.0
    normalise: bool = True
    prop_decrease: float = 1.0  # 0–1: how much of the estimated noise to remove


@dataclass
class Settings:
    """The thresholds of one Recognizer (recorded in every result.json it writes)."""

    bands: BandThresholds = field(default_factory=BandThresholds)
    compound: CompoundRule = field(default_factory=CompoundRule)
    timeline: TimelineSettings = field(default_factory=TimelineSettings)
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    max_segment_s: float = 30.0  # longer input is split at pauses into segments of at most this
    max_duration_s: float = 4 * 3600.0  # longer input is refused (while decoding, never after)
    min_duration_s: float = 0.025  # shorter input is refused before the model (400 samples: one model frame)
    # total padded audio seconds per model batch; None: 30 s on CPU, 120 s on a GPU (Recognizer.batch_seconds)
    batch_seconds: float | None = None

    def to_dict(self) -> dict:
        return {
            k: (asdict(v) if is_dataclass(v) and not isinstance(v, type) else v)
            for k, v in self.__dict__.items()
        }
