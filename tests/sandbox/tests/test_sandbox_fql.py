"""FQL parser and evaluator, without a server."""

import pytest

import fql  # pylint: disable=import-error

FIELDS = ("case.status", "case.title", "case.hosts", "case.created_time", "case.assigner.uid", "_all")
RECORD = {
    "case.status": ["2"],
    "case.title": ["VPN outage in Berlin"],
    "case.hosts": ["web-01", "db-02"],
    "case.created_time": ["2026-03-01T10:00:00.000000Z"],
    "case.assigner.uid": [],
    "_all": ["2", "VPN outage in Berlin", "web-01", "db-02"],
}


def matches(text, record=None, colon_mode="partial"):
    flt = fql.compile_filter(text, FIELDS, ("case.created_time",), ("_all",), now=lambda: 1772359200.0,
                             colon_mode=colon_mode)
    return flt.matches(lambda field: (record or RECORD).get(field, []))


@pytest.mark.parametrize("text, expected", [
    ("case.status:'2'", True),
    ('case.status:"2"', True),
    ("case.status:2", True),
    ("case.status:'3'", False),
    ("case.status:!'3'", True),
    ("case.status:!'2'", False),
    ("case.status:>'1'", True),
    ("case.status:>=2", True),
    ("case.status:<2", False),
    ("case.status:<='2'", True),
    ("case.title:~'vpn'", True),
    ("case.title:~'paris'", False),
    ("case.title:!~'paris'", True),
    ("case.title:!~'VPN'", False),
    ("case.title:'VPN outage in Berlin'", True),
    ("case.title:'VPN*'", True),
    ("case.title:'*Berlin'", True),
    ("case.title:'*Paris'", False),
    ("case.title:*'vpn*'", True),
    ("case.title:!*'vpn*'", False),
    ("case.hosts:'db-02'", True),
    ("case.hosts:'db-*'", True),
    ("case.hosts:!'db-02'", False),
    ("case.hosts:['x','web-01']", True),
    ("case.hosts:['x','y']", False),
    ("case.hosts:!['x','y']", True),
    ("case.assigner.uid:'a'", False),
    ("case.assigner.uid:!'a'", True),
    ("_all:'berlin'", True),
    ("_all:'paris'", False),
])
def test_operators(text, expected):
    """Operators whose answer is the same whether ':' is a partial or an exact match."""
    assert matches(text) is expected
    assert matches(text, colon_mode="exact") is expected


@pytest.mark.parametrize("text, partial, exact", [
    # FIDELITY.md, Falcon F1: ':' on text is a partial, case-insensitive match (psfalcon wiki, "Filtering Results").
    ("case.title:'vpn outage in berlin'", True, False),
    ("case.title:'outage'", True, False),
    ("case.title:'OUTAGE in'", True, False),
    ("case.title:!'outage'", False, True),
    ("case.hosts:'web'", True, False),
    ("case.title:'vpn*berlin'", True, False),     # '*' stays a wildcard, unanchored in partial mode
    ("case.title:'paris'", False, False),
    ("case.status:'2'", True, True),              # numbers compare as numbers in both modes
    ("case.status:'02'", True, True),
    ("case.created_time:'2026-03-01T11:00:00+01:00'", True, True),   # instants as instants
])
def test_colon_match_modes(text, partial, exact):
    assert matches(text) is partial
    assert matches(text, colon_mode="exact") is exact


@pytest.mark.parametrize("text, expected", [
    # ['v'] is exact, case included, in both modes (psfalcon wiki: "restrict results to exact matches").
    ("case.title:['VPN outage in Berlin']", True),
    ("case.title:['vpn outage in berlin']", False),
    ("case.title:['outage']", False),
    ("case.title:!['outage']", True),
    ("case.title:['VPN*']", False),               # no wildcard inside the list form
    # '~' ignores case, spaces and punctuation (falcon-mcp FQL guide).
    ("case.title:~'vpn-outage'", True),
    ("case.title:~'V.P.N. OUTAGE, in'", True),
    ("case.title:~'outage berlin'", False),       # the words must follow each other (only spacing is ignored)
    ("case.title:~'vpn*berlin'", True),
    # field:*'*sub*' is the documented "contains" (falcon-mcp FQL guide).
    ("case.title:*'*outage*'", True),
    ("case.title:*'*OUTAGE in b*'", True),
    ("case.title:*'outage*'", False),             # the wildcard pattern covers the whole value
    ("case.title:!*'*outage*'", False),
])
def test_exact_lists_text_match_and_wildcards(text, expected):
    assert matches(text) is expected
    assert matches(text, colon_mode="exact") is expected


def test_unknown_colon_mode_is_refused():
    with pytest.raises(ValueError):
        fql.compile_filter("case.status:'1'", colon_mode="fuzzy")


@pytest.mark.parametrize("text, expected", [
    ("case.status:'2'+case.title:~'vpn'", True),
    ("case.status:'2'+case.title:~'paris'", False),
    ("case.status:'3',case.title:~'vpn'", True),
    ("case.status:'3',case.title:~'paris'", False),
    ("case.status:'3',case.status:'2'+case.title:~'vpn'", True),      # AND binds tighter than OR
    ("(case.status:'3',case.status:'2')+case.title:~'paris'", False),
    ("( case.status:'3' , case.status:'2' ) + case.hosts:'web-01'", True),
])
def test_and_or_grouping(text, expected):
    assert matches(text) is expected


@pytest.mark.parametrize("text, expected", [
    ("case.created_time:>'2026-01-01T00:00:00Z'", True),
    ("case.created_time:>'2026-01-01'", True),
    ("case.created_time:<'2026-03-01T10:00:00+01:00'", False),    # 09:00Z
    ("case.created_time:'2026-03-01T10:00:00Z'", True),            # same instant, other spelling
    ("case.created_time:>='2026-03-01T11:00:00+01:00'", True),
    ("case.created_time:>'now-1d'", True),                         # now = 2026-03-01T10:00Z
    ("case.created_time:>'now+1h'", False),
])
def test_timestamps_compare_as_instants(text, expected):
    assert matches(text) is expected


@pytest.mark.parametrize("text, position", [
    ("case.status", 11),
    ("case.status:'2'+", 16),
    ("case.status:'2' case.title:'x'", 16),
    ("(case.status:'2'", 16),
    ("case.status:'2", 12),
    ("case.status:['1',", 17),
])
def test_syntax_errors_name_the_position(text, position):
    with pytest.raises(fql.FQLError) as caught:
        matches(text)
    assert caught.value.position == position
    assert "position %d" % position in str(caught.value)


def test_empty_filter_is_an_error():
    with pytest.raises(fql.FQLError) as caught:
        matches("  ")
    assert "empty" in caught.value.message


def test_unknown_field_is_named():
    with pytest.raises(fql.FQLError) as caught:
        matches("case.status:'2'+case.colour:'red'")
    assert "case.colour" in caught.value.message
    assert caught.value.position == 16


def test_bad_timestamp_is_an_error():
    with pytest.raises(fql.FQLError) as caught:
        matches("case.created_time:>'yesterday'")
    assert "not a timestamp" in caught.value.message


def test_list_with_range_operator_is_an_error():
    with pytest.raises(fql.FQLError):
        matches("case.status:>['1','2']")


def test_quoted_values_keep_special_characters():
    record = {"case.title": ["a+b, (c) [d] 'e'"]}
    assert matches("case.title:'a+b, (c) [d] \\'e\\''", record)


def test_bare_values_may_hold_colons():
    assert fql.compile_filter("case.type:fc:contact").matches(lambda field: ["fc:contact"])


@pytest.mark.parametrize("text, expected", [
    ("2026-01-01T00:00:00Z", 1767225600.0),
    ("2026-01-01T00:00:00.500000Z", 1767225600.5),
    ("2026-01-01T01:00:00+01:00", 1767225600.0),
    ("2026-01-01", 1767225600.0),
    ("now-2d", 0.0),
    ("not a date", None),
])
def test_parse_instant(text, expected):
    assert fql.parse_instant(text, now=172800.0) == expected
