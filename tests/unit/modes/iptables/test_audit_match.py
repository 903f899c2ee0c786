"""A compiled template (modes/iptables/audit_match.py) takes a Service only when the Service's text is
the template's with its values renamed one to one: the checks that make a row from it sound.

The rows themselves are held to the full analysis by test_audit_onepass.py and test_audit_api.py;
here each way a text can differ from its template is tried on its own.
"""

from __future__ import annotations

import pytest

from kubectl_svcpath.modes.iptables import audit_match

RECIPE = object()


def _text(cip: str, port: str, ep1: str, ep2: str, svc: str = "AAAAAAAAAAAAAAAA", pkts: str = "7",
          masq: str = "") -> str:
    """A footprint as FastAudit._raw gives it (shortened): a draft line, an entry rule, a service chain
    with two jumps, the two endpoint chains."""
    masq = masq or ep1
    return (f"D False Cluster None\n -d {cip}\nP http TCP --dport {port}\nE\n"
            f"[{pkts}:420] -A KUBE-SERVICES -d {cip}/32 -p tcp -m comment --comment \"\x01:http\" -m tcp --dport {port} -j KUBE-SVC-{svc}\n"
            f"C KUBE-SVC-{svc}\n"
            f"[0:0] -A KUBE-SVC-{svc} -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-BBBBBBBBBBBBBBBB\n"
            f"[0:0] -A KUBE-SVC-{svc} -j KUBE-SEP-CCCCCCCCCCCCCCCC\nS\n"
            f"[0:0] -A KUBE-SEP-BBBBBBBBBBBBBBBB -s {masq}/32 -j KUBE-MARK-MASQ\n"
            f"[0:0] -A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m tcp -j DNAT --to-destination {ep1}:8080\n\x03\n"
            f"[0:0] -A KUBE-SEP-CCCCCCCCCCCCCCCC -s {ep2}/32 -j KUBE-MARK-MASQ\n"
            f"[0:0] -A KUBE-SEP-CCCCCCCCCCCCCCCC -p tcp -m tcp -j DNAT --to-destination {ep2}:8080")


TEMPLATE = _text("10.96.0.10", "80", "10.244.1.5", "10.244.2.6")
ENTRY = next(line for line in TEMPLATE.split("\n") if "KUBE-SERVICES" in line)


def _compiled() -> audit_match.Matchers:
    # audit._values' numbering: the addresses and ports in the order it takes them out
    compiled = audit_match.compile_template(TEMPLATE, ["10.96.0.10", "10.244.1.5", "10.244.2.6"], ["80", "8080"],
                                            [ENTRY], RECIPE, [0])
    assert compiled is not None
    matchers = audit_match.Matchers()
    matchers.add("shape", compiled)
    return matchers


def test_a_renamed_service_matches_with_its_own_values_in_the_template_order() -> None:
    found = _compiled().match("shape", _text("10.96.7.7", "443", "10.244.9.1", "10.244.9.2", pkts="12"))
    assert found is not None
    recipe, values = found
    assert recipe is RECIPE
    assert values.ips == ["10.96.7.7", "10.244.9.1", "10.244.9.2"]
    assert values.ports == ["443", "8080"]
    assert values.counters == {0: "12"}  # the entry rule's packets, which the recipe sums


def test_values_equal_where_the_template_has_them_distinct_do_not_match() -> None:
    # both endpoints on one address: the analysis would see one pod where the template saw two
    assert _compiled().match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.1")) is None


def test_values_distinct_where_the_template_has_them_equal_do_not_match() -> None:
    # the masquerade rule's source is not the endpoint's address (the template's are equal)
    assert _compiled().match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2", masq="10.244.9.3")) is None


def test_an_address_ending_in_dot_zero_does_not_take_a_template_without_one() -> None:
    assert _compiled().match("shape", _text("10.96.7.7", "80", "10.244.9.0", "10.244.9.2")) is None


def test_an_address_not_ending_in_dot_zero_does_not_take_a_template_with_one() -> None:
    compiled = audit_match.compile_template(_text("10.96.0.10", "80", "10.244.1.0", "10.244.2.6"),
                                            ["10.96.0.10", "10.244.1.0", "10.244.2.6"], ["80", "8080"], [ENTRY], RECIPE, [0])
    assert compiled is not None
    matchers = audit_match.Matchers()
    matchers.add("shape", compiled)
    assert matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2")) is None
    assert matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.0", "10.244.9.2")) is not None


def test_any_other_difference_of_text_does_not_match() -> None:
    matchers = _compiled()
    assert matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2").replace("0.50000000000", "0.40000000000")) is None
    assert matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2").replace(" -m tcp --dport", " --dport")) is None
    assert matchers.match("shape", _text("127.0.0.1", "80", "10.244.9.1", "10.244.9.2")) is None  # loopback: not a value
    assert matchers.match("other shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2")) is None


def test_a_template_whose_values_have_no_place_of_their_own_is_not_compiled() -> None:
    # an address audit._values numbered that the text does not hold as a value
    assert audit_match.compile_template(TEMPLATE, ["10.96.0.10", "192.0.2.1"], ["80"], [ENTRY], RECIPE, [0]) is None
    # a counter the recipe sums on a line the text does not hold
    assert audit_match.compile_template(TEMPLATE, ["10.96.0.10"], ["80"], ["[1:2] -A KUBE-SERVICES -j X"], RECIPE, [0]) is None


def test_a_footprint_too_long_to_compile_cheaply_is_not_compiled() -> None:
    # (re.compile of a Service with thousands of endpoints would take longer than matching it the old way)
    long = TEMPLATE + "\n" + "x" * audit_match.MOST_CHARS
    assert audit_match.compile_template(long, ["10.96.0.10"], ["80"], [ENTRY], RECIPE, [0]) is None


def test_a_shape_whose_services_mostly_match_no_template_is_dropped() -> None:
    matchers = _compiled()
    other = _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2").replace("0.50000000000", "0.40000000000")
    for _ in range(audit_match._TRIES):
        assert matchers.match("shape", other) is None
    assert "shape" not in matchers.by_shape and "shape" in matchers.dropped
    matchers.learn("shape", lambda: pytest.fail("a dropped shape is not compiled again"))


def test_templates_that_differ_only_in_addresses_ending_in_dot_zero_share_one_pattern() -> None:
    # (a 10-endpoint Service's pods make a dozen such variants: each compiled alone, each tried and failed in turn)
    other = object()
    first = audit_match.compile_template(TEMPLATE, ["10.96.0.10", "10.244.1.5", "10.244.2.6"], ["80", "8080"], [ENTRY], RECIPE, [0])
    assert first is not None
    second = audit_match.compile_template(_text("10.96.0.10", "80", "10.244.1.0", "10.244.2.6"),
                                          ["10.96.0.10", "10.244.1.0", "10.244.2.6"], ["80", "8080"], [ENTRY], other, [0], [first])
    assert second is first and len(first.variants) == 2
    matchers = audit_match.Matchers()
    matchers.add("shape", first)
    matchers.add("shape", second)
    assert len(matchers.by_shape["shape"].templates) == 1
    plain = matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2"))
    dotted = matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.0", "10.244.9.2"))
    assert plain is not None and plain[0] is RECIPE
    assert dotted is not None and dotted[0] is other and dotted[1].ips == ["10.96.7.7", "10.244.9.0", "10.244.9.2"]
    # the .0 on the other endpoint: a variant not learnt
    assert matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.0")) is None


def test_a_value_followed_by_a_word_character_in_the_text_is_not_a_shorter_value() -> None:
    # the template's lookaheads are left out where the next literal does their work: a longer port or
    # address in a later Service's text must still fail, not match a prefix of it
    matchers = _compiled()
    assert matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2").replace("--dport 80 ", "--dport 80x ")) is None
    assert matchers.match("shape", _text("10.96.7.7", "80", "10.244.9.1", "10.244.9.2").replace(":8080", ":80801")) is None
