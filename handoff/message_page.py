"""The citizen's "Find an answer" page: the answer to a left message, by its reference code.

A citizen who left a message outside office hours reads the answer in the widget when
they come back in the same browser; on another device, or after clearing the browser,
the reference code is the key. The code is a secret (60 random bits); this page is
rate-limited per address (in memory only) so it cannot be guessed. It finds the
conversation by the code's SHA-256 (``conversations.reference_hash``); the code itself
is only in the conversation's own transcript (the confirmation the citizen was shown).
"""

from __future__ import annotations

import html
from typing import Final

from aiohttp import web

from bot.dialogue.admission import normalize_reference, reference_hash
from bot.dialogue.policy import format_date
from bot.keys import CONFIG_KEY, STORE_KEY
from bot.ratelimit import TokenBucket
from nlu.contract import LANGUAGES

LOOKUPS_PER_MINUTE: Final = 10
_WORDS: Final = {
    "fi": {
        "title": "Hae vastaus viestiisi",
        "intro": "Jos jätit chatissa viestin neuvojille, saat vastauksen näkyviin viitekoodilla.",
        "label": "Viitekoodi",
        "button": "Hae vastaus",
        "not_found": (
            "Viitekoodilla ei löytynyt viestiä. Tarkista koodi. Keskustelut poistetaan {days} päivän kuluttua."
        ),
        "waiting": "Viestiisi ei ole vielä vastattu. Neuvoja vastaa viimeistään {date}.",
        "your_message": "Viestisi",
        "answer": "Vastaus",
        "limited": "Liian monta hakua. Odota hetki ja yritä uudelleen.",
        "back": "Takaisin palveluun",
    },
    "sv": {
        "title": "Hämta svar på ditt meddelande",
        "intro": "Om du lämnade ett meddelande till rådgivarna i chatten kan du se svaret med referenskoden.",
        "label": "Referenskod",
        "button": "Hämta svar",
        "not_found": "Inget meddelande hittades med koden. Kontrollera koden. Samtal raderas efter {days} dagar.",
        "waiting": "Ditt meddelande har inte besvarats ännu. En rådgivare svarar senast {date}.",
        "your_message": "Ditt meddelande",
        "answer": "Svar",
        "limited": "För många sökningar. Vänta en stund och försök igen.",
        "back": "Tillbaka till tjänsten",
    },
    "en": {
        "title": "Find the answer to your message",
        "intro": "If you left a message for the advisors in the chat, the reference code shows you the answer.",
        "label": "Reference code",
        "button": "Find the answer",
        "not_found": (
            "No message was found with that code. Please check it. Conversations are deleted after {days} days."
        ),
        "waiting": "Your message has not been answered yet. An advisor will answer it by {date}.",
        "your_message": "Your message",
        "answer": "Answer",
        "limited": "Too many searches. Please wait a moment and try again.",
        "back": "Back to the service",
    },
}


class MessagePage:
    """GET shows the form, POST looks the code up."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def setup(self, app: web.Application) -> None:
        """Register the page's routes."""
        app.router.add_get("/answer", self.form)
        app.router.add_post("/answer", self.lookup)

    async def form(self, request: web.Request) -> web.StreamResponse:
        """The empty form."""
        return self._page(_language(request), "")

    async def lookup(self, request: web.Request) -> web.StreamResponse:
        """The code's left message and its answer, or why there is none."""
        language = _language(request)
        words = _WORDS[language]
        if not self._allowed(request.remote or "unknown"):
            return self._page(language, _paragraph(words["limited"]), status=429)
        form = await request.post()
        code = str(form.get("code", ""))[:64]
        config = request.config_dict[CONFIG_KEY]
        state = None
        if len(normalize_reference(code)) == 12:
            state = await request.config_dict[STORE_KEY].find_by_reference(reference_hash(code))
        if state is None or state.message_at is None:
            text = words["not_found"].replace("{days}", str(config.privacy.retention_days))
            return self._page(language, _paragraph(text), status=404)
        messages = await request.config_dict[STORE_KEY].history(state.id, limit=2000)
        parts = []
        for message in messages:
            if message.kind == "left_message":
                parts.append(_section(words["your_message"], message.text))
            elif message.kind == "message_answer":
                parts.append(_section(words["answer"], message.text))
        if state.answered_at is None:
            when = format_date(state.reply_by, language) if state.reply_by else ""
            parts.append(_paragraph(words["waiting"].replace("{date}", when)))
        return self._page(language, "".join(parts))

    def _allowed(self, address: str) -> bool:
        if len(self._buckets) > 10_000:
            self._buckets.clear()
        bucket = self._buckets.get(address)
        if bucket is None:
            bucket = self._buckets[address] = TokenBucket(LOOKUPS_PER_MINUTE / 60.0, LOOKUPS_PER_MINUTE)
        return bucket.take()

    def _page(self, language: str, result: str, status: int = 200) -> web.Response:
        words = _WORDS[language]
        body = f"""<!doctype html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(words["title"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem;
  color: #1a1a1a; line-height: 1.5; }}
label {{ display: block; font-weight: 600; margin-top: 1rem; }}
input {{ font: inherit; padding: .5rem; border: 2px solid #555; border-radius: 4px; width: 14rem; }}
button {{ font: inherit; padding: .5rem 1rem; margin-top: .5rem; background: #0b5394; color: #fff;
  border: 0; border-radius: 4px; cursor: pointer; }}
:focus-visible {{ outline: 3px solid #e07000; outline-offset: 2px; }}
section {{ border-left: 4px solid #0b5394; padding: .25rem 1rem; margin: 1rem 0; background: #f3f6fa; }}
.text {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
</style>
</head>
<body>
<main>
<h1>{html.escape(words["title"])}</h1>
<p>{html.escape(words["intro"])}</p>
<form method="post" action="/answer?lang={language}">
<label for="code">{html.escape(words["label"])}</label>
<input id="code" name="code" autocomplete="off" spellcheck="false" required maxlength="20"
  placeholder="XXXX-XXXX-XXXX">
<div><button type="submit">{html.escape(words["button"])}</button></div>
</form>
<div role="status" aria-live="polite">{result}</div>
<p><a href="/">{html.escape(words["back"])}</a></p>
</main>
</body>
</html>
"""
        return web.Response(
            text=body,
            status=status,
            content_type="text/html",
            headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"},
        )


def _language(request: web.Request) -> str:
    language = request.query.get("lang", "")
    if language in LANGUAGES:
        return language
    accepted = request.headers.get("Accept-Language", "")
    for part in accepted.split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return "fi"


def _paragraph(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _section(title: str, text: str) -> str:
    return f'<section><h2>{html.escape(title)}</h2><p class="text">{html.escape(text)}</p></section>'
