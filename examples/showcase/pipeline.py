"""``pipeline``: a ten-step document pipeline that reports its progress while it runs.

    START → load → normalize → split_sentences → tokenize → count → extract_keywords
          → summarize → estimate_reading_time → detect_language → render → END

Every step sends one custom stream event (``stream_mode="custom"``):
``{"step": "tokenize", "index": 4, "total": 10, ...details}``.
Each step is checkpointed, so a run interrupted by a crash resumes at the step it was on.

Input: ``{"title": "…", "text": "…"}``; the output's ``report`` is a Markdown summary.
Context (optional): ``{"step_delay": 0.5}`` waits that many seconds after each step, to
watch the stream arrive.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import START, StateGraph
from langgraph.runtime import get_runtime


@dataclass
class PipelineContext:
    step_delay: float = 0.0


class Document(TypedDict):
    text: str
    title: NotRequired[str]
    clean_text: NotRequired[str]
    sentences: NotRequired[list[str]]
    words: NotRequired[list[str]]
    stats: NotRequired[dict[str, int]]
    keywords: NotRequired[list[str]]
    summary: NotRequired[str]
    reading_minutes: NotRequired[int]
    language: NotRequired[str]
    report: NotRequired[str]


STOPWORDS = {
    "en": {"the", "and", "of", "to", "a", "in", "is", "it", "that", "for", "on", "with", "as"},
    "fr": {"le", "la", "les", "et", "de", "des", "un", "une", "est", "que", "pour", "dans"},
    "de": {"der", "die", "das", "und", "ist", "ein", "eine", "zu", "mit", "den", "nicht"},
    "es": {"el", "la", "los", "las", "y", "de", "que", "en", "un", "una", "es", "por"},
}
WORDS_PER_MINUTE = 200


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower())


def _progress(step: str, **details: Any) -> None:
    """Send this step's progress event, then pause ``step_delay`` seconds if asked to."""
    names = [fn.__name__ for fn in STEPS]
    writer = get_stream_writer()
    writer({"step": step, "index": names.index(step) + 1, "total": len(names), **details})
    context = get_runtime(PipelineContext).context
    if context is not None and context.step_delay > 0:
        time.sleep(context.step_delay)


def load(state: Document) -> dict[str, Any]:
    if not state["text"].strip():
        raise ValueError("the document is empty")
    _progress("load", characters=len(state["text"]))
    return {"title": state.get("title") or "Untitled"}


def normalize(state: Document) -> dict[str, Any]:
    clean_text = " ".join(state["text"].split())
    _progress("normalize", characters=len(clean_text))
    return {"clean_text": clean_text}


def split_sentences(state: Document) -> dict[str, Any]:
    sentences = re.split(r"(?<=[.!?])\s+", state["clean_text"])
    _progress("split_sentences", sentences=len(sentences))
    return {"sentences": sentences}


def tokenize(state: Document) -> dict[str, Any]:
    words = _words(state["clean_text"])
    _progress("tokenize", words=len(words))
    return {"words": words}


def count(state: Document) -> dict[str, Any]:
    stats = {
        "characters": len(state["clean_text"]),
        "words": len(state["words"]),
        "sentences": len(state["sentences"]),
    }
    _progress("count", **stats)
    return {"stats": stats}


def extract_keywords(state: Document) -> dict[str, Any]:
    stopwords = set().union(*STOPWORDS.values())
    counts = Counter(w for w in state["words"] if len(w) > 3 and w not in stopwords)
    keywords = [word for word, _ in counts.most_common(5)]
    _progress("extract_keywords", keywords=keywords)
    return {"keywords": keywords}


def summarize(state: Document) -> dict[str, Any]:
    """Keep the two sentences that mention the most keywords, in document order."""
    keywords = set(state["keywords"])
    sentences = state["sentences"]
    score = {i: len(keywords & set(_words(s))) for i, s in enumerate(sentences)}
    best = sorted(sorted(score, key=lambda i: -score[i])[:2])
    summary = " ".join(sentences[i] for i in best)
    _progress("summarize", characters=len(summary))
    return {"summary": summary}


def estimate_reading_time(state: Document) -> dict[str, Any]:
    minutes = max(1, math.ceil(state["stats"]["words"] / WORDS_PER_MINUTE))
    _progress("estimate_reading_time", minutes=minutes)
    return {"reading_minutes": minutes}


def detect_language(state: Document) -> dict[str, Any]:
    """The language whose common words appear most often."""
    words = Counter(state["words"])
    hits = {lang: sum(words[w] for w in stop) for lang, stop in STOPWORDS.items()}
    language = max(hits, key=lambda lang: hits[lang])
    _progress("detect_language", language=language)
    return {"language": language}


def render(state: Document) -> dict[str, Any]:
    stats = state["stats"]
    report = "\n".join(
        [
            f"# {state['title']}",
            "",
            f"*{stats['words']} words, {stats['sentences']} sentences, "
            f"about {state['reading_minutes']} min to read; language: {state['language']}*",
            "",
            f"**Keywords:** {', '.join(state['keywords'])}",
            "",
            f"**Summary:** {state['summary']}",
        ]
    )
    _progress("render", characters=len(report))
    return {"report": report}


STEPS = (
    load,
    normalize,
    split_sentences,
    tokenize,
    count,
    extract_keywords,
    summarize,
    estimate_reading_time,
    detect_language,
    render,
)

builder = StateGraph(Document, context_schema=PipelineContext)
builder.add_sequence(STEPS)
builder.add_edge(START, "load")

graph = builder.compile()
