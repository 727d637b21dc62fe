"""R10/R11: what a question is, and reading one from an import row with errors a person
understands (each names its column)."""
from __future__ import annotations

from kernel.sheets import RowError

TYPES = {"single": "single", "单选": "single", "multiple": "multiple", "多选": "multiple",
         "judge": "judge", "判断": "judge"}
DIFFICULTIES = {"easy": "easy", "易": "easy", "简单": "easy", "medium": "medium",
                "中": "medium", "中等": "medium", "hard": "hard", "难": "hard", "困难": "hard"}
TRUE_WORDS = {"对", "正确", "true", "t", "yes", "√"}
FALSE_WORDS = {"错", "错误", "false", "f", "no", "×"}
LETTERS = "ABCDEF"
# contracts.md, "Question sheet" (Chinese headers too); `id` makes an export round-trip
SHEET_COLUMNS = {
    "id": "id", "编号": "id", "level": "level", "关卡": "level", "type": "type", "题型": "type",
    "stem": "stem", "题干": "stem", "options": "options", "选项": "options",
    "answer": "answer", "答案": "answer", "explanation": "explanation", "解析": "explanation",
    "difficulty": "difficulty", "难度": "difficulty", "topic": "topic", "主题": "topic",
    **{letter: letter for letter in LETTERS}, **{letter.lower(): letter for letter in LETTERS},
}
EXPORT_HEADERS = ["id", "level", "type", "stem", "options", "answer", "explanation",
                  "difficulty", "topic", "status"]




def _text(row, name):
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _options(row) -> list[str]:
    value = row.get("options")
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if value not in (None, ""):
        return [part.strip() for part in str(value).split("|") if part.strip()]
    return [_text(row, letter) for letter in LETTERS if _text(row, letter)]


def parse_row(row: dict, levels: set[int]) -> dict:
    """A question from an import row, or RowError naming the column at fault."""
    try:
        level = int(str(row.get("level", "")).strip())
    except ValueError:
        raise RowError("level", "level must be a whole number", "level_not_number",
                       _text(row, "level")) from None
    if level not in levels:
        raise RowError("level", f"level {level} does not exist in this campaign",
                       "unknown_level", level)
    qtype = TYPES.get(_text(row, "type").lower())
    if qtype is None:
        raise RowError("type", "type must be single/multiple/judge (单选/多选/判断)",
                       "unknown_type", _text(row, "type"))
    stem = _text(row, "stem")
    if not stem:
        raise RowError("stem", "the question text is missing", "stem_missing")
    options = _options(row)
    answer_text = _text(row, "answer")
    if qtype == "judge":
        if options:
            raise RowError("options", "a true/false question takes no options",
                           "judge_with_options", "|".join(options))
        word = answer_text.lower()
        if word in TRUE_WORDS:
            answer = [0]
        elif word in FALSE_WORDS:
            answer = [1]
        else:
            raise RowError("answer", "a true/false answer is 对/错 (true/false)",
                           "bad_judge_answer", answer_text)
    else:
        if not 2 <= len(options) <= 6:
            raise RowError("options", f"{len(options)} option(s): a question needs 2 to 6",
                           "option_count", n=len(options))
        letters = answer_text.upper().replace(",", "").replace(" ", "")
        if not letters or any(c not in LETTERS for c in letters):
            raise RowError("answer", "the answer is option letters, like A or AC",
                           "bad_answer_letters", answer_text)
        answer = sorted({LETTERS.index(c) for c in letters})
        if any(i >= len(options) for i in answer):
            raise RowError("answer", f"answer {letters} names an option the question lacks",
                           "answer_beyond_options", letters, n=len(options))
        if qtype == "single" and len(answer) != 1:
            raise RowError("answer", "a single-choice question has exactly one answer",
                           "single_many_answers", letters)
    difficulty = DIFFICULTIES.get((_text(row, "difficulty") or "medium").lower())
    if difficulty is None:
        raise RowError("difficulty", "difficulty is easy/medium/hard (易/中/难)",
                       "unknown_difficulty", _text(row, "difficulty"))
    return {
        "level": level, "type": qtype, "stem": stem, "options": options, "answer": answer,
        "explanation": _text(row, "explanation"), "difficulty": difficulty,
        "topic": _text(row, "topic"), "demo": bool(row.get("demo", False)),
    }


def as_row(question) -> dict:
    """A stored question in the sheet's shape (what `parse_row` reads back)."""
    if question.type == "judge":
        answer = "对" if question.answer == [0] else "错"
    else:
        answer = "".join(LETTERS[i] for i in question.answer)
    return {"id": question.id, "level": question.level, "type": question.type,
            "stem": question.stem, "options": "|".join(question.options), "answer": answer,
            "explanation": question.explanation or "", "difficulty": question.difficulty,
            "topic": question.topic or "", "status": question.status}


def identity(level: int, qtype: str, stem: str, options: list[str]) -> tuple:
    """What makes a question the same one when a sheet is imported again: its level, type,
    stem and options, blind to spacing ("下列说法正确的是" heads many different questions)."""
    return (level, qtype, " ".join(stem.split()), tuple(" ".join(o.split()) for o in options))
