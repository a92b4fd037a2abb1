"""The content editor's and developer's NLU commands: train, validate, parse and evaluate."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any, Final

from handoff.canned import read_canned, validate_canned
from nlu.content import Content, load_content
from nlu.contract import LANGUAGES
from nlu.evaluation import (
    ABLATIONS,
    Case,
    cross_validate,
    format_case_report,
    parse_cases,
    read_cases,
    score_cases,
    score_variant,
)
from nlu.interpreter import Interpreter
from nlu.language import LanguageIdentifier
from nlu.loader import open_interpreter
from nlu.training import train_model
from nlu.validation import validate_content, validate_phrases

from ..config import load_config

#: The labelled sample cases of the shared specification, relative to the repository.
SAMPLE_CASES: Final = Path("../shared/eval/sample_cases.jsonl")


def register(commands: Any) -> None:
    """Add the NLU sub-commands to the CLI."""
    train = commands.add_parser("train", help="train the NLU model from data/intents and save it")
    train.set_defaults(handler=run_train)

    validate = commands.add_parser("validate", help="check the content; exit 1 on errors")
    validate.add_argument("--strict", action="store_true", help="treat warnings as errors too")
    validate.set_defaults(handler=run_validate)

    parse = commands.add_parser("parse", help="read JSON Lines on stdin, write the bot's reading of each")
    parse.add_argument("--ranking", action="store_true", help="add the intent ranking and crisis reasons")
    parse.set_defaults(handler=run_parse)

    evaluate = commands.add_parser("evaluate", help="cross-validate, and score labelled cases")
    evaluate.add_argument(
        "--cases", type=Path, default=None, help=f"JSON Lines of labelled cases (default {SAMPLE_CASES})"
    )
    evaluate.add_argument("--folds", type=int, default=5, help="cross-validation folds (0 to skip)")
    evaluate.add_argument(
        "--ablation", action="store_true", help="also cross-validate with feature families switched off"
    )
    evaluate.add_argument("--hints", action="store_true", help="pass each case's language as the hint")
    evaluate.add_argument("--errors", action="store_true", help="list every case the bot got wrong")
    evaluate.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    evaluate.set_defaults(handler=run_evaluate)


def _announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_train(args: argparse.Namespace) -> int:
    """``neuvo train``."""
    config = load_config(args.config)
    content = load_content(config.nlu.content_dir)
    model = train_model(content)
    path = model.save(config.nlu.model_dir)
    languages: Counter[str] = Counter(model.identifier.detect(text).language for text, _ in content.examples())
    topics = sorted({spec.topic for spec in content.intents.values()})
    print(
        f"trained {len(model.intents)} intents over {len(topics)} topics from {model.examples} examples "
        f"({', '.join(f'{lang} {languages[lang]}' for lang in LANGUAGES)}) in {model.trained_seconds:.1f} s"
    )
    print(f"lookup tables: {len(content.lookups)}; confidence temperature: {model.engine.temperature:.3f}")
    print(f"model: {path} (content {model.fingerprint[:12]})")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """``neuvo validate``."""
    config = load_config(args.config)
    content, problems = validate_content(config.nlu.content_dir, config.placeholder_keys())
    problems += validate_phrases(config.nlu.content_dir.parent / "messages.yml", config.placeholder_keys())
    canned_dir = config.nlu.content_dir.parent / "canned"
    canned_problems = validate_canned(canned_dir, config.placeholder_keys())
    for problem in problems + canned_problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    examples = sum(len(i.examples) for i in content.intents.values())
    print(
        f"{len(content.intents)} intents, {examples} examples, {len(content.lookups)} lookup tables: "
        f"{errors} error(s), {warnings} warning(s)"
    )
    canned_errors = sum(p.severity == "error" for p in canned_problems)
    canned_warnings = len(canned_problems) - canned_errors
    print(f"{len(read_canned(canned_dir)[0])} canned responses: {canned_errors} error(s), {canned_warnings} warning(s)")
    errors += canned_errors
    warnings += canned_warnings
    return 1 if errors or (args.strict and warnings) else 0


def run_parse(args: argparse.Namespace) -> int:
    """``neuvo parse``: the JSON Lines contract, one output line per input line, in order."""
    config = load_config(args.config)
    interpreter = open_interpreter(config.nlu, announce=_announce)
    return asyncio.run(_parse_stream(interpreter, sys.stdin.buffer, sys.stdout, ranking=args.ranking))


async def _parse_stream(interpreter: Interpreter, source: IO[bytes], sink: IO[str], *, ranking: bool) -> int:
    try:
        for number, raw in enumerate(source, start=1):
            sink.write(json.dumps(await _parse_line(interpreter, raw, number, ranking), ensure_ascii=False) + "\n")
            sink.flush()
    finally:
        await interpreter.engine.close()
    return 0


async def _parse_line(interpreter: Interpreter, raw: bytes, number: int, ranking: bool) -> dict[str, Any]:
    line = raw.rstrip(b"\r\n")
    try:
        decoded = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {"id": None, "error": f"line {number}: not valid UTF-8 (byte {exc.start})"}
    if not decoded.strip():
        return {"id": None, "error": f"line {number}: empty line, expected a JSON object"}
    try:
        item = json.loads(decoded)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})"}
    if not isinstance(item, dict):
        return {"id": None, "error": f"line {number}: expected a JSON object with a string 'text'"}
    text = item.get("text")
    if not isinstance(text, str):
        return {"id": None, "error": f"line {number}: 'text' is missing or not a string"}
    # Lone surrogates ("\ud800") are valid JSON but not valid UTF-8 text; make them visible.
    text = text.encode("utf-8", "replace").decode("utf-8")
    hint = item.get("lang") if item.get("lang") in LANGUAGES else None
    result = await interpreter.parse(text, hint)
    return result.full_dict(item.get("id")) if ranking else result.contract_dict(item.get("id"))


def _ablation_on_cases(
    content: Content, interpreter: Interpreter, cases: list[Case], *, quiet: bool
) -> list[dict[str, Any]]:
    """Score each feature set on the labelled cases: the fair test of what copes with inflection."""
    identifier = LanguageIdentifier.train(text for text, _ in content.examples())
    rows = []
    if not quiet:
        print(f"\nfeature ablation on the cases ({len(cases)}), each variant trained on all content:")
        print(f"  {'features':<26}{'topic acc':>11}{'action acc':>12}{'crisis rec':>12}")
    for name, options in ABLATIONS.items():
        scores = asyncio.run(score_variant(content, identifier, options, cases, interpreter))
        rows.append(
            {
                "features": name,
                "topic_accuracy": round(scores.topic_accuracy, 4),
                "action_accuracy": round(scores.action_accuracy, 4),
                "crisis_recall": round(scores.crisis_recall, 4),
            }
        )
        if not quiet:
            figures = f"{scores.topic_accuracy:>11.3f}{scores.action_accuracy:>12.3f}{scores.crisis_recall:>12.3f}"
            print(f"  {name:<26}{figures}")
    return rows


def run_evaluate(args: argparse.Namespace) -> int:
    """``neuvo evaluate``."""
    config = load_config(args.config)
    content = load_content(config.nlu.content_dir)
    report: dict[str, Any] = {}
    if args.folds and args.folds >= 2:
        identifier = LanguageIdentifier.train(text for text, _ in content.examples())
        variants = ABLATIONS if args.ablation else {"all features": ABLATIONS["all features"]}
        if not args.json:
            examples = sum(len(i.examples) for i in content.intents.values())
            print(f"cross-validation ({args.folds} folds) on {examples} examples:")
            print(f"  {'features':<26}{'intent acc':>11}{'topic acc':>11}{'macro F1':>10}")
        report["cross_validation"] = []
        for name, options in variants.items():
            result = cross_validate(content, identifier, folds=args.folds, options=options, name=name)
            report["cross_validation"].append(
                {
                    "features": name,
                    "intent_accuracy": round(result.intent_accuracy, 4),
                    "topic_accuracy": round(result.topic_accuracy, 4),
                    "macro_f1": round(result.macro_f1, 4),
                }
            )
            if not args.json:
                print(
                    f"  {name:<26}{result.intent_accuracy:>11.3f}{result.topic_accuracy:>11.3f}{result.macro_f1:>10.3f}"
                )
    cases_path = args.cases or (config.source.resolve().parent / SAMPLE_CASES)
    if args.cases is None and not cases_path.is_file():
        print(f"no cases file at {cases_path}; give one with --cases", file=sys.stderr)
    else:
        if not cases_path.is_file():
            print(f"neuvo evaluate: no such cases file: {cases_path}", file=sys.stderr)
            return 1
        cases, problems = read_cases(cases_path)
        for problem in problems:
            print(problem, file=sys.stderr)
        interpreter = open_interpreter(config.nlu, announce=_announce)
        outcomes = asyncio.run(parse_cases(interpreter, cases, use_hints=args.hints))
        scores = score_cases(outcomes)
        report["cases"] = {"file": str(cases_path), **scores.as_dict()}
        if args.ablation:
            report["ablation_on_cases"] = _ablation_on_cases(content, interpreter, cases, quiet=args.json)
        if not args.json:
            print(f"\nscores on {cases_path}{' (language hints given)' if args.hints else ''}:")
            print(format_case_report(scores))
            if args.errors and scores.errors:
                print("\nerrors (labelled lang/topic/action -> predicted):")
                for case, reading in scores.errors:
                    print(
                        f"  {case.id}: {case.lang}/{case.topic}/{case.action} -> "
                        f"{reading.language}/{reading.topic}/{reading.action} "
                        f"({reading.intent} {reading.confidence:.2f})  {case.text[:90]}"
                    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0
