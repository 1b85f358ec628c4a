"""The extension points: a test plugin uses each pytest_mlaudit_* hook."""

import json

HOOK_PLUGIN = """
    import dataclasses

    import torch
    from pytest_mlaudit.adapters import TorchClassifier
    from pytest_mlaudit.report import ReportSection

    SEEN = []


    @dataclasses.dataclass(frozen=True)
    class SignFlip:
        '''Moves every input by eps towards the domain's far end: a crude attack for the test.'''
        eps: float

        def generate(self, classifier, x, y, clip):
            low, high = clip
            return torch.clamp(x + self.eps * torch.sign(0.5 - x), low, high)

        def describe(self):
            return {"attack": "SignFlip", "eps": self.eps, "norm": "Linf"}


    class Wrapped:
        '''A model type the plugin does not know: a torch module behind an attribute.'''
        def __init__(self, net):
            self.net = net


    def pytest_mlaudit_attacks():
        return {"signflip": SignFlip}


    def pytest_mlaudit_adapt_model(model, device):
        if isinstance(model, Wrapped):
            return TorchClassifier(model.net, device="cpu")
        return None


    def pytest_mlaudit_report_sections(records, environment):
        return [ReportSection(title="Team sign-off", html="<p id='signoff'>%d audits reviewed</p>" % len(records))]


    def pytest_mlaudit_record(record):
        SEEN.append(record.name)
"""


def test_a_plugin_adds_an_attack_an_adapter_a_report_section_and_sees_records(audit_project):
    audit_project.makepyfile(hookplugin=HOOK_PLUGIN)
    audit_project.makepyfile("""
        import pytest_mlaudit as mla
        import hookplugin

        def test_custom(mlaudit, model, data):
            X, y = data
            attack = mla.make_attack("SignFlip", eps=0.1)
            result = mlaudit.robustness(hookplugin.Wrapped(model), X, y, attack=attack, clip=(0.0, 1.0))
            assert result.attack == {"attack": "SignFlip", "eps": 0.1, "norm": "Linf"}
            assert result.clean_accuracy.value == 1.0
            assert hookplugin.SEEN == ["robustness under SignFlip (eps=0.1, Linf)"]
    """)
    result = audit_project.runpytest("-p", "hookplugin", "--mlaudit-report=out.html", "--mlaudit-json=out.json")
    result.assert_outcomes(passed=1)
    html = (audit_project.path / "out.html").read_text()
    assert "<h2>Team sign-off</h2>" in html and "<p id='signoff'>1 audits reviewed</p>" in html
    (audit,) = json.loads((audit_project.path / "out.json").read_text())["audits"]
    assert audit["params"]["attack"] == "SignFlip"


def test_an_unknown_attack_name_lists_the_known_ones(audit_project):
    audit_project.makepyfile("""
        import pytest
        import pytest_mlaudit as mla

        def test_unknown():
            with pytest.raises(ValueError, match="unknown attack 'nope'; known attacks: .*fgsm"):
                mla.make_attack("nope", eps=0.1)
    """)
    audit_project.runpytest().assert_outcomes(passed=1)


def test_a_model_no_adapter_knows_is_refused_with_its_type(audit_project):
    audit_project.makepyfile("""
        import pytest
        import pytest_mlaudit as mla

        def test_unknown_model(data):
            X, y = data
            with pytest.raises(TypeError, match="model must be a torch.nn.Module .* got builtins.object"):
                mla.robustness(object(), X, y, attack=mla.FGSM(eps=0.1), clip=(0.0, 1.0))
    """)
    audit_project.runpytest().assert_outcomes(passed=1)


FAMILY_PLUGIN = """
    import html

    import pytest_mlaudit as mla


    def drift_section(records):
        names = ", ".join(html.escape(record.name) for record in records)
        return mla.ReportSection(title="Drift overview", html="<p id='drift'>%d drift audits: %s</p>" % (len(records), names))


    def pytest_mlaudit_families():
        return [mla.AuditFamily("drift", "Data drift", requirements=["EU-AI-Act-Art15", "ACME-DRIFT-1"],
                                section=drift_section),
                mla.AuditFamily("unused", "Never audited", requirements=["ACME-UNUSED"],
                                section=lambda records: mla.ReportSection("Unused", "<p id='unused'></p>"))]
"""


def test_a_plugin_family_maps_its_category_to_its_requirements_and_adds_its_report_section(pytester):
    pytester.makepyfile(familyplugin=FAMILY_PLUGIN)
    pytester.syspathinsert()
    pytester.makepyfile("""
        import pytest_mlaudit as mla

        def test_drift():
            with mla.audit("drift", "population stability index") as a:
                a.gate("psi", at_most=0.2)
                a.metric("psi", mla.Estimate(0.05, 0.02, 0.08, 500))
    """)
    result = pytester.runpytest("-p", "familyplugin", "--mlaudit-report=out.html", "--mlaudit-json=out.json")
    result.assert_outcomes(passed=1)
    document = json.loads((pytester.path / "out.json").read_text())
    assert document["requirement_mapping"]["categories"]["drift"] == ["EU-AI-Act-Art15", "ACME-DRIFT-1"]
    assert [(row["id"], row["verdict"]) for row in document["requirements"]] == [
        ("EU-AI-Act-Art15", "PASS"), ("ACME-DRIFT-1", "PASS")]
    html = (pytester.path / "out.html").read_text()
    assert "<h2>Drift overview</h2>" in html and "<p id='drift'>1 drift audits: population stability index</p>" in html
    assert "id='unused'" not in html


def test_a_requirements_file_still_overrides_a_plugin_familys_defaults(pytester):
    pytester.makepyfile(familyplugin=FAMILY_PLUGIN)
    pytester.syspathinsert()
    pytester.makefile(".json", mapping=json.dumps({"categories": {"drift": ["ACME-DRIFT-2"]}}))
    pytester.makepyfile("""
        import pytest_mlaudit as mla

        def test_drift():
            with mla.audit("drift", "population stability index") as a:
                a.metric("psi", mla.Estimate(0.05, 0.02, 0.08, 500))
    """)
    result = pytester.runpytest("-p", "familyplugin", "--mlaudit-requirements=mapping.json", "--mlaudit-json=out.json")
    result.assert_outcomes(passed=1)
    document = json.loads((pytester.path / "out.json").read_text())
    assert [(row["id"], row["verdict"]) for row in document["requirements"]] == [("ACME-DRIFT-2", "NOT GATED")]


def test_an_audit_family_refuses_requirements_given_as_one_string():
    import pytest

    import pytest_mlaudit as mla

    with pytest.raises(TypeError, match="requirements must be a list of requirement ids, got 'EU-AI-Act-Art15'"):
        mla.AuditFamily("drift", "Data drift", requirements="EU-AI-Act-Art15")
