"""A Jinja2 sandbox with resource limits, for texts written in a theme file.

A theme file is input, not code: whatever it says, rendering must end quickly, stay small and
print only plain values. On top of Jinja's immutable sandbox this environment
- stops at a deadline (a line tracer on the template's own code, so even empty nested loops end);
- refuses operators and calls whose result would be huge (`'a' * 10**10`, `10**10**10`,
  `'{:999999999}'.format(1)`, `'x' | center(10**9)`) before computing them;
- offers only plain values: attributes that lead elsewhere (`starts_at.tzinfo.from_file`) are
  undefined, and printing anything but text, numbers, dates and metrics is refused;
- cannot include or import other templates.

Every limit raises `TemplateLimitError`, which `templates.render` reports naming the field.
"""

from __future__ import annotations

import contextvars
import operator
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as clock_time
from types import FrameType
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, TemplateRuntimeError, Undefined
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 64 * 1024  # characters per rendered text
MAX_SIZE = 64 * 1024  # characters or items of any value an operator, call or filter makes
MAX_NUMBER = 1_000_000  # largest whole-number argument (a count or width) of a call or filter
MAX_INT_BITS = 4096  # largest integer an operator may produce
MAX_SECONDS = 2.0  # for the whole theme (see `time_budget`), or one text rendered alone
TEMPLATE_FILE = "<theme template>"
_BIG_FORMAT = re.compile(  # a width or precision of 7+ digits in a str.format or % spec
    r"\{[^{}]*:[^{}]*\d{7,}[^{}]*\}|%[#0 +-]*\d*\.?\d{7,}"
)

_NESTED_FIELD = re.compile(r"\{[^{}]*:[^{}]*\{")

_deadline: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "aligner_template_deadline", default=None
)  # (the moment rendering must stop, the budget's seconds)


class TemplateLimitError(TemplateRuntimeError):
    """A template went past one of the limits above."""


@contextmanager
def time_budget(seconds: float = MAX_SECONDS) -> Iterator[None]:
    """Every text rendered inside shares one deadline (an enclosing budget wins)."""
    if _deadline.get() is not None:
        yield
        return
    token = _deadline.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_deadline() -> None:
    budget = _deadline.get()
    if budget is not None and time.monotonic() > budget[0]:
        raise TemplateLimitError(
            f"took longer than {budget[1]:g} s to render (the limit for all texts of a theme)"
        )


_SIZED = (str, bytes, dict, list, tuple, set, frozenset)


def size(value: Any, budget: int = MAX_SIZE + 1) -> int:
    """Characters of text plus items of collections, counted up to `budget`."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, dict):
        value = list(value.items())
    if isinstance(value, list | tuple | set | frozenset):
        total = len(value)
        for item in value:
            if total >= budget:
                break
            if isinstance(item, _SIZED):
                total += size(item, budget - total)
        return total
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 8
    return 1


def check_size(value: Any, what: str) -> Any:
    if size(value) > MAX_SIZE:
        raise TemplateLimitError(f"{what} is too large (limit {MAX_SIZE:,} characters)")
    return value


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any], what: str) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise TemplateLimitError(f"{what}: the number {value:,} is too large")
        check_size(value, what)


def limited_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` with its arguments and result checked against the limits."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_deadline()
        passed = 0  # the context or environment some filters take first, then the value
        while passed < len(args) and isinstance(args[passed], Environment | Context | EvalContext):
            passed += 1
        if passed < len(args):
            check_size(args[passed], f"the value given to filter {name}")
        _check_arguments(args[passed + 1 :], kwargs, f"filter {name}")
        return check_size(func(*args, **kwargs), f"the result of filter {name}")

    for attr in ("jinja_pass_arg",):  # keep pass_context / pass_eval_context markers
        if hasattr(func, attr):
            setattr(wrapper, attr, getattr(func, attr))
    return wrapper


PRINTABLE: tuple[type, ...] = (type(None), str, int, float, date, datetime, clock_time)
PLAIN = (*PRINTABLE, dict, list, tuple)  # what a template may hold (with the views it is given)


def _template_tracer(frame: FrameType, event: str, arg: Any) -> Any:
    if frame.f_code.co_filename != TEMPLATE_FILE:
        return None
    check_deadline()
    return _line_tracer


def _line_tracer(frame: FrameType, event: str, arg: Any) -> Any:
    check_deadline()
    return _line_tracer


@contextmanager
def traced() -> Iterator[None]:
    """Check the deadline on every line of template code run in this thread."""
    previous = sys.gettrace()
    sys.settrace(_template_tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """See the module docstring."""

    intercepted_binops = frozenset({"*", "**", "/", "//", "%", "+"})

    def __init__(self, views: tuple[type, ...] = ()) -> None:
        """`views`: the classes of the plain objects the context offers (printable too)."""
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            loader=DictLoader({}),
            finalize=self._finalize,
        )
        self.printable = (*PRINTABLE, *views)
        self.plain = (*PLAIN, *views)
        for name in ("namespace", "lipsum", "cycler", "joiner"):
            self.globals.pop(name, None)
        self.filters = {name: limited_filter(name, f) for name, f in self.filters.items()}

    def add_filters(self, **filters: Callable[..., Any]) -> None:
        self.filters.update({name: limited_filter(name, f) for name, f in filters.items()})

    def _compile(self, source: str, filename: str) -> Any:
        return super()._compile(source, TEMPLATE_FILE)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        owner = getattr(value, "__self__", None)
        if callable(value):  # a method of a plain value, such as str.upper or datetime.strftime
            return owner is not None and not isinstance(owner, type) and self.is_plain(owner)
        return self.is_plain(value)

    def is_plain(self, value: Any) -> bool:
        return isinstance(value, self.plain)

    def _finalize(self, value: Any) -> Any:
        """Only text, numbers, dates and the views print: never a repr such as <… at 0x…>."""
        if isinstance(value, Undefined):
            value._fail_with_undefined_error()
        if not isinstance(value, self.printable):
            raise TemplateLimitError(
                f"cannot print a {type(value).__name__}; print text, a number, a date or a metric"
            )
        return value

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        check_deadline()
        if operator_name == "**":
            _check_power(left, right)
        elif operator_name == "*":
            _check_repeat(left, right)
        elif operator_name == "%" and isinstance(left, str):
            _check_format(left)
            _check_arguments(right if isinstance(right, tuple) else (right,), {}, "'%' format")
        result = _BINOPS[operator_name](left, right)
        if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
            raise TemplateLimitError("a number in the template is too large")
        return check_size(result, f"the result of {operator_name!r}")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_deadline()
        if not getattr(__obj, "checks_its_arguments", False):
            _check_arguments(args, kwargs, "a call")
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`str.format` with its format string, arguments and result checked."""
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        text = str(value.__self__)
        _check_format(text)
        nested = _NESTED_FIELD.search(text) is not None  # a width given as an argument

        def limited(*args: Any, **kwargs: Any) -> str:
            check_deadline()
            if nested:
                _check_arguments(args, kwargs, "str.format")
            result: str = check_size(formatter(*args, **kwargs), "the result of str.format")
            return result

        limited.checks_its_arguments = True  # type: ignore[attr-defined]
        return limited


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "+": operator.add,
}


def _check_power(left: Any, right: Any) -> None:
    both_int = isinstance(left, int) and isinstance(right, int)
    if both_int and abs(right) > 1 and max(left.bit_length(), 1) * abs(right) > MAX_INT_BITS:
        raise TemplateLimitError("a number in the template is too large")


def _check_repeat(left: Any, right: Any) -> None:
    for seq, times in ((left, right), (right, left)):
        repeats = isinstance(times, int) and not isinstance(seq, int | float)
        if repeats and size(seq) * max(times, 0) > MAX_SIZE:
            raise TemplateLimitError(
                f"repeating a value {times:,} times is too large (limit {MAX_SIZE:,})"
            )


def _check_format(text: str) -> None:
    if _BIG_FORMAT.search(text):
        raise TemplateLimitError("a format width or precision is too large")
