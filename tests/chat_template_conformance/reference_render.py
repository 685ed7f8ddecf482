#!/usr/bin/python3
"""Python jinja2 configured exactly as transformers' apply_chat_template configures it.

Usage as a module: render(template_source, context) -> ("rendered", text) or ("error", message).
"""
import json
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class _GenerationTracker(Extension):
    """transformers' AssistantTracker: {% generation %}...{% endgeneration %} renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers replaces jinja2's HTML-escaping tojson with plain json.dumps.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(fmt):
    return datetime.now().strftime(fmt)


def make_environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[_GenerationTracker, loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


_ENVIRONMENT = None
_COMPILED = {}


def render(source, context):
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        _ENVIRONMENT = make_environment()
    try:
        if source not in _COMPILED:
            _COMPILED[source] = _ENVIRONMENT.from_string(source)
        return "rendered", _COMPILED[source].render(**context)
    except Exception as e:  # every failure of the template is an outcome to compare
        return "error", f"{type(e).__name__}: {e}"


if __name__ == "__main__":
    import sys
    src = open(sys.argv[1], encoding="utf-8").read()
    ctx = json.loads(sys.stdin.read()) if len(sys.argv) < 3 else json.loads(sys.argv[2])
    kind, text = render(src, ctx)
    sys.stdout.write(text if kind == "rendered" else "ERROR " + text + "\n")
