"""The aggregates behind the dashboard (first version: the direct count, until the kept figures land)."""

from . import indicators


def figures(scope):
    return indicators.figures_direct(scope)


def breakdown(scope, by):
    return indicators.breakdown_direct(scope, by)
