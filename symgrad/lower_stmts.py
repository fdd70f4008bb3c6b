"""Lowering of the statements that bind or unbind names without computing: ``import``
inside the function and ``del`` (a mixin of :class:`symgrad.lower.Lowerer`)."""

from __future__ import annotations

import ast
import importlib

from .scope import Scope, Static

__all__ = ["StmtLowering"]


class StmtLowering:
    """``import`` and ``del`` statements."""

    def s_import(self, scope: Scope, s: ast.Import | ast.ImportFrom) -> None:
        self.set_loc(scope, s)
        try:
            if isinstance(s, ast.Import):
                for a in s.names:
                    mod = importlib.import_module(a.name)
                    top = a.name.split(".")[0]
                    scope.env[a.asname or top] = Static(
                        mod if a.asname else importlib.import_module(top))
                return
            mod = importlib.import_module(s.module or "", None)
            for a in s.names:
                scope.env[a.asname or a.name] = Static(getattr(mod, a.name))
        except (ImportError, AttributeError) as exc:
            raise scope.fs.error(s, f"this import ({exc})", "import at module level")

    def s_delete(self, scope: Scope, s: ast.Delete) -> None:
        """``del x`` unbinds a name; ``del xs[i]`` removes an element (a pop)."""
        self.set_loc(scope, s)
        for t in s.targets:
            if isinstance(t, ast.Subscript):
                t = self.slices_written_out(scope, t)
            if isinstance(t, ast.Name):
                owner = scope.owner_of(t.id)
                owner.env.pop(t.id, None)
            elif isinstance(t, ast.Subscript) and not isinstance(t.slice, ast.Slice):
                base = self.operand(scope, t.value)
                self.list_method(base, "pop", [self.operand(scope, t.slice)], s, None)
            elif isinstance(t, ast.Subscript) and not self.is_array(
                    base := self.operand(scope, t.value)):   # del xs[a:b]: pops
                from .lower_builtins import replace_slice
                replace_slice(self, base, self.slice_operands(scope, t.slice), None, s)
            else:
                raise scope.fs.error(s, "this del statement", "delete names or list elements")
