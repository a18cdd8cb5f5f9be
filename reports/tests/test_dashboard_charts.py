"""The server-drawn charts and the Vietnamese number formats (no database)."""

import xml.etree.ElementTree as ET

from reports import charts


def parse(text):
    return ET.fromstring(text)  # noqa: S314 -- the portal's own markup, not untrusted input


NS = {"svg": charts.SVG_NS}


def test_numbers_are_written_the_vietnamese_way():
    assert charts.integer(1234) == "1.234"
    assert charts.integer(1234567) == "1.234.567"
    assert charts.integer(0) == "0"
    assert charts.integer(None) == "—"
    assert charts.decimal(12.345) == "12,3"
    assert charts.decimal(1234.5) == "1.234,5"
    assert charts.percent(0.875) == "87,5 %"
    assert charts.percent(1) == "100,0 %"
    assert charts.percent(None) == "—"


def _chart(bars, **options):
    series = [
        charts.Series("done_early", "Trước hạn", "solid"),
        charts.Series("done_on_time", "Đúng hạn", "hatch"),
        charts.Series("done_late", "Trễ hạn", "dots"),
    ]
    return charts.Chart(ident="c1", title="Hồ sơ <đã> giải quyết & trễ", description="Mô tả", series=series, bars=bars,
                        **options)  # fmt: skip


def test_a_chart_is_well_formed_xml_with_a_title_and_its_values_on_the_bars():
    bars = [
        charts.Bar(
            "Sở Tư pháp", {"done_early": 1200, "done_on_time": 30, "done_late": 0}, hrefs={"done_late": "/x?a=1&b=2"}
        ),
        charts.Bar(
            'UBND <Phường> & "Hải Châu"', {"done_early": 0, "done_on_time": 5, "done_late": 7}, href="/y?c=1&d=2"
        ),
    ]
    svg = parse(charts.render(_chart(bars)))  # parses: well-formed, text escaped
    assert svg.tag == f"{{{charts.SVG_NS}}}svg"
    assert svg.get("role") == "img"
    title = svg.find("svg:title", NS)
    assert title.text == "Hồ sơ <đã> giải quyết & trễ"
    assert title.get("id") in svg.get("aria-labelledby").split()
    rows = svg.findall("svg:g[@class='bar']", NS)
    assert [r.get("data-label") for r in rows] == ["Sở Tư pháp", 'UBND <Phường> & "Hải Châu"']
    for row, bar in zip(rows, bars, strict=True):
        drawn = {rect.get("data-series"): int(rect.get("data-value")) for rect in row.iter(f"{{{charts.SVG_NS}}}rect")
                 if rect.get("data-series")}  # fmt: skip
        assert drawn == {k: v for k, v in bar.values.items() if v}  # a zero draws no segment
        # The total, written after the bar, the Vietnamese way; each bar has its own <title> for screen readers.
        texts = [t.text for t in row.iter(f"{{{charts.SVG_NS}}}text")]
        assert charts.integer(sum(bar.values.values())) in texts
        assert row.find("svg:title", NS).text.startswith(bar.label)
    # 1.230 done in the first row: thousands with a dot.
    assert "1.230" in [t.text for t in rows[0].iter(f"{{{charts.SVG_NS}}}text")]
    assert "1.200" in [t.text for t in rows[0].iter(f"{{{charts.SVG_NS}}}text")]  # the segment's own value


def test_series_differ_by_pattern_not_colour_alone_and_links_survive():
    bars = [charts.Bar("A", {"done_early": 3, "done_on_time": 3, "done_late": 3}, hrefs={"done_late": "/late?x=1&y=2"})]
    svg = parse(charts.render(_chart(bars)))
    fills = {r.get("data-series"): r.get("fill") for r in svg.iter(f"{{{charts.SVG_NS}}}rect") if r.get("data-series")}
    assert fills["done_on_time"] == "url(#c1-hatch)" and fills["done_late"] == "url(#c1-dots)"
    assert len(set(fills.values())) == 3
    ids = {p.get("id") for p in svg.iter(f"{{{charts.SVG_NS}}}pattern")}
    assert {"c1-hatch", "c1-dots"} <= ids
    links = [a.get("href") for a in svg.iter(f"{{{charts.SVG_NS}}}a")]
    assert links == ["/late?x=1&y=2"]
    legend = [t.text for g in svg.findall("svg:g[@class='legend']", NS) for t in g.iter(f"{{{charts.SVG_NS}}}text")]
    assert legend == ["Trước hạn", "Đúng hạn", "Trễ hạn"]


def test_an_empty_chart_says_so():
    svg = parse(charts.render(_chart([], empty="Không có số liệu.")))
    assert "Không có số liệu." in [t.text for t in svg.iter(f"{{{charts.SVG_NS}}}text")]
    assert not svg.findall("svg:g[@class='bar']", NS)
