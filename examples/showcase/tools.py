"""Tools of the example agent: a safe calculator and a unit converter."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

from langchain_core.tools import tool

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _evaluate(node: ast.AST) -> float:
    """Evaluate numbers and arithmetic only; anything else (names, calls…) is refused."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ValueError("booleans are not numbers here")
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 100:
            raise ValueError("exponent too large")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    raise ValueError(f"unsupported expression: {ast.unparse(node)!r}")


def _number(value: float) -> str:
    return f"{value:.10g}"


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as ``(2 + 3) * 4`` or ``2 ** 10 / 3``."""
    return _number(_evaluate(ast.parse(expression, mode="eval")))


# Factors to the base unit of each dimension (metre, kilogram).
_UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 0.001),
    "cm": ("length", 0.01),
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "in": ("length", 0.0254),
    "ft": ("length", 0.3048),
    "yd": ("length", 0.9144),
    "mi": ("length", 1609.344),
    "g": ("mass", 0.001),
    "kg": ("mass", 1.0),
    "oz": ("mass", 0.028349523125),
    "lb": ("mass", 0.45359237),
}


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a length or mass between units: mm, cm, m, km, in, ft, yd, mi, g, kg, oz, lb."""
    try:
        (from_kind, from_factor), (to_kind, to_factor) = _UNITS[from_unit], _UNITS[to_unit]
    except KeyError as exc:
        raise ValueError(f"unknown unit {exc.args[0]!r}; known: {', '.join(_UNITS)}") from exc
    if from_kind != to_kind:
        raise ValueError(f"cannot convert {from_kind} ({from_unit}) to {to_kind} ({to_unit})")
    result = value * from_factor / to_factor
    return f"{_number(value)} {from_unit} = {_number(result)} {to_unit}"


TOOLS = [calculator, convert_units]
