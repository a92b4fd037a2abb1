"""The trained NLU model on disk: what was trained, from which content, with which code."""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import sklearn

from .contract import Action
from .embedded import EmbeddedEngine
from .errors import ModelError
from .language import LanguageIdentifier

#: Bumped whenever the pickled classes change shape; an older model is retrained, not loaded.
MODEL_FORMAT: Final = 1
MODEL_FILE: Final = "neuvo-nlu.pkl"


@dataclass(frozen=True, slots=True)
class IntentInfo:
    """What the interpreter needs about an intent to route a message."""

    name: str
    topic: str
    action: Action


@dataclass
class NluModel:
    """A trained model with the fingerprint of the content it was trained on."""

    fingerprint: str
    identifier: LanguageIdentifier
    engine: EmbeddedEngine
    intents: dict[str, IntentInfo]
    trained_seconds: float
    examples: int
    format: int = MODEL_FORMAT
    sklearn_version: str = sklearn.__version__

    def save(self, directory: Path) -> Path:
        """Write the model atomically, so a crash never leaves half a model behind."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / MODEL_FILE
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".model-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(self, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    @staticmethod
    def load(directory: Path) -> NluModel:
        """Read a model written by :meth:`save` with this version of the code.

        Raises:
            ModelError: when there is no model, it is unreadable, or it was made by other code.

        """
        path = directory / MODEL_FILE
        if not path.is_file():
            raise ModelError(f"no trained model at {path}; run `neuvo train`")
        try:
            with path.open("rb") as stream:
                model = pickle.load(stream)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise ModelError(f"cannot read the model at {path}: {exc}") from exc
        if not isinstance(model, NluModel) or model.format != MODEL_FORMAT:
            raise ModelError(f"the model at {path} was made by another version of Neuvo")
        if model.sklearn_version != sklearn.__version__:
            raise ModelError(
                f"the model at {path} was made with scikit-learn {model.sklearn_version}, this is {sklearn.__version__}"
            )
        return model
