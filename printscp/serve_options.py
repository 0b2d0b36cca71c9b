"""Every `printscp serve` option from the command line, the environment or a config file.

A service is configured without a command line (systemd unit, container), so each option
has an environment variable (PRINTSCP_<NAME>) and a key in the --config TOML file.
Precedence: command line, then environment, then config file, then the default.
All problems are collected and reported together, each naming where the value came from,
before anything touches the disk.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from printscp import profile as profiles
from printscp.model.attributes import is_ae_title

ENV_PREFIX = "PRINTSCP_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


class ConfigError(ValueError):
    """One or more unusable option values; `problems` holds one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def default_output(env: Mapping[str, str] = os.environ) -> str:
    """systemd's StateDirectory= (a service) or output/ in the working directory."""
    state = env.get("STATE_DIRECTORY", "").split(":")[0]
    return str(Path(state) / "output") if state else "output"


def config_path(config: str | None = None, env: Mapping[str, str] = os.environ) -> str | None:
    """The serve config file: --config, else PRINTSCP_CONFIG, else none."""
    return config or env.get(ENV_PREFIX + "CONFIG") or None


def forwarding_settings(config: str | None = None, env: Mapping[str, str] = os.environ):
    """(destinations, identity rules) as `printscp serve` reads them from its config, for the
    `forward` commands; ConfigError lists what is wrong with the file."""
    path = config_path(config, env)
    values, problems = read_config(path) if path else ({}, [])
    found = _forwarding(values.get(FORWARDING, {}), [], path, problems)
    if problems:
        raise ConfigError(problems)
    return found


def output_folder(output: str | None = None, config: str | None = None,
                  env: Mapping[str, str] = os.environ) -> str:
    """The output folder of `printscp serve` as it resolves it, for the commands that read it
    (`jobs`, `forward`): --output, then PRINTSCP_OUTPUT, then the config's `output` (--config
    or PRINTSCP_CONFIG), then $STATE_DIRECTORY/output or output/."""
    if output:
        return output
    if env.get(ENV_PREFIX + "OUTPUT"):
        return env[ENV_PREFIX + "OUTPUT"]
    path = config_path(config, env)
    if path:
        values, _ = read_config(path)  # its problems are for `printscp serve` to report
        if values.get("output"):
            return str(values["output"])
    return default_output(env)


def port_value(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("must be a TCP port number 0..65535")
    try:
        number = int(value)
    except ValueError:
        raise ValueError("must be a TCP port number 0..65535") from None
    if not 0 <= number <= 65535:
        raise ValueError("must be a TCP port number 0..65535 (0: any free port)")
    return number


def seconds_value(value) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 < number <= 24 * 3600:
        raise ValueError("must be a number of seconds, more than 0")
    return number


def max_pdu_value(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value) if not isinstance(value, (bool, float)) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not (number == 0 or 4096 <= number <= 16 * 1024 * 1024):
        raise ValueError("must be 0 (unlimited) or 4096..16777216 bytes")
    return number


def ae_title_value(value) -> str:
    if not is_ae_title(value):
        raise ValueError("must be an AE title of 1..16 ASCII characters without backslash")
    return value


def _folder(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a folder (an empty value would write into the current directory)")
    return value


def _text(value) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _choice(choices: tuple[str, ...], fold=str.lower) -> Callable[[Any], str]:
    def check(value) -> str:
        if not isinstance(value, str) or fold(value) not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}{did_you_mean(value, choices)}")
        return fold(value)
    return check


def _optional_port(value):
    return None if value is None or value == "" else port_value(value)


def _entries(shape: str) -> Callable[[Any], list[str]]:
    """A list option: a list of strings (config) or one comma-separated string (environment)."""
    def check(value) -> list[str]:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"must be {shape} entries")
        return value
    return check


MAX_RENDER_WORKERS = 64


def workers_value(value) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).isdigit() or int(value) > MAX_RENDER_WORKERS:
        raise ValueError(f"must be a number of processes, 0..{MAX_RENDER_WORKERS} "
                         "(0 renders in the spool thread; default one per core)")
    return int(value)


def _limit(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 < number < float("inf"):  # also refuses nan
        raise ValueError("must be a positive number (leave it out for no limit)")
    return number


@dataclass(frozen=True)
class Option:
    name: str  # attribute, config key and PRINTSCP_<NAME>
    parse: Callable[[Any], Any]
    default: Any = None


OPTIONS = (
    Option("port", port_value, 11112),
    Option("host", _text, ""),
    Option("ae_title", ae_title_value, "PRINTSCP"),
    Option("output", _folder, None),  # default_output() at resolve time
    Option("profile", _text, profiles.DEFAULT_PROFILE),
    Option("printer", _entries("AE_TITLE=PROFILE"), None),
    Option("default_printer", _text, None),
    Option("faults", _text, None),
    Option("http_port", _optional_port, None),  # the web console and control endpoint (web/serve.py)
    Option("control_port", _optional_port, None),  # the older name of http_port
    Option("http_host", _text, "127.0.0.1"),
    Option("http_token", _text, None),
    Option("render_workers", workers_value, None),
    Option("forward", _entries("AET@HOST:PORT or cups:QUEUE"), None),  # more in the config file's [[forward]] tables
    Option("acse_timeout", seconds_value, 30.0),
    Option("dimse_timeout", seconds_value, 30.0),
    Option("network_timeout", seconds_value, 60.0),
    Option("max_pdu", max_pdu_value, None),
    Option("log_level", _choice(LOG_LEVELS, str.upper), None),
    Option("log_file", _text, None),
    Option("log_format", _choice(LOG_FORMATS), "text"),
)
BY_NAME = {o.name: o for o in OPTIONS}
CONFIG_ALIASES = {"default": "default_printer"}  # the config file's older key
RETENTION_KEYS = {"max_age_days": _limit, "max_total_gb": _limit}
TABLES = ("retention",)
FORWARDING_TABLES = ("forward", "identity")  # read by printscp/forward/service.py
FORWARDING = "forwarding"  # resolve()'s (destinations, identity rules), from those tables and --forward


def _config_key(key: str) -> str:
    return CONFIG_ALIASES.get(key, key)


def read_config(path: str) -> tuple[dict, list[str]]:
    """The --config file as {option: raw value}, plus its problems (unknown keys, bad shape)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        return {}, [f"{path}: no such config file (check --config / PRINTSCP_CONFIG)"]
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: cannot read the config file: {getattr(exc, 'strerror', None) or exc}"]
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        return {}, [f"{path}: not valid TOML: {exc}"]
    values, problems = {}, []
    known = [*BY_NAME, *CONFIG_ALIASES, *TABLES, *FORWARDING_TABLES]
    for key, value in data.items():
        if key in FORWARDING_TABLES:
            values.setdefault(FORWARDING, {})[key] = value
            continue
        if key == "printer":
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                problems.append(f"{path}: printer: use [[printer]] tables with ae_title and profile")
                continue
            entries = []
            for n, item in enumerate(value, start=1):
                if set(item) != {"ae_title", "profile"}:
                    extra = sorted(set(item) - {"ae_title", "profile"})
                    hint = did_you_mean(extra[0], ("ae_title", "profile")) if extra else ""
                    problems.append(f"{path}: [[printer]] #{n} needs exactly ae_title and profile"
                                    + (f" (unknown: {', '.join(extra)}{hint})" if extra else ""))
                elif not all(isinstance(v, str) for v in item.values()):
                    problems.append(f"{path}: [[printer]] #{n}: ae_title and profile are strings")
                else:
                    entries.append(f"{item['ae_title']}={item['profile']}")
            values["printer"] = entries
        elif key == "retention":
            if not isinstance(value, dict):
                problems.append(f"{path}: retention: use a [retention] table")
                continue
            for sub, raw in value.items():
                if sub not in RETENTION_KEYS:
                    problems.append(f"{path}: [retention] {sub}: unknown key{did_you_mean(sub, RETENTION_KEYS)}; "
                                    f"known: {', '.join(RETENTION_KEYS)}")
                else:
                    values[f"retention.{sub}"] = raw
        elif _config_key(key) in BY_NAME:
            if key in CONFIG_ALIASES and CONFIG_ALIASES[key] in data:
                problems.append(f"{path}: {key} and {CONFIG_ALIASES[key]}: {key} is the older name; give one")
            values[_config_key(key)] = value
        else:
            problems.append(f"{path}: {key}: unknown key{did_you_mean(key, known)}; known: {', '.join(known)}")
    return values, problems


def unknown_environment(env: Mapping[str, str] = os.environ) -> list[str]:
    """PRINTSCP_* variables that are no serve setting (a typo such as PRINTSCP_PROT), each with a hint."""
    known = {ENV_PREFIX + o.name.upper() for o in OPTIONS} | {f"{ENV_PREFIX}RETENTION_{k.upper()}" for k in RETENTION_KEYS}
    known.add(ENV_PREFIX + "CONFIG")
    return [f"{name} is not a printscp setting, ignored{did_you_mean(name, known)}"
            for name in sorted(env) if name.startswith(ENV_PREFIX) and name not in known]


def resolve(cli: Mapping[str, Any], env: Mapping[str, str] = os.environ) -> tuple[dict, dict]:
    """(options, retention) from the command line, environment and config file.

    `cli` holds the parsed command-line values, None where not given, plus "config".
    Raises ConfigError listing every problem.
    """
    path = config_path(cli.get("config"), env)
    config, problems = read_config(path) if path else ({}, [])
    options = {}
    for option in OPTIONS:
        env_name = ENV_PREFIX + option.name.upper()
        for source, raw in ((f"--{option.name.replace('_', '-')}", cli.get(option.name)),
                            (env_name, env.get(env_name)), (f"{path}: {option.name}", config.get(option.name))):
            if raw is not None:
                break
        else:
            options[option.name] = option.default if option.name != "output" else default_output(env)
            continue
        try:
            options[option.name] = option.parse(raw)
        except ValueError as exc:
            problems.append(f"{source} = {raw!r}: {exc}")
    if None not in (options["http_port"], options["control_port"]) and options["http_port"] != options["control_port"]:
        problems.append(f"http_port {options['http_port']} and control_port {options['control_port']}: "
                        "control_port is the older name of http_port; give one")
    options[FORWARDING] = _forwarding(config.get(FORWARDING, {}), options.get("forward"), path, problems)
    retention = {}
    for key, parse in RETENTION_KEYS.items():
        env_name = f"{ENV_PREFIX}RETENTION_{key.upper()}"
        raw = env.get(env_name, config.get(f"retention.{key}"))
        try:
            retention[key] = parse(raw)
        except ValueError as exc:
            problems.append(f"{env_name if env_name in env else f'{path}: [retention] {key}'} = {raw!r}: {exc}")
    if problems:
        raise ConfigError(problems)
    return options, retention


# What SIGHUP applies (cli._reload): the profiles, which profile each AE title uses, the fault
# file. "forward" is compared as part of FORWARDING.
RELOADED = ("profile", "printer", "faults", "forward")


def restart_only_changes(before: tuple[dict, dict], after: tuple[dict, dict]) -> list[str]:
    """The options, forwarding and retention that differ between two resolve() results but
    that only a restart applies (`[retention] max_age_days` for retention's keys)."""
    (old, old_retention), (new, new_retention) = before, after
    names = [name for name in new if name not in RELOADED and new[name] != old.get(name)]
    names += [f"[retention] {key}" for key in new_retention if new_retention[key] != old_retention.get(key)]
    return ["[[forward]] / [identity] / --forward" if name == FORWARDING else name for name in names]


def _forwarding(tables: dict, specs: list[str] | None, path: str | None, problems: list[str]):
    """Forwarding's destinations and identity rules, checked here so that their mistakes are
    reported with every other one instead of after them."""
    from printscp.forward import service  # forwarding is a room of its own; only its parser is used here

    try:
        return service.settings(tables, specs, path or "--forward")
    except ValueError as exc:
        problems.append(str(exc))
        return [], None


def check_output(path: Path) -> str | None:
    """Why the output directory cannot be used, or None; creates nothing."""
    if path.exists():
        if not path.is_dir():
            return f"output {path}: exists and is not a directory; choose another with -od/--output"
        if not os.access(path, os.W_OK | os.X_OK):
            return f"output {path}: not writable by this user; choose another with -od/--output or fix its permissions"
        return None
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"output {path}: cannot be created ({parent} is not writable); choose another with -od/--output"
    return None
