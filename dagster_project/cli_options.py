"""Options every `stockdrift` command takes the same way, wherever they are placed.

`--config` was an option of whichever parser a command module happened to put it on
(`exceptions --config X list`, but `mappings check --config X`). `share_config` makes it an
option of the top-level parser and of every parser of each command that reads a config, so
all of these mean the same:

    stockdrift --config my.yml exceptions list
    stockdrift exceptions --config my.yml list
    stockdrift exceptions list --config my.yml

Every `--config` defaults to "not given" (argparse copies a sub-parser's defaults over what
the parent parsed), and `ConfigOption.fill` puts the command's own default in afterwards.
When given twice, the innermost wins. A command that reads no config refuses the option.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class ConfigOption:
    defaults: dict[str, str] = field(default_factory=dict)  # command -> its default config

    def fill(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        given = hasattr(args, "config")
        if given and args.command not in self.defaults:
            parser.error(f"{args.command} reads no config: --config does not apply to it")
        if not given and args.command in self.defaults:
            args.config = self.defaults[args.command]


def share_config(parser: argparse.ArgumentParser) -> ConfigOption:
    option = ConfigOption()
    for name, command in _children(parser):
        tree = list(_walk(command))
        declared = [a for p in tree if (a := _config_action(p)) is not None]
        if not declared:
            continue
        option.defaults[name] = str(declared[0].default)
        text = declared[0].help or f"the config file (default: {declared[0].default})"
        for p in tree:
            action = _config_action(p)
            if action is None:
                p.add_argument("--config", default=argparse.SUPPRESS, help=text)
            else:
                action.default = argparse.SUPPRESS
    parser.add_argument("--config", default=argparse.SUPPRESS,
                        help="the config file, for any command that reads one "
                             "(also accepted after the command or its action)")
    return option


def _config_action(parser: argparse.ArgumentParser) -> argparse.Action | None:
    return parser._option_string_actions.get("--config")


def _children(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    seen: set[int] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                if id(child) not in seen:  # aliases share a parser
                    seen.add(id(child))
                    yield name, child


def _walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for _, child in _children(parser):
        yield from _walk(child)
