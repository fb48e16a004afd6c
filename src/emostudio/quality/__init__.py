"""Audio quality report: measurements, verdicts against thresholds, advice in English and Chinese, hints.

measures.py  levels, loudness (BS.1770-4), clipping, DC, hum — block by block, bounded memory
snr.py       the speech SNR estimator (speech/pause, noise floor, spectral) and when it cannot measure
pitch.py     pitch track and hints (music or singing, several speakers, weak expression)
rules.py     one rule per metric: labels, verdicts, advice (zh/en)
report.py    `assess`: measure, judge, hint

The report's records (Metric, Hint, QualityReport, VERDICTS) live in `emostudio.records` and the thresholds
(QualityThresholds) in `emostudio.settings`; they are named here too, as this package's API.
"""

from emostudio.quality.measures import clipping_ratio, frame_power, hum_db, integrated_loudness
from emostudio.quality.pitch import pitch_track
from emostudio.quality.report import assess, measure
from emostudio.quality.rules import RULES, Rule
from emostudio.quality.snr import SNR_CAP_DB, estimate_snr, noise_spectrum
from emostudio.records import VERDICTS, Hint, Metric, QualityReport
from emostudio.settings import QualityThresholds

__all__ = [
    "RULES",
    "SNR_CAP_DB",
    "VERDICTS",
    "Hint",
    "Metric",
    "QualityReport",
    "QualityThresholds",
    "Rule",
    "assess",
    "clipping_ratio",
    "estimate_snr",
    "frame_power",
    "hum_db",
    "integrated_loudness",
    "measure",
    "noise_spectrum",
    "pitch_track",
]
