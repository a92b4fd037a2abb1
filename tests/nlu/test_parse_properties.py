"""Property: whatever a citizen types, `parse` answers with a well-formed reading and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlu.contract import LANGUAGES, TOPICS
from nlu.interpreter import Interpreter

ANY_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(categories=("L", "M", "N", "P", "S", "Z", "C")), max_size=300),
    st.lists(
        st.sampled_from(["toimeentulotuki", "päiväkoti", "hej", "😀", "\x00", "\u200b", "\ud7ff", "  ", "ä"]),
        max_size=40,
    ).map(" ".join),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "replace")),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT, hint=st.sampled_from([None, "fi", "sv", "en", "de", ""]))
async def test_parse_never_raises_and_always_answers_the_contract(
    interpreter: Interpreter, text: str, hint: str | None
) -> None:
    result = await interpreter.parse(text, hint)
    assert result.language in LANGUAGES
    assert result.topic in TOPICS
    assert result.action in ("answer", "handoff", "crisis", "fallback")
    assert 0.0 <= result.confidence <= 1.0
    assert isinstance(result.intent, str)
    assert result.intent
    if result.action == "fallback":
        assert result.topic == "none"
