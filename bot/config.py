"""Loading ``config.yml`` with environment overrides, validated once with one clear line per bad value."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from handoff.hours import HoursError, OfficeHours, parse_office_hours
from nlu.contract import LANGUAGES, SERVICE_TOPICS
from nlu.errors import NeuvoError
from nlu.settings import NluSettings

ENV_PREFIX: Final = "NEUVO_"
CONFIG_ENV: Final = "NEUVO_CONFIG"
DEFAULT_CONFIG: Final = Path("config.yml")
#: Top-level keys that belong to Rasa (``rasa train nlu`` reads this same file) and are ignored here.
RASA_KEYS: Final = frozenset({"recipe", "assistant_id", "language", "pipeline", "policies"})
_ENV_REFERENCE: Final = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(NeuvoError, ValueError):
    """The configuration cannot be used; ``problems`` holds one line per bad value."""

    def __init__(self, problems: list[str], source: str) -> None:
        self.problems = problems
        self.source = source
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid configuration in {source}:\n{listing}")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Where the aiohttp application listens and who may embed the widget."""

    host: str = "127.0.0.1"
    port: int = 8080
    #: Origins (scheme://host[:port]) whose pages may open the widget's WebSocket.
    allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8080", "http://localhost:8080")
    #: Trust X-Forwarded-For from a reverse proxy on loopback (for rate limiting only; never stored).
    trust_proxy: bool = False
    #: The county's time zone: office hours, the nightly purge and report hours use it.
    timezone: str = "Europe/Helsinki"


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """The database: a SQLite file by default, PostgreSQL by URL."""

    url: str = "sqlite:///.neuvo/neuvo.db"


@dataclass(frozen=True, slots=True)
class WidgetSettings:
    """Limits that protect the service from over-long messages and floods."""

    max_message_chars: int = 2000
    messages_per_minute: int = 30
    burst: int = 10
    connections_per_address: int = 20


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    """How long conversations are kept; statistics without personal data outlive them."""

    retention_days: int = 90
    #: Hour (server local time) of the daily purge in the running server.
    purge_hour: int = 3
    #: The audit log (who read or did what, never message text) is kept longer, for oversight.
    audit_retention_days: int = 730


@dataclass(frozen=True, slots=True)
class DialogueSettings:
    """How patient the bot is before it offers a person."""

    misses_before_human: int = 2


@dataclass(frozen=True, slots=True)
class TeamSettings:
    """One team of advisors: the topics routed to it, its office hours and how long a wait is acceptable."""

    id: str
    name: Mapping[str, str]
    topics: tuple[str, ...]
    hours: OfficeHours
    #: Above this estimated wait the citizen is offered leave-a-message instead of a queue that will not answer.
    max_wait_minutes: float = 20.0


@dataclass(frozen=True, slots=True)
class HandoffSettings:
    """Routing of conversations to teams, and the promises made to citizens who wait or leave a message."""

    teams: tuple[TeamSettings, ...]
    default_team: str
    #: The team crisis conversations go to whatever their topic (None: routed by topic like the rest).
    crisis_team: str | None = None
    #: A left message is answered within this many working days of the team.
    answer_within_working_days: int = 5
    #: A held conversation returns to the queue when its advisor has not answered the citizen for this long.
    reply_timeout_minutes: float = 5.0
    #: How long an advisor may be disconnected (reload, network break) before their conversations return.
    offline_grace_seconds: float = 60.0
    #: Conversations one advisor holds at once, unless set for the advisor.
    default_capacity: int = 3
    #: The estimate of one conversation's handling time until the team has measured its own.
    average_handling_minutes: float = 8.0

    def team(self, team_id: str) -> TeamSettings:
        """A team by id (raises KeyError)."""
        for team in self.teams:
            if team.id == team_id:
                return team
        raise KeyError(team_id)

    def route(self, topic: str | None) -> str:
        """The team a topic's conversations go to."""
        for team in self.teams:
            if topic in team.topics:
                return team.id
        return self.default_team


def _default_handoff() -> HandoffSettings:
    from zoneinfo import ZoneInfo

    team = TeamSettings(
        "social_advice",
        {"fi": "Sosiaaliohjaus", "sv": "Social handledning", "en": "Social guidance"},
        (),
        OfficeHours.always(ZoneInfo("Europe/Helsinki")),
    )
    return HandoffSettings(teams=(team,), default_team="social_advice")


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    """Sessions and login protection of the advisor console."""

    #: A session ends after this long without a request.
    session_idle_minutes: int = 120
    #: And after this long in any case (one working shift).
    session_hours: int = 12
    #: Login attempts from one address per minute (counted in memory only).
    login_attempts_per_minute: int = 10
    #: Failed passwords in a row that lock an account ...
    lockout_after: int = 5
    #: ... for this long.
    lockout_minutes: int = 15


TELEGRAM_MODES: Final = ("polling", "webhook", "off")
_TELEGRAM_TOKEN: Final = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,100}$")
_WEBHOOK_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """The Telegram channel: off until a bot token is configured.

    The token and the webhook secret are secrets: they are never shown in a repr, a log
    line or an error message.
    """

    #: The bot token from @BotFather; empty means the channel is off.
    token: str = field(default="", repr=False)
    #: The Bot API server: requests go to ``{api_url}/bot{token}/{method}``. A self-hosted
    #: ``telegram-bot-api`` server, or a test peer, is just another URL.
    api_url: str = "https://api.telegram.org"
    #: polling (development: no public address needed) | webhook (production) | off
    mode: str = "polling"
    #: How long one getUpdates call waits for news (long polling).
    poll_timeout_seconds: float = 10.0
    #: Where Telegram posts updates in webhook mode, on this server.
    webhook_path: str = "/telegram/webhook"
    #: Telegram sends it in X-Telegram-Bot-Api-Secret-Token; requests without it are refused.
    webhook_secret: str = field(default="", repr=False)
    #: The public https URL of ``webhook_path`` given to setWebhook at start (None: set it yourself).
    webhook_url: str | None = None
    #: Webhook requests Telegram may have open at once.
    max_connections: int = 40

    @property
    def enabled(self) -> bool:
        """Whether the channel runs: a token is set and the mode is not ``off``."""
        return bool(self.token) and self.mode != "off"


def telegram_problems(settings: TelegramSettings, prefix: str = "telegram.") -> list[str]:
    """What is wrong with a Telegram configuration as a whole (one line each, never quoting a secret)."""
    problems: list[str] = []
    if settings.token and not _TELEGRAM_TOKEN.match(settings.token):
        problems.append(f"{prefix}token: expected a bot token such as 123456:ABC-DEF1234 (value not shown)")
    if settings.mode not in TELEGRAM_MODES:
        problems.append(f"{prefix}mode: expected polling, webhook or off, got {settings.mode!r}")
    if settings.enabled and settings.mode == "webhook" and not _WEBHOOK_SECRET.match(settings.webhook_secret):
        problems.append(
            f"{prefix}webhook.secret_token: required in webhook mode: 1-256 characters of A-Z a-z 0-9 _ - "
            "(value not shown)"
        )
    return problems


@dataclass(frozen=True, slots=True)
class Config:
    """Validated settings of the whole application."""

    source: Path
    nlu: NluSettings
    #: County-specific facts that answers refer to with placeholders.
    county: Mapping[str, Any] = field(default_factory=dict)
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    widget: WidgetSettings = field(default_factory=WidgetSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    dialogue: DialogueSettings = field(default_factory=DialogueSettings)
    handoff: HandoffSettings = field(default_factory=_default_handoff)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    telegram: TelegramSettings = field(default_factory=TelegramSettings)

    @property
    def base_dir(self) -> Path:
        """The directory relative paths in the configuration are relative to."""
        return self.source.resolve().parent

    def placeholder_keys(self) -> set[str]:
        """Every placeholder an answer may use, for example ``phone.income_support``."""
        return set(_fact_paths(self.county))

    def fact(self, key: str, language: str) -> str:
        """The value of a county fact in a language.

        Raises:
            KeyError: when no such fact is configured.

        """
        node: Any = self.county
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(key)
            node = node[part]
        if isinstance(node, Mapping):
            if language in node:
                return str(node[language])
            if "fi" in node and set(node) <= set(LANGUAGES):
                return str(node["fi"])
            raise KeyError(key)
        return str(node)


def _fact_paths(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and not (set(value) and set(value) <= set(LANGUAGES)):
            yield from _fact_paths(value, f"{path}.")
        else:
            yield path


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment, and validate the configuration.

    The file is ``path``, else ``$NEUVO_CONFIG``, else ``config.yml`` in the working
    directory. Relative paths inside it are relative to the file's own directory.

    Raises:
        ConfigError: naming every bad value.

    """
    env = os.environ if environ is None else environ
    source = path or Path(env.get(CONFIG_ENV, "") or DEFAULT_CONFIG)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError([f"file not found: {source}"], str(source)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read: {exc}"], str(source)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError([f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"], str(source)) from exc
    if not isinstance(raw, dict):
        raise ConfigError(["the top level must be a mapping of settings"], str(source))
    problems: list[str] = []
    data = _substitute_env(raw, env, problems, "")
    _apply_overrides(data, env, problems)
    base = source.resolve().parent
    reader = _Reader(data, problems)
    for key in data:
        if key not in _SECTIONS and key not in RASA_KEYS:
            problems.append(f"{key}: unknown setting (known: {', '.join(sorted(_SECTIONS))})")
    nlu = _read_nlu(reader.section("nlu"), base)
    server = _read_server(reader.section("server"))
    database = _read_database(reader.section("database"))
    widget = _read_widget(reader.section("widget"))
    privacy = _read_privacy(reader.section("privacy"))
    dialogue = _read_dialogue(reader.section("dialogue"))
    handoff = _read_handoff(reader.section("handoff"), server.timezone)
    console = _read_console(reader.section("console"))
    telegram = _read_telegram(reader.section("telegram"))
    county = data.get("county") or {}
    if not isinstance(county, dict):
        problems.append("county: must be a mapping of facts")
        county = {}
    else:
        _check_facts(county, "county", problems)
    if problems:
        raise ConfigError(problems, str(source))
    return Config(
        source=source,
        nlu=nlu,
        county=county,
        server=server,
        database=database,
        widget=widget,
        privacy=privacy,
        dialogue=dialogue,
        handoff=handoff,
        console=console,
        telegram=telegram,
    )


class _Reader:
    """Typed access to one mapping of settings, recording a problem instead of raising."""

    def __init__(self, data: Mapping[str, Any], problems: list[str], prefix: str = "") -> None:
        self.data = data
        self.problems = problems
        self.prefix = prefix
        self.seen: set[str] = set()

    def section(self, name: str) -> _Reader:
        value = self.data.get(name, {})
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            self.problems.append(f"{self.prefix}{name}: must be a mapping")
            value = {}
        return _Reader(value, self.problems, f"{self.prefix}{name}.")

    def get(self, key: str, default: Any, check: Callable[[Any], Any], expected: str) -> Any:
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            return default
        value = self.data[key]
        try:
            return check(value)
        except (TypeError, ValueError):
            self.problems.append(f"{self.prefix}{key}: expected {expected}, got {value!r}")
            return default

    def finish(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                self.problems.append(f"{self.prefix}{key}: unknown setting (known: {', '.join(sorted(known))})")


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError
    return float(value)


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError
    return float(value)


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError
        return str(value)

    return check


def _url(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
        raise ValueError
    return value.rstrip("/")


def _path(base: Path) -> Callable[[Any], Path]:
    def check(value: Any) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise ValueError
        path = Path(value)
        return path if path.is_absolute() else base / path

    return check


def _read_nlu(reader: _Reader, base: Path) -> NluSettings:
    defaults = NluSettings()
    settings = NluSettings(
        content_dir=reader.get("content_dir", base / defaults.content_dir, _path(base), "a directory path"),
        model_dir=reader.get("model_dir", base / defaults.model_dir, _path(base), "a directory path"),
        engine=reader.get("engine", defaults.engine, _choice("embedded", "rasa"), "embedded or rasa"),
        fallback_threshold=reader.get(
            "fallback_threshold", defaults.fallback_threshold, _fraction, "a number from 0 to 1"
        ),
        weak_crisis_threshold=reader.get(
            "weak_crisis_threshold", defaults.weak_crisis_threshold, _fraction, "a number from 0 to 1"
        ),
        crisis_threshold=reader.get("crisis_threshold", defaults.crisis_threshold, _fraction, "a number from 0 to 1"),
        handoff_threshold=reader.get(
            "handoff_threshold", defaults.handoff_threshold, _fraction, "a number from 0 to 1"
        ),
        default_language=reader.get("default_language", defaults.default_language, _choice(*LANGUAGES), "fi, sv or en"),
        rasa_url=reader.get("rasa_url", defaults.rasa_url, _url, "an http(s) URL"),
        rasa_timeout_seconds=reader.get(
            "rasa_timeout_seconds", defaults.rasa_timeout_seconds, _positive, "a positive number of seconds"
        ),
    )
    reader.finish(set(NluSettings.__dataclass_fields__))
    return settings


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return value.strip()


def _zone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        raise ValueError from None
    return str(value)


def _origins(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(
        isinstance(origin, str) and re.fullmatch(r"https?://[^\s/]+", origin.strip()) for origin in value
    ):
        raise ValueError
    return tuple(origin.strip().rstrip("/") for origin in value)


def _read_server(reader: _Reader) -> ServerSettings:
    defaults = ServerSettings()
    settings = ServerSettings(
        host=reader.get("host", defaults.host, _text, "a host name or address"),
        port=reader.get("port", defaults.port, _integer(1, 65535), "a port number from 1 to 65535"),
        allowed_origins=reader.get(
            "allowed_origins", defaults.allowed_origins, _origins, "a list of origins such as https://www.county.fi"
        ),
        trust_proxy=reader.get("trust_proxy", defaults.trust_proxy, _boolean, "true or false"),
        timezone=reader.get("timezone", defaults.timezone, _zone, "an IANA time zone such as Europe/Helsinki"),
    )
    reader.finish(set(ServerSettings.__dataclass_fields__))
    return settings


def _read_database(reader: _Reader) -> DatabaseSettings:
    defaults = DatabaseSettings()

    def url(value: Any) -> str:
        if not isinstance(value, str) or not re.match(r"^(sqlite|postgres(ql)?)(\+\w+)?://", value):
            raise ValueError
        return value

    settings = DatabaseSettings(
        url=reader.get("url", defaults.url, url, "sqlite:///FILE or postgresql://USER@HOST/DATABASE")
    )
    reader.finish(set(DatabaseSettings.__dataclass_fields__))
    return settings


def _read_widget(reader: _Reader) -> WidgetSettings:
    defaults = WidgetSettings()
    settings = WidgetSettings(
        max_message_chars=reader.get(
            "max_message_chars", defaults.max_message_chars, _integer(10, 100_000), "a number of characters (10-100000)"
        ),
        messages_per_minute=reader.get(
            "messages_per_minute", defaults.messages_per_minute, _integer(1, 100_000), "a number of messages"
        ),
        burst=reader.get("burst", defaults.burst, _integer(1, 100_000), "a number of messages"),
        connections_per_address=reader.get(
            "connections_per_address", defaults.connections_per_address, _integer(1, 100_000), "a number"
        ),
    )
    reader.finish(set(WidgetSettings.__dataclass_fields__))
    return settings


def _read_privacy(reader: _Reader) -> PrivacySettings:
    defaults = PrivacySettings()
    settings = PrivacySettings(
        retention_days=reader.get("retention_days", defaults.retention_days, _integer(1, 3650), "days (1-3650)"),
        purge_hour=reader.get("purge_hour", defaults.purge_hour, _integer(0, 23), "an hour from 0 to 23"),
        audit_retention_days=reader.get(
            "audit_retention_days", defaults.audit_retention_days, _integer(1, 3650), "days (1-3650)"
        ),
    )
    reader.finish(set(PrivacySettings.__dataclass_fields__))
    return settings


def _read_dialogue(reader: _Reader) -> DialogueSettings:
    defaults = DialogueSettings()
    settings = DialogueSettings(
        misses_before_human=reader.get(
            "misses_before_human", defaults.misses_before_human, _integer(1, 10), "a number from 1 to 10"
        ),
    )
    reader.finish(set(DialogueSettings.__dataclass_fields__))
    return settings


_TEAM_ID: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _translated(value: Any) -> dict[str, str]:
    if isinstance(value, str) and value.strip():
        return dict.fromkeys(LANGUAGES, value.strip())
    if not isinstance(value, Mapping) or set(value) != set(LANGUAGES):
        raise ValueError
    if not all(isinstance(text, str) and text.strip() for text in value.values()):
        raise ValueError
    return {language: str(value[language]).strip() for language in LANGUAGES}


def _topics(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(topic, str) and topic in SERVICE_TOPICS for topic in value):
        raise ValueError
    return tuple(value)


def _read_team(reader: _Reader, team_id: str, zone: ZoneInfo, default_hours: OfficeHours) -> TeamSettings:
    name = reader.get("name", None, _translated, "a name, or one per language (fi, sv, en)")
    if name is None:
        reader.problems.append(f"{reader.prefix}name: missing (a name, or one per language: fi, sv, en)")
        name = dict.fromkeys(LANGUAGES, team_id)
    topics = reader.get("topics", (), _topics, f"a list of topic ids ({', '.join(SERVICE_TOPICS)})")
    hours = default_hours
    reader.seen.add("hours")
    if reader.data.get("hours") is not None:
        try:
            hours = parse_office_hours(reader.data["hours"], zone)
        except HoursError as exc:
            reader.problems.append(f"{reader.prefix}hours: {exc}")
    max_wait = reader.get("max_wait_minutes", 20.0, _positive, "a positive number of minutes")
    reader.finish({"name", "topics", "hours", "max_wait_minutes"})
    return TeamSettings(team_id, name, topics, hours, max_wait)


def _read_handoff(reader: _Reader, timezone: str) -> HandoffSettings:
    zone = ZoneInfo(timezone)
    default_hours = OfficeHours.always(zone)
    reader.seen.add("hours")
    if reader.data.get("hours") is not None:
        try:
            default_hours = parse_office_hours(reader.data["hours"], zone)
        except HoursError as exc:
            reader.problems.append(f"{reader.prefix}hours: {exc}")
    teams_reader = reader.section("teams")
    reader.seen.add("teams")
    teams: list[TeamSettings] = []
    routed: dict[str, str] = {}
    for team_id in teams_reader.data:
        if not isinstance(team_id, str) or not _TEAM_ID.match(team_id):
            reader.problems.append(f"{teams_reader.prefix}{team_id}: a team id is lower-case letters, digits and _")
            continue
        team = _read_team(teams_reader.section(team_id), team_id, zone, default_hours)
        for topic in team.topics:
            if topic in routed:
                reader.problems.append(
                    f"{teams_reader.prefix}{team_id}.topics: {topic} is already routed to {routed[topic]}"
                )
            routed[topic] = team_id
        teams.append(team)
    if not teams:
        teams = list(_default_handoff().teams)
    ids = [team.id for team in teams]
    known_team = _choice(*ids)
    defaults = HandoffSettings(teams=tuple(teams), default_team=ids[0])
    settings = HandoffSettings(
        teams=tuple(teams),
        default_team=reader.get("default_team", ids[0], known_team, f"a team id ({', '.join(ids)})"),
        crisis_team=reader.get("crisis_team", None, known_team, f"a team id ({', '.join(ids)})"),
        answer_within_working_days=reader.get(
            "answer_within_working_days", defaults.answer_within_working_days, _integer(1, 60), "days (1-60)"
        ),
        reply_timeout_minutes=reader.get(
            "reply_timeout_minutes", defaults.reply_timeout_minutes, _positive, "a positive number of minutes"
        ),
        offline_grace_seconds=reader.get(
            "offline_grace_seconds", defaults.offline_grace_seconds, _positive, "a positive number of seconds"
        ),
        default_capacity=reader.get("default_capacity", defaults.default_capacity, _integer(1, 50), "1-50"),
        average_handling_minutes=reader.get(
            "average_handling_minutes", defaults.average_handling_minutes, _positive, "a positive number of minutes"
        ),
    )
    reader.finish(set(HandoffSettings.__dataclass_fields__) | {"hours"})
    return settings


def _read_console(reader: _Reader) -> ConsoleSettings:
    defaults = ConsoleSettings()
    settings = ConsoleSettings(
        session_idle_minutes=reader.get(
            "session_idle_minutes", defaults.session_idle_minutes, _integer(1, 24 * 60), "minutes (1-1440)"
        ),
        session_hours=reader.get("session_hours", defaults.session_hours, _integer(1, 72), "hours (1-72)"),
        login_attempts_per_minute=reader.get(
            "login_attempts_per_minute", defaults.login_attempts_per_minute, _integer(1, 1000), "a number (1-1000)"
        ),
        lockout_after=reader.get("lockout_after", defaults.lockout_after, _integer(1, 100), "a number (1-100)"),
        lockout_minutes=reader.get("lockout_minutes", defaults.lockout_minutes, _integer(1, 24 * 60), "minutes"),
    )
    reader.finish(set(ConsoleSettings.__dataclass_fields__))
    return settings


def _read_telegram(reader: _Reader) -> TelegramSettings:
    defaults = TelegramSettings()
    token = reader.data.get("token")
    if token is None:
        token = ""
    elif not isinstance(token, str):
        reader.problems.append(f"{reader.prefix}token: expected a bot token in quotes (value not shown)")
        token = ""
    webhook = reader.section("webhook")
    secret = webhook.data.get("secret_token")
    settings = TelegramSettings(
        token=str(token).strip(),
        api_url=reader.get("api_url", defaults.api_url, _url, "an http(s) URL such as https://api.telegram.org"),
        mode=reader.get("mode", defaults.mode, _choice(*TELEGRAM_MODES), "polling, webhook or off"),
        poll_timeout_seconds=reader.get(
            "poll_timeout_seconds", defaults.poll_timeout_seconds, _positive, "a positive number of seconds"
        ),
        webhook_path=webhook.get("path", defaults.webhook_path, _route, "a path such as /telegram/webhook"),
        webhook_secret="" if secret is None else str(secret).strip(),
        webhook_url=webhook.get("public_url", defaults.webhook_url, _optional_url, "an http(s) URL or nothing"),
        max_connections=webhook.get(
            "max_connections", defaults.max_connections, _integer(1, 100), "a number from 1 to 100"
        ),
    )
    reader.finish({"token", "api_url", "mode", "poll_timeout_seconds", "webhook"})
    webhook.finish({"path", "secret_token", "public_url", "max_connections"})
    reader.problems.extend(telegram_problems(settings, reader.prefix))
    return settings


def _optional_url(value: Any) -> str | None:
    return None if value == "" else _url(value)


def _route(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"/[A-Za-z0-9/_.-]*", value):
        raise ValueError
    return value


def with_overrides(config: Config, **changes: Any) -> Config:
    """The configuration with command-line flags applied.

    ``host``, ``port``, ``database_url``, ``telegram_token``, ``telegram_api_url``, ``telegram_mode``.

    Raises:
        ConfigError: when a flag's value is not usable (named, a secret never quoted).

    """
    server = config.server
    database = config.database
    telegram = config.telegram
    if changes.get("host"):
        server = replace(server, host=changes["host"])
    if changes.get("port"):
        server = replace(server, port=int(changes["port"]))
    if changes.get("database_url"):
        database = replace(database, url=changes["database_url"])
    problems: list[str] = []
    if changes.get("telegram_token"):
        telegram = replace(telegram, token=str(changes["telegram_token"]).strip())
    if changes.get("telegram_api_url"):
        try:
            telegram = replace(telegram, api_url=_url(changes["telegram_api_url"]))
        except ValueError:
            problems.append(f"--telegram-api-url: expected an http(s) URL, got {changes['telegram_api_url']!r}")
    if changes.get("telegram_mode"):
        telegram = replace(telegram, mode=str(changes["telegram_mode"]))
    if telegram is not config.telegram:
        problems.extend(telegram_problems(telegram, "telegram."))
    if problems:
        raise ConfigError(problems, "the command line")
    return replace(config, server=server, database=database, telegram=telegram)


def _check_facts(node: Mapping[str, Any], path: str, problems: list[str]) -> None:
    for key, value in node.items():
        where = f"{path}.{key}"
        if isinstance(value, Mapping):
            if set(value) <= set(LANGUAGES) and set(value):
                for language, text in value.items():
                    if not isinstance(text, str | int | float) or isinstance(text, bool):
                        problems.append(f"{where}.{language}: expected text, got {text!r}")
            else:
                _check_facts(value, where, problems)
        elif not isinstance(value, str | int | float) or isinstance(value, bool):
            problems.append(f"{where}: expected text or one text per language, got {value!r}")


def _substitute_env(value: Any, env: Mapping[str, str], problems: list[str], where: str) -> Any:
    """Replace ``${NAME}`` and ``${NAME:-default}`` inside string values."""
    if isinstance(value, dict):
        return {k: _substitute_env(v, env, problems, f"{where}{k}.") for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, env, problems, where) for v in value]
    if isinstance(value, str) and "${" in value:

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append(f"{where.rstrip('.')}: environment variable {name} is not set")
            return ""

        return _ENV_REFERENCE.sub(replace, value)
    return value


def _apply_overrides(data: dict[str, Any], env: Mapping[str, str], problems: list[str]) -> None:
    """``NEUVO_NLU__FALLBACK_THRESHOLD=0.4`` sets ``nlu.fallback_threshold``; values are YAML."""
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV or "__" not in name:
            continue
        parts = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        node = data
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                problems.append(f"{name}: {'.'.join(parts)} overrides a value that is not a section")
                break
            node = child
        else:
            node[parts[-1]] = value


_SECTIONS: Final = {
    "nlu": _read_nlu,
    "county": None,
    "server": _read_server,
    "database": _read_database,
    "widget": _read_widget,
    "privacy": _read_privacy,
    "dialogue": _read_dialogue,
    "handoff": _read_handoff,
    "console": _read_console,
    "telegram": _read_telegram,
}
