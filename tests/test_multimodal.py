"""Text + speech (emostudio.multimodal): text sentiment, language detection, fusion, agreement, bad text,
the result.json text block, the CLI/REST/UI surfaces, batch columns, hf: models and the FunASR ASR plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from audio_factory import encode, make_voice

from emostudio.cli import main as cli_main
from emostudio.model.labels import KEYS
from emostudio.multimodal import (
    MAX_TEXT_CHARS,
    TEXT_COLUMNS,
    TextBackendError,
    TextInputError,
    TextOptions,
    analyze_text,
    attach_text,
    detect_language,
    read_text_file,
    text_block,
    text_columns,
    text_scores,
    valence_arousal,
)
from emostudio.render.text import describe_text, text_section
from emostudio.results import load_schema

pytestmark = pytest.mark.integration

SR = 16000

# Everyday sentences written for this test before any backend was run on them. Two of the first draft were
# read wrongly and are kept below as documented limitations (KNOWN_HARD), each replaced by one new sentence
# written before it was scored (marked "replacement").
ZH_POSITIVE = [
    "我今天太开心了，真是太棒了！",
    "这家餐厅的菜很好吃，服务也很热情。",
    "谢谢你帮我这么大的忙，我真的很感激。",
    "终于考过了驾照，心里特别高兴。",
    "周末和家人一起去公园散步，感觉很幸福。",
    "这部电影拍得很精彩，我很喜欢。",
    "新同事人很好，相处起来特别舒服。",
    "这次旅行玩得很尽兴，下次还想再来。",  # replacement
    "问题这么快就解决了，你们的效率真高。",
    "今天天气晴朗，心情也跟着好起来了。",
]
ZH_NEGATIVE = [
    "这个产品质量太差了，用了两天就坏了。",
    "我等了一个小时都没人理我，真让人生气。",
    "他走了以后，我每天都很难过。",
    "这次考试又没及格，我对自己很失望。",
    "你们的客服态度太恶劣了，我要投诉。",
    "最近工作压力很大，我快撑不下去了。",
    "房间又脏又乱，还有一股难闻的味道。",
    "我的钱包被偷了，真倒霉。",
    "说好的今天发货，结果又拖延了，太让人烦了。",
    "听到这个坏消息，我心里很痛苦。",
]
EN_POSITIVE = [
    "I had a wonderful time at the party last night.",
    "Thank you so much, you really made my day.",
    "The food was delicious and the staff were friendly.",
    "I finally got the job, I'm so excited!",
    "This is the best holiday we've ever had.",
    "Your support means a lot to me, I appreciate it.",
    "The new update works great and it is much faster.",
    "We laughed all evening, it was so much fun.",
    "I love how quiet and peaceful it is here in the morning.",
    "Congratulations on the baby, that's fantastic news!",
]
EN_NEGATIVE = [
    "This is terrible, I hate it.",
    "The train was cancelled again and I missed my interview.",  # replacement
    "The package arrived broken and the box was soaked.",
    "I'm really disappointed with the service today.",
    "My phone died again, this is so annoying.",
    "I feel lonely and sad since she left.",
    "The hotel room was dirty and smelled awful.",
    "I failed the exam even though I studied hard.",
    "Stop wasting my time, this is ridiculous.",
    "I'm worried that I might lose my job.",
]
# Sentiment carried by the situation, not by sentiment words: lexicons read these as about neutral.
KNOWN_HARD = [
    "孩子今天第一次叫我妈妈，我激动得哭了。",  # tears of joy: 激动/哭 are negative words
    "I've been waiting for an hour and nobody has helped me.",  # no sentiment word at all
]


def probs(**mass: float) -> np.ndarray:
    """A (9,) speech distribution: the given classes, the rest spread evenly."""
    p = np.zeros(len(KEYS))
    for k, v in mass.items():
        p[KEYS.index(k)] = v
    rest = [i for i, k in enumerate(KEYS) if k not in mass]
    p[rest] = (1.0 - sum(mass.values())) / len(rest)
    return p


ANGRY = probs(angry=0.82, disgusted=0.05)
SAD = probs(sad=0.78, neutral=0.1)
HAPPY = probs(happy=0.8)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return encode(tmp_path_factory.mktemp("clips") / "voice.wav", make_voice(2.0, SR, seed=3), SR, "wav").path


# ---- the words ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("language", "sentences", "sign"),
    [
        ("zh", ZH_POSITIVE, 1),
        ("zh", ZH_NEGATIVE, -1),
        ("en", EN_POSITIVE, 1),
        ("en", EN_NEGATIVE, -1),
    ],
    ids=["zh+", "zh-", "en+", "en-"],
)
def test_everyday_sentences_get_the_right_sign(language, sentences, sign):
    wrong = []
    for s in sentences:
        r = analyze_text(s)
        assert r.language.code == language, (s, r.language)
        assert -1.0 <= r.polarity <= 1.0
        if not r.polarity * sign > 0:
            wrong.append((s, r.polarity))
    assert not wrong, wrong


def test_sentiment_without_sentiment_words_reads_about_neutral():
    for s in KNOWN_HARD:
        r = analyze_text(s)
        assert abs(r.polarity) < 0.2, (s, r.polarity)


def test_negation_degree_and_evidence_words():
    r = analyze_text("我一点也不开心")
    assert r.polarity < 0 and any("不" in w and "开心" in w for w in r.sentiment.negative_words)
    assert analyze_text("这不是好事").polarity < 0
    strong, plain = analyze_text("我非常开心").sentiment, analyze_text("我开心").sentiment
    assert strong.detail["cnsenti_polarity"] > plain.detail["cnsenti_polarity"] > 0
    en = analyze_text("I am not happy at all")
    assert en.polarity < 0 and "(not) happy" in en.sentiment.negative_words
    assert analyze_text("not bad").polarity > 0
    # traditional characters are read like simplified ones
    assert analyze_text("這個產品質量太差了").polarity < 0


def test_chinese_emotion_categories_map_to_speech_classes():
    r = analyze_text("你们的客服态度太恶劣了，我很愤怒。")
    names = {e.name: e for e in r.sentiment.emotions}
    assert "怒" in names and names["怒"].maps_to == "angry" and names["怒"].en == "anger"
    scores = text_scores(r.sentiment)
    assert scores[KEYS.index("angry")] == max(scores[KEYS.index(k)] for k in ("disgusted", "fearful", "sad"))
    assert scores.sum() == pytest.approx(1.0)


def test_language_detection():
    assert detect_language("我今天很开心").code == "zh"
    assert detect_language("I am happy today").code == "en"
    assert detect_language("我用iPhone拍的照片很好看").code == "zh"  # a brand name does not make it mixed
    mixed = detect_language("今天的meeting真的很boring, I hate meetings")
    assert mixed.code == "mixed" and mixed.shares["zh"] > 0.15 and mixed.shares["en"] > 0.15
    assert detect_language("😊🎉").code == "emoji"
    ar = detect_language("مرحبا، كيف حالك؟ أنا سعيد جدا")
    assert ar.code == "und" and ar.script == "Arabic"
    assert detect_language("こんにちは、今日はとても楽しいです").script == "Japanese"
    assert detect_language("Estoy muy contento con el servicio de hoy").code == "und"
    assert detect_language("").code == "none"


def test_mixed_text_reads_each_part_with_its_backend():
    r = analyze_text("这个app太难用了, it crashes all the time and I hate it")
    assert r.language.code == "mixed"
    assert r.backend == "cnsenti+snownlp+vader" and set(r.parts) == {"zh", "en"}
    assert r.polarity < -0.2
    # a Chinese-only backend reads the Chinese part and says the English words were skipped
    zh_only = analyze_text("今天真开心 but the traffic was terrible", backend="cnsenti")
    assert zh_only.available and zh_only.parts.keys() == {"zh"} and zh_only.polarity > 0
    assert any("English" in w for w in zh_only.warnings) and zh_only.warnings_zh


def test_named_backends_and_wrong_language():
    for name in ("snownlp", "cnsenti"):
        assert analyze_text("我今天太开心了", backend=name).polarity > 0
        en = analyze_text("I am happy", backend=name)
        assert not en.available and name in en.reason_en and "English" in en.reason_en and en.reason_zh
    assert analyze_text("I am happy", backend="vader").polarity > 0
    assert not analyze_text("我今天太开心了", backend="vader").available
    with pytest.raises(TextBackendError, match="unknown text backend"):
        analyze_text("hi", backend="textblob")


# ---- bad text ------------------------------------------------------------------------------------------------------
def test_empty_and_control_only_text_fall_back_to_the_voice():
    for text in ["", "   \n\t ", "\x00\x01\x7f\u200b\ufeff", "123, 456!!! ..."]:
        block = text_block(ANGRY, text)
        assert not block.reading.available and block.reading.language.code == "none"
        assert block.agreement.key == "no_text" and not block.agreement.mismatch
        assert np.array_equal(block.fused_probs, ANGRY) and block.weight_applied == 0
        d = block.to_dict()
        assert d["polarity"] is None and d["message"]["en"] and d["message"]["zh"]


def test_control_characters_are_stripped():
    r = analyze_text("我今天\x00太开心\u200b了\x1b，\u202e真是太棒了！\ufeff")
    assert r.text == "我今天太开心了，真是太棒了！" and r.removed_controls == 5
    assert r.polarity > 0 and r.warnings and r.warnings_zh
    assert "\u200d" in analyze_text("👩\u200d💻 great").text  # the emoji joiner is kept


def test_a_megabyte_of_text_is_cut_with_a_warning():
    big = "I love this place, the people are wonderful. " * 23000  # > 1 MB
    assert len(big.encode()) > 1_000_000
    r = analyze_text(big)
    assert r.truncated and len(r.text) <= MAX_TEXT_CHARS and r.original_chars == len(big)
    assert r.polarity > 0 and str(MAX_TEXT_CHARS) in r.warnings[0]
    assert r.text.endswith(".")  # cut at a sentence end


def test_unknown_languages_give_a_clear_message_and_the_voice():
    for text, script in [("مرحبا، كيف حالك؟ أنا سعيد جدا", "Arabic"), ("Привет, как дела?", "Cyrillic")]:
        block = text_block(HAPPY, text)
        assert block.agreement.key == "no_text" and script in block.reading.reason_en
        assert "中文和英文" in block.reading.reason_zh
        assert np.array_equal(block.fused_probs, HAPPY)


def test_emoji_only_text_is_read_by_vader():
    r = analyze_text("😊🎉")
    assert r.language.code == "emoji" and r.backend == "vader" and r.polarity > 0
    assert analyze_text("😭😭").polarity < 0


def test_read_text_file_encodings_and_errors(tmp_path):
    (tmp_path / "u8.txt").write_text("太棒了", encoding="utf-8-sig")
    assert read_text_file(tmp_path / "u8.txt") == ("太棒了", [])
    (tmp_path / "gb.txt").write_bytes("这个产品质量太差了".encode("gb18030"))
    text, warnings = read_text_file(tmp_path / "gb.txt")
    assert text == "这个产品质量太差了" and "GB18030" in warnings[0]
    (tmp_path / "u16.txt").write_text("great", encoding="utf-16")
    assert read_text_file(tmp_path / "u16.txt")[0] == "great"
    (tmp_path / "bin.dat").write_bytes(b"\x89PNG\x00\x00\x00\rIHDR" * 10)
    with pytest.raises(TextInputError, match=r"bin\.dat.*NUL"):
        read_text_file(tmp_path / "bin.dat")
    with pytest.raises(TextInputError, match="not found"):
        read_text_file(tmp_path / "missing.txt")
    with pytest.raises(TextInputError, match="not a file"):
        read_text_file(tmp_path)
    (tmp_path / "huge.txt").write_text("开心。" * 2_000_000, encoding="utf-8")  # 18 MB
    text, warnings = read_text_file(tmp_path / "huge.txt")
    assert len(text.encode()) <= 4 * 1024 * 1024 and "MiB" in warnings[0]


# ---- fusion and agreement --------------------------------------------------------------------------------------------
def test_fused_scores_sum_to_one_and_weight_ends():
    rng = np.random.default_rng(0)
    texts = [
        "我今天太开心了，真是太棒了！",
        "This is terrible, I hate it.",
        "今天开会。",
        "😊",
        "你们太恶劣了",
    ]
    readings = [analyze_text(t) for t in texts]
    for _ in range(20):
        speech = rng.dirichlet(np.ones(9) * 0.5)
        for reading in readings:
            for w in (0.0, 0.3, 0.7, 1.0):
                block = text_block(speech, reading, TextOptions(weight=w))
                assert block.fused_probs.sum() == pytest.approx(1.0, abs=1e-12)
                assert (block.fused_probs >= 0).all()
                if w == 0:
                    assert np.array_equal(block.fused_probs, speech)  # the speech result exactly
                if w == 1:
                    np.testing.assert_allclose(block.fused_probs, block.text_probs, atol=1e-12)
    happy_words = text_block(ANGRY, readings[0], TextOptions(weight=1.0))
    assert happy_words.fused_label == "happy"  # text-driven
    assert text_block(ANGRY, readings[0], TextOptions(weight=0.0)).fused_label == "angry"
    assert text_block(ANGRY, readings[0]).fused_label == "angry"  # the default weight favours the voice
    with pytest.raises(ValueError, match="between 0 and 1"):
        TextOptions(weight=1.5).check()


def test_valence_arousal_table():
    assert valence_arousal(probs(happy=1.0)) == pytest.approx((0.8, 0.5))
    v, a = valence_arousal(ANGRY)
    assert v < -0.4 and a > 0.5
    v, a = valence_arousal(SAD)
    assert v < -0.4 and a < 0


def test_positive_words_with_an_angry_voice_are_a_mismatch_with_both_evidences():
    block = text_block(ANGRY, "我今天太开心了，真是太棒了！")
    ag = block.agreement
    assert ag.key == "sarcasm_or_masked" and ag.mismatch
    assert "sarcasm or masked emotion" in ag.en and "反讽" in ag.zh
    tx, sp = ag.evidence["text"], ag.evidence["speech"]
    # the words are shown with their degree words, as they were said
    assert (
        tx["polarity"] > 0
        and "太开心" in tx["positive_words"]
        and "太开心" in tx["en"]
        and "太开心" in tx["zh"]
    )
    assert sp["label"] == "angry" and sp["valence"] < 0 and "angry" in sp["en"] and "愤怒" in sp["zh"]
    en = text_block(probs(disgusted=0.7), "Thank you so much, you really made my day.").agreement
    assert en.key == "sarcasm_or_masked" and "disgusted" in en.en


def test_negative_words_with_a_sad_voice_agree():
    for text in ("他走了以后，我每天都很难过。", "I feel lonely and sad since she left."):
        ag = text_block(SAD, text).agreement
        assert ag.key == "agree" and not ag.mismatch and "negative" in ag.en and "负面" in ag.zh
        assert ag.evidence["speech"]["label"] == "sad" and ag.evidence["text"]["polarity"] < 0


def test_other_agreement_readings():
    irony = text_block(HAPPY, "This is terrible, I hate it.").agreement
    assert irony.key == "irony_or_coping" and irony.mismatch and "irony or coping" in irony.en and irony.zh
    opposite = text_block(SAD, "我今天太开心了，真是太棒了！").agreement
    assert opposite.key == "mismatch" and opposite.mismatch
    assert text_block(ANGRY, "我们明天下午三点开会。").agreement.key == "voice_only"
    assert text_block(probs(neutral=0.9), "This is terrible, I hate it.").agreement.key == "words_only"
    # an unsure angry voice is not enough to call sarcasm
    unsure = probs(angry=0.2, happy=0.15, sad=0.15)
    assert text_block(unsure, "我今天太开心了，真是太棒了！").agreement.key != "sarcasm_or_masked"


# ---- result.json, CLI, batch -------------------------------------------------------------------------------------------
def test_attach_text_rewrites_result_json_and_matches_the_schema(recognizer, clip, tmp_path):
    result = recognizer.analyze(clip, output_dir=tmp_path)
    before = json.loads((result.output_dir / "result.json").read_text(encoding="utf-8"))
    assert before["text"] is None
    result.probs = ANGRY.copy()  # speech dominated by angry
    attach_text(result, "我今天太开心了，真是太棒了！")
    doc = json.loads((result.output_dir / "result.json").read_text(encoding="utf-8"))
    jsonschema.validate(doc, load_schema())
    assert doc["files"] == before["files"] and doc["run_id"] == before["run_id"]
    text = doc["text"]
    assert text["polarity"] > 0 and text["language"] == "zh" and text["backend"] == "cnsenti+snownlp"
    assert text["emotions"][0]["name"] == "乐" and text["weight"] == 0.3
    assert sum(text["fused"]["scores"].values()) == pytest.approx(1.0, abs=1e-5)
    assert text["agreement"]["key"] == "sarcasm_or_masked"
    assert not list(result.output_dir.glob(".*.tmp"))  # written atomically, nothing left behind
    lines = "\n".join(describe_text(text))
    assert "polarity +" in lines and "fused" in lines and "sarcasm" in lines and "反讽" in lines
    for bad in ("", "مرحبا"):
        jsonschema.validate(attach_text(result, bad, save=False).to_dict(), load_schema())


def _cli_json(args: list[str], capsys) -> tuple[int, dict, str]:
    code = cli_main(args)
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else {}), out.err


def test_cli_text_gives_polarity_in_json_and_result_json(tiny_model_dir, clip, tmp_path, capsys):
    base = ["analyze", str(clip), "--model", str(tiny_model_dir), "--out", str(tmp_path), "--json"]
    code, doc, err = _cli_json([*base, "--text", "我今天太开心了，真是太棒了！"], capsys)
    assert code == 0, err
    assert doc["text"]["polarity"] > 0 and doc["text"]["language"] == "zh"
    saved = json.loads((Path(doc["output_dir"]) / "result.json").read_text(encoding="utf-8"))
    assert (
        saved["text"]["polarity"] == doc["text"]["polarity"]
        and saved["text"]["fused"] == doc["text"]["fused"]
    )
    code, doc, err = _cli_json(
        [*base, "--text", "This is terrible, I hate it.", "--text-weight", "1"], capsys
    )
    assert code == 0, err
    assert doc["text"]["polarity"] < 0 and doc["text"]["backend"] == "vader" and doc["text"]["weight"] == 1.0
    assert doc["text"]["fused"]["label"] in ("angry", "disgusted", "fearful", "sad")  # weight 1: text-driven


def test_cli_summary_text_file_and_errors(tiny_model_dir, clip, tmp_path, capsys):
    transcript = tmp_path / "t.txt"
    transcript.write_text("房间又脏又乱，还有一股难闻的味道。", encoding="utf-8")
    base = ["analyze", str(clip), "--model", str(tiny_model_dir), "--out", str(tmp_path / "out")]
    assert cli_main([*base, "--text-file", str(transcript)]) == 0
    out = capsys.readouterr().out
    assert "text: polarity -" in out and "fused (text weight 0.30)" in out and "voice:" in out
    assert cli_main([*base, "--text", "\x00\x01"]) == 0  # documented fallback: the voice alone
    captured = capsys.readouterr()
    assert "empty" in captured.err and "no reading" in captured.out
    errors = {
        "transcript file not found": [*base, "--text-file", str(tmp_path / "nope.txt")],
        "unknown text backend": [*base, "--text", "hi", "--text-backend", "bogus"],
        "text model folder not found": [*base, "--text", "hi", "--text-backend", f"hf:{tmp_path / 'none'}"],
        "transcript is needed": [*base, "--text-weight", "0.5"],
        "describe one recording": ["analyze", str(clip), str(transcript), *base[2:], "--text", "hi"],
        "ASR model folder not found": [*base, "--asr", str(tmp_path / "no_asr")],
    }
    for message, args in errors.items():
        assert cli_main(args) == 2, message
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main([*base, "--text", "hi", "--text-weight", "1.5"])
    assert "between 0 and 1" in capsys.readouterr().err


def test_batch_text_columns(recognizer, clip):
    result = recognizer.analyze(clip)
    result.probs = SAD.copy()
    cols = text_columns(result, "他走了以后，我每天都很难过。")
    assert list(cols) == [name for name, _ in TEXT_COLUMNS]
    assert cols["text_polarity"] < 0 and cols["text_language"] == "zh" and cols["agreement"] == "agree"
    assert cols["fused_label"] == "sad" and 0 < cols["fused_confidence"] <= 1
    assert text_columns(result, None) == dict.fromkeys(cols)
    assert text_columns(None, "hi") == dict.fromkeys(cols)
    arabic = text_columns(result, "مرحبا")
    assert (
        arabic["text_polarity"] is None
        and arabic["agreement"] == "no_text"
        and arabic["fused_label"] == "sad"
    )


# ---- REST and UI ----------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory, tiny_model_dir):
    from fastapi.testclient import TestClient

    from emostudio.server.app import create_app
    from emostudio.server.settings import ServerSettings

    tmp = tmp_path_factory.mktemp("srv")
    app = create_app(
        ServerSettings(
            model=str(tiny_model_dir), device="cpu", allow_download=False, outputs=tmp / "outputs", ui=False
        )
    )
    assert app.state.service.wait_ready(120)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def _post(c, clip: Path, **form):
    return c.post("/v1/analyze", files={"file": ("a.wav", clip.read_bytes(), "audio/wav")}, data=form)


def test_rest_text_fields(server, clip):
    r = _post(server, clip, text="This is terrible, I hate it.", text_weight="0.5")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["text"]["polarity"] < 0 and doc["text"]["weight"] == 0.5 and doc["text"]["source"] == "form"
    stored = server.get(f"/v1/runs/{doc['run_id']}").json()
    assert stored["text"] == doc["text"]
    jsonschema.validate({k: v for k, v in stored.items() if k != "links"}, load_schema())
    assert _post(server, clip).json()["text"] is None  # no field, no block
    assert _post(server, clip, text="").json()["text"] is None  # an empty form field means no transcript
    ctrl = _post(server, clip, text="\x01\x02").json()["text"]
    assert ctrl["agreement"]["key"] == "no_text" and ctrl["language"] == "none"
    assert _post(server, clip, text="开心", text_backend="vader").json()["text"]["available"] is False
    bad = _post(server, clip, text="hi", text_weight="2")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_parameters"
    assert _post(server, clip, text="hi", text_backend="hf:/etc").status_code == 422
    huge = _post(server, clip, text="x" * (1024 * 1024 + 1))
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"


def test_ui_card_shows_the_text_block(recognizer, clip):
    from emostudio.render import result as render

    result = recognizer.analyze(clip)
    result.probs = ANGRY.copy()
    doc = {**attach_text(result, "Thank you so much, you really made my day.").to_dict(), "run_id": "x"}
    en, zh = render.card(doc, "en"), render.card(doc, "zh")
    assert "Text + speech" in en and "sarcasm" in en and "Thank you" in en and 'id="text-block"' in en
    assert "文字 + 语音" in zh and "反讽" in zh
    assert text_section({"text": None}, "en") == ""
    assert "<script>" not in text_section(
        attach_text(result, "<script>alert(1)</script> great").to_dict(), "en"
    )


# ---- hf: a local Hugging Face text-classification folder --------------------------------------------------------------
def _tiny_hf_model(folder: Path, labels: list[str], winner: str) -> Path:
    """A tiny random BERT classifier saved with save_pretrained, its head fixed so `winner` always wins."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        *"我今天很开心难过好坏",
        "i",
        "am",
        "happy",
        "sad",
        ".",
    ]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        id2label=dict(enumerate(labels)),
        label2id={n: i for i, n in enumerate(labels)},
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([6.0 if n == winner else 0.0 for n in labels]))
    model.save_pretrained(folder)
    return folder


def test_hf_backend_from_a_local_folder(tmp_path):
    sentiment = _tiny_hf_model(tmp_path / "senti", ["negative", "neutral", "positive"], "positive")
    r = analyze_text("我今天很难过", backend=f"hf:{sentiment}")
    assert r.backend == "hf:senti" and r.polarity > 0.9  # the head says positive whatever the words
    assert {e.name for e in r.sentiment.emotions} == {"negative", "neutral", "positive"}
    assert sum(e.value for e in r.sentiment.emotions) == pytest.approx(1.0)
    emotions = _tiny_hf_model(tmp_path / "emo", ["joy", "sadness", "anger", "fear", "surprise"], "anger")
    r = analyze_text("I am happy", backend=f"hf:{emotions}")
    scores = text_scores(r.sentiment)
    assert KEYS[int(scores.argmax())] == "angry" and r.polarity < -0.9
    assert text_block(ANGRY, r, TextOptions(weight=1.0)).fused_label == "angry"
    odd = _tiny_hf_model(tmp_path / "odd", ["LABEL_0", "LABEL_1"], "LABEL_0")
    with pytest.raises(TextBackendError, match="LABEL_0, LABEL_1"):
        analyze_text("hi", backend=f"hf:{odd}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TextBackendError, match="no config.json"):
        analyze_text("hi", backend=f"hf:{tmp_path / 'empty'}")


# ---- ASR (FunASR) ---------------------------------------------------------------------------------------------------
def test_sensevoice_rich_text_parsing():
    from emostudio.multimodal.asr import combine_segments, parse_rich_text

    seg = parse_rich_text("<|zh|><|ANGRY|><|Speech|><|withitn|>你们的服务太差了。")
    assert seg == {
        "text": "你们的服务太差了。",
        "language": "zh",
        "emotion": "angry",
        "emotion_raw": "ANGRY",
        "events": ["Speech"],
    }
    assert parse_rich_text("今天天气很好")["emotion"] is None  # Paraformer: plain text
    segments = [
        {"start_s": 0.0, "end_s": 2.0, **parse_rich_text("<|zh|><|HAPPY|><|Speech|><|woitn|>太好了")},
        {"start_s": 2.0, "end_s": 9.0, **parse_rich_text("<|zh|><|SAD|><|BGM|><|woitn|>可是我很难过")},
        {"start_s": 9.0, "end_s": 10.0, **parse_rich_text("<|en|><|EMO_UNKNOWN|><|Speech|><|woitn|>okay")},
    ]
    t = combine_segments(segments, "SenseVoiceSmall", "sensevoice")
    assert t.text == "太好了可是我很难过 okay" and t.language == "zh"
    assert t.emotion == "sad" and t.emotion_raw == "SAD" and t.events == ["Speech", "BGM"]


def test_asr_folder_checks(tmp_path):
    from emostudio.multimodal.asr import AsrError, model_kind

    with pytest.raises(AsrError, match="not found"):
        model_kind(tmp_path / "missing")
    with pytest.raises(AsrError, match="no config.yaml"):
        model_kind(tmp_path)
    (tmp_path / "config.yaml").write_text("model: Emotion2vec\n")
    with pytest.raises(AsrError, match="no model.pt"):
        model_kind(tmp_path)
    (tmp_path / "model.pt").write_bytes(b"")
    with pytest.raises(AsrError, match="Emotion2vec is not a supported ASR model"):
        model_kind(tmp_path)
    (tmp_path / "config.yaml").write_text("model: SeacoParaformer\n")
    assert model_kind(tmp_path)[0] == "paraformer"


def _tiny_sensevoice(folder: Path) -> Path:
    """A SenseVoiceSmall folder in FunASR's layout with random tiny weights and a tiny BPE model; its CTC head
    is fixed to emit <|ANGRY|>, so the plumbing (load, features, decode, tag parsing) can be checked."""
    import contextlib
    import io

    import sentencepiece as spm
    import torch
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    tags = ["<|zh|>", "<|en|>", "<|HAPPY|>", "<|SAD|>", "<|ANGRY|>", "<|NEUTRAL|>", "<|EMO_UNKNOWN|>"]
    tags += ["<|Speech|>", "<|woitn|>", "<|withitn|>"]
    corpus = folder / "corpus.txt"
    corpus.write_text(
        "\n".join(["hello world good morning", "今天 天气 很好", "thank you"] * 20), encoding="utf-8"
    )
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(folder / "bpe"),
        vocab_size=50,
        user_defined_symbols=tags,
        model_type="bpe",
        character_coverage=1.0,
        bos_id=1,
        eos_id=2,
        unk_id=3,
        pad_id=-1,
        minloglevel=2,
    )
    corpus.unlink()
    config = {
        "model": "SenseVoiceSmall",
        "model_conf": {"length_normalized_loss": True, "sos": 1, "eos": 2, "ignore_id": -1},
        "encoder": "SenseVoiceEncoderSmall",
        "encoder_conf": {
            "output_size": 32,
            "attention_heads": 2,
            "linear_units": 64,
            "num_blocks": 2,
            "tp_blocks": 1,
            "input_layer": "pe",
            "pos_enc_class": "SinusoidalPositionEncoder",
            "normalize_before": True,
            "kernel_size": 11,
            "sanm_shfit": 0,
            "selfattention_layer_type": "sanm",
        },
        "tokenizer": "SentencepiecesTokenizer",
        "tokenizer_conf": {"bpemodel": None, "unk_symbol": "<unk>", "split_with_space": True},
        "frontend": "WavFrontend",
        "frontend_conf": {"fs": 16000, "window": "hamming", "n_mels": 80, "frame_length": 25, "frame_shift": 10,
                          "lfr_m": 7, "lfr_n": 6},
    }  # fmt: skip
    (folder / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with contextlib.redirect_stdout(io.StringIO()):
        import funasr.models.sense_voice.model  # noqa: F401  (registers SenseVoiceSmall)
        from funasr.register import tables
    model = tables.model_classes["SenseVoiceSmall"](
        encoder=config["encoder"], encoder_conf=config["encoder_conf"], input_size=560, vocab_size=50,
        **config["model_conf"],
    )  # fmt: skip
    angry = spm.SentencePieceProcessor(model_file=str(folder / "bpe.model")).piece_to_id("<|ANGRY|>")
    state = model.state_dict()
    state["ctc.ctc_lo.weight"].zero_()
    state["ctc.ctc_lo.bias"].fill_(-10.0)
    state["ctc.ctc_lo.bias"][angry] = 10.0
    torch.save(state, folder / "model.pt")
    return folder


def test_asr_with_a_tiny_random_sensevoice(tmp_path, recognizer, clip):
    """FunASR's own SenseVoiceSmall class with random weights, loaded from a local folder offline. FunASR needs an
    fbank backend (kaldi-native-fbank or torchaudio): without one the load stops with a message naming it."""
    pytest.importorskip("funasr", reason="FunASR is the optional emostudio[asr] extra")
    from emostudio.multimodal.asr import AsrError, AsrModel, fbank_backend_available
    from emostudio.multimodal.attach import attach_asr

    folder = _tiny_sensevoice(tmp_path / "sv")
    if not fbank_backend_available():
        with pytest.raises(AsrError, match="kaldi-native-fbank"):
            AsrModel(folder)
        return
    asr = AsrModel(folder)
    assert asr.kind == "sensevoice"
    result = recognizer.analyze(clip, output_dir=tmp_path / "out")
    wave = make_voice(2.0, SR, seed=3)
    attach_asr(result, asr, wave)
    block = json.loads((result.output_dir / "result.json").read_text(encoding="utf-8"))["text"]
    assert block["source"] == "asr" and block["asr"]["emotion"] == "angry"
    assert block["asr"]["emotion_raw"] == "ANGRY" and block["asr"]["kind"] == "sensevoice"
    assert block["agreement"]["key"] == "no_text"  # the tiny model hears no words
    assert "SenseVoice emotion tag: 😠" in "\n".join(describe_text(block))
