"""How well the bot understands: cross-validation on the content and scores on labelled cases."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from .content import Content
from .contract import ACTIONS, LANGUAGES, TOPICS, ParseResult
from .embedded import EmbeddedEngine
from .features import FeatureOptions, Featurizer
from .interpreter import Interpreter
from .language import LanguageIdentifier


@dataclass(frozen=True, slots=True)
class Case:
    """A labelled message, as in ``shared/eval/*.jsonl``."""

    id: str
    text: str
    lang: str
    topic: str
    action: str
    line: int


def read_cases(path: Path) -> tuple[list[Case], list[str]]:
    """Read a JSON Lines file of cases; bad lines are reported, not fatal."""
    cases: list[Case] = []
    problems: list[str] = []
    raw = path.read_bytes()
    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        if not line_bytes.strip():
            continue
        try:
            item = json.loads(line_bytes.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{path}:{number}: not a JSON object ({exc})")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            problems.append(f"{path}:{number}: a case needs a string 'text'")
            continue
        labels = {key: item.get(key) for key in ("lang", "topic", "action")}
        if labels["lang"] not in LANGUAGES or labels["topic"] not in TOPICS or labels["action"] not in ACTIONS:
            problems.append(f"{path}:{number}: lang, topic and action must be contract ids, got {labels}")
            continue
        cases.append(
            Case(str(item.get("id", number)), item["text"], labels["lang"], labels["topic"], labels["action"], number)
        )
    return cases, problems


@dataclass
class CaseScores:
    """The contract's scores over a set of cases, with the detail needed to improve them."""

    cases: int
    topic_accuracy: float
    action_accuracy: float
    crisis_recall: float
    false_crisis_rate: float
    language_accuracy: float
    #: topic -> (answer cases, correctly topicked, predicted with that topic)
    per_topic: dict[str, tuple[int, int, int]]
    topic_confusions: list[tuple[str, str, int]]
    action_confusions: list[tuple[str, str, int]]
    missed_crises: list[str]
    false_crises: list[str]
    errors: list[tuple[Case, ParseResult]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The headline figures, for JSON output and benchmarks."""
        return {
            "cases": self.cases,
            "topic_accuracy": round(self.topic_accuracy, 4),
            "action_accuracy": round(self.action_accuracy, 4),
            "crisis_recall": round(self.crisis_recall, 4),
            "false_crisis_rate": round(self.false_crisis_rate, 4),
            "language_accuracy": round(self.language_accuracy, 4),
            "missed_crises": self.missed_crises,
            "false_crises": self.false_crises,
        }


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def score_cases(outcomes: Sequence[tuple[Case, ParseResult]]) -> CaseScores:
    """Score parse results against labels, as the contract defines each figure."""
    answer = [(c, r) for c, r in outcomes if c.action == "answer"]
    crises = [(c, r) for c, r in outcomes if c.action == "crisis"]
    others = [(c, r) for c, r in outcomes if c.action != "crisis"]
    per_topic: dict[str, tuple[int, int, int]] = {}
    predicted = Counter(r.topic for _, r in answer)
    for topic in TOPICS:
        mine = [(c, r) for c, r in answer if c.topic == topic]
        if mine or predicted[topic]:
            per_topic[topic] = (len(mine), sum(r.topic == topic for _, r in mine), predicted[topic])
    topic_confusions = Counter((c.topic, r.topic) for c, r in answer if c.topic != r.topic)
    action_confusions = Counter((c.action, r.action) for c, r in outcomes if c.action != r.action)
    errors = [
        (c, r)
        for c, r in outcomes
        if c.action != r.action or (c.action == "answer" and c.topic != r.topic) or c.lang != r.language
    ]
    return CaseScores(
        cases=len(outcomes),
        topic_accuracy=_ratio(sum(c.topic == r.topic for c, r in answer), len(answer)),
        action_accuracy=_ratio(sum(c.action == r.action for c, r in outcomes), len(outcomes)),
        crisis_recall=_ratio(sum(r.action == "crisis" for _, r in crises), len(crises)),
        false_crisis_rate=1.0 - _ratio(sum(r.action != "crisis" for _, r in others), len(others)) if others else 0.0,
        language_accuracy=_ratio(sum(c.lang == r.language for c, r in outcomes), len(outcomes)),
        per_topic=per_topic,
        topic_confusions=[(a, b, n) for (a, b), n in topic_confusions.most_common()],
        action_confusions=[(a, b, n) for (a, b), n in action_confusions.most_common()],
        missed_crises=[c.id for c, r in crises if r.action != "crisis"],
        false_crises=[c.id for c, r in others if r.action == "crisis"],
        errors=errors,
    )


async def parse_cases(
    interpreter: Interpreter, cases: Sequence[Case], *, use_hints: bool
) -> list[tuple[Case, ParseResult]]:
    """Parse every case, passing its language as a hint only when asked to."""
    outcomes: list[tuple[Case, ParseResult]] = []
    for case in cases:
        result = await interpreter.parse(case.text, case.lang if use_hints else None)
        outcomes.append((case, result))
    return outcomes


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Held-out accuracy of the intent engine on the content's own examples."""

    name: str
    folds: int
    examples: int
    intent_accuracy: float
    topic_accuracy: float
    macro_f1: float


def cross_validate(
    content: Content,
    identifier: LanguageIdentifier,
    *,
    folds: int = 5,
    options: FeatureOptions | None = None,
    name: str = "all features",
    seed: int = 0,
) -> CrossValidation:
    """Stratified k-fold cross-validation of the embedded engine, features as chosen."""
    data = EmbeddedEngine.prepare(content, identifier, Featurizer(content.lookups.values(), options))
    predictions = np.zeros(len(data.labels), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(np.zeros(len(data.labels)), data.labels):
        featurizer, classifier = EmbeddedEngine.fit(content, data, train_index, options=options)
        matrix = featurizer.transform([data.prepared[i] for i in test_index])
        predictions[test_index] = classifier.predict(matrix)
    topics = np.array([content.intents[name_].topic for name_ in data.intents])
    correct = predictions == data.labels
    f1_scores = []
    for label in range(len(data.intents)):
        true_positive = np.sum((predictions == label) & (data.labels == label))
        precision = true_positive / max(np.sum(predictions == label), 1)
        recall = true_positive / max(np.sum(data.labels == label), 1)
        f1_scores.append(0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall))
    return CrossValidation(
        name=name,
        folds=folds,
        examples=len(data.labels),
        intent_accuracy=float(correct.mean()),
        topic_accuracy=float((topics[predictions] == topics[data.labels]).mean()),
        macro_f1=float(np.mean(f1_scores)),
    )


async def score_variant(
    content: Content,
    identifier: LanguageIdentifier,
    options: FeatureOptions,
    cases: Sequence[Case],
    base: Interpreter,
) -> CaseScores:
    """Train a model with some feature families switched off and score it on cases."""
    engine = EmbeddedEngine.train(content, identifier, options=options)
    interpreter = Interpreter(engine, base.intents, identifier, base.crisis, base.settings)
    return score_cases(await parse_cases(interpreter, cases, use_hints=False))


#: Feature sets compared by ``neuvo evaluate --ablation``: each removes what copes with inflection.
ABLATIONS: dict[str, FeatureOptions] = {
    "all features": FeatureOptions(),
    "no character n-grams": FeatureOptions(chars=False),
    "no stemming": FeatureOptions(stems=False),
    "no spoken-Finnish forms": FeatureOptions(standard_forms=False),
    "no lookup concepts": FeatureOptions(concepts=False),
    "plain words only": FeatureOptions(chars=False, stems=False, standard_forms=False, concepts=False, pairs=False),
}


def format_case_report(scores: CaseScores, *, worst: int = 10) -> str:
    """A readable report of case scores: headline figures, per-topic table, worst confusions."""
    lines = [
        f"cases: {scores.cases}",
        f"topic accuracy     {scores.topic_accuracy:.3f}   (answer cases)",
        f"action accuracy    {scores.action_accuracy:.3f}",
        f"crisis recall      {scores.crisis_recall:.3f}",
        f"false-crisis rate  {scores.false_crisis_rate:.3f}",
        f"language accuracy  {scores.language_accuracy:.3f}",
        "",
        f"{'topic':<20}{'cases':>6}{'right':>7}{'recall':>8}{'predicted':>11}{'precision':>11}",
    ]
    for topic, (total, right, predicted) in scores.per_topic.items():
        recall = right / total if total else 0.0
        precision = right / predicted if predicted else 0.0
        lines.append(f"{topic:<20}{total:>6}{right:>7}{recall:>8.2f}{predicted:>11}{precision:>11.2f}")
    if scores.topic_confusions:
        lines += ["", "worst topic confusions (labelled -> predicted):"]
        lines += [f"  {a} -> {b}: {n}" for a, b, n in scores.topic_confusions[:worst]]
    if scores.action_confusions:
        lines += ["", "action confusions (labelled -> predicted):"]
        lines += [f"  {a} -> {b}: {n}" for a, b, n in scores.action_confusions[:worst]]
    if scores.missed_crises:
        lines += ["", f"MISSED CRISES: {', '.join(scores.missed_crises)}"]
    if scores.false_crises:
        lines += ["", f"false crises: {', '.join(scores.false_crises)}"]
    return "\n".join(lines)
