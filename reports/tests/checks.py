"""The oracle: the kept figures equal the direct count, for a scope and every breakdown."""

from dataclasses import asdict

from reports import indicators


def as_data(result):
    data = asdict(result)
    data["durations"] = {int(k): v for k, v in data["durations"].items()}
    return data


def check_kept(scope):
    kept, direct = indicators.figures(scope), indicators.figures_direct(scope)
    assert as_data(kept) == as_data(direct), scope
    for by in indicators.BREAKDOWNS:
        kept_rows = [(r.key, r.label, as_data(r.figures)) for r in indicators.breakdown(scope, by)]
        direct_rows = [(r.key, r.label, as_data(r.figures)) for r in indicators.breakdown_direct(scope, by)]
        assert kept_rows == direct_rows, (scope, by)
    return kept
